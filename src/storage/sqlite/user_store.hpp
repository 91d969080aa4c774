// The users and the realm in SQLite: what the CLI edits and the server loads (again when data_version
// says another connection changed them). Every write is checked by user_rules.hpp first; errors are
// messages fit to show the operator ("user 201 exists").
// Thread: the Database's thread. The Database must outlive the store.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/credentials.hpp"
#include "common/result.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/status.hpp"

namespace sw::storage {

struct ImportSummary {
    std::size_t added = 0;
    std::size_t replaced = 0;
};

class SqliteUserStore {
public:
    explicit SqliteUserStore(Database& db) : db_(db) {}

    // The digest realm every HA1 was computed for (RFC 7616 3.4.2); nullopt until set. Changing it makes
    // every stored HA1 useless: the caller re-keys the users.
    sw::Result<std::optional<std::string>, std::string> realm();
    Status set_realm(std::string_view realm);

    // "user 201 exists" if the name is taken.
    Status add(const auth::UserRecord& user);
    // "no such user 201" if absent. The display name and the enabled flag are kept.
    Status update_credentials(std::string_view name, std::string_view ha1_md5, std::string_view ha1_sha256,
                              std::string_view ha1_sha512_256, bool md5_allowed);
    Status set_enabled(std::string_view name, bool enabled);
    // The user's SRTP policy ("" for the server's) and whether its SIP must come over TLS.
    Status set_media(std::string_view name, std::string_view srtp, bool tls_required);
    // Also removes the user's registrations (bindings whose AOR is "name@..."), forwarding rules, aliases and
    // DIDs, in the same transaction.
    Status remove(std::string_view name);

    sw::Result<std::optional<auth::UserRecord>, std::string> find(std::string_view name);
    // Sorted by name (bytewise).
    sw::Result<std::vector<auth::UserRecord>, std::string> list();

    // All or nothing, in one transaction: every record is checked, and a name that appears twice in
    // `users`, or exists while !replace_existing, fails the whole import naming the record (1-based).
    // replace_existing: an existing user gets the record's display name, flags and HA1s.
    sw::Result<ImportSummary, std::string> import(const std::vector<auth::UserRecord>& users,
                                                  bool replace_existing);

    // Every user, for the server's in-memory credential table.
    sw::Result<std::vector<auth::UserRecord>, std::string> load_all();

private:
    // Runs an UPDATE or DELETE of one user by name: "no such user NAME" when it changed nothing.
    Status change_one(std::string_view name, std::string_view what, Statement& stmt);

    Database& db_;
};

}  // namespace sw::storage
