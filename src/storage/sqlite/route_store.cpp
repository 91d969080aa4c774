#include "storage/sqlite/route_store.hpp"

#include "storage/sqlite/row_exists.hpp"

namespace sw::storage {

Status SqliteRouteStore::add(const b2bua::DialRoute& r) {
    const std::string what = "route " + r.pattern + ": ";
    auto tx = Transaction::begin(db_);
    if (!tx) return sw::unexpected(what + tx.error());
    auto trunk = row_exists(db_, "SELECT 1 FROM trunks WHERE name = ?1", r.trunk);
    if (!trunk) return sw::unexpected(what + trunk.error());
    if (!*trunk) return sw::unexpected("no such trunk " + r.trunk);
    auto stmt = db_.prepare(
        "INSERT INTO routes(pattern, trunk, strip, prepend, priority, class) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
        "ON CONFLICT(pattern, trunk) DO NOTHING");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, r.pattern);
    stmt->bind_text(2, r.trunk);
    stmt->bind_int64(3, r.strip);
    stmt->bind_text(4, r.prepend);
    stmt->bind_int64(5, r.priority);
    stmt->bind_text(6, r.call_class);
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    if (db_.changes() == 0) return sw::unexpected("route " + r.pattern + " via " + r.trunk + " exists");
    if (auto committed = tx->commit(); !committed) return sw::unexpected(what + committed.error());
    return ok();
}

Status SqliteRouteStore::remove(std::string_view pattern, std::optional<std::string_view> trunk) {
    const std::string name =
        "route " + std::string(pattern) + (trunk ? " via " + std::string(*trunk) : std::string());
    auto stmt = db_.prepare(trunk ? "DELETE FROM routes WHERE pattern = ?1 AND trunk = ?2"
                                  : "DELETE FROM routes WHERE pattern = ?1");
    if (!stmt) return sw::unexpected("removing " + name + ": " + stmt.error());
    stmt->bind_text(1, pattern);
    if (trunk) stmt->bind_text(2, *trunk);
    if (auto done = stmt->run(); !done) return sw::unexpected("removing " + name + ": " + done.error());
    if (db_.changes() == 0) return sw::unexpected("no " + name);
    return ok();
}

sw::Result<std::vector<b2bua::DialRoute>, std::string> SqliteRouteStore::load_all() {
    auto stmt = db_.prepare(
        "SELECT pattern, trunk, strip, prepend, priority, class FROM routes ORDER BY pattern, priority, "
        "trunk");
    if (!stmt) return sw::unexpected("loading routes: " + stmt.error());
    std::vector<b2bua::DialRoute> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return sw::unexpected("loading routes: " + row.error());
        if (!*row) break;
        out.push_back(b2bua::DialRoute{
            stmt->column_text(0), stmt->column_text(1), static_cast<std::uint32_t>(stmt->column_int64(2)),
            stmt->column_text(3), static_cast<int>(stmt->column_int64(4)), stmt->column_text(5)});
    }
    return out;
}

}  // namespace sw::storage
