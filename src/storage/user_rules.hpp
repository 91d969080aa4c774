// What the user store accepts. Checked before anything is written, so a bad record never reaches the table
// and an import can name the record at fault. Each check returns why the value cannot be stored, or
// nullopt when it can.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "auth/credentials.hpp"

namespace sw::storage {

// 1 to 128 characters that may stand unescaped in the user part of a SIP URI (RFC 3261 25.1: unreserved /
// user-unreserved), so the name is the same in the digest username and in the address of record.
std::optional<std::string> check_user_name(std::string_view name);

// Up to 128 bytes without control characters (it ends up in header fields, where CR/LF would split them).
std::optional<std::string> check_display_name(std::string_view display_name);

// Each HA1 is empty or lowercase hex of its digest's length (RFC 7616 3.4.2); ha1_md5 is set exactly when
// MD5 is allowed; at least one algorithm has an HA1, or the user could never authenticate.
std::optional<std::string> check_credentials(bool md5_allowed, std::string_view ha1_md5,
                                             std::string_view ha1_sha256, std::string_view ha1_sha512_256);

// All of the above for one record.
std::optional<std::string> check_user(const auth::UserRecord& user);

// Non-empty, printable, and without '"' or '\': the realm is sent as a quoted-string in challenges
// (RFC 7616 3.3) and is part of every HA1.
std::optional<std::string> check_realm(std::string_view realm);

}  // namespace sw::storage
