#include "storage/sqlite/alias_store.hpp"

#include <string>

#include "storage/user_rules.hpp"

namespace sw::storage {

namespace {
// 1 when the query (one text parameter) finds a row, 0 when not, -1 on an error (in `error`).
int exists(Database& db, const char* sql, std::string_view value, std::string& error) {
    auto stmt = db.prepare(sql);
    if (!stmt) {
        error = stmt.error();
        return -1;
    }
    stmt->bind_text(1, value);
    auto row = stmt->step();
    if (!row) {
        error = row.error();
        return -1;
    }
    return *row ? 1 : 0;
}
}  // namespace

Status SqliteAliasStore::add(std::string_view user, std::string_view alias) {
    const std::string what = "alias " + std::string(alias) + ": ";
    if (auto bad = check_user_name(alias)) return sw::unexpected(what + *bad);
    auto tx = Transaction::begin(db_);
    if (!tx) return sw::unexpected(what + tx.error());
    std::string error;
    const int u = exists(db_, "SELECT 1 FROM users WHERE name = ?1", user, error);
    if (u < 0) return sw::unexpected(what + error);
    if (u == 0) return sw::unexpected("no such user " + std::string(user));
    const int taken = exists(db_, "SELECT 1 FROM users WHERE name = ?1", alias, error);
    if (taken < 0) return sw::unexpected(what + error);
    if (taken == 1) return sw::unexpected(what + "is the name of a user");
    auto stmt = db_.prepare("INSERT INTO aliases(alias, user) VALUES(?1, ?2) ON CONFLICT(alias) DO NOTHING");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, alias);
    stmt->bind_text(2, user);
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    if (db_.changes() == 0) return sw::unexpected(what + "exists");
    if (auto committed = tx->commit(); !committed) return sw::unexpected(what + committed.error());
    return ok();
}

Status SqliteAliasStore::remove(std::string_view alias) {
    auto stmt = db_.prepare("DELETE FROM aliases WHERE alias = ?1");
    if (!stmt) return sw::unexpected("removing alias " + std::string(alias) + ": " + stmt.error());
    stmt->bind_text(1, alias);
    if (auto done = stmt->run(); !done)
        return sw::unexpected("removing alias " + std::string(alias) + ": " + done.error());
    if (db_.changes() == 0) return sw::unexpected("no such alias " + std::string(alias));
    return ok();
}

sw::Result<std::optional<std::string>, std::string> SqliteAliasStore::user_of(std::string_view alias) {
    auto stmt = db_.prepare("SELECT user FROM aliases WHERE alias = ?1");
    if (!stmt) return sw::unexpected("finding alias " + std::string(alias) + ": " + stmt.error());
    stmt->bind_text(1, alias);
    auto row = stmt->step();
    if (!row) return sw::unexpected("finding alias " + std::string(alias) + ": " + row.error());
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>(stmt->column_text(0));
}

sw::Result<std::vector<pbx::Alias>, std::string> SqliteAliasStore::load_all() {
    auto stmt = db_.prepare("SELECT alias, user FROM aliases ORDER BY alias");
    if (!stmt) return sw::unexpected("loading aliases: " + stmt.error());
    std::vector<pbx::Alias> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return sw::unexpected("loading aliases: " + row.error());
        if (!*row) break;
        out.push_back(pbx::Alias{stmt->column_text(0), stmt->column_text(1)});
    }
    return out;
}

}  // namespace sw::storage
