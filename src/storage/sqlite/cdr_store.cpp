#include "storage/sqlite/cdr_store.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace sw::storage {

namespace {

// Append only, like schema.cpp: a shipped step is never edited.
constexpr std::array<std::string_view, 1> kMigrations = {
    // Version 1: one row per call attempt. The caller and callee indexes lead with the user and end with
    // the start time, so `sipwarden cdr --user EXT` reads only that user's rows, newest first.
    R"sql(
CREATE TABLE cdrs(
    id INTEGER PRIMARY KEY,
    call TEXT NOT NULL UNIQUE,
    start_ms INTEGER NOT NULL,
    answer_ms INTEGER,
    end_ms INTEGER,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    caller TEXT NOT NULL DEFAULT '',
    callee TEXT NOT NULL DEFAULT '',
    dialled TEXT NOT NULL DEFAULT '',
    direction TEXT NOT NULL DEFAULT '',
    trunk TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    result INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    verdict TEXT NOT NULL DEFAULT '');
CREATE INDEX cdrs_by_start ON cdrs(start_ms);
CREATE INDEX cdrs_by_caller ON cdrs(caller, start_ms);
CREATE INDEX cdrs_by_callee ON cdrs(callee, start_ms);
)sql",
};

// In DO UPDATE, a bare column is the stored row's value and excluded.X the new one. start_ms keeps the
// earliest time known, so a row made by an answer or end that overtook its start still sorts by the
// start once the start arrives.
constexpr std::string_view kStart =
    "INSERT INTO cdrs(call, start_ms, caller, callee, dialled, direction, trunk, source, user_agent, "
    "verdict) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
    "ON CONFLICT(call) DO UPDATE SET start_ms = min(start_ms, excluded.start_ms), caller = excluded.caller, "
    "callee = excluded.callee, dialled = excluded.dialled, direction = excluded.direction, "
    "trunk = excluded.trunk, source = excluded.source, user_agent = excluded.user_agent, "
    "verdict = excluded.verdict";

constexpr std::string_view kAnswer =
    "INSERT INTO cdrs(call, start_ms, answer_ms) VALUES(?1, ?2, ?2) "
    "ON CONFLICT(call) DO UPDATE SET answer_ms = excluded.answer_ms, "
    "start_ms = min(start_ms, excluded.start_ms), "
    "duration_ms = CASE WHEN end_ms IS NULL THEN 0 ELSE max(0, end_ms - excluded.answer_ms) END";

constexpr std::string_view kEnd =
    "INSERT INTO cdrs(call, start_ms, end_ms, result, reason) VALUES(?1, ?2, ?2, ?3, ?4) "
    "ON CONFLICT(call) DO UPDATE SET end_ms = excluded.end_ms, result = excluded.result, "
    "reason = excluded.reason, start_ms = min(start_ms, excluded.start_ms), "
    "duration_ms = CASE WHEN answer_ms IS NULL THEN 0 ELSE max(0, excluded.end_ms - answer_ms) END";

// Several events of one call in one batch, folded into one write (see SqliteCdrStore::apply). ?1 call,
// ?2 the earliest event time, ?3 answer_ms or NULL, ?4 end_ms or NULL, ?5-?12 the start's details ('' when
// the batch has no start), ?13 result or NULL, ?14 reason, ?15 1 if the batch has the start. It leaves the
// row as the events applied one by one would: what an event kind does not carry keeps the stored value.
constexpr std::string_view kFolded =
    "INSERT INTO cdrs(call, start_ms, answer_ms, end_ms, duration_ms, caller, callee, dialled, direction, "
    "trunk, source, user_agent, verdict, result, reason) VALUES(?1, ?2, ?3, ?4, "
    "CASE WHEN ?3 IS NULL OR ?4 IS NULL THEN 0 ELSE max(0, ?4 - ?3) END, "
    "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
    "ON CONFLICT(call) DO UPDATE SET start_ms = min(start_ms, excluded.start_ms), "
    "caller = CASE WHEN ?15 THEN excluded.caller ELSE caller END, "
    "callee = CASE WHEN ?15 THEN excluded.callee ELSE callee END, "
    "dialled = CASE WHEN ?15 THEN excluded.dialled ELSE dialled END, "
    "direction = CASE WHEN ?15 THEN excluded.direction ELSE direction END, "
    "trunk = CASE WHEN ?15 THEN excluded.trunk ELSE trunk END, "
    "source = CASE WHEN ?15 THEN excluded.source ELSE source END, "
    "user_agent = CASE WHEN ?15 THEN excluded.user_agent ELSE user_agent END, "
    "verdict = CASE WHEN ?15 THEN excluded.verdict ELSE verdict END, "
    "answer_ms = coalesce(excluded.answer_ms, answer_ms), "
    "end_ms = coalesce(excluded.end_ms, end_ms), "
    "result = CASE WHEN excluded.end_ms IS NULL THEN result ELSE excluded.result END, "
    "reason = CASE WHEN excluded.end_ms IS NULL THEN reason ELSE excluded.reason END, "
    "duration_ms = CASE WHEN coalesce(excluded.answer_ms, answer_ms) IS NULL "
    "OR coalesce(excluded.end_ms, end_ms) IS NULL THEN 0 "
    "ELSE max(0, coalesce(excluded.end_ms, end_ms) - coalesce(excluded.answer_ms, answer_ms)) END";

constexpr std::string_view kColumns =
    "SELECT id, call, start_ms, answer_ms, end_ms, duration_ms, caller, callee, dialled, direction, trunk, "
    "source, user_agent, result, reason, verdict FROM cdrs";

CdrRecord read_record(const Statement& s) {
    CdrRecord r;
    r.id = s.column_int64(0);
    r.call = s.column_text(1);
    r.start_ms = s.column_int64(2);
    r.answer_ms = s.column_int64(3);  // NULL reads as 0
    r.end_ms = s.column_int64(4);
    r.duration_ms = s.column_int64(5);
    r.caller = s.column_text(6);
    r.callee = s.column_text(7);
    r.dialled = s.column_text(8);
    r.direction = s.column_text(9);
    r.trunk = s.column_text(10);
    r.source = s.column_text(11);
    r.user_agent = s.column_text(12);
    r.result = static_cast<int>(s.column_int64(13));
    r.reason = s.column_text(14);
    r.verdict = s.column_text(15);
    return r;
}

}  // namespace

std::span<const std::string_view> cdr_migrations() {
    return kMigrations;
}

sw::Result<std::unique_ptr<Database>, std::string> open_cdr_database(const std::string& path) {
    return Database::open(path, cdr_migrations());
}

SqliteCdrStore::SqliteCdrStore(Database& db) : db_(db) {}

sw::Result<Statement*, std::string> SqliteCdrStore::cached(std::optional<Statement>& slot,
                                                           std::string_view sql) {
    if (!slot) {
        auto stmt = db_.prepare(sql);
        if (!stmt) return sw::unexpected(stmt.error());
        slot.emplace(std::move(stmt).value());
    }
    slot->reset();
    return &*slot;
}

Status SqliteCdrStore::write(const CdrEvent& e) {
    switch (e.kind) {
        case CdrEvent::Kind::Start: {
            auto stmt = cached(start_, kStart);
            if (!stmt) return sw::unexpected(stmt.error());
            Statement& s = **stmt;
            s.bind_text(1, e.call);
            s.bind_int64(2, e.time_ms);
            s.bind_text(3, e.start.caller);
            s.bind_text(4, e.start.callee);
            s.bind_text(5, e.start.dialled);
            s.bind_text(6, direction_name(e.start.direction));
            s.bind_text(7, e.start.trunk);
            s.bind_text(8, e.start.source);
            s.bind_text(9, e.start.user_agent);
            s.bind_text(10, e.start.verdict);
            return s.run();
        }
        case CdrEvent::Kind::Answer: {
            auto stmt = cached(answer_, kAnswer);
            if (!stmt) return sw::unexpected(stmt.error());
            (*stmt)->bind_text(1, e.call);
            (*stmt)->bind_int64(2, e.time_ms);
            return (*stmt)->run();
        }
        case CdrEvent::Kind::End: {
            auto stmt = cached(end_, kEnd);
            if (!stmt) return sw::unexpected(stmt.error());
            (*stmt)->bind_text(1, e.call);
            (*stmt)->bind_int64(2, e.time_ms);
            (*stmt)->bind_int64(3, e.result);
            (*stmt)->bind_text(4, e.reason);
            return (*stmt)->run();
        }
    }
    return sw::unexpected(std::string("unknown CDR event kind"));
}

Status SqliteCdrStore::write_folded(const Folded& f) {
    auto stmt = cached(folded_, kFolded);
    if (!stmt) return sw::unexpected(stmt.error());
    Statement& s = **stmt;
    s.bind_text(1, f.first->call);
    s.bind_int64(2, f.earliest_ms);
    if (f.answer != nullptr) {
        s.bind_int64(3, f.answer->time_ms);
    } else {
        s.bind_null(3);
    }
    if (f.end != nullptr) {
        s.bind_int64(4, f.end->time_ms);
        s.bind_int64(13, f.end->result);
        s.bind_text(14, f.end->reason);
    } else {
        s.bind_null(4);
        s.bind_null(13);
        s.bind_text(14, "");
    }
    const CdrCall none;
    const CdrCall& d = f.start != nullptr ? f.start->start : none;
    s.bind_text(5, d.caller);
    s.bind_text(6, d.callee);
    s.bind_text(7, d.dialled);
    s.bind_text(8, f.start != nullptr ? direction_name(d.direction) : std::string_view{});
    s.bind_text(9, d.trunk);
    s.bind_text(10, d.source);
    s.bind_text(11, d.user_agent);
    s.bind_text(12, d.verdict);
    s.bind_int64(15, f.start != nullptr ? 1 : 0);
    return s.run();
}

Status SqliteCdrStore::apply(const std::vector<CdrEvent>& events) {
    if (events.empty()) return ok();
    // A call set up and ended within one batch (the writer gathers for 50 ms) would cost three row
    // writes, each touching the table and its four indexes. Its events are folded into one write instead:
    // per kind the last one counts, and start_ms is the earliest time, as applying them in order gives.
    // Calls keep the order of their first event, so rows are made in the same order as one by one.
    folded_calls_.clear();
    folded_index_.clear();
    for (const auto& e : events) {
        auto [it, fresh] = folded_index_.try_emplace(e.call, folded_calls_.size());
        if (fresh) folded_calls_.push_back(Folded{&e, nullptr, nullptr, nullptr, e.time_ms, 0});
        Folded& f = folded_calls_[it->second];
        ++f.count;
        f.earliest_ms = std::min(f.earliest_ms, e.time_ms);
        switch (e.kind) {
            case CdrEvent::Kind::Start:
                f.start = &e;
                break;
            case CdrEvent::Kind::Answer:
                f.answer = &e;
                break;
            case CdrEvent::Kind::End:
                f.end = &e;
                break;
        }
    }
    auto tx = Transaction::begin(db_);
    if (!tx) return sw::unexpected("storing call records: " + tx.error());
    for (const auto& f : folded_calls_) {
        auto done = f.count == 1 ? write(*f.first) : write_folded(f);
        if (!done) {
            // ~Transaction rolls back the events written so far.
            return sw::unexpected("storing the record of call " + f.first->call + ": " + done.error());
        }
    }
    if (auto committed = tx->commit(); !committed) {
        return sw::unexpected("storing call records: " + committed.error());
    }
    return ok();
}

sw::Result<std::vector<CdrRecord>, std::string> SqliteCdrStore::query(const CdrFilter& filter) {
    // Only the conditions in force are written, so that SQLite can pick the index they allow (a
    // "?2 = '' OR caller = ?2" would hide the caller index from it).
    std::string sql(kColumns);
    sql += " WHERE start_ms >= ?1";
    if (!filter.user.empty()) sql += " AND (caller = ?2 OR callee = ?2)";
    if (filter.external_only) sql += " AND direction IN ('outbound', 'inbound')";
    sql += " ORDER BY start_ms DESC, id DESC LIMIT ?3";
    auto stmt = db_.prepare(sql);
    if (!stmt) return sw::unexpected("reading call records: " + stmt.error());
    stmt->bind_int64(1, filter.since_ms);
    if (!filter.user.empty()) stmt->bind_text(2, filter.user);
    // LIMIT -1: no limit.
    const bool all = filter.limit == 0 ||
                     filter.limit > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    stmt->bind_int64(3, all ? -1 : static_cast<std::int64_t>(filter.limit));
    std::vector<CdrRecord> records;
    for (;;) {
        auto row = stmt->step();
        if (!row) return sw::unexpected("reading call records: " + row.error());
        if (!*row) return records;
        records.push_back(read_record(*stmt));
    }
}

}  // namespace sw::storage
