// DIDs in SQLite (table dids, schema version 4): the company's numbers and the extension each rings,
// edited by `sipwarden did` and loaded by the server into a b2bua::DidTable. Numbers are stored as given:
// the caller normalizes them (b2bua::normalize_number), so that one number has one spelling here.
// Thread: the Database's thread. The Database must outlive the store.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "b2bua/dial_plan.hpp"
#include "common/result.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/status.hpp"

namespace sw::storage {

class SqliteDidStore {
public:
    explicit SqliteDidStore(Database& db) : db_(db) {}
    // "no such user U" unless the user exists; "DID N rings U already" when the number is taken.
    Status add(const b2bua::Did& did);
    // "no such DID N" when absent.
    Status remove(std::string_view number);
    // Every DID, sorted by number.
    sw::Result<std::vector<b2bua::Did>, std::string> load_all();

private:
    Database& db_;
};

}  // namespace sw::storage
