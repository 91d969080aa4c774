#include "storage/sqlite/user_store.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "storage/sqlite/binding_store.hpp"
#include "temp_dir.hpp"

namespace sw::storage {
namespace {

auth::UserRecord make_user(std::string name, char digit = 'a') {
    auth::UserRecord u;
    u.name = std::move(name);
    u.display_name = "User " + u.name;
    u.ha1_md5 = std::string(32, digit);
    u.ha1_sha256 = std::string(64, digit);
    u.ha1_sha512_256 = std::string(64, digit);
    return u;
}

bool same(const auth::UserRecord& a, const auth::UserRecord& b) {
    return a.name == b.name && a.display_name == b.display_name && a.enabled == b.enabled &&
           a.md5_allowed == b.md5_allowed && a.ha1_md5 == b.ha1_md5 && a.ha1_sha256 == b.ha1_sha256 &&
           a.ha1_sha512_256 == b.ha1_sha512_256;
}

std::vector<std::string> names(const std::vector<auth::UserRecord>& users) {
    std::vector<std::string> out;
    for (const auto& u : users)
        out.push_back(u.name);
    return out;
}

class UserStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(dir_.ok());
        auto db = Database::open(dir_.file("users.db"));
        ASSERT_TRUE(db) << db.error();
        db_ = std::move(db).value();
        store_.emplace(*db_);
    }

    std::vector<std::string> listed_names() {
        auto users = store_->list();
        EXPECT_TRUE(users) << (users ? "" : users.error());
        return users ? names(*users) : std::vector<std::string>{};
    }

    test::TempDir dir_;
    std::unique_ptr<Database> db_;
    std::optional<SqliteUserStore> store_;
};

TEST_F(UserStoreTest, AddFindAndListSortedByName) {
    for (const char* name : {"bob", "201", "alice", "1000"})
        ASSERT_TRUE(store_->add(make_user(name)));
    EXPECT_EQ(listed_names(), (std::vector<std::string>{"1000", "201", "alice", "bob"}));

    auto found = store_->find("alice");
    ASSERT_TRUE(found);
    ASSERT_TRUE(found->has_value());
    EXPECT_TRUE(same(**found, make_user("alice")));

    auto missing = store_->find("carol");
    ASSERT_TRUE(missing);
    EXPECT_FALSE(missing->has_value());

    auto all = store_->load_all();
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 4u);
}

TEST_F(UserStoreTest, DuplicateAddIsRefused) {
    ASSERT_TRUE(store_->add(make_user("201", 'a')));
    auto again = store_->add(make_user("201", 'b'));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), "user 201 exists");
    EXPECT_EQ(store_->find("201")->value().ha1_md5, std::string(32, 'a'));
}

TEST_F(UserStoreTest, BadRecordsAreRefusedWithTheReason) {
    auto bad_name = make_user("a b");
    auto refused = store_->add(bad_name);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("user \"a b\": a user name has only"), std::string::npos)
        << refused.error();

    auto upper_hex = make_user("201");
    upper_hex.ha1_sha256 = std::string(64, 'A');
    refused = store_->add(upper_hex);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("ha1_sha256"), std::string::npos) << refused.error();

    auto md5_without_permission = make_user("202");
    md5_without_permission.md5_allowed = false;
    EXPECT_FALSE(store_->add(md5_without_permission));
    md5_without_permission.ha1_md5.clear();
    EXPECT_TRUE(store_->add(md5_without_permission));

    auto no_credentials = make_user("203");
    no_credentials.md5_allowed = false;
    no_credentials.ha1_md5.clear();
    no_credentials.ha1_sha256.clear();
    no_credentials.ha1_sha512_256.clear();
    EXPECT_FALSE(store_->add(no_credentials));

    auto header_injection = make_user("204");
    header_injection.display_name = "Eve\r\nVia: x";
    EXPECT_FALSE(store_->add(header_injection));

    EXPECT_EQ(listed_names(), (std::vector<std::string>{"202"}));
}

TEST_F(UserStoreTest, UpdateCredentialsKeepsTheRest) {
    auto user = make_user("201");
    user.enabled = false;
    ASSERT_TRUE(store_->add(user));
    ASSERT_TRUE(store_->update_credentials("201", "", std::string(64, 'c'), std::string(64, 'd'), false));
    auto found = store_->find("201");
    ASSERT_TRUE(found && found->has_value());
    const auto& u = **found;
    EXPECT_FALSE(u.md5_allowed);
    EXPECT_EQ(u.ha1_md5, "");
    EXPECT_EQ(u.ha1_sha256, std::string(64, 'c'));
    EXPECT_EQ(u.ha1_sha512_256, std::string(64, 'd'));
    EXPECT_EQ(u.display_name, "User 201");
    EXPECT_FALSE(u.enabled);

    auto missing = store_->update_credentials("999", std::string(32, 'a'), "", "", true);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), "no such user 999");
    EXPECT_FALSE(store_->update_credentials("201", "short", "", "", true));
}

TEST_F(UserStoreTest, EnableAndDisable) {
    ASSERT_TRUE(store_->add(make_user("201")));
    ASSERT_TRUE(store_->set_enabled("201", false));
    EXPECT_FALSE(store_->find("201")->value().enabled);
    ASSERT_TRUE(store_->set_enabled("201", true));
    EXPECT_TRUE(store_->find("201")->value().enabled);
    auto missing = store_->set_enabled("999", false);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), "no such user 999");
}

TEST_F(UserStoreTest, RemoveTakesOnlyThatUsersBindings) {
    for (const char* name : {"201", "2010", "2_1"})
        ASSERT_TRUE(store_->add(make_user(name)));
    SqliteBindingStore bindings(*db_);
    std::vector<registrar::BindingChange> changes;
    for (const char* aor : {"201@example.com", "201@other.example", "2010@example.com", "2_1@example.com"}) {
        registrar::BindingChange c;
        c.binding.aor = aor;
        c.binding.contact = std::string("sip:") + aor;
        changes.push_back(c);
    }
    ASSERT_TRUE(bindings.apply(changes));

    // "2_1" must not match "201" as a LIKE pattern would.
    ASSERT_TRUE(store_->remove("2_1"));
    ASSERT_TRUE(store_->remove("201"));
    EXPECT_EQ(listed_names(), (std::vector<std::string>{"2010"}));
    auto left = bindings.list();
    ASSERT_TRUE(left);
    ASSERT_EQ(left->size(), 1u);
    EXPECT_EQ((*left)[0].aor, "2010@example.com");

    auto missing = store_->remove("201");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), "no such user 201");
}

TEST_F(UserStoreTest, ImportAddsAndReplaces) {
    ASSERT_TRUE(store_->add(make_user("201", 'a')));
    auto summary = store_->import({make_user("201", 'b'), make_user("202", 'b')}, true);
    ASSERT_TRUE(summary) << summary.error();
    EXPECT_EQ(summary->added, 1u);
    EXPECT_EQ(summary->replaced, 1u);
    EXPECT_EQ(store_->find("201")->value().ha1_md5, std::string(32, 'b'));
    EXPECT_EQ(listed_names(), (std::vector<std::string>{"201", "202"}));
}

TEST_F(UserStoreTest, ImportOfAnExistingUserIsAllOrNothing) {
    ASSERT_TRUE(store_->add(make_user("201", 'a')));
    auto refused = store_->import({make_user("100"), make_user("201", 'b'), make_user("300")}, false);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), "record 2: user 201 exists");
    EXPECT_EQ(listed_names(), (std::vector<std::string>{"201"}));
    EXPECT_EQ(store_->find("201")->value().ha1_md5, std::string(32, 'a'));
}

TEST_F(UserStoreTest, ImportWithABadOrRepeatedRecordIsAllOrNothing) {
    ASSERT_TRUE(store_->add(make_user("201")));
    auto bad = make_user("301");
    bad.ha1_sha512_256 = "not hex";
    auto refused = store_->import({make_user("300"), bad, make_user("302")}, true);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("record 2 (user \"301\"): ha1_sha512_256"), std::string::npos)
        << refused.error();

    refused = store_->import({make_user("300"), make_user("201"), make_user("300")}, true);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), "record 3: user 300 is also record 1");
    EXPECT_EQ(listed_names(), (std::vector<std::string>{"201"}));
}

// Ten thousand users in one import. How fast it is belongs to a benchmark, not to a unit test on a shared
// machine (this test used to time it, and failed under load).
TEST_F(UserStoreTest, TenThousandUsersImportInOneGo) {
    std::vector<auth::UserRecord> users;
    for (int i = 0; i < 10000; ++i)
        users.push_back(make_user(std::to_string(100000 + i)));
    auto summary = store_->import(users, false);
    ASSERT_TRUE(summary) << summary.error();
    EXPECT_EQ(summary->added, 10000u);
    auto all = store_->load_all();
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 10000u);
}

TEST_F(UserStoreTest, RealmGetAndSet) {
    auto none = store_->realm();
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
    ASSERT_TRUE(store_->set_realm("example.com"));
    ASSERT_TRUE(store_->set_realm("sip.example.com"));
    auto realm = store_->realm();
    ASSERT_TRUE(realm);
    EXPECT_EQ(realm->value_or(""), "sip.example.com");
    EXPECT_FALSE(store_->set_realm(""));
    EXPECT_FALSE(store_->set_realm("bad\"realm"));
    EXPECT_EQ(store_->realm()->value_or(""), "sip.example.com");
}

TEST_F(UserStoreTest, AnotherConnectionSeesChangesAndTheirVersion) {
    auto server_db = Database::open(dir_.file("users.db"));
    ASSERT_TRUE(server_db) << server_db.error();
    SqliteUserStore server(**server_db);
    const auto version = (*server_db)->data_version();
    ASSERT_TRUE(store_->add(make_user("201")));
    EXPECT_NE((*server_db)->data_version(), version);
    auto users = server.load_all();
    ASSERT_TRUE(users);
    EXPECT_EQ(names(*users), (std::vector<std::string>{"201"}));
}

}  // namespace
}  // namespace sw::storage
