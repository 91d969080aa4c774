// Banned addresses in SQLite (table bans, schema version 5): written by `sipwarden ban add|remove` and by
// the running server (SqliteBanStore::apply of BanList::take_writes, on the control loop's own connection
// so that its writes do not look like another process's to data_version), read back at start and after
// another process changed the store. Bans survive a restart.
// Thread: the Database's thread. The Database must outlive the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "security/records.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/status.hpp"

namespace sw::storage {

// The one text form of an address the table keys by: "::ffff:10.0.0.1" -> "10.0.0.1", "2001:DB8::1" ->
// "2001:db8::1", "[::1]" -> "::1". nullopt when the text is not a single IP address (a /prefix included).
std::optional<std::string> normal_address(std::string_view text);

inline constexpr std::size_t kMaxBanReason = 200;

class SqliteBanStore {
public:
    explicit SqliteBanStore(Database& db) : db_(db) {}

    // An operator's ban: a new row, or the existing row with this until and reason, its count raised by
    // one and its created kept. Refused: not an IP address, until not after now, reason too long.
    Status add(std::string_view address, std::int64_t until, std::string_view reason, std::int64_t now);
    // The row exactly as given (the server's own state).
    Status upsert(const security::BanRecord& record);
    // "no ban for ADDRESS" when there is none.
    Status remove(std::string_view address);
    // Every upsert and removal in one transaction; a removal of an absent row is no error.
    Status apply(const security::BanWrites& writes);
    // Every row (expired ones too, until pruned), sorted by address.
    sw::Result<std::vector<security::BanRecord>, std::string> load_all();
    // Deletes the rows whose ban has ended (until <= now); returns how many.
    sw::Result<std::int64_t, std::string> prune(std::int64_t now);

private:
    Status write(const security::BanRecord& record);

    Database& db_;
};

}  // namespace sw::storage
