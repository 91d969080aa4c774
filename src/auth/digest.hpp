// HTTP Digest arithmetic for SIP (RFC 3261 22.4, RFC 7616 3.4, RFC 8760): algorithm names, hashes, HA1
// and the request-digest. Pure functions without state; hashes come from OpenSSL 3.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "auth/credentials.hpp"

namespace sw::auth {

// The algorithm token as RFC 7616 6.1 registers it: "MD5", "SHA-256", "SHA-512-256".
std::string_view algorithm_name(Algorithm a);
// Case-insensitive. The "-sess" variants (RFC 7616 3.4.2) are not supported: nullopt. An absent
// algorithm parameter means MD5 (RFC 7616 3.3); that default is the caller's to apply.
std::optional<Algorithm> parse_algorithm(std::string_view token);
// Length of a digest of this algorithm in lowercase hex: 32 for MD5, 64 for the others.
std::size_t hex_length(Algorithm a);

// H(data) as lowercase hex. Empty only when OpenSSL fails (out of memory): an empty value never matches
// a digest, so a failure can only refuse.
std::string hex_digest(Algorithm a, std::string_view data);

// RFC 7616 3.4.2: HA1 = H(username ":" realm ":" password).
std::string compute_ha1(Algorithm a, std::string_view user, std::string_view realm,
                        std::string_view password);

// The request-digest of RFC 7616 3.4.1, with HA2 = H(method ":" uri) (qop "auth"):
//   qop "auth":  H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)
//   qop empty:   H(HA1 ":" nonce ":" HA2)   (RFC 2069 compatibility, RFC 2617 3.2.2.1)
// "auth-int" is not supported (its HA2 needs the body hash); callers accept qop "auth" only.
std::string compute_response(Algorithm a, std::string_view ha1_hex, std::string_view nonce,
                             std::string_view nc, std::string_view cnonce, std::string_view qop,
                             std::string_view method, std::string_view uri);

// Comparison whose time does not depend on where the contents differ (CRYPTO_memcmp). Different lengths
// give false; the lengths of digests are public, so only the length comparison may end early.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace sw::auth
