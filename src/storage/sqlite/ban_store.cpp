#include "storage/sqlite/ban_store.hpp"

#include <algorithm>
#include <limits>

#include "common/cidr.hpp"

namespace sw::storage {

std::optional<std::string> normal_address(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    if (text.find('/') != std::string_view::npos) return std::nullopt;
    const auto one = sw::Cidr::parse(text);  // without /prefix: one address, mapped IPv6 as IPv4
    if (!one) return std::nullopt;
    return one->text();
}

namespace {

Status check_record(const security::BanRecord& r, std::string& normal) {
    auto address = normal_address(r.address);
    if (!address) return sw::unexpected(r.address + ": not an IP address such as 192.0.2.7 or 2001:db8::1");
    if (r.reason.size() > kMaxBanReason)
        return sw::unexpected("a ban reason has at most " + std::to_string(kMaxBanReason) + " characters");
    normal = std::move(*address);
    return ok();
}

}  // namespace

Status SqliteBanStore::write(const security::BanRecord& record) {
    const std::string what = "ban of " + record.address + ": ";
    std::string address;
    if (auto checked = check_record(record, address); !checked) return checked;
    auto stmt = db_.prepare(
        "INSERT INTO bans(address, until, reason, created, count) VALUES(?1, ?2, ?3, ?4, ?5) "
        "ON CONFLICT(address) DO UPDATE SET until = excluded.until, reason = excluded.reason, "
        "created = excluded.created, count = excluded.count");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, address);
    stmt->bind_int64(2, record.until);
    stmt->bind_text(3, record.reason);
    stmt->bind_int64(4, record.created);
    stmt->bind_int64(5, std::max<std::int64_t>(record.count, 1));
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    return ok();
}

Status SqliteBanStore::add(std::string_view address, std::int64_t until, std::string_view reason,
                           std::int64_t now) {
    std::string normal;
    if (auto checked = check_record({std::string(address), until, std::string(reason), now, 1}, normal);
        !checked)
        return checked;
    if (until <= now) return sw::unexpected("ban of " + normal + ": it would end before it began");
    const std::string what = "ban of " + normal + ": ";
    auto stmt = db_.prepare(
        "INSERT INTO bans(address, until, reason, created, count) VALUES(?1, ?2, ?3, ?4, 1) "
        "ON CONFLICT(address) DO UPDATE SET until = excluded.until, reason = excluded.reason, "
        "count = count + 1");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, normal);
    stmt->bind_int64(2, until);
    stmt->bind_text(3, reason);
    stmt->bind_int64(4, now);
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    return ok();
}

Status SqliteBanStore::upsert(const security::BanRecord& record) {
    return write(record);
}

Status SqliteBanStore::remove(std::string_view address) {
    const auto normal = normal_address(address);
    if (!normal)
        return sw::unexpected(std::string(address) + ": not an IP address such as 192.0.2.7 or 2001:db8::1");
    const std::string what = "removing the ban of " + *normal + ": ";
    auto stmt = db_.prepare("DELETE FROM bans WHERE address = ?1");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, *normal);
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    if (db_.changes() == 0) return sw::unexpected("no ban for " + *normal);
    return ok();
}

Status SqliteBanStore::apply(const security::BanWrites& writes) {
    if (writes.empty()) return ok();
    auto tx = Transaction::begin(db_);
    if (!tx) return sw::unexpected("writing bans: " + tx.error());
    for (const auto& r : writes.upserts)
        if (auto done = write(r); !done) return done;
    auto del = db_.prepare("DELETE FROM bans WHERE address = ?1");
    if (!del) return sw::unexpected("writing bans: " + del.error());
    for (const auto& a : writes.removals) {
        const auto normal = normal_address(a);
        if (!normal) continue;  // nothing of that name can be in the table
        del->bind_text(1, *normal);
        if (auto done = del->run(); !done) return sw::unexpected("writing bans: " + done.error());
        del->reset();
    }
    if (auto committed = tx->commit(); !committed)
        return sw::unexpected("writing bans: " + committed.error());
    return ok();
}

sw::Result<std::vector<security::BanRecord>, std::string> SqliteBanStore::load_all() {
    auto stmt = db_.prepare("SELECT address, until, reason, created, count FROM bans ORDER BY address");
    if (!stmt) return sw::unexpected("loading bans: " + stmt.error());
    std::vector<security::BanRecord> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return sw::unexpected("loading bans: " + row.error());
        if (!*row) break;
        out.push_back(security::BanRecord{
            stmt->column_text(0), stmt->column_int64(1), stmt->column_text(2), stmt->column_int64(3),
            static_cast<std::uint32_t>(std::clamp<std::int64_t>(stmt->column_int64(4), 1,
                                                                std::numeric_limits<std::uint32_t>::max()))});
    }
    return out;
}

sw::Result<std::int64_t, std::string> SqliteBanStore::prune(std::int64_t now) {
    auto stmt = db_.prepare("DELETE FROM bans WHERE until <= ?1");
    if (!stmt) return sw::unexpected("pruning bans: " + stmt.error());
    stmt->bind_int64(1, now);
    if (auto done = stmt->run(); !done) return sw::unexpected("pruning bans: " + done.error());
    return db_.changes();
}

}  // namespace sw::storage
