// Allow and deny networks in SQLite (table acl, schema version 5), edited by `sipwarden acl` and loaded by
// the server into a security::AccessList (global entries: exempt / dropped; per-user entries: where that
// user may register and call from).
// Thread: the Database's thread. The Database must outlive the store.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "security/records.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/status.hpp"

namespace sw::storage {

// The one text form of a network: host bits cleared ("10.1.2.3/8" -> "10.0.0.0/8"), a full-length prefix
// written as the address alone, mapped IPv6 as IPv4. nullopt when the text is no network.
std::optional<std::string> normal_cidr(std::string_view text);

class SqliteAclStore {
public:
    explicit SqliteAclStore(Database& db) : db_(db) {}

    // The cidr is stored in its normal form. A per-user entry needs the user to exist ("no such user
    // 201"). "acl allow 10.0.0.0/8 exists" (" for 201") when the same entry is there already.
    Status add(const security::AclRecord& record);
    // Removes the entries of this network and user (empty: the global ones), of one kind or of both
    // (nullopt). "no acl entry ..." when none matched.
    Status remove(std::string_view cidr, std::optional<security::AclKind> kind, std::string_view user);
    // Every entry: the global ones first, then by user; within each, allow before deny, then by network.
    sw::Result<std::vector<security::AclRecord>, std::string> load_all();

private:
    Database& db_;
};

}  // namespace sw::storage
