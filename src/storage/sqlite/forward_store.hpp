// Call forwarding rules in SQLite (table forwards, schema version 2): what `sipwarden forward` edits and
// the server loads with the users (a change bumps the same data_version).
// Thread: the Database's thread. The Database must outlive the store.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "pbx/forwarding.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/status.hpp"

namespace sw::storage {

class SqliteForwardStore {
public:
    explicit SqliteForwardStore(Database& db) : db_(db) {}
    // Sets (or replaces) the user's rule of that kind. The user must exist.
    Status set(const pbx::ForwardRule& rule);
    // Removes one kind, or every rule of the user (nullopt). "no forwarding for 201" when none matched.
    Status clear(std::string_view user, std::optional<pbx::ForwardKind> kind);
    // Every rule, sorted by user and kind.
    sw::Result<std::vector<pbx::ForwardRule>, std::string> load_all();

private:
    Database& db_;
};

}  // namespace sw::storage
