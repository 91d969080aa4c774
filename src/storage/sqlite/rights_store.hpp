// Calling rights, limits, suspensions and fraud events in SQLite (tables calling_rights and fraud_events,
// schema version 6). `sipwarden user rights|suspend|unsuspend|alerts` edit and read them; the running
// server loads the rights at start and after another process changed the store, and writes the
// detector's events and suspensions on the control loop's own connection.
// Values are plain text and numbers here; the app checks them (security::parse_class, digits-only
// prefixes) before they are stored, and the table's CHECKs refuse what slips past.
// Thread: the Database's thread. The Database must outlive the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/status.hpp"

namespace sw::storage {

struct RightsRecord {
    std::string user;
    std::string call_class;  // "", "internal", "local", "national", "international" ("": the default)
    bool premium = false;
    std::vector<std::string> allowed_prefixes;  // E.164 digits
    std::vector<std::string> groups;
    // -1: the server's default; 0: no limit.
    int max_concurrent = -1;
    int per_minute = -1;
    int per_hour = -1;
    int intl_minutes = -1;
    bool suspended = false;
    std::string suspended_reason;
    std::int64_t suspended_at = 0;  // Unix seconds
};

struct FraudEvent {
    std::int64_t id = 0;
    std::int64_t time_ms = 0;
    std::string user;
    std::string kind;  // "burst", "new countries", "off hours", "suspended", "unsuspended"
    std::string detail;
    std::string action;  // "suspended", "alert only", "lifted by the administrator"
};

class SqliteRightsStore {
public:
    explicit SqliteRightsStore(Database& db) : db_(db) {}

    // Writes the user's rights and limits, making the row if missing. The suspension columns are written
    // only for a new row: an existing suspension is changed by set_suspended alone, so a CLI edit of the
    // rights cannot undo a suspension the server made after the CLI read the row.
    Status put(const RightsRecord& record);
    // The user's row; nullopt when the user has none (the defaults apply).
    sw::Result<std::optional<RightsRecord>, std::string> find(std::string_view user);
    // Every row, sorted by user.
    sw::Result<std::vector<RightsRecord>, std::string> load_all();
    // Suspends (the row is made if missing, with defaults otherwise) or lifts the suspension of the
    // user's external calls. Returns whether the state changed (lifting one that is not there: false).
    sw::Result<bool, std::string> set_suspended(std::string_view user, bool suspended,
                                                std::string_view reason, std::int64_t now_s);
    // Removes the user's row (the user was removed); no error when there is none.
    Status remove(std::string_view user);

    Status add_event(const FraudEvent& event);
    // Events newest first, of one user when `user` is not empty, since `since_ms`, at most `limit` (0: all).
    sw::Result<std::vector<FraudEvent>, std::string> events(std::string_view user, std::int64_t since_ms,
                                                            std::size_t limit);

private:
    Database& db_;
};

// "a,b,c" <-> {"a", "b", "c"} (empty items dropped).
std::vector<std::string> split_list(std::string_view text);
std::string join_list(const std::vector<std::string>& items);

}  // namespace sw::storage
