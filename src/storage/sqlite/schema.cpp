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

// Version 4: SIP trunks, the dial plan that sends numbers out through them, and the DIDs that bring calls
// in. A trunk's password is only ever stored sealed (auth/secret_box.hpp). Routes and trunk_status name
// their trunk by foreign key (the connection enables them), so neither can outlive it; the status is
// written by the running server and goes with its trunk.
constexpr std::string_view kVersion4 = R"sql(
CREATE TABLE trunks(
    name        TEXT PRIMARY KEY NOT NULL
                CHECK (length(name) BETWEEN 1 AND 32 AND name NOT GLOB '*[^A-Za-z0-9_-]*'),
    host        TEXT NOT NULL CHECK (host <> ''),
    port        INTEGER NOT NULL DEFAULT 0 CHECK (port BETWEEN 0 AND 65535),
    transport   TEXT NOT NULL CHECK (transport IN ('udp', 'tcp', 'tls')),
    username    TEXT NOT NULL DEFAULT '',
    secret      TEXT NOT NULL DEFAULT '' CHECK (secret = '' OR secret GLOB 'v1:*'),
    register    INTEGER NOT NULL DEFAULT 0 CHECK (register IN (0, 1)),
    expires     INTEGER NOT NULL DEFAULT 600 CHECK (expires BETWEEN 60 AND 86400),
    from_domain TEXT NOT NULL DEFAULT '',
    addresses   TEXT NOT NULL DEFAULT '',
    tel_uri     INTEGER NOT NULL DEFAULT 0 CHECK (tel_uri IN (0, 1)),
    ruri_params TEXT NOT NULL DEFAULT '',
    no_100rel   INTEGER NOT NULL DEFAULT 0 CHECK (no_100rel IN (0, 1)),
    caller_id   TEXT NOT NULL DEFAULT '',
    CHECK (register = 0 OR (username <> '' AND secret <> ''))
);
CREATE TABLE trunk_status(
    name       TEXT PRIMARY KEY NOT NULL REFERENCES trunks(name) ON DELETE CASCADE,
    state      TEXT NOT NULL
               CHECK (state IN ('registering', 'registered', 'failed', 'not registering')),
    detail     TEXT NOT NULL DEFAULT '',
    expires_at INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE routes(
    pattern  TEXT NOT NULL CHECK (pattern <> ''),
    trunk    TEXT NOT NULL REFERENCES trunks(name),
    strip    INTEGER NOT NULL DEFAULT 0 CHECK (strip BETWEEN 0 AND 32),
    prepend  TEXT NOT NULL DEFAULT '' CHECK (prepend NOT GLOB '*[^0-9+*#]*'),
    priority INTEGER NOT NULL DEFAULT 10 CHECK (priority BETWEEN 0 AND 1000),
    PRIMARY KEY (pattern, trunk)
);
CREATE INDEX routes_by_trunk ON routes(trunk);
CREATE TABLE dids(
    number TEXT PRIMARY KEY NOT NULL CHECK (number <> '' AND number NOT GLOB '*[^0-9+*#]*'),
    user   TEXT NOT NULL
);
CREATE INDEX dids_by_user ON dids(user);
)sql";

// Version 5: the security layer's durable state (issue 7). bans: banned addresses (normal text form, see
// security/address_key.hpp), written by the running server and by `sipwarden ban`; a row whose until has
// passed is history, pruned by the server. acl: allow and deny networks (normal CIDR text), global when
// user is '' (allow: exempt from bans and rate limits; deny: dropped) or for one user (where that user may
// register and call from).
constexpr std::string_view kVersion5 = R"sql(
CREATE TABLE bans(
    address TEXT PRIMARY KEY NOT NULL CHECK (address <> ''),
    until   INTEGER NOT NULL,
    reason  TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL DEFAULT 0,
    count   INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1)
);
CREATE INDEX bans_by_until ON bans(until);
CREATE TABLE acl(
    cidr TEXT NOT NULL CHECK (cidr <> ''),
    kind TEXT NOT NULL CHECK (kind IN ('allow', 'deny')),
    user TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (cidr, kind, user)
);
)sql";

// Version 6: the toll-fraud guard (issue 7 parts 4-5). calling_rights: one row per user who has rights,
// limits or a suspension of their own (a user without a row has the server's defaults): class '' is the
// server's default class; a limit of -1 the server's default, 0 none. Lists are comma-separated.
// fraud_events: what the detector flagged and what was done (for `sipwarden user alerts` and, later, the
// admin interface). routes.class: the class of the numbers a route carries ('' : the number decides).
constexpr std::string_view kVersion6 = R"sql(
CREATE TABLE calling_rights(
    user             TEXT PRIMARY KEY NOT NULL CHECK (user <> ''),
    class            TEXT NOT NULL DEFAULT ''
                     CHECK (class IN ('', 'internal', 'local', 'national', 'international')),
    premium          INTEGER NOT NULL DEFAULT 0 CHECK (premium IN (0, 1)),
    allowed_prefixes TEXT NOT NULL DEFAULT '' CHECK (allowed_prefixes NOT GLOB '*[^0-9,]*'),
    groups           TEXT NOT NULL DEFAULT '',
    max_concurrent   INTEGER NOT NULL DEFAULT -1 CHECK (max_concurrent >= -1),
    per_minute       INTEGER NOT NULL DEFAULT -1 CHECK (per_minute >= -1),
    per_hour         INTEGER NOT NULL DEFAULT -1 CHECK (per_hour >= -1),
    intl_minutes     INTEGER NOT NULL DEFAULT -1 CHECK (intl_minutes >= -1),
    suspended        INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),
    suspended_reason TEXT NOT NULL DEFAULT '',
    suspended_at     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE fraud_events(
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms INTEGER NOT NULL,
    user    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '',
    action  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX fraud_events_by_time ON fraud_events(time_ms);
ALTER TABLE routes ADD COLUMN class TEXT NOT NULL DEFAULT ''
    CHECK (class IN ('', 'local', 'national', 'international', 'premium'));
)sql";

// Issue 9: SRTP policy per user and per trunk ('' = the server's default), TLS required per user.
constexpr std::string_view kVersion7 = R"sql(
ALTER TABLE users ADD COLUMN srtp TEXT NOT NULL DEFAULT ''
    CHECK (srtp IN ('', 'off', 'preferred', 'required'));
ALTER TABLE users ADD COLUMN tls_required INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trunks ADD COLUMN srtp TEXT NOT NULL DEFAULT ''
    CHECK (srtp IN ('', 'off', 'preferred', 'required'));
)sql";

// Issue 8: the expiry index made every registration update a third B-tree (about 3 us of the writer's
// CPU per REGISTER). The registrar's periodic sweep knows which bindings expired and removes their rows
// by key (BindingChange::Kind::Expire); only the start, once, looks for expired rows without it.
constexpr std::string_view kVersion8 = R"sql(
DROP INDEX IF EXISTS bindings_by_expiry;
)sql";

constexpr std::array<std::string_view, 8> kMigrations{kVersion1, kVersion2, kVersion3, kVersion4,
                                                      kVersion5, kVersion6, kVersion7, kVersion8};

}  // namespace

std::span<const std::string_view> schema_migrations() {
    return kMigrations;
}

}  // namespace sw::storage
