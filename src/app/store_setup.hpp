// Opening the store that every sipwarden process shares (DATA_DIR/sipwarden.db) and settling the digest realm
// its HA1s are computed for. Used by `run` and by the user and registrations commands, so both always agree
// on the file and the realm. No CLI here: callers pass what their options say.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "storage/sqlite/database.hpp"

namespace sw::app {

// DATA_DIR/sipwarden.db.
std::string database_path(const std::string& data_dir);
// DATA_DIR/location.db: the registrar's bindings (written on every registration; users never are).
std::string location_database_path(const std::string& data_dir);
// DATA_DIR/cdr.db: the call detail records (written on every call; open with storage::open_cdr_database).
std::string cdr_database_path(const std::string& data_dir);

// Opens (creating it if needed) DATA_DIR/sipwarden.db. A missing DATA_DIR is made with mode 0700: it holds
// password equivalents. When realm_flag is given and the store has a different realm, the store is refused
// (see settle_realm); the realm itself is neither read further nor written. Errors name the path.
sw::Result<std::unique_ptr<storage::Database>, std::string> open_database(
    const std::string& data_dir, const std::optional<std::string>& realm_flag = std::nullopt);

// The digest realm of every HA1 in the store (RFC 7616 3.4.2): the store's own if it has one (a realm_flag
// that differs is an error: changing the realm would need every password again); otherwise realm_flag if
// given, else the first of `domains`, else "sipwarden", written to the store in the same transaction that
// read it, so two processes settling a new store at once cannot disagree. Call it only when about to
// compute HA1s (or serve): a command that fails before that leaves a new store without a realm.
sw::Result<std::string, std::string> settle_realm(storage::Database& db,
                                                  const std::vector<std::string>& domains,
                                                  const std::optional<std::string>& realm_flag);

struct Store {
    std::unique_ptr<storage::Database> db;
    std::string realm;
};

// open_database, then settle_realm.
sw::Result<Store, std::string> open_store(const std::string& data_dir,
                                          const std::vector<std::string>& domains,
                                          const std::optional<std::string>& realm_flag);

}  // namespace sw::app
