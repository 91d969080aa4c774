// What the server knows about a user's credentials: never the password, only the digest HA1 per algorithm
// (RFC 7616 3.4.2: HA1 = H(username ":" realm ":" password)), computed for the store's realm.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sw::auth {

enum class Algorithm : std::uint8_t { Md5, Sha256, Sha512_256 };

struct UserRecord {
    std::string name;          // the digest username and the user part of the address: "201", "alice"
    std::string display_name;  // may be empty
    bool enabled = true;
    bool md5_allowed = true;  // false: MD5 is never offered to nor accepted from this user
    std::string ha1_md5;      // lowercase hex; empty when MD5 is not allowed
    std::string ha1_sha256;
    std::string ha1_sha512_256;
    // Media policy (issue 9): "" (the server's), "off", "preferred", "required"; TLS for SIP required.
    std::string srtp;
    bool tls_required = false;
};

}  // namespace sw::auth
