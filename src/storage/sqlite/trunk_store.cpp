#include "storage/sqlite/trunk_store.hpp"

#include <optional>

#include "storage/sqlite/row_exists.hpp"

namespace sw::storage {

namespace {

constexpr const char* kColumns =
    "name, host, port, transport, username, secret, register, expires, from_domain, addresses, tel_uri, "
    "ruri_params, no_100rel, caller_id, srtp";

// The table's spelling, lower case as in a listen spec ("udp:..."); transport::protocol_name would
// need sw_transport, which sits above storage.
const char* transport_text(transport::Protocol p) {
    switch (p) {
        case transport::Protocol::Udp:
            return "udp";
        case transport::Protocol::Tcp:
            return "tcp";
        case transport::Protocol::Tls:
            return "tls";
    }
    return "udp";
}

std::optional<transport::Protocol> transport_from(std::string_view text) {
    if (text == "udp") return transport::Protocol::Udp;
    if (text == "tcp") return transport::Protocol::Tcp;
    if (text == "tls") return transport::Protocol::Tls;
    return std::nullopt;
}

std::string addresses_text(const std::vector<sw::Cidr>& addresses) {
    std::string out;
    for (const auto& a : addresses) {
        if (!out.empty()) out += ' ';
        out += a.text();
    }
    return out;
}

std::vector<sw::Cidr> addresses_from(std::string_view text) {
    std::vector<sw::Cidr> out;
    while (!text.empty()) {
        const auto space = text.find(' ');
        const auto word = text.substr(0, space);
        if (auto c = sw::Cidr::parse(word)) out.push_back(*c);
        text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    }
    return out;
}

}  // namespace

Status SqliteTrunkStore::add(const b2bua::Trunk& t) {
    const std::string what = "trunk " + t.name + ": ";
    auto stmt = db_.prepare("INSERT INTO trunks(" + std::string(kColumns) +
                            ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
                            "ON CONFLICT(name) DO NOTHING");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, t.name);
    stmt->bind_text(2, t.host);
    stmt->bind_int64(3, t.port);
    stmt->bind_text(4, transport_text(t.transport));
    stmt->bind_text(5, t.username);
    stmt->bind_text(6, t.secret);
    stmt->bind_int64(7, t.register_with ? 1 : 0);
    stmt->bind_int64(8, t.expires);
    stmt->bind_text(9, t.from_domain);
    stmt->bind_text(10, addresses_text(t.addresses));
    stmt->bind_int64(11, t.tel_uri ? 1 : 0);
    stmt->bind_text(12, t.ruri_params);
    stmt->bind_int64(13, t.no_100rel ? 1 : 0);
    stmt->bind_text(14, t.caller_id);
    stmt->bind_text(15, t.srtp);
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    if (db_.changes() == 0) return sw::unexpected("trunk " + t.name + " exists");
    return ok();
}

Status SqliteTrunkStore::remove(std::string_view name) {
    const std::string what = "removing trunk " + std::string(name) + ": ";
    auto tx = Transaction::begin(db_);
    if (!tx) return sw::unexpected(what + tx.error());
    auto used = row_exists(db_, "SELECT 1 FROM routes WHERE trunk = ?1", name);
    if (!used) return sw::unexpected(what + used.error());
    if (*used) return sw::unexpected("routes use trunk " + std::string(name));
    // trunk_status rows go by ON DELETE CASCADE.
    auto stmt = db_.prepare("DELETE FROM trunks WHERE name = ?1");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, name);
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    if (db_.changes() == 0) return sw::unexpected("no such trunk " + std::string(name));
    if (auto committed = tx->commit(); !committed) return sw::unexpected(what + committed.error());
    return ok();
}

sw::Result<std::vector<b2bua::Trunk>, std::string> SqliteTrunkStore::load_all() {
    auto stmt = db_.prepare("SELECT " + std::string(kColumns) + " FROM trunks ORDER BY name");
    if (!stmt) return sw::unexpected("loading trunks: " + stmt.error());
    std::vector<b2bua::Trunk> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return sw::unexpected("loading trunks: " + row.error());
        if (!*row) break;
        b2bua::Trunk t;
        t.name = stmt->column_text(0);
        t.host = stmt->column_text(1);
        t.port = static_cast<std::uint16_t>(stmt->column_int64(2));
        t.transport = transport_from(stmt->column_text(3)).value_or(transport::Protocol::Udp);  // CHECKed
        t.username = stmt->column_text(4);
        t.secret = stmt->column_text(5);
        t.register_with = stmt->column_int64(6) != 0;
        t.expires = static_cast<std::uint32_t>(stmt->column_int64(7));
        t.from_domain = stmt->column_text(8);
        t.addresses = addresses_from(stmt->column_text(9));
        t.tel_uri = stmt->column_int64(10) != 0;
        t.ruri_params = stmt->column_text(11);
        t.no_100rel = stmt->column_int64(12) != 0;
        t.caller_id = stmt->column_text(13);
        t.srtp = stmt->column_text(14);
        out.push_back(std::move(t));
    }
    return out;
}

Status SqliteTrunkStore::set_status(const b2bua::TrunkStatus& s) {
    const std::string what = "status of trunk " + s.name + ": ";
    // The EXISTS keeps the foreign key from failing a write that raced a `trunk remove`.
    auto stmt = db_.prepare(
        "INSERT INTO trunk_status(name, state, detail, expires_at, updated_at) "
        "SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM trunks WHERE name = ?1) "
        "ON CONFLICT(name) DO UPDATE SET state = excluded.state, detail = excluded.detail, "
        "expires_at = excluded.expires_at, updated_at = excluded.updated_at");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, s.name);
    stmt->bind_text(2, s.state);
    stmt->bind_text(3, s.detail);
    stmt->bind_int64(4, s.expires_at);
    stmt->bind_int64(5, s.updated_at);
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    return ok();
}

sw::Result<std::vector<b2bua::TrunkStatus>, std::string> SqliteTrunkStore::load_status() {
    auto stmt =
        db_.prepare("SELECT name, state, detail, expires_at, updated_at FROM trunk_status ORDER BY name");
    if (!stmt) return sw::unexpected("loading trunk status: " + stmt.error());
    std::vector<b2bua::TrunkStatus> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return sw::unexpected("loading trunk status: " + row.error());
        if (!*row) break;
        out.push_back(b2bua::TrunkStatus{stmt->column_text(0), stmt->column_text(1), stmt->column_text(2),
                                         stmt->column_int64(3), stmt->column_int64(4)});
    }
    return out;
}

}  // namespace sw::storage
