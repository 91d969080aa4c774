#include "storage/sqlite/database.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "storage/sqlite/schema.hpp"

namespace sw::storage {

namespace {

// The CLI and the server share the file; a writer waits this long for the other before giving up.
constexpr int kBusyTimeoutMs = 5000;

struct FileDescriptor {
    int fd;
    ~FileDescriptor() {
        if (fd >= 0) ::close(fd);
    }
};

struct SqliteFree {
    void operator()(char* p) const { sqlite3_free(p); }
};

// A new file is made private to its owner: it holds HA1s, which are password equivalents (RFC 7616 5.4).
// An existing file keeps the mode its administrator gave it. SQLite gives its -wal and -shm files the mode
// of the database file.
Status create_private_file(const std::string& path) {
    const FileDescriptor file{::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)};
    if (file.fd < 0) return sw::unexpected(std::string(std::strerror(errno)));
    return ok();
}

}  // namespace

void Database::Closer::operator()(sqlite3* db) const {
    // close_v2: a statement still alive somewhere only defers the close instead of leaking the connection.
    sqlite3_close_v2(db);
}

Database::Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

Database::~Database() = default;

sw::Result<std::unique_ptr<Database>, std::string> Database::open(const std::string& path) {
    return open(path, schema_migrations());
}

sw::Result<std::unique_ptr<Database>, std::string> Database::open(
    const std::string& path, std::span<const std::string_view> migrations) {
    if (auto created = create_private_file(path); !created) {
        return sw::unexpected(path + ": " + created.error());
    }
    // No memory statistics (we never read them): with them on, every allocation SQLite makes takes a
    // global mutex, about 25 lock pairs per stored binding. Must precede SQLite's initialisation, which
    // the first open does; a later call would only be refused.
    static const int kNoMemStatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)kNoMemStatus;
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
    // Even a failed open returns a handle (for its error message) that must be closed: own it first.
    std::unique_ptr<Database> db(new Database(raw, path));
    if (rc != SQLITE_OK) {
        return sw::unexpected(path + ": " + (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    if (auto configured = db->configure(); !configured) {
        return sw::unexpected(path + ": " + configured.error());
    }
    if (auto migrated = db->migrate(migrations); !migrated) {
        return sw::unexpected(path + ": " + migrated.error());
    }
    return db;
}

Status Database::configure() {
    // First, so that every later step waits for a lock the other process holds instead of failing.
    sqlite3_busy_timeout(db_.get(), kBusyTimeoutMs);

    // WAL: readers never block the writer nor the reverse, so the CLI never stalls the server's REGISTERs.
    // The mode is kept in the file; the answer is the mode in force, which is not WAL where the file system
    // cannot share memory between processes (some network file systems).
    auto journal = prepare("PRAGMA journal_mode=WAL");
    if (!journal) return sw::unexpected(journal.error());
    auto row = journal->step();
    if (!row) return sw::unexpected(row.error());
    if (!*row || journal->column_text(0) != "wal") {
        return sw::unexpected(
            std::string("cannot use the WAL journal here (is it on a network file system?)"));
    }
    journal->reset();

    // NORMAL in WAL mode: a commit is in the WAL file before COMMIT returns, so it survives the process
    // being killed; only a power loss can take back the last commits (and never corrupts the file). FULL
    // would add an fsync to every REGISTER.
    return exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
}

Status Database::migrate(std::span<const std::string_view> migrations) {
    const int known = static_cast<int>(migrations.size());
    // One transaction per step, and the version read again after taking the write lock: a CLI and a server
    // opening the same old file at once apply each step once between them.
    for (;;) {
        auto tx = Transaction::begin(*this);
        if (!tx) return sw::unexpected("schema migration: " + tx.error());
        auto table = exec(
            "CREATE TABLE IF NOT EXISTS schema_version("
            "version INTEGER PRIMARY KEY NOT NULL, applied_at INTEGER NOT NULL)");
        if (!table) return sw::unexpected("schema migration: " + table.error());

        auto read = prepare("SELECT coalesce(max(version), 0) FROM schema_version");
        if (!read) return sw::unexpected("schema version: " + read.error());
        auto row = read->step();
        if (!row || !*row) return sw::unexpected("schema version: " + (row ? "no row" : row.error()));
        const std::int64_t current = read->column_int64(0);
        read->reset();

        if (current > known) {
            return sw::unexpected("the schema version is " + std::to_string(current) +
                                  " but this sipwarden knows versions up to " + std::to_string(known) +
                                  ": the file was written by a newer sipwarden; use that version");
        }
        schema_version_ = static_cast<int>(current);
        if (current == known) {
            if (auto done = tx->commit(); !done) return sw::unexpected("schema migration: " + done.error());
            return ok();
        }

        const int next = static_cast<int>(current) + 1;
        const std::string step_name = "schema migration " + std::to_string(next);
        if (auto applied = exec(std::string(migrations[next - 1])); !applied) {
            return sw::unexpected(step_name + ": " + applied.error());
        }
        auto record = prepare(
            "INSERT INTO schema_version(version, applied_at) VALUES(?1, CAST(strftime('%s', 'now') AS "
            "INTEGER))");
        if (!record) return sw::unexpected(step_name + ": " + record.error());
        record->bind_int64(1, next);
        if (auto recorded = record->run(); !recorded)
            return sw::unexpected(step_name + ": " + recorded.error());
        if (auto done = tx->commit(); !done) return sw::unexpected(step_name + ": " + done.error());
        schema_version_ = next;
    }
}

sw::Result<Statement, std::string> Database::prepare(std::string_view sql) {
    if (sql.size() > static_cast<std::size_t>(INT_MAX))
        return sw::unexpected(std::string("SQL text too long"));
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, &tail);
    Statement stmt(raw);  // owns it from here, on every path
    if (rc != SQLITE_OK) return sw::unexpected(std::string(sqlite3_errmsg(db_.get())));
    if (raw == nullptr) return sw::unexpected(std::string("no SQL statement to prepare"));
    // The rest would be silently ignored by SQLite; several statements belong in exec().
    for (const char* p = tail; p != sql.data() + sql.size(); ++p) {
        if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != ';') {
            return sw::unexpected(std::string("prepare takes one SQL statement"));
        }
    }
    return stmt;
}

Status Database::exec(const std::string& sql) {
    char* raw_message = nullptr;
    const int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &raw_message);
    const std::unique_ptr<char, SqliteFree> message(raw_message);
    if (rc == SQLITE_OK) return ok();
    return sw::unexpected(std::string(message ? message.get() : sqlite3_errmsg(db_.get())));
}

Status Database::control(Control which) {
    static constexpr std::string_view kSql[] = {"BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"};
    auto& slot = control_[static_cast<int>(which)];
    if (!slot) {
        auto stmt = prepare(kSql[static_cast<int>(which)]);
        if (!stmt) return sw::unexpected(stmt.error());
        slot.emplace(std::move(stmt).value());
    }
    auto done = slot->run();
    slot->reset();
    return done;
}

std::int64_t Database::changes() const {
    return sqlite3_changes64(db_.get());
}

bool Database::in_transaction() const {
    return sqlite3_get_autocommit(db_.get()) == 0;
}

std::int64_t Database::data_version() {
    auto stmt = prepare("PRAGMA data_version");
    if (!stmt) return -1;
    auto row = stmt->step();
    if (!row || !*row) return -1;
    return stmt->column_int64(0);
}

sw::Result<Transaction, std::string> Transaction::begin(Database& db) {
    if (auto begun = db.control(Database::Control::BeginImmediate); !begun)
        return sw::unexpected(begun.error());
    return Transaction(db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() {
    // SQLite may already have rolled back by itself (after some errors); ROLLBACK would then fail. A failed
    // ROLLBACK leaves nothing to do: the transaction ends when the connection closes.
    if (db_ != nullptr && db_->in_transaction()) (void)db_->control(Database::Control::Rollback);
}

Status Transaction::commit() {
    assert(db_ != nullptr);
    if (auto committed = db_->control(Database::Control::Commit); !committed) return committed;
    db_ = nullptr;
    return ok();
}

}  // namespace sw::storage
