#include "storage/sqlite/database.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <fstream>

#include "storage/sqlite/schema.hpp"
#include "temp_dir.hpp"

namespace sw::storage {
namespace {

class DatabaseTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(dir_.ok()); }

    std::unique_ptr<Database> open_db(std::span<const std::string_view> migrations) {
        auto db = Database::open(path_, migrations);
        EXPECT_TRUE(db) << (db ? "" : db.error());
        return db ? std::move(db).value() : nullptr;
    }
    std::unique_ptr<Database> open_db() { return open_db(schema_migrations()); }

    // The first column of the first row of `sql`, as text.
    static std::string query(Database& db, std::string_view sql) {
        auto stmt = db.prepare(sql);
        if (!stmt) return "error: " + stmt.error();
        auto row = stmt->step();
        if (!row) return "error: " + row.error();
        return *row ? stmt->column_text(0) : "no row";
    }

    test::TempDir dir_;
    std::string path_ = dir_.file("sipwarden.db");
};

TEST_F(DatabaseTest, NewFileIsPrivateAndConfigured) {
    auto db = open_db();
    ASSERT_TRUE(db);
    struct stat st {};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(query(*db, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(query(*db, "PRAGMA synchronous"), "1");  // NORMAL
    EXPECT_EQ(query(*db, "PRAGMA foreign_keys"), "1");
    EXPECT_EQ(query(*db, "PRAGMA busy_timeout"), "5000");
    EXPECT_EQ(db->schema_version(), static_cast<int>(schema_migrations().size()));
    EXPECT_EQ(query(*db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('meta', 'users', 'bindings')"),
              "3");
}

TEST_F(DatabaseTest, MigrationsAreAppliedOnceInOrder) {
    // Re-running step 1 would fail ("table t already exists"); re-running step 2 would add a second row.
    const std::array<std::string_view, 2> steps{"CREATE TABLE t(x INTEGER NOT NULL)",
                                                "INSERT INTO t VALUES(42)"};
    {
        auto db = open_db(std::span(steps).first(1));
        ASSERT_TRUE(db);
        EXPECT_EQ(db->schema_version(), 1);
        EXPECT_EQ(query(*db, "SELECT count(*) FROM t"), "0");
    }
    for (int i = 0; i < 3; ++i) {
        auto db = open_db(steps);
        ASSERT_TRUE(db);
        EXPECT_EQ(db->schema_version(), 2);
        EXPECT_EQ(query(*db, "SELECT count(*) FROM t"), "1");
        EXPECT_EQ(
            query(*db,
                  "SELECT group_concat(version) FROM (SELECT version FROM schema_version ORDER BY version)"),
            "1,2");
    }
}

TEST_F(DatabaseTest, FailedMigrationIsRolledBackAndNamed) {
    const std::array<std::string_view, 2> steps{"CREATE TABLE t(x)",
                                                "CREATE TABLE u(y); INSERT INTO nope VALUES(1)"};
    auto failed = Database::open(path_, steps);
    ASSERT_FALSE(failed);
    EXPECT_NE(failed.error().find("schema migration 2"), std::string::npos) << failed.error();
    EXPECT_NE(failed.error().find("nope"), std::string::npos) << failed.error();

    auto db = open_db(std::span(steps).first(1));
    ASSERT_TRUE(db);
    EXPECT_EQ(db->schema_version(), 1);
    EXPECT_EQ(query(*db, "SELECT count(*) FROM sqlite_schema WHERE name = 'u'"), "0");
}

TEST_F(DatabaseTest, DatabaseFromTheFutureIsRefused) {
    {
        auto db = open_db();
        ASSERT_TRUE(db);
        ASSERT_TRUE(db->exec("INSERT INTO schema_version VALUES(99, 0)"));
    }
    auto refused = Database::open(path_);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find(path_), std::string::npos) << refused.error();
    EXPECT_NE(refused.error().find("schema version is 99"), std::string::npos) << refused.error();
    EXPECT_NE(refused.error().find("newer sipwarden"), std::string::npos) << refused.error();
}

TEST_F(DatabaseTest, ReopeningKeepsData) {
    {
        auto db = open_db();
        ASSERT_TRUE(db);
        ASSERT_TRUE(db->exec("INSERT INTO meta VALUES('realm', 'example.com')"));
    }
    auto db = open_db();
    ASSERT_TRUE(db);
    EXPECT_EQ(query(*db, "SELECT value FROM meta WHERE key = 'realm'"), "example.com");
}

TEST_F(DatabaseTest, TransactionRollsBackUnlessCommitted) {
    auto db = open_db();
    ASSERT_TRUE(db);
    {
        auto tx = Transaction::begin(*db);
        ASSERT_TRUE(tx);
        EXPECT_TRUE(db->in_transaction());
        ASSERT_TRUE(db->exec("INSERT INTO meta VALUES('a', '1')"));
    }
    EXPECT_FALSE(db->in_transaction());
    EXPECT_EQ(query(*db, "SELECT count(*) FROM meta"), "0");
    {
        auto tx = Transaction::begin(*db);
        ASSERT_TRUE(tx);
        ASSERT_TRUE(db->exec("INSERT INTO meta VALUES('b', '2')"));
        ASSERT_TRUE(tx->commit());
    }
    EXPECT_EQ(query(*db, "SELECT group_concat(key) FROM meta"), "b");
}

TEST_F(DatabaseTest, DataVersionChangesOnlyForAnotherConnectionsCommit) {
    auto server = open_db();
    auto cli = open_db();
    ASSERT_TRUE(server && cli);
    const auto before = server->data_version();
    ASSERT_GE(before, 0);
    EXPECT_EQ(server->data_version(), before);

    ASSERT_TRUE(server->exec("INSERT INTO meta VALUES('own', 'write')"));
    const auto after_own = server->data_version();
    EXPECT_EQ(after_own, before);

    ASSERT_TRUE(cli->exec("INSERT INTO meta VALUES('cli', 'write')"));
    EXPECT_NE(server->data_version(), after_own);
}

TEST_F(DatabaseTest, FileThatIsNotADatabaseIsRefused) {
    std::ofstream(path_)
        << "this is not an SQLite database, it is only some text that is long enough to tell\n";
    auto refused = Database::open(path_);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find(path_ + ": "), std::string::npos) << refused.error();
    EXPECT_NE(refused.error().find("not a database"), std::string::npos) << refused.error();
}

TEST_F(DatabaseTest, MissingFolderIsNamed) {
    const std::string path = dir_.file("no-such-folder/sipwarden.db");
    auto refused = Database::open(path);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), path + ": No such file or directory");
}

TEST_F(DatabaseTest, StatementReportsBindErrorsAndResets) {
    auto db = open_db();
    ASSERT_TRUE(db);
    auto stmt = db->prepare("SELECT ?1 || 'x'");
    ASSERT_TRUE(stmt);
    stmt->bind_text(2, "out of range");
    auto row = stmt->step();
    ASSERT_FALSE(row);
    EXPECT_NE(row.error().find("parameter 2"), std::string::npos) << row.error();

    stmt->reset();
    stmt->bind_text(1, std::string_view());  // empty, not NULL
    row = stmt->step();
    ASSERT_TRUE(row && *row);
    EXPECT_EQ(stmt->column_text(0), "x");
    EXPECT_FALSE(stmt->column_is_null(0));

    EXPECT_FALSE(db->prepare("SELECT 1; SELECT 2"));
    EXPECT_FALSE(db->prepare("SELEKT 1"));
}

}  // namespace
}  // namespace sw::storage
