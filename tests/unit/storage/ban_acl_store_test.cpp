// Bans and allow/deny networks in SQLite (schema version 5): what `sipwarden ban|acl` write and the
// server's BanList hands over and reads back.
#include <gtest/gtest.h>

#include <optional>

#include "security/ban_list.hpp"
#include "storage/sqlite/acl_store.hpp"
#include "storage/sqlite/ban_store.hpp"
#include "storage/sqlite/user_store.hpp"
#include "temp_dir.hpp"

namespace sw::storage {
namespace {

using security::AclKind;
using security::AclRecord;
using security::BanRecord;

class BanAclStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(dir_.ok());
        auto db = Database::open(dir_.file("sipwarden.db"));
        ASSERT_TRUE(db) << db.error();
        db_ = std::move(db).value();
        bans_.emplace(*db_);
        acl_.emplace(*db_);
        auth::UserRecord u;
        u.name = "201";
        u.ha1_md5 = std::string(32, 'a');
        u.ha1_sha256 = u.ha1_sha512_256 = std::string(64, 'a');
        ASSERT_TRUE(SqliteUserStore(*db_).add(u));
    }
    std::vector<BanRecord> all_bans() {
        auto all = bans_->load_all();
        EXPECT_TRUE(all) << (all ? "" : all.error());
        return all ? *all : std::vector<BanRecord>{};
    }
    std::vector<AclRecord> all_acl() {
        auto all = acl_->load_all();
        EXPECT_TRUE(all) << (all ? "" : all.error());
        return all ? *all : std::vector<AclRecord>{};
    }

    test::TempDir dir_;
    std::unique_ptr<Database> db_;
    std::optional<SqliteBanStore> bans_;
    std::optional<SqliteAclStore> acl_;
};

TEST(NormalForms, AddressesAndNetworks) {
    EXPECT_EQ(normal_address("::ffff:192.0.2.7"), "192.0.2.7");
    EXPECT_EQ(normal_address("2001:DB8:0::1"), "2001:db8::1");
    EXPECT_EQ(normal_address("[::1]"), "::1");
    EXPECT_FALSE(normal_address("10.0.0.0/8"));
    EXPECT_FALSE(normal_address("host.example"));
    EXPECT_FALSE(normal_address(""));
    EXPECT_EQ(normal_cidr("10.1.2.3/8"), "10.0.0.0/8");
    EXPECT_EQ(normal_cidr("192.0.2.7/32"), "192.0.2.7");
    EXPECT_EQ(normal_cidr("::ffff:10.0.0.0/104"), "10.0.0.0/8");
    EXPECT_FALSE(normal_cidr("10.0.0.0/33"));
}

TEST_F(BanAclStoreTest, AnOperatorsBanIsAddedThenRenewedWithItsCount) {
    ASSERT_TRUE(bans_->add("::ffff:192.0.2.7", 2000, "manual", 1000));
    auto all = all_bans();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0], (BanRecord{"192.0.2.7", 2000, "manual", 1000, 1}));
    ASSERT_TRUE(bans_->add("192.0.2.7", 1500, "again", 1100));
    all = all_bans();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0], (BanRecord{"192.0.2.7", 1500, "again", 1000, 2}));
}

TEST_F(BanAclStoreTest, BadBansAreRefused) {
    auto bad = bans_->add("192.0.2.0/24", 2000, "", 1000);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("not an IP address"), std::string::npos) << bad.error();
    auto past = bans_->add("192.0.2.1", 1000, "", 1000);
    ASSERT_FALSE(past);
    EXPECT_NE(past.error().find("end before it began"), std::string::npos) << past.error();
    EXPECT_FALSE(bans_->add("192.0.2.1", 2000, std::string(kMaxBanReason + 1, 'x'), 1000));
    EXPECT_TRUE(all_bans().empty());
    // The table's own CHECKs hold against a hand-made row too.
    EXPECT_FALSE(db_->exec("INSERT INTO bans(address, until, count) VALUES('192.0.2.1', 5, 0)"));
    EXPECT_FALSE(db_->exec("INSERT INTO bans(address, until) VALUES('', 5)"));
}

TEST_F(BanAclStoreTest, RemoveAndPrune) {
    ASSERT_TRUE(bans_->add("192.0.2.1", 100, "", 0));
    ASSERT_TRUE(bans_->add("192.0.2.2", 200, "", 0));
    ASSERT_TRUE(bans_->add("2001:db8::1", 300, "", 0));
    ASSERT_TRUE(bans_->remove("2001:DB8::1"));
    auto missing = bans_->remove("2001:db8::1");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), "no ban for 2001:db8::1");
    auto pruned = bans_->prune(100);
    ASSERT_TRUE(pruned);
    EXPECT_EQ(*pruned, 1);
    const auto all = all_bans();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].address, "192.0.2.2");
}

TEST_F(BanAclStoreTest, TheServersBansGoThroughTheStoreAndBack) {
    const SipKey key{1, 2};
    security::BanList server(key);
    ASSERT_TRUE(server.ban(*security::AddressKey::from_text("192.0.2.66"), 1300, "auth failures", 1000));
    ASSERT_TRUE(server.ban(*security::AddressKey::from_text("2001:db8::bad"), 87400, "scanner", 1000));
    ASSERT_TRUE(bans_->add("198.51.100.1", 5000, "manual", 900));  // an operator's, not the server's
    ASSERT_TRUE(bans_->apply(server.take_writes()));
    ASSERT_EQ(all_bans().size(), 3u);
    ASSERT_TRUE(server.unban(*security::AddressKey::from_text("192.0.2.66")));
    ASSERT_TRUE(server.ban(*security::AddressKey::from_text("2001:db8::bad"), 90000, "scanner", 1100));
    ASSERT_TRUE(bans_->apply(server.take_writes()));
    auto all = all_bans();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0], (BanRecord{"198.51.100.1", 5000, "manual", 900, 1}));
    EXPECT_EQ(all[1], (BanRecord{"2001:db8::bad", 90000, "scanner", 1000, 2}));

    // After a restart the server has them all, the operator's included.
    security::BanList restarted(key);
    restarted.load(all, 1200);
    EXPECT_EQ(restarted.snapshot(), all);  // both sorted by address text
    EXPECT_EQ(restarted.check(*security::AddressKey::from_text("198.51.100.1"), 1200),
              security::Verdict::Banned);
    EXPECT_EQ(restarted.check(*security::AddressKey::from_text("192.0.2.66"), 1200),
              security::Verdict::Allowed);
}

TEST_F(BanAclStoreTest, AclEntriesAreNormalisedAndUnique) {
    ASSERT_TRUE(acl_->add({"10.1.2.3/8", AclKind::Allow, ""}));
    auto dup = acl_->add({"10.0.0.0/8", AclKind::Allow, ""});
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error(), "acl allow 10.0.0.0/8 exists");
    ASSERT_TRUE(acl_->add({"10.0.0.0/8", AclKind::Deny, ""}));  // the other kind is another entry
    ASSERT_TRUE(acl_->add({"10.0.0.0/8", AclKind::Allow, "201"}));
    ASSERT_TRUE(acl_->add({"2001:db8::/32", AclKind::Deny, ""}));
    auto nobody = acl_->add({"10.0.0.0/8", AclKind::Allow, "999"});
    ASSERT_FALSE(nobody);
    EXPECT_EQ(nobody.error(), "no such user 999");
    auto bad = acl_->add({"10.0.0.0/33", AclKind::Allow, ""});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("not a network"), std::string::npos) << bad.error();
    EXPECT_EQ(all_acl(), (std::vector<AclRecord>{{"10.0.0.0/8", AclKind::Allow, ""},
                                                 {"10.0.0.0/8", AclKind::Deny, ""},
                                                 {"2001:db8::/32", AclKind::Deny, ""},
                                                 {"10.0.0.0/8", AclKind::Allow, "201"}}));
    EXPECT_FALSE(db_->exec("INSERT INTO acl(cidr, kind) VALUES('10.0.0.0/8', 'maybe')"));
}

TEST_F(BanAclStoreTest, AclRemoveByKindOrBoth) {
    ASSERT_TRUE(acl_->add({"10.0.0.0/8", AclKind::Allow, ""}));
    ASSERT_TRUE(acl_->add({"10.0.0.0/8", AclKind::Deny, ""}));
    ASSERT_TRUE(acl_->add({"10.0.0.0/8", AclKind::Allow, "201"}));
    ASSERT_TRUE(acl_->remove("10.9.9.9/8", AclKind::Deny, ""));
    EXPECT_EQ(all_acl().size(), 2u);
    auto none = acl_->remove("10.0.0.0/8", AclKind::Deny, "");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error(), "no acl deny 10.0.0.0/8");
    ASSERT_TRUE(acl_->remove("10.0.0.0/8", std::nullopt, ""));
    EXPECT_EQ(all_acl(), (std::vector<AclRecord>{{"10.0.0.0/8", AclKind::Allow, "201"}}));
    auto global = acl_->remove("10.0.0.0/8", std::nullopt, "");
    ASSERT_FALSE(global);
    EXPECT_EQ(global.error(), "no acl entry 10.0.0.0/8");
    ASSERT_TRUE(acl_->remove("10.0.0.0/8", std::nullopt, "201"));
    EXPECT_TRUE(all_acl().empty());
}

TEST_F(BanAclStoreTest, StoredAclBecomesTheServersAccessList) {
    ASSERT_TRUE(acl_->add({"192.0.2.0/24", AclKind::Allow, ""}));
    ASSERT_TRUE(acl_->add({"198.51.100.0/24", AclKind::Deny, ""}));
    ASSERT_TRUE(acl_->add({"10.0.0.0/8", AclKind::Allow, "201"}));
    const auto list = security::AccessList::from_records(all_acl());
    EXPECT_TRUE(list.exempt(*security::AddressKey::from_text("192.0.2.9")));
    EXPECT_TRUE(list.denied(*security::AddressKey::from_text("198.51.100.9")));
    EXPECT_TRUE(list.user_allowed("201", *security::AddressKey::from_text("10.2.3.4")));
    EXPECT_FALSE(list.user_allowed("201", *security::AddressKey::from_text("192.0.2.9")));
}

}  // namespace
}  // namespace sw::storage
