// The trunk tables the server routes with (trunks, dial plan, DIDs), read from the store in one snapshot
// with every trunk password opened, and the key file those passwords are sealed with. Used by the trunk
// command line (to seal) and by `run` (at start and whenever the store's data_version changes).
// Thread: the caller's; the tables returned are immutable and may be shared by every worker.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "auth/clock_random.hpp"
#include "auth/secret_box.hpp"
#include "b2bua/dial_plan.hpp"
#include "b2bua/trunk.hpp"
#include "common/result.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/status.hpp"

namespace sw::app {

// DATA_DIR/secret.key: 64 hex digits, mode 0600. Losing it loses every stored trunk password (they must
// be given again); it is not in the database so that a copy of the database alone reveals none.
std::string secret_key_path(const std::string& data_dir);

// The key in the file at `path`; the error names the path and what is wrong (missing, not 64 hex digits).
sw::Result<auth::SecretKey, std::string> load_secret_key(const std::string& path);
// The same, making the file with a new random key when there is none. Two processes doing this at once
// agree on one key: the file appears whole (written to a temporary, fsynced, then linked into place,
// which unlike rename refuses to replace a key another process has just made) and the loser reads it.
sw::Result<auth::SecretKey, std::string> load_or_create_secret_key(const std::string& path,
                                                                   auth::Random& random);

struct TrunkTables {
    std::shared_ptr<const std::vector<b2bua::Trunk>> trunks;  // sorted by name, passwords opened
    std::shared_ptr<const b2bua::DialPlan> plan;
    std::shared_ptr<const b2bua::DidTable> dids;
    // Trunks whose password could not be opened (missing or changed key file, edited store): each is
    // loaded with an empty password and named here, one line each, for the log. Never holds a password.
    std::vector<std::string> warnings;
};

// Reads the three tables in one read transaction (unless the caller has one open), so a route never
// names a trunk missing from the same load. The error is a store error; bad passwords are warnings.
sw::Result<TrunkTables, std::string> load_trunk_tables(storage::Database& db, const std::string& data_dir);

// What the REGISTER client of a trunk last did, for `trunk list` (storage::SqliteTrunkStore::set_status).
storage::Status write_trunk_status(storage::Database& db, const b2bua::TrunkStatus& status);

}  // namespace sw::app
