#include "storage/sqlite/user_store.hpp"

#include <map>

#include "storage/user_rules.hpp"

namespace sw::storage {

namespace {

constexpr std::string_view kNow = "CAST(strftime('%s', 'now') AS INTEGER)";

constexpr std::string_view kColumns =
    "name, display_name, enabled, md5_allowed, ha1_md5, ha1_sha256, ha1_sha512_256";

// DO NOTHING on an existing name: changes() tells "added" from "exists" without parsing an error.
std::string insert_sql() {
    return "INSERT INTO users(" + std::string(kColumns) +
           ", created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, " + std::string(kNow) + ", " +
           std::string(kNow) + ") ON CONFLICT(name) DO NOTHING";
}

std::string replace_sql() {
    return "UPDATE users SET display_name = ?2, enabled = ?3, md5_allowed = ?4, ha1_md5 = ?5, ha1_sha256 = "
           "?6, "
           "ha1_sha512_256 = ?7, updated_at = " +
           std::string(kNow) + " WHERE name = ?1";
}

// The seven parameters of insert_sql() and replace_sql(), in kColumns order.
void bind_user(Statement& stmt, const auth::UserRecord& user) {
    stmt.bind_text(1, user.name);
    stmt.bind_text(2, user.display_name);
    stmt.bind_int64(3, user.enabled ? 1 : 0);
    stmt.bind_int64(4, user.md5_allowed ? 1 : 0);
    stmt.bind_text(5, user.ha1_md5);
    stmt.bind_text(6, user.ha1_sha256);
    stmt.bind_text(7, user.ha1_sha512_256);
}

auth::UserRecord read_user(const Statement& stmt) {
    auth::UserRecord user;
    user.name = stmt.column_text(0);
    user.display_name = stmt.column_text(1);
    user.enabled = stmt.column_int64(2) != 0;
    user.md5_allowed = stmt.column_int64(3) != 0;
    user.ha1_md5 = stmt.column_text(4);
    user.ha1_sha256 = stmt.column_text(5);
    user.ha1_sha512_256 = stmt.column_text(6);
    user.srtp = stmt.column_text(7);
    user.tls_required = stmt.column_int64(8) != 0;
    return user;
}

std::string quoted(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

sw::Result<std::vector<auth::UserRecord>, std::string> select_users(Database& db, std::string_view order) {
    auto stmt = db.prepare("SELECT " + std::string(kColumns) + ", srtp, tls_required FROM users" +
                           std::string(order));
    if (!stmt) return sw::unexpected("reading users: " + stmt.error());
    std::vector<auth::UserRecord> users;
    for (;;) {
        auto row = stmt->step();
        if (!row) return sw::unexpected("reading users: " + row.error());
        if (!*row) return users;
        users.push_back(read_user(*stmt));
    }
}

}  // namespace

sw::Result<std::optional<std::string>, std::string> SqliteUserStore::realm() {
    auto stmt = db_.prepare("SELECT value FROM meta WHERE key = 'realm'");
    if (!stmt) return sw::unexpected("reading the realm: " + stmt.error());
    auto row = stmt->step();
    if (!row) return sw::unexpected("reading the realm: " + row.error());
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>(stmt->column_text(0));
}

Status SqliteUserStore::set_realm(std::string_view realm) {
    if (auto bad = check_realm(realm)) return sw::unexpected("realm " + quoted(realm) + ": " + *bad);
    auto stmt = db_.prepare(
        "INSERT INTO meta(key, value) VALUES('realm', ?1) ON CONFLICT(key) DO UPDATE SET value = "
        "excluded.value");
    if (!stmt) return sw::unexpected("setting the realm: " + stmt.error());
    stmt->bind_text(1, realm);
    if (auto done = stmt->run(); !done) return sw::unexpected("setting the realm: " + done.error());
    return ok();
}

Status SqliteUserStore::add(const auth::UserRecord& user) {
    if (auto bad = check_user(user)) return sw::unexpected("user " + quoted(user.name) + ": " + *bad);
    auto alias = db_.prepare("SELECT user FROM aliases WHERE alias = ?1");
    if (!alias) return sw::unexpected("adding user " + user.name + ": " + alias.error());
    alias->bind_text(1, user.name);
    auto row = alias->step();
    if (!row) return sw::unexpected("adding user " + user.name + ": " + row.error());
    if (*row) return sw::unexpected("user " + user.name + ": is an alias of " + alias->column_text(0));
    alias->reset();
    auto stmt = db_.prepare(insert_sql());
    if (!stmt) return sw::unexpected("adding user " + user.name + ": " + stmt.error());
    bind_user(*stmt, user);
    if (auto done = stmt->run(); !done)
        return sw::unexpected("adding user " + user.name + ": " + done.error());
    if (db_.changes() == 0) return sw::unexpected("user " + user.name + " exists");
    return ok();
}

Status SqliteUserStore::change_one(std::string_view name, std::string_view what, Statement& stmt) {
    if (auto done = stmt.run(); !done) return sw::unexpected(std::string(what) + ": " + done.error());
    if (db_.changes() == 0) return sw::unexpected("no such user " + std::string(name));
    return ok();
}

Status SqliteUserStore::update_credentials(std::string_view name, std::string_view ha1_md5,
                                           std::string_view ha1_sha256, std::string_view ha1_sha512_256,
                                           bool md5_allowed) {
    if (auto bad = check_credentials(md5_allowed, ha1_md5, ha1_sha256, ha1_sha512_256)) {
        return sw::unexpected("user " + quoted(name) + ": " + *bad);
    }
    auto stmt = db_.prepare(
        "UPDATE users SET md5_allowed = ?2, ha1_md5 = ?3, ha1_sha256 = ?4, ha1_sha512_256 = ?5, "
        "updated_at = " +
        std::string(kNow) + " WHERE name = ?1");
    if (!stmt)
        return sw::unexpected("updating the credentials of user " + std::string(name) + ": " + stmt.error());
    stmt->bind_text(1, name);
    stmt->bind_int64(2, md5_allowed ? 1 : 0);
    stmt->bind_text(3, ha1_md5);
    stmt->bind_text(4, ha1_sha256);
    stmt->bind_text(5, ha1_sha512_256);
    return change_one(name, "updating the credentials of user " + std::string(name), *stmt);
}

Status SqliteUserStore::set_enabled(std::string_view name, bool enabled) {
    auto stmt =
        db_.prepare("UPDATE users SET enabled = ?2, updated_at = " + std::string(kNow) + " WHERE name = ?1");
    if (!stmt) return sw::unexpected("enabling user " + std::string(name) + ": " + stmt.error());
    stmt->bind_text(1, name);
    stmt->bind_int64(2, enabled ? 1 : 0);
    return change_one(name, (enabled ? "enabling user " : "disabling user ") + std::string(name), *stmt);
}

Status SqliteUserStore::remove(std::string_view name) {
    const std::string what = "removing user " + std::string(name) + ": ";
    auto tx = Transaction::begin(db_);
    if (!tx) return sw::unexpected(what + tx.error());
    auto user = db_.prepare("DELETE FROM users WHERE name = ?1");
    if (!user) return sw::unexpected(what + user.error());
    user->bind_text(1, name);
    if (auto gone = change_one(name, "removing user " + std::string(name), *user); !gone) return gone;

    // The AORs "name@<any domain>" are the keys in ["name@", "nameA"): '@' + 1 is 'A', and BINARY collation
    // compares bytes. A range rather than LIKE, because '_' is a legal user-name character and a LIKE
    // wildcard, and because the range walks the primary key.
    auto bindings = db_.prepare("DELETE FROM bindings WHERE aor >= ?1 AND aor < ?2");
    if (!bindings) return sw::unexpected(what + bindings.error());
    bindings->bind_text(1, std::string(name) + "@");
    bindings->bind_text(2, std::string(name) + "A");
    if (auto done = bindings->run(); !done) return sw::unexpected(what + done.error());
    for (const char* sql : {"DELETE FROM forwards WHERE user = ?1", "DELETE FROM aliases WHERE user = ?1",
                            "DELETE FROM dids WHERE user = ?1"}) {
        auto stmt = db_.prepare(sql);
        if (!stmt) return sw::unexpected(what + stmt.error());
        stmt->bind_text(1, name);
        if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    }

    if (auto committed = tx->commit(); !committed) return sw::unexpected(what + committed.error());
    return ok();
}

Status SqliteUserStore::set_media(std::string_view name, std::string_view srtp, bool tls_required) {
    auto stmt =
        db_.prepare("UPDATE users SET srtp = ?2, tls_required = ?3, updated_at = " + std::string(kNow) +
                    " WHERE name = ?1");
    if (!stmt) return sw::unexpected("media policy of " + std::string(name) + ": " + stmt.error());
    stmt->bind_text(1, name);
    stmt->bind_text(2, srtp);
    stmt->bind_int64(3, tls_required ? 1 : 0);
    if (auto done = stmt->run(); !done)
        return sw::unexpected("media policy of " + std::string(name) + ": " + done.error());
    return ok();
}

sw::Result<std::optional<auth::UserRecord>, std::string> SqliteUserStore::find(std::string_view name) {
    auto stmt =
        db_.prepare("SELECT " + std::string(kColumns) + ", srtp, tls_required FROM users WHERE name = ?1");
    if (!stmt) return sw::unexpected("finding user " + std::string(name) + ": " + stmt.error());
    stmt->bind_text(1, name);
    auto row = stmt->step();
    if (!row) return sw::unexpected("finding user " + std::string(name) + ": " + row.error());
    if (!*row) return std::optional<auth::UserRecord>();
    return std::optional<auth::UserRecord>(read_user(*stmt));
}

sw::Result<std::vector<auth::UserRecord>, std::string> SqliteUserStore::list() {
    return select_users(db_, " ORDER BY name");
}

sw::Result<std::vector<auth::UserRecord>, std::string> SqliteUserStore::load_all() {
    return select_users(db_, "");
}

sw::Result<ImportSummary, std::string> SqliteUserStore::import(const std::vector<auth::UserRecord>& users,
                                                               bool replace_existing) {
    // Everything that can be known without the table is checked first, so a bad file fails fast and whole.
    std::map<std::string_view, std::size_t> seen;
    for (std::size_t i = 0; i < users.size(); ++i) {
        const auto& user = users[i];
        const std::string record = "record " + std::to_string(i + 1);
        if (auto bad = check_user(user))
            return sw::unexpected(record + " (user " + quoted(user.name) + "): " + *bad);
        auto [it, fresh] = seen.emplace(user.name, i + 1);
        if (!fresh) {
            return sw::unexpected(record + ": user " + user.name + " is also record " +
                                  std::to_string(it->second));
        }
    }

    // One transaction for the whole import (a commit is what costs, not a row) and each statement prepared
    // once: 10,000 users take a few tens of milliseconds.
    auto tx = Transaction::begin(db_);
    if (!tx) return sw::unexpected("import: " + tx.error());
    auto insert = db_.prepare(insert_sql());
    if (!insert) return sw::unexpected("import: " + insert.error());
    auto replace = db_.prepare(replace_sql());
    if (!replace) return sw::unexpected("import: " + replace.error());

    ImportSummary summary;
    for (std::size_t i = 0; i < users.size(); ++i) {
        const auto& user = users[i];
        const std::string record = "record " + std::to_string(i + 1);
        insert->reset();
        bind_user(*insert, user);
        if (auto done = insert->run(); !done)
            return sw::unexpected(record + " (user " + user.name + "): " + done.error());
        if (db_.changes() == 1) {
            ++summary.added;
            continue;
        }
        if (!replace_existing) return sw::unexpected(record + ": user " + user.name + " exists");
        replace->reset();
        bind_user(*replace, user);
        if (auto done = replace->run(); !done) {
            return sw::unexpected(record + " (user " + user.name + "): " + done.error());
        }
        ++summary.replaced;
    }
    if (auto committed = tx->commit(); !committed) return sw::unexpected("import: " + committed.error());
    return summary;
}

}  // namespace sw::storage
