// Calling rights, suspensions and fraud events in SQLite (schema version 6): what `sipwarden user
// rights|suspend|unsuspend|alerts` write and the server reads back, and the route's class.
#include <gtest/gtest.h>

#include "storage/sqlite/rights_store.hpp"
#include "storage/sqlite/route_store.hpp"
#include "storage/sqlite/trunk_store.hpp"
#include "temp_dir.hpp"

namespace sw::storage {
namespace {

class RightsStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(dir_.ok());
        auto db = Database::open(dir_.file("sipwarden.db"));
        ASSERT_TRUE(db) << db.error();
        db_ = std::move(db).value();
    }
    test::TempDir dir_;
    std::unique_ptr<Database> db_;
};

TEST_F(RightsStoreTest, RowsRoundTripAndReplace) {
    SqliteRightsStore store(*db_);
    RightsRecord r;
    r.user = "201";
    r.call_class = "international";
    r.premium = true;
    r.allowed_prefixes = {"881", "53"};
    r.groups = {"night", "sales"};
    r.max_concurrent = 2;
    r.intl_minutes = 0;
    ASSERT_TRUE(store.put(r));
    auto found = store.find("201");
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->call_class, "international");
    EXPECT_TRUE((*found)->premium);
    EXPECT_EQ((*found)->allowed_prefixes, (std::vector<std::string>{"881", "53"}));
    EXPECT_EQ((*found)->groups, (std::vector<std::string>{"night", "sales"}));
    EXPECT_EQ((*found)->max_concurrent, 2);
    EXPECT_EQ((*found)->per_minute, -1);
    EXPECT_EQ((*found)->intl_minutes, 0);
    r.call_class = "internal";
    r.groups.clear();
    ASSERT_TRUE(store.put(r));
    auto all = store.load_all();
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 1u);
    EXPECT_EQ(all->front().call_class, "internal");
    EXPECT_TRUE(all->front().groups.empty());
    auto none = store.find("202");
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
}

TEST_F(RightsStoreTest, TheTableRefusesWhatNoCommandWouldWrite) {
    SqliteRightsStore store(*db_);
    RightsRecord r;
    r.user = "201";
    r.call_class = "premium";  // a route's class, not a user's
    EXPECT_FALSE(store.put(r));
    r.call_class = "";
    r.allowed_prefixes = {"+881"};
    EXPECT_FALSE(store.put(r));
    r.allowed_prefixes.clear();
    r.max_concurrent = -2;
    EXPECT_FALSE(store.put(r));
}

TEST_F(RightsStoreTest, SuspensionKeepsTheRestAndReportsChanges) {
    SqliteRightsStore store(*db_);
    RightsRecord r;
    r.user = "201";
    r.call_class = "national";
    ASSERT_TRUE(store.put(r));
    auto changed = store.set_suspended("201", true, "burst: 12 calls", 1000);
    ASSERT_TRUE(changed);
    EXPECT_TRUE(*changed);
    changed = store.set_suspended("201", true, "again", 2000);
    ASSERT_TRUE(changed);
    EXPECT_FALSE(*changed) << "already suspended";
    auto found = store.find("201");
    ASSERT_TRUE(found && *found);
    EXPECT_TRUE((*found)->suspended);
    EXPECT_EQ((*found)->suspended_reason, "burst: 12 calls");
    EXPECT_EQ((*found)->suspended_at, 1000);
    EXPECT_EQ((*found)->call_class, "national");
    changed = store.set_suspended("201", false, "", 3000);
    ASSERT_TRUE(changed && *changed);
    found = store.find("201");
    EXPECT_FALSE((*found)->suspended);
    EXPECT_EQ((*found)->suspended_reason, "");
    // Rewriting the rights (the CLI) leaves a suspension alone.
    ASSERT_TRUE(store.set_suspended("201", true, "burst", 4000));
    r.call_class = "international";
    ASSERT_TRUE(store.put(r));
    found = store.find("201");
    EXPECT_TRUE((*found)->suspended);
    EXPECT_EQ((*found)->call_class, "international");
    // Lifting a suspension nobody has changes nothing and makes no row.
    changed = store.set_suspended("404", false, "", 10);
    ASSERT_TRUE(changed);
    EXPECT_FALSE(*changed);
    auto absent = store.find("404");
    ASSERT_TRUE(absent);
    EXPECT_FALSE(*absent);
    // A user without a row gets one with the defaults.
    ASSERT_TRUE(store.set_suspended("305", true, "by the administrator", 10));
    found = store.find("305");
    ASSERT_TRUE(found && *found);
    EXPECT_TRUE((*found)->suspended);
    EXPECT_EQ((*found)->call_class, "");
    EXPECT_EQ((*found)->max_concurrent, -1);
}

TEST_F(RightsStoreTest, EventsNewestFirstByUserAndTime) {
    SqliteRightsStore store(*db_);
    ASSERT_TRUE(store.add_event({0, 1000, "201", "burst", "12 calls", "suspended"}));
    ASSERT_TRUE(store.add_event({0, 2000, "202", "off hours", "6 calls", "alert only"}));
    ASSERT_TRUE(store.add_event({0, 3000, "201", "unsuspended", "", "lifted by the administrator"}));
    auto all = store.events("", 0, 0);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ(all->front().time_ms, 3000);
    auto mine = store.events("201", 0, 0);
    ASSERT_TRUE(mine);
    ASSERT_EQ(mine->size(), 2u);
    EXPECT_EQ(mine->back().kind, "burst");
    auto recent = store.events("", 1500, 1);
    ASSERT_TRUE(recent);
    ASSERT_EQ(recent->size(), 1u);
    EXPECT_EQ(recent->front().kind, "unsuspended");
}

TEST(RightsLists, SplitAndJoin) {
    EXPECT_EQ(split_list("a,,b,"), (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(split_list("").empty());
    EXPECT_EQ(join_list({"881", "", "53"}), "881,53");
}

TEST_F(RightsStoreTest, RoutesKeepTheirClass) {
    b2bua::Trunk t;
    t.name = "prov";
    t.host = "192.0.2.1";
    ASSERT_TRUE(SqliteTrunkStore(*db_).add(t));
    SqliteRouteStore routes(*db_);
    ASSERT_TRUE(routes.add({"0900X.", "prov", 1, "+49", 10, "premium"}));
    ASSERT_TRUE(routes.add({"0X.", "prov", 0, "", 10, ""}));
    EXPECT_FALSE(routes.add({"1X.", "prov", 0, "", 10, "internal"})) << "no route carries internal calls";
    auto all = routes.load_all();
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].call_class, "premium");
    EXPECT_EQ((*all)[1].call_class, "");
}

}  // namespace
}  // namespace sw::storage
