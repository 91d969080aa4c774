// Whether a query with one text parameter finds a row: the existence checks the stores make inside their
// write transactions before a change that depends on another table.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "storage/sqlite/database.hpp"

namespace sw::storage {

inline sw::Result<bool, std::string> row_exists(Database& db, std::string_view sql, std::string_view value) {
    auto stmt = db.prepare(sql);
    if (!stmt) return sw::unexpected(stmt.error());
    stmt->bind_text(1, value);
    auto row = stmt->step();
    if (!row) return sw::unexpected(row.error());
    return *row;
}

}  // namespace sw::storage
