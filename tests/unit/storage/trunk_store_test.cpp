// Trunks, their status, routes and DIDs in SQLite: what `sipwarden trunk|route|did` write and the server
// loads.
#include <gtest/gtest.h>

#include <optional>

#include "storage/sqlite/did_store.hpp"
#include "storage/sqlite/route_store.hpp"
#include "storage/sqlite/trunk_store.hpp"
#include "storage/sqlite/user_store.hpp"
#include "temp_dir.hpp"

namespace sw::storage {
namespace {

b2bua::Trunk trunk(std::string name) {
    b2bua::Trunk t;
    t.name = std::move(name);
    t.host = "sip.example.net";
    return t;
}

class TrunkStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(dir_.ok());
        auto db = Database::open(dir_.file("sipwarden.db"));
        ASSERT_TRUE(db) << db.error();
        db_ = std::move(db).value();
        trunks_.emplace(*db_);
        routes_.emplace(*db_);
        dids_.emplace(*db_);
        auth::UserRecord u;
        u.ha1_md5 = std::string(32, 'a');
        u.ha1_sha256 = u.ha1_sha512_256 = std::string(64, 'a');
        for (const char* n : {"201", "202"}) {
            u.name = n;
            ASSERT_TRUE(SqliteUserStore(*db_).add(u));
        }
    }
    std::vector<b2bua::Trunk> all_trunks() {
        auto all = trunks_->load_all();
        EXPECT_TRUE(all) << (all ? "" : all.error());
        return all ? *all : std::vector<b2bua::Trunk>{};
    }
    std::vector<b2bua::DialRoute> all_routes() {
        auto all = routes_->load_all();
        EXPECT_TRUE(all) << (all ? "" : all.error());
        return all ? *all : std::vector<b2bua::DialRoute>{};
    }
    std::vector<b2bua::Did> all_dids() {
        auto all = dids_->load_all();
        EXPECT_TRUE(all) << (all ? "" : all.error());
        return all ? *all : std::vector<b2bua::Did>{};
    }

    test::TempDir dir_;
    std::unique_ptr<Database> db_;
    std::optional<SqliteTrunkStore> trunks_;
    std::optional<SqliteRouteStore> routes_;
    std::optional<SqliteDidStore> dids_;
};

TEST_F(TrunkStoreTest, EveryFieldComesBackAsWritten) {
    b2bua::Trunk t = trunk("provider");
    t.host = "2001:db8::5";
    t.port = 5080;
    t.transport = transport::Protocol::Tls;
    t.username = "acct";
    t.secret = "v1:sealed";
    t.password = "never stored";
    t.register_with = true;
    t.expires = 300;
    t.from_domain = "example.net";
    t.addresses = {*sw::Cidr::parse("192.0.2.0/24"), *sw::Cidr::parse("2001:db8::/32")};
    t.tel_uri = true;
    t.ruri_params = "user=phone";
    t.no_100rel = true;
    t.caller_id = "+4930123";
    ASSERT_TRUE(trunks_->add(t));
    ASSERT_TRUE(trunks_->add(trunk("another")));

    const auto all = all_trunks();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].name, "another");  // sorted by name
    EXPECT_EQ(all[0].transport, transport::Protocol::Udp);
    EXPECT_EQ(all[0].expires, 600u);
    EXPECT_TRUE(all[0].addresses.empty());
    const b2bua::Trunk& r = all[1];
    EXPECT_EQ(r.name, "provider");
    EXPECT_EQ(r.host, "2001:db8::5");
    EXPECT_EQ(r.port, 5080);
    EXPECT_EQ(r.transport, transport::Protocol::Tls);
    EXPECT_EQ(r.username, "acct");
    EXPECT_EQ(r.secret, "v1:sealed");
    EXPECT_EQ(r.password, "");
    EXPECT_TRUE(r.register_with);
    EXPECT_EQ(r.expires, 300u);
    EXPECT_EQ(r.from_domain, "example.net");
    ASSERT_EQ(r.addresses.size(), 2u);
    EXPECT_EQ(r.addresses[0].text(), "192.0.2.0/24");
    EXPECT_EQ(r.addresses[1].text(), "2001:db8::/32");
    EXPECT_TRUE(r.tel_uri);
    EXPECT_EQ(r.ruri_params, "user=phone");
    EXPECT_TRUE(r.no_100rel);
    EXPECT_EQ(r.caller_id, "+4930123");

    auto raw = db_->prepare("SELECT count(*) FROM trunks WHERE secret LIKE '%never stored%'");
    ASSERT_TRUE(raw);
    ASSERT_TRUE(*raw->step());
    EXPECT_EQ(raw->column_int64(0), 0);
}

TEST_F(TrunkStoreTest, AddRefusesATakenNameAndTheTableChecksRefuseBadRows) {
    ASSERT_TRUE(trunks_->add(trunk("p1")));
    auto again = trunks_->add(trunk("p1"));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), "trunk p1 exists");

    EXPECT_FALSE(trunks_->add(trunk("bad name")));  // CHECK on the name
    EXPECT_FALSE(trunks_->add(trunk(std::string(33, 'a'))));
    b2bua::Trunk no_host = trunk("p2");
    no_host.host.clear();
    EXPECT_FALSE(trunks_->add(no_host));
    b2bua::Trunk short_expiry = trunk("p3");
    short_expiry.expires = 59;
    EXPECT_FALSE(trunks_->add(short_expiry));
    b2bua::Trunk register_without_secret = trunk("p4");
    register_without_secret.register_with = true;
    register_without_secret.username = "acct";
    EXPECT_FALSE(trunks_->add(register_without_secret));
    b2bua::Trunk plaintext = trunk("p5");
    plaintext.secret = "hunter2";  // only sealed text is accepted
    EXPECT_FALSE(trunks_->add(plaintext));
    EXPECT_EQ(all_trunks().size(), 1u);
}

TEST_F(TrunkStoreTest, RemoveIsRefusedWhileRoutesUseTheTrunk) {
    ASSERT_TRUE(trunks_->add(trunk("p1")));
    ASSERT_TRUE(trunks_->add(trunk("p2")));
    ASSERT_TRUE(routes_->add({"0Z.", "p1", 1, "+49", 10, ""}));
    auto refused = trunks_->remove("p1");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), "routes use trunk p1");
    EXPECT_EQ(all_trunks().size(), 2u);

    ASSERT_TRUE(routes_->remove("0Z.", std::nullopt));
    EXPECT_TRUE(trunks_->remove("p1"));
    auto gone = trunks_->remove("p1");
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error(), "no such trunk p1");
    const auto left = all_trunks();
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].name, "p2");
}

TEST_F(TrunkStoreTest, StatusIsReplacedAndGoesWithItsTrunk) {
    ASSERT_TRUE(trunks_->add(trunk("p1")));
    ASSERT_TRUE(trunks_->set_status({"p1", "registering", "", 0, 100}));
    ASSERT_TRUE(trunks_->set_status({"p1", "registered", "sip:acct@192.0.2.1", 1000, 101}));
    auto status = trunks_->load_status();
    ASSERT_TRUE(status) << status.error();
    ASSERT_EQ(status->size(), 1u);
    EXPECT_EQ((*status)[0].state, "registered");
    EXPECT_EQ((*status)[0].detail, "sip:acct@192.0.2.1");
    EXPECT_EQ((*status)[0].expires_at, 1000);
    EXPECT_EQ((*status)[0].updated_at, 101);

    EXPECT_FALSE(trunks_->set_status({"p1", "confused", "", 0, 102}));  // CHECK on the state
    // A status for a trunk that is gone is dropped, not an error (the server may race a remove).
    EXPECT_TRUE(trunks_->set_status({"ghost", "failed", "timeout", 0, 103}));

    ASSERT_TRUE(trunks_->remove("p1"));
    status = trunks_->load_status();
    ASSERT_TRUE(status) << status.error();
    EXPECT_TRUE(status->empty());
}

TEST_F(TrunkStoreTest, RoutesNeedAnExistingTrunkAndANewPatternTrunkPair) {
    ASSERT_TRUE(trunks_->add(trunk("p1")));
    ASSERT_TRUE(trunks_->add(trunk("p2")));
    auto unknown = routes_->add({"00.", "nobody", 0, "", 10, ""});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error(), "no such trunk nobody");

    ASSERT_TRUE(routes_->add({"00.", "p2", 2, "+", 20, ""}));
    ASSERT_TRUE(routes_->add({"00.", "p1", 0, "", 5, ""}));
    ASSERT_TRUE(routes_->add({"0Z.", "p1", 1, "+49", 10, ""}));
    auto duplicate = routes_->add({"00.", "p1", 0, "", 7, ""});
    ASSERT_FALSE(duplicate);
    EXPECT_EQ(duplicate.error(), "route 00. via p1 exists");
    EXPECT_FALSE(routes_->add({"0X.", "p1", 0, "4x", 10, ""}));  // CHECK on prepend

    const auto all = all_routes();
    ASSERT_EQ(all.size(), 3u);
    // By pattern, then priority.
    EXPECT_EQ(all[0].pattern, "00.");
    EXPECT_EQ(all[0].trunk, "p1");
    EXPECT_EQ(all[0].priority, 5);
    EXPECT_EQ(all[1].trunk, "p2");
    EXPECT_EQ(all[1].strip, 2u);
    EXPECT_EQ(all[1].prepend, "+");
    EXPECT_EQ(all[2].pattern, "0Z.");
    EXPECT_EQ(all[2].prepend, "+49");
}

TEST_F(TrunkStoreTest, RouteRemoveOneTrunkOrAllOfThePattern) {
    ASSERT_TRUE(trunks_->add(trunk("p1")));
    ASSERT_TRUE(trunks_->add(trunk("p2")));
    ASSERT_TRUE(routes_->add({"00.", "p1", 0, "", 10, ""}));
    ASSERT_TRUE(routes_->add({"00.", "p2", 0, "", 20, ""}));
    ASSERT_TRUE(routes_->add({"0Z.", "p2", 0, "", 10, ""}));

    auto wrong = routes_->remove("00.", std::string_view("p3"));
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error(), "no route 00. via p3");
    ASSERT_TRUE(routes_->remove("00.", std::string_view("p1")));
    EXPECT_EQ(all_routes().size(), 2u);
    ASSERT_TRUE(trunks_->add(trunk("p3")));
    ASSERT_TRUE(routes_->add({"00.", "p3", 0, "", 30, ""}));
    ASSERT_TRUE(routes_->remove("00.", std::nullopt));
    const auto left = all_routes();
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].pattern, "0Z.");
    auto none = routes_->remove("00.", std::nullopt);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error(), "no route 00.");
}

TEST_F(TrunkStoreTest, DidsNeedAUserAndAFreeNumber) {
    auto unknown = dids_->add({"+4930100", "999"});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error(), "no such user 999");
    ASSERT_TRUE(dids_->add({"+4930200", "202"}));
    ASSERT_TRUE(dids_->add({"+4930100", "201"}));
    auto taken = dids_->add({"+4930100", "202"});
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error(), "DID +4930100 rings 201 already");
    EXPECT_FALSE(dids_->add({"+49 30", "201"}));  // the CHECK keeps unnormalized numbers out

    auto all = all_dids();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].number, "+4930100");  // sorted by number
    EXPECT_EQ(all[0].user, "201");
    EXPECT_EQ(all[1].user, "202");

    ASSERT_TRUE(dids_->remove("+4930100"));
    auto gone = dids_->remove("+4930100");
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error(), "no such DID +4930100");
    EXPECT_EQ(all_dids().size(), 1u);
}

TEST_F(TrunkStoreTest, RemovingAUserRemovesItsDids) {
    ASSERT_TRUE(dids_->add({"+4930100", "201"}));
    ASSERT_TRUE(dids_->add({"+4930200", "202"}));
    ASSERT_TRUE(SqliteUserStore(*db_).remove("201"));
    const auto all = all_dids();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].user, "202");
}

}  // namespace
}  // namespace sw::storage
