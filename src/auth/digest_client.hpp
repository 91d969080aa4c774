// The client side of SIP digest authentication (RFC 3261 22.2, RFC 7616, RFC 8760): answering a
// provider's 401 / 407 when sipwarden registers to a trunk or calls through it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace sw::auth {

struct ClientAuthorization {
    std::string header;  // "Authorization" (for a 401) or "Proxy-Authorization" (for a 407)
    std::string value;   // Digest username="...", realm="...", ...
    std::string realm;   // the realm answered, for logs
};

// The answer to the strongest challenge of the response we can meet (SHA-512-256, then SHA-256, then
// MD5; qop "auth", or none when the challenge offers no qop). nullopt when the response carries no
// challenge we support (only auth-int, an unknown algorithm, a -sess variant).
// `nc` is the nonce count for this nonce (1 for a fresh one), `cnonce` a random client nonce.
std::optional<ClientAuthorization> answer_challenge(const sip::Message& challenge, std::string_view method,
                                                    std::string_view uri, std::string_view user,
                                                    std::string_view password, std::uint32_t nc,
                                                    std::string_view cnonce);

}  // namespace sw::auth
