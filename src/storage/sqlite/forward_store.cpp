#include "storage/sqlite/forward_store.hpp"

#include <string>

namespace sw::storage {

Status SqliteForwardStore::set(const pbx::ForwardRule& rule) {
    const std::string what = "forwarding of " + rule.user + ": ";
    if (auto bad = pbx::check_target(rule.target)) return sw::unexpected(what + *bad);
    if (rule.target == rule.user) return sw::unexpected(what + "a user cannot forward to itself");
    auto user = db_.prepare("SELECT 1 FROM users WHERE name = ?1");
    if (!user) return sw::unexpected(what + user.error());
    user->bind_text(1, rule.user);
    auto row = user->step();
    if (!row) return sw::unexpected(what + row.error());
    if (!*row) return sw::unexpected("no such user " + rule.user);
    user->reset();
    auto stmt = db_.prepare(
        "INSERT INTO forwards(user, kind, target, seconds) VALUES(?1, ?2, ?3, ?4) "
        "ON CONFLICT(user, kind) DO UPDATE SET target = excluded.target, seconds = excluded.seconds");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, rule.user);
    stmt->bind_text(2, pbx::kind_name(rule.kind));
    stmt->bind_text(3, rule.target);
    stmt->bind_int64(4, rule.seconds);
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    return ok();
}

Status SqliteForwardStore::clear(std::string_view user, std::optional<pbx::ForwardKind> kind) {
    const std::string what = "clearing the forwarding of " + std::string(user) + ": ";
    auto stmt = db_.prepare(kind ? "DELETE FROM forwards WHERE user = ?1 AND kind = ?2"
                                 : "DELETE FROM forwards WHERE user = ?1");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, user);
    if (kind) stmt->bind_text(2, pbx::kind_name(*kind));
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    if (db_.changes() == 0) {
        return sw::unexpected("no " + (kind ? std::string(pbx::kind_name(*kind)) + " " : std::string()) +
                              "forwarding for " + std::string(user));
    }
    return ok();
}

sw::Result<std::vector<pbx::ForwardRule>, std::string> SqliteForwardStore::load_all() {
    auto stmt = db_.prepare("SELECT user, kind, target, seconds FROM forwards ORDER BY user, kind");
    if (!stmt) return sw::unexpected("loading forwarding rules: " + stmt.error());
    std::vector<pbx::ForwardRule> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return sw::unexpected("loading forwarding rules: " + row.error());
        if (!*row) break;
        auto kind = pbx::kind_from(stmt->column_text(1));
        if (!kind) continue;  // the CHECK constraint keeps this from happening
        out.push_back(pbx::ForwardRule{stmt->column_text(0), *kind, stmt->column_text(2),
                                       static_cast<std::uint32_t>(stmt->column_int64(3))});
    }
    return out;
}

}  // namespace sw::storage
