#include "storage/sqlite/did_store.hpp"

#include "storage/sqlite/row_exists.hpp"

namespace sw::storage {

Status SqliteDidStore::add(const b2bua::Did& did) {
    const std::string what = "DID " + did.number + ": ";
    auto tx = Transaction::begin(db_);
    if (!tx) return sw::unexpected(what + tx.error());
    auto user = row_exists(db_, "SELECT 1 FROM users WHERE name = ?1", did.user);
    if (!user) return sw::unexpected(what + user.error());
    if (!*user) return sw::unexpected("no such user " + did.user);
    auto taken = db_.prepare("SELECT user FROM dids WHERE number = ?1");
    if (!taken) return sw::unexpected(what + taken.error());
    taken->bind_text(1, did.number);
    auto row = taken->step();
    if (!row) return sw::unexpected(what + row.error());
    if (*row) return sw::unexpected("DID " + did.number + " rings " + taken->column_text(0) + " already");
    taken->reset();
    auto stmt = db_.prepare("INSERT INTO dids(number, user) VALUES(?1, ?2)");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, did.number);
    stmt->bind_text(2, did.user);
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    if (auto committed = tx->commit(); !committed) return sw::unexpected(what + committed.error());
    return ok();
}

Status SqliteDidStore::remove(std::string_view number) {
    const std::string what = "removing DID " + std::string(number) + ": ";
    auto stmt = db_.prepare("DELETE FROM dids WHERE number = ?1");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, number);
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    if (db_.changes() == 0) return sw::unexpected("no such DID " + std::string(number));
    return ok();
}

sw::Result<std::vector<b2bua::Did>, std::string> SqliteDidStore::load_all() {
    auto stmt = db_.prepare("SELECT number, user FROM dids ORDER BY number");
    if (!stmt) return sw::unexpected("loading DIDs: " + stmt.error());
    std::vector<b2bua::Did> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return sw::unexpected("loading DIDs: " + row.error());
        if (!*row) break;
        out.push_back(b2bua::Did{stmt->column_text(0), stmt->column_text(1)});
    }
    return out;
}

}  // namespace sw::storage
