// The dial plan's routes in SQLite (table routes, schema version 4): what `sipwarden route` edits and the
// server builds its b2bua::DialPlan from. Patterns and prepends are validated by the caller
// (b2bua::pattern_error); the store checks that the trunk exists and the (pattern, trunk) pair is new.
// Thread: the Database's thread. The Database must outlive the store.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "b2bua/dial_plan.hpp"
#include "common/result.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/status.hpp"

namespace sw::storage {

class SqliteRouteStore {
public:
    explicit SqliteRouteStore(Database& db) : db_(db) {}
    // "no such trunk NAME"; "route PATTERN via NAME exists".
    Status add(const b2bua::DialRoute& route);
    // The route of the pattern through `trunk`, or every route of the pattern (nullopt).
    // "no route PATTERN" / "no route PATTERN via NAME" when none matched.
    Status remove(std::string_view pattern, std::optional<std::string_view> trunk);
    // Every route, sorted by pattern, priority and trunk.
    sw::Result<std::vector<b2bua::DialRoute>, std::string> load_all();

private:
    Database& db_;
};

}  // namespace sw::storage
