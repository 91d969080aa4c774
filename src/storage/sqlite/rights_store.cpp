#include "storage/sqlite/rights_store.hpp"

namespace sw::storage {

namespace {

constexpr std::string_view kColumns =
    "user, class, premium, allowed_prefixes, groups, max_concurrent, per_minute, per_hour, intl_minutes, "
    "suspended, suspended_reason, suspended_at";

RightsRecord read_row(const Statement& s) {
    RightsRecord r;
    r.user = s.column_text(0);
    r.call_class = s.column_text(1);
    r.premium = s.column_int64(2) != 0;
    r.allowed_prefixes = split_list(s.column_text(3));
    r.groups = split_list(s.column_text(4));
    r.max_concurrent = static_cast<int>(s.column_int64(5));
    r.per_minute = static_cast<int>(s.column_int64(6));
    r.per_hour = static_cast<int>(s.column_int64(7));
    r.intl_minutes = static_cast<int>(s.column_int64(8));
    r.suspended = s.column_int64(9) != 0;
    r.suspended_reason = s.column_text(10);
    r.suspended_at = s.column_int64(11);
    return r;
}

}  // namespace

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

std::string join_list(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        if (i.empty()) continue;
        out.append(out.empty() ? "" : ",").append(i);
    }
    return out;
}

Status SqliteRightsStore::put(const RightsRecord& r) {
    const std::string what = "rights of " + r.user + ": ";
    auto stmt = db_.prepare("INSERT INTO calling_rights(" + std::string(kColumns) +
                            ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
                            "ON CONFLICT(user) DO UPDATE SET class = excluded.class, premium = "
                            "excluded.premium, allowed_prefixes = excluded.allowed_prefixes, groups = "
                            "excluded.groups, max_concurrent = excluded.max_concurrent, per_minute = "
                            "excluded.per_minute, per_hour = excluded.per_hour, intl_minutes = "
                            "excluded.intl_minutes");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, r.user);
    stmt->bind_text(2, r.call_class);
    stmt->bind_int64(3, r.premium ? 1 : 0);
    stmt->bind_text(4, join_list(r.allowed_prefixes));
    stmt->bind_text(5, join_list(r.groups));
    stmt->bind_int64(6, r.max_concurrent);
    stmt->bind_int64(7, r.per_minute);
    stmt->bind_int64(8, r.per_hour);
    stmt->bind_int64(9, r.intl_minutes);
    stmt->bind_int64(10, r.suspended ? 1 : 0);
    stmt->bind_text(11, r.suspended_reason);
    stmt->bind_int64(12, r.suspended_at);
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    return ok();
}

sw::Result<std::optional<RightsRecord>, std::string> SqliteRightsStore::find(std::string_view user) {
    auto stmt = db_.prepare("SELECT " + std::string(kColumns) + " FROM calling_rights WHERE user = ?1");
    if (!stmt) return sw::unexpected("rights: " + stmt.error());
    stmt->bind_text(1, user);
    auto row = stmt->step();
    if (!row) return sw::unexpected("rights: " + row.error());
    if (!*row) return std::optional<RightsRecord>{};
    return std::optional<RightsRecord>{read_row(*stmt)};
}

sw::Result<std::vector<RightsRecord>, std::string> SqliteRightsStore::load_all() {
    auto stmt = db_.prepare("SELECT " + std::string(kColumns) + " FROM calling_rights ORDER BY user");
    if (!stmt) return sw::unexpected("loading rights: " + stmt.error());
    std::vector<RightsRecord> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return sw::unexpected("loading rights: " + row.error());
        if (!*row) break;
        out.push_back(read_row(*stmt));
    }
    return out;
}

sw::Result<bool, std::string> SqliteRightsStore::set_suspended(std::string_view user, bool suspended,
                                                               std::string_view reason, std::int64_t now_s) {
    const std::string what = "suspension of " + std::string(user) + ": ";
    if (!suspended) {
        auto lift = db_.prepare(
            "UPDATE calling_rights SET suspended = 0, suspended_reason = '', suspended_at = 0 WHERE user = "
            "?1 "
            "AND suspended = 1");
        if (!lift) return sw::unexpected(what + lift.error());
        lift->bind_text(1, user);
        if (auto done = lift->run(); !done) return sw::unexpected(what + done.error());
        return db_.changes() > 0;
    }
    auto stmt = db_.prepare(
        "INSERT INTO calling_rights(user, suspended, suspended_reason, suspended_at) VALUES(?1, ?2, ?3, ?4) "
        "ON CONFLICT(user) DO UPDATE SET suspended = excluded.suspended, suspended_reason = "
        "excluded.suspended_reason, suspended_at = excluded.suspended_at WHERE suspended <> "
        "excluded.suspended");
    if (!stmt) return sw::unexpected(what + stmt.error());
    stmt->bind_text(1, user);
    stmt->bind_int64(2, suspended ? 1 : 0);
    stmt->bind_text(3, suspended ? reason : std::string_view{});
    stmt->bind_int64(4, suspended ? now_s : 0);
    if (auto done = stmt->run(); !done) return sw::unexpected(what + done.error());
    return db_.changes() > 0;
}

Status SqliteRightsStore::remove(std::string_view user) {
    auto stmt = db_.prepare("DELETE FROM calling_rights WHERE user = ?1");
    if (!stmt) return sw::unexpected("rights: " + stmt.error());
    stmt->bind_text(1, user);
    if (auto done = stmt->run(); !done) return sw::unexpected("rights: " + done.error());
    return ok();
}

Status SqliteRightsStore::add_event(const FraudEvent& e) {
    auto stmt = db_.prepare(
        "INSERT INTO fraud_events(time_ms, user, kind, detail, action) VALUES(?1, ?2, ?3, ?4, ?5)");
    if (!stmt) return sw::unexpected("fraud event: " + stmt.error());
    stmt->bind_int64(1, e.time_ms);
    stmt->bind_text(2, e.user);
    stmt->bind_text(3, e.kind);
    stmt->bind_text(4, e.detail);
    stmt->bind_text(5, e.action);
    if (auto done = stmt->run(); !done) return sw::unexpected("fraud event: " + done.error());
    return ok();
}

sw::Result<std::vector<FraudEvent>, std::string> SqliteRightsStore::events(std::string_view user,
                                                                           std::int64_t since_ms,
                                                                           std::size_t limit) {
    auto stmt = db_.prepare(
        "SELECT id, time_ms, user, kind, detail, action FROM fraud_events WHERE time_ms >= ?1 AND "
        "(?2 = '' OR user = ?2) ORDER BY time_ms DESC, id DESC LIMIT ?3");
    if (!stmt) return sw::unexpected("fraud events: " + stmt.error());
    stmt->bind_int64(1, since_ms);
    stmt->bind_text(2, user);
    stmt->bind_int64(3, limit == 0 ? -1 : static_cast<std::int64_t>(limit));
    std::vector<FraudEvent> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return sw::unexpected("fraud events: " + row.error());
        if (!*row) break;
        out.push_back(FraudEvent{stmt->column_int64(0), stmt->column_int64(1), stmt->column_text(2),
                                 stmt->column_text(3), stmt->column_text(4), stmt->column_text(5)});
    }
    return out;
}

}  // namespace sw::storage
