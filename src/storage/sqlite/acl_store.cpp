#include "storage/sqlite/acl_store.hpp"

#include "common/cidr.hpp"
#include "storage/sqlite/row_exists.hpp"

namespace sw::storage {

std::optional<std::string> normal_cidr(std::string_view text) {
    const auto network = sw::Cidr::parse(text);
    if (!network) return std::nullopt;
    return network->text();
}

namespace {

std::string describe(std::string_view kind, std::string_view cidr, std::string_view user) {
    std::string out = "acl " + std::string(kind) + " " + std::string(cidr);
    if (!user.empty()) out += " for " + std::string(user);
    return out;
}

std::string not_a_network(std::string_view cidr) {
    return std::string(cidr) + ": not a network such as 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32";
}

}  // namespace

Status SqliteAclStore::add(const security::AclRecord& record) {
    const auto cidr = normal_cidr(record.cidr);
    if (!cidr) return sw::unexpected(not_a_network(record.cidr));
    const std::string entry = describe(security::acl_kind_name(record.kind), *cidr, record.user);
    const std::string what = entry + ": ";
    auto tx = Transaction::begin(db_);
    if (!tx) return sw::unexpected(what + tx.error());
    if (!record.user.empty()) {
        auto user = row_exists(db_, "SELECT 1 FROM users WHERE name = ?1", record.user);
        if (!user) return sw::unexpected(what + user.error());
        if (!*user) return sw::unexpected("no such user " + record.user);
    }
    auto stmt = db_.prepare("INSERT INTO acl(cidr, kind, user) VALUES(?1, ?2, ?3) ON CONFLICT DO NOTHING");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, *cidr);
    stmt->bind_text(2, security::acl_kind_name(record.kind));
    stmt->bind_text(3, record.user);
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    if (db_.changes() == 0) return sw::unexpected(entry + " exists");
    if (auto committed = tx->commit(); !committed) return sw::unexpected(what + committed.error());
    return ok();
}

Status SqliteAclStore::remove(std::string_view cidr_text, std::optional<security::AclKind> kind,
                              std::string_view user) {
    const auto cidr = normal_cidr(cidr_text);
    if (!cidr) return sw::unexpected(not_a_network(cidr_text));
    const std::string entry = describe(kind ? security::acl_kind_name(*kind) : "entry", *cidr, user);
    auto stmt = db_.prepare(kind ? "DELETE FROM acl WHERE cidr = ?1 AND user = ?2 AND kind = ?3"
                                 : "DELETE FROM acl WHERE cidr = ?1 AND user = ?2");
    if (!stmt) return sw::unexpected("removing " + entry + ": " + stmt.error());
    stmt->bind_text(1, *cidr);
    stmt->bind_text(2, user);
    if (kind) stmt->bind_text(3, security::acl_kind_name(*kind));
    if (auto done = stmt->run(); !done) return sw::unexpected("removing " + entry + ": " + done.error());
    if (db_.changes() == 0) return sw::unexpected("no " + entry);
    return ok();
}

sw::Result<std::vector<security::AclRecord>, std::string> SqliteAclStore::load_all() {
    // 'allow' < 'deny' as text, and '' sorts before every user.
    auto stmt = db_.prepare("SELECT cidr, kind, user FROM acl ORDER BY user, kind, cidr");
    if (!stmt) return sw::unexpected("loading the acl: " + stmt.error());
    std::vector<security::AclRecord> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return sw::unexpected("loading the acl: " + row.error());
        if (!*row) break;
        const auto kind = security::acl_kind_from(stmt->column_text(1));
        if (!kind) continue;  // the CHECK constraint keeps this from happening
        out.push_back(security::AclRecord{stmt->column_text(0), *kind, stmt->column_text(2)});
    }
    return out;
}

}  // namespace sw::storage
