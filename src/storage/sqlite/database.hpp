// One SQLite connection (RAII over sqlite3*), opened with the settings every sipwarden process shares, and
// the schema brought up to date on open. The running server and the CLI open the same file at once: each
// has its own Database, and SQLite's locks (with a busy timeout) keep them apart.
// Thread: one thread at a time per Database and everything made from it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "storage/sqlite/statement.hpp"
#include "storage/status.hpp"

struct sqlite3;

namespace sw::storage {

class Database {
public:
    // Opens the database file at `path` (created with mode 0600 if it does not exist: it holds password
    // equivalents; the folder must exist) and applies the built-in migrations (schema.hpp) it lacks.
    // Fails, naming the path, if the file is not a database, cannot be opened, was written by a newer
    // sipwarden (its schema version is above ours), or a migration fails.
    static sw::Result<std::unique_ptr<Database>, std::string> open(const std::string& path);
    // The same with an explicit migration list: migrations[0] makes version 1, migrations[1] version 2...
    static sw::Result<std::unique_ptr<Database>, std::string> open(
        const std::string& path, std::span<const std::string_view> migrations);

    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // One SQL statement, with "?N" parameters.
    sw::Result<Statement, std::string> prepare(std::string_view sql);
    // Any number of statements, without parameters.
    Status exec(const std::string& sql);

    // BEGIN IMMEDIATE, COMMIT and ROLLBACK, each prepared once per connection: exec() would parse the
    // SQL on every transaction, a visible share of the binding writer's time at a few thousand REGISTERs
    // a second.
    enum class Control { BeginImmediate, Commit, Rollback };
    Status control(Control which);

    // Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    std::int64_t changes() const;
    // true between BEGIN and COMMIT/ROLLBACK (including a transaction SQLite rolled back by itself: false).
    bool in_transaction() const;

    // PRAGMA data_version: changes whenever ANOTHER connection (the CLI, another process) has committed
    // since the last call, never for this connection's own commits. The server polls it to notice edits
    // made with the CLI. -1 if the query failed, which differs from every real value, so a poller reloads.
    std::int64_t data_version();

    // The schema version the file has (the number of migrations applied).
    int schema_version() const { return schema_version_; }
    const std::string& path() const { return path_; }

private:
    struct Closer {
        void operator()(sqlite3* db) const;
    };
    Database(sqlite3* db, std::string path);
    Status configure();
    Status migrate(std::span<const std::string_view> migrations);

    std::unique_ptr<sqlite3, Closer> db_;
    std::string path_;
    int schema_version_ = 0;
    // After db_, so they are finalised before the connection closes.
    std::optional<Statement> control_[3];
};

// BEGIN IMMEDIATE ... COMMIT; rolled back on destruction unless committed. IMMEDIATE takes the write lock
// at BEGIN (waiting up to the busy timeout): two writers that both began as readers and then wrote would
// otherwise deadlock, and one of them would get SQLITE_BUSY in the middle of its work.
class Transaction {
public:
    static sw::Result<Transaction, std::string> begin(Database& db);

    Transaction(Transaction&& other) noexcept;
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();

    // After a failed commit the transaction is still open (or already rolled back by SQLite); the
    // destructor rolls it back either way.
    Status commit();

private:
    explicit Transaction(Database& db) : db_(&db) {}
    Database* db_;  // null once committed or moved from
};

}  // namespace sw::storage
