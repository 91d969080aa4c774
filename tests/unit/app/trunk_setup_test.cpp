// The secret key file and load_trunk_tables: what the server routes with, passwords opened.
#include "app/trunk_setup.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "../auth/fakes.hpp"
#include "../storage/temp_dir.hpp"
#include "storage/sqlite/did_store.hpp"
#include "storage/sqlite/route_store.hpp"
#include "storage/sqlite/trunk_store.hpp"
#include "storage/sqlite/user_store.hpp"

namespace sw::app {
namespace {

std::string folder_of(const storage::test::TempDir& dir) {
    return std::filesystem::path(dir.file("x")).parent_path().string();
}

TEST(SecretKeyFile, IsMadeOnceWithMode0600AndReadBackTheSame) {
    storage::test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    auth::test::FakeRandom random(7);
    const std::string path = secret_key_path(folder_of(dir));
    EXPECT_EQ(std::filesystem::path(path).filename(), "secret.key");
    EXPECT_FALSE(load_secret_key(path));  // not there yet

    auto made = load_or_create_secret_key(path, random);
    ASSERT_TRUE(made) << made.error();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    std::ifstream file(path);
    std::string text;
    std::getline(file, text);
    EXPECT_EQ(text.size(), 64u);
    EXPECT_EQ(text.find_first_not_of("0123456789abcdef"), std::string::npos);

    auth::test::FakeRandom other(8);
    auto again = load_or_create_secret_key(path, other);
    ASSERT_TRUE(again) << again.error();
    EXPECT_EQ(*again, *made);  // the existing key, not a new one
    auto loaded = load_secret_key(path);
    ASSERT_TRUE(loaded) << loaded.error();
    EXPECT_EQ(*loaded, *made);
    // Nothing but the key is left in the folder (no temporary).
    std::size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(folder_of(dir))) {
        (void)e;
        ++entries;
    }
    EXPECT_EQ(entries, 1u);
}

TEST(SecretKeyFile, ABrokenKeyFileIsAnErrorNamingIt) {
    storage::test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    const std::string path = dir.file("secret.key");
    std::ofstream(path) << "not a key\n";
    auto key = load_secret_key(path);
    ASSERT_FALSE(key);
    EXPECT_NE(key.error().find(path), std::string::npos);
    EXPECT_NE(key.error().find("64 hex digits"), std::string::npos);
    auth::test::FakeRandom random;
    EXPECT_FALSE(load_or_create_secret_key(path, random));  // never replaced behind the operator's back
}

class TrunkTablesTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(dir_.ok());
        auto db = storage::Database::open(dir_.file("sipwarden.db"));
        ASSERT_TRUE(db) << db.error();
        db_ = std::move(db).value();
        auth::UserRecord u;
        u.name = "201";
        u.ha1_md5 = std::string(32, 'a');
        u.ha1_sha256 = u.ha1_sha512_256 = std::string(64, 'a');
        ASSERT_TRUE(storage::SqliteUserStore(*db_).add(u));
    }
    b2bua::Trunk trunk(std::string name, std::string_view password, const auth::SecretKey& key) {
        b2bua::Trunk t;
        t.name = std::move(name);
        t.host = "sip.example.net";
        t.username = "acct";
        if (!password.empty()) t.secret = auth::seal_secret(key, password, random_);
        return t;
    }

    storage::test::TempDir dir_;
    std::unique_ptr<storage::Database> db_;
    auth::test::FakeRandom random_;
};

TEST_F(TrunkTablesTest, LoadsAllThreeTablesWithPasswordsOpened) {
    auto key = load_or_create_secret_key(secret_key_path(folder_of(dir_)), random_);
    ASSERT_TRUE(key) << key.error();
    storage::SqliteTrunkStore trunks(*db_);
    ASSERT_TRUE(trunks.add(trunk("p1", "Pa55-one", *key)));
    ASSERT_TRUE(trunks.add(trunk("p2", "", *key)));
    ASSERT_TRUE(storage::SqliteRouteStore(*db_).add({"0Z.", "p1", 1, "+49", 10, ""}));
    ASSERT_TRUE(storage::SqliteDidStore(*db_).add({"+4930100", "201"}));

    auto tables = load_trunk_tables(*db_, folder_of(dir_));
    ASSERT_TRUE(tables) << tables.error();
    EXPECT_TRUE(tables->warnings.empty());
    ASSERT_EQ(tables->trunks->size(), 2u);
    EXPECT_EQ((*tables->trunks)[0].password, "Pa55-one");
    EXPECT_EQ((*tables->trunks)[1].password, "");
    const auto choices = tables->plan->match("0301234");
    ASSERT_EQ(choices.size(), 1u);
    EXPECT_EQ(choices[0].route.trunk, "p1");
    EXPECT_EQ(choices[0].number, "+49301234");
    EXPECT_EQ(tables->dids->user_of("4930100"), "201");
    EXPECT_EQ(tables->dids->number_of("201"), "+4930100");
}

TEST_F(TrunkTablesTest, APasswordThatDoesNotOpenIsAWarningAndTheOthersStillLoad) {
    auto key = load_or_create_secret_key(secret_key_path(folder_of(dir_)), random_);
    ASSERT_TRUE(key) << key.error();
    auth::SecretKey other{};
    other.fill(0x42);
    storage::SqliteTrunkStore trunks(*db_);
    ASSERT_TRUE(trunks.add(trunk("good", "Pa55-good", *key)));
    ASSERT_TRUE(trunks.add(trunk("stale", "Pa55-stale", other)));

    auto tables = load_trunk_tables(*db_, folder_of(dir_));
    ASSERT_TRUE(tables) << tables.error();
    ASSERT_EQ(tables->trunks->size(), 2u);
    EXPECT_EQ((*tables->trunks)[0].password, "Pa55-good");
    EXPECT_EQ((*tables->trunks)[1].password, "");
    ASSERT_EQ(tables->warnings.size(), 1u);
    EXPECT_NE(tables->warnings[0].find("trunk stale"), std::string::npos);
    EXPECT_EQ(tables->warnings[0].find("Pa55"), std::string::npos);
}

TEST_F(TrunkTablesTest, AMissingKeyFileIsAWarningPerTrunkWithAPassword) {
    auth::SecretKey key{};
    key.fill(0x11);
    storage::SqliteTrunkStore trunks(*db_);
    ASSERT_TRUE(trunks.add(trunk("p1", "Pa55-one", key)));
    ASSERT_TRUE(trunks.add(trunk("p2", "", key)));
    auto tables = load_trunk_tables(*db_, folder_of(dir_));
    ASSERT_TRUE(tables) << tables.error();
    ASSERT_EQ(tables->warnings.size(), 1u);
    EXPECT_NE(tables->warnings[0].find("trunk p1"), std::string::npos);
    EXPECT_NE(tables->warnings[0].find("secret.key"), std::string::npos);
    EXPECT_EQ(tables->trunks->size(), 2u);
}

TEST_F(TrunkTablesTest, WriteTrunkStatusReachesTheStore) {
    auth::SecretKey key{};
    ASSERT_TRUE(storage::SqliteTrunkStore(*db_).add(trunk("p1", "", key)));
    ASSERT_TRUE(write_trunk_status(*db_, {"p1", "failed", "timeout", 0, 5}));
    auto status = storage::SqliteTrunkStore(*db_).load_status();
    ASSERT_TRUE(status) << status.error();
    ASSERT_EQ(status->size(), 1u);
    EXPECT_EQ((*status)[0].detail, "timeout");
}

}  // namespace
}  // namespace sw::app
