// SIP trunks in SQLite (tables trunks and trunk_status, schema version 4): what `sipwarden trunk` edits,
// the server loads (again when data_version changes) and whose registration state it writes back.
// The store checks only what needs the database (a name taken, routes still using a trunk); the command
// line validates the values themselves. `secret` is stored as given (sealed by the caller); `password`
// is never written nor read.
// Thread: the Database's thread. The Database must outlive the store.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "b2bua/trunk.hpp"
#include "common/result.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/status.hpp"

namespace sw::storage {

class SqliteTrunkStore {
public:
    explicit SqliteTrunkStore(Database& db) : db_(db) {}
    // "trunk NAME exists" when the name is taken.
    Status add(const b2bua::Trunk& trunk);
    // "no such trunk NAME"; "routes use trunk NAME" while a route names it. Its status goes with it.
    Status remove(std::string_view name);
    // Every trunk, sorted by name, with `password` empty. An address the table holds that no longer
    // parses is left out (only a hand edit of the file can put one there).
    sw::Result<std::vector<b2bua::Trunk>, std::string> load_all();

    // Sets (or replaces) the status of a trunk. A status for a trunk that no longer exists (removed while
    // the server was registering it) is dropped without an error.
    Status set_status(const b2bua::TrunkStatus& status);
    // Every status, sorted by name.
    sw::Result<std::vector<b2bua::TrunkStatus>, std::string> load_status();

private:
    Database& db_;
};

}  // namespace sw::storage
