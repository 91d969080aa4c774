// The forwarding rules and aliases in SQLite: what `sipwarden forward` and `sipwarden user alias` write.
#include <gtest/gtest.h>

#include <optional>

#include "storage/sqlite/alias_store.hpp"
#include "storage/sqlite/forward_store.hpp"
#include "storage/sqlite/user_store.hpp"
#include "temp_dir.hpp"

namespace sw::storage {
namespace {

auth::UserRecord user(std::string name) {
    auth::UserRecord u;
    u.name = std::move(name);
    u.ha1_md5 = std::string(32, 'a');
    u.ha1_sha256 = std::string(64, 'a');
    u.ha1_sha512_256 = std::string(64, 'a');
    return u;
}

class ForwardAliasStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(dir_.ok());
        auto db = Database::open(dir_.file("sipwarden.db"));
        ASSERT_TRUE(db) << db.error();
        db_ = std::move(db).value();
        users_.emplace(*db_);
        forwards_.emplace(*db_);
        aliases_.emplace(*db_);
        for (const char* n : {"201", "202", "203"})
            ASSERT_TRUE(users_->add(user(n)));
    }
    std::vector<pbx::ForwardRule> rules() {
        auto all = forwards_->load_all();
        EXPECT_TRUE(all) << (all ? "" : all.error());
        return all ? *all : std::vector<pbx::ForwardRule>{};
    }

    test::TempDir dir_;
    std::unique_ptr<Database> db_;
    std::optional<SqliteUserStore> users_;
    std::optional<SqliteForwardStore> forwards_;
    std::optional<SqliteAliasStore> aliases_;
};

TEST_F(ForwardAliasStoreTest, SetReplacesTheRuleOfThatKindOnly) {
    ASSERT_TRUE(forwards_->set({"201", pbx::ForwardKind::Always, "202", 0}));
    ASSERT_TRUE(forwards_->set({"201", pbx::ForwardKind::NoAnswer, "203", 20}));
    ASSERT_TRUE(forwards_->set({"201", pbx::ForwardKind::Always, "203", 0}));
    const auto all = rules();
    ASSERT_EQ(all.size(), 2u);
    const pbx::ForwardingTable table(all);
    const pbx::ForwardSet* s = table.find("201");
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->always);
    EXPECT_EQ(s->always->target, "203");
    ASSERT_TRUE(s->no_answer);
    EXPECT_EQ(s->no_answer->seconds, 20u);
    EXPECT_FALSE(s->busy);
    EXPECT_EQ(table.find("202"), nullptr);
}

TEST_F(ForwardAliasStoreTest, RefusesUnknownUsersSelfForwardingAndBadTargets) {
    auto unknown = forwards_->set({"999", pbx::ForwardKind::Busy, "202", 0});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error(), "no such user 999");
    EXPECT_FALSE(forwards_->set({"201", pbx::ForwardKind::Busy, "201", 0}));
    EXPECT_FALSE(forwards_->set({"201", pbx::ForwardKind::Busy, "a b", 0}));
    EXPECT_FALSE(forwards_->set({"201", pbx::ForwardKind::Busy, "+4x", 0}));
    EXPECT_TRUE(forwards_->set({"201", pbx::ForwardKind::Busy, "+4930123456", 0}));
    EXPECT_EQ(rules().size(), 1u);
}

TEST_F(ForwardAliasStoreTest, ClearOneKindOrAllAndSayWhenNothingWasThere) {
    ASSERT_TRUE(forwards_->set({"201", pbx::ForwardKind::Always, "202", 0}));
    ASSERT_TRUE(forwards_->set({"201", pbx::ForwardKind::Busy, "203", 0}));
    ASSERT_TRUE(forwards_->clear("201", pbx::ForwardKind::Busy));
    EXPECT_EQ(rules().size(), 1u);
    auto again = forwards_->clear("201", pbx::ForwardKind::Busy);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), "no busy forwarding for 201");
    ASSERT_TRUE(forwards_->clear("201", std::nullopt));
    EXPECT_TRUE(rules().empty());
    EXPECT_FALSE(forwards_->clear("201", std::nullopt));
}

TEST_F(ForwardAliasStoreTest, AliasesNameUsersAndNeverCollideWithUserNames) {
    ASSERT_TRUE(aliases_->add("201", "sales"));
    auto of = aliases_->user_of("sales");
    ASSERT_TRUE(of);
    EXPECT_EQ(*of, std::optional<std::string>("201"));
    EXPECT_FALSE(aliases_->add("202", "sales"));  // taken
    EXPECT_FALSE(aliases_->add("202", "203"));    // a user's name
    EXPECT_FALSE(aliases_->add("999", "x"));      // no such user
    EXPECT_FALSE(aliases_->add("202", "bad name"));
    auto taken = users_->add(user("sales"));
    ASSERT_FALSE(taken);
    EXPECT_NE(taken.error().find("alias of 201"), std::string::npos) << taken.error();
    const pbx::AliasTable table(*aliases_->load_all());
    EXPECT_EQ(table.user_of("sales"), "201");
    EXPECT_EQ(table.user_of("201"), "");
    ASSERT_TRUE(aliases_->remove("sales"));
    EXPECT_FALSE(aliases_->remove("sales"));
}

TEST_F(ForwardAliasStoreTest, RemovingAUserRemovesItsForwardingAndAliases) {
    ASSERT_TRUE(forwards_->set({"201", pbx::ForwardKind::Always, "202", 0}));
    ASSERT_TRUE(forwards_->set({"202", pbx::ForwardKind::Busy, "203", 0}));
    ASSERT_TRUE(aliases_->add("201", "sales"));
    ASSERT_TRUE(users_->remove("201"));
    const auto all = rules();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].user, "202");
    EXPECT_TRUE(aliases_->load_all()->empty());
}

}  // namespace
}  // namespace sw::storage
