// User aliases in SQLite (table aliases, schema version 3), edited by `sipwarden user alias|unalias` and
// loaded by the server with the users.
// Thread: the Database's thread. The Database must outlive the store.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "pbx/aliases.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/status.hpp"

namespace sw::storage {

class SqliteAliasStore {
public:
    explicit SqliteAliasStore(Database& db) : db_(db) {}
    // The user must exist; the alias must be neither a user's name nor another alias.
    Status add(std::string_view user, std::string_view alias);
    // "no such alias NAME" when absent.
    Status remove(std::string_view alias);
    // The user an alias names, or nullopt.
    sw::Result<std::optional<std::string>, std::string> user_of(std::string_view alias);
    // Every alias, sorted by alias.
    sw::Result<std::vector<pbx::Alias>, std::string> load_all();

private:
    Database& db_;
};

}  // namespace sw::storage
