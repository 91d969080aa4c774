#include "storage/sqlite/schema.hpp"

#include <array>

namespace sw::storage {

namespace {

// Version 1: the realm, the users with their HA1s, and the durable copy of the location service.
// "NOT NULL" on TEXT primary keys because SQLite, for backwards compatibility, otherwise accepts NULL there.
// The CHECKs keep a bad write from another tool (sqlite3 by hand) from being read back as valid.
constexpr std::string_view kVersion1 = R"sql(
CREATE TABLE meta(
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
CREATE TABLE users(
    name           TEXT PRIMARY KEY NOT NULL,
    display_name   TEXT NOT NULL DEFAULT '',
    enabled        INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    md5_allowed    INTEGER NOT NULL CHECK (md5_allowed IN (0, 1)),
    ha1_md5        TEXT NOT NULL,
    ha1_sha256     TEXT NOT NULL,
    ha1_sha512_256 TEXT NOT NULL,
    created_at     INTEGER,
    updated_at     INTEGER
);
CREATE TABLE bindings(
    aor           TEXT NOT NULL,
    contact       TEXT NOT NULL,
    call_id       TEXT NOT NULL,
    cseq          INTEGER NOT NULL,
    q             INTEGER NOT NULL CHECK (q BETWEEN 0 AND 1000),
    expires_at    INTEGER NOT NULL,
    registered_at INTEGER NOT NULL,
    path          TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',
    connection    INTEGER NOT NULL DEFAULT 0,
    user_agent    TEXT NOT NULL DEFAULT '',
    instance      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (aor, contact)
);
CREATE INDEX bindings_by_expiry ON bindings(expires_at);
)sql";

// Version 2: call forwarding rules, one per user and kind.
constexpr std::string_view kVersion2 = R"sql(
CREATE TABLE forwards(
    user    TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('always', 'busy', 'no-answer', 'unavailable')),
    target  TEXT NOT NULL,
    seconds INTEGER NOT NULL DEFAULT 0 CHECK (seconds BETWEEN 0 AND 600),
    PRIMARY KEY (user, kind)
);
)sql";

// Version 3: user aliases (other names that reach a user and that it may present in From).
constexpr std::string_view kVersion3 = R"sql(
CREATE TABLE aliases(
    alias TEXT PRIMARY KEY NOT NULL,
    user  TEXT NOT NULL
);
CREATE INDEX aliases_by_user ON aliases(user);
)sql";

constexpr std::array<std::string_view, 3> kMigrations{kVersion1, kVersion2, kVersion3};

}  // namespace

std::span<const std::string_view> schema_migrations() {
    return kMigrations;
}

}  // namespace sw::storage
