// Call detail records in SQLite: DATA_DIR/cdr.db, a file of its own. Calls write it all the time, and
// the users file (sipwarden.db) must change only when somebody changes users: its data_version is what
// tells the running server to reload them. WAL with synchronous=NORMAL (Database::open): a commit is in
// the WAL file when apply() returns, so it survives the process being killed (kill -9); a power loss can
// take back the last commits but never corrupts the file. FULL would add an fsync per batch for that.
//
// Schema (cdr_migrations, version 1): table cdrs, one row per call attempt, keyed by the call's id:
//   id INTEGER PRIMARY KEY, call TEXT UNIQUE, start_ms, answer_ms (NULL: never answered), end_ms (NULL:
//   not ended), duration_ms, caller, callee, dialled, direction, trunk, source, user_agent, result (NULL:
//   not ended), reason, verdict; indexes on start_ms, (caller, start_ms) and (callee, start_ms).
// Thread: one thread at a time (the CdrWriter's, or the CLI's). The Database must outlive the store.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "storage/cdr.hpp"
#include "storage/sqlite/database.hpp"

namespace sw::storage {

// The migrations of cdr.db (not those of sipwarden.db: the files share no tables).
std::span<const std::string_view> cdr_migrations();

// Opens (creating it with mode 0600 if needed: it holds who called whom) the CDR database at `path`,
// with the cdr migrations applied. The folder must exist.
sw::Result<std::unique_ptr<Database>, std::string> open_cdr_database(const std::string& path);

class SqliteCdrStore final : public CdrStore {
public:
    explicit SqliteCdrStore(Database& db);

    // In one transaction, in order (several events of one call are folded into one row write with the
    // same result): a start inserts the call's row (or fills in one made by an earlier
    // answer or end); an answer or an end updates it, or inserts a row of its own when the call has none
    // (its start was lost), so no end is ever thrown away. duration_ms = end - answer, 0 if never answered.
    Status apply(const std::vector<CdrEvent>& events) override;

    // Newest start first (ties: newest row first).
    sw::Result<std::vector<CdrRecord>, std::string> query(const CdrFilter& filter);

private:
    struct Folded {
        const CdrEvent* first;  // the call's first event in the batch
        const CdrEvent* start;  // the last of each kind, or null
        const CdrEvent* answer;
        const CdrEvent* end;
        std::int64_t earliest_ms;
        std::size_t count;
    };
    Status write(const CdrEvent& event);
    Status write_folded(const Folded& folded);
    sw::Result<Statement*, std::string> cached(std::optional<Statement>& slot, std::string_view sql);

    Database& db_;
    std::optional<Statement> start_;
    std::optional<Statement> answer_;
    std::optional<Statement> end_;
    std::optional<Statement> folded_;
    std::vector<Folded> folded_calls_;  // apply()'s scratch, kept for its capacity
    std::unordered_map<std::string_view, std::size_t> folded_index_;
};

}  // namespace sw::storage
