// Checks a server makes after a message parsed: every known header that parse() left as text is
// well formed, the Request-URI scheme is one we serve (416), and required extensions are ones we
// support (420). Used by `sipwarden check-message` and by the engine before a request reaches a
// transaction user.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace sw::sip {

// Parses every known header field with its typed parser; the first fault as a 400.
ParseResult<bool> validate_known_headers(const Message& msg);

struct PolicyVerdict {
    int status = 0;           // 0: acceptable
    std::string reason;       // "Unsupported URI Scheme", "Bad Extension"
    std::string unsupported;  // for 420: the option tags to list in Unsupported
};

// Option tags this build implements; a Require naming anything else gets 420 (RFC 3261 8.2.2.3).
inline constexpr std::string_view kSupportedOptionTags[] = {"path"};

// RFC 3261 8.2.2.1 (416), 8.2.2.3 and 16.3 step 5 (420 from Require / Proxy-Require).
// check_require=false: only Proxy-Require, for a request the server forwards (RFC 3261 16.3: Require is
// for the UAS to judge).
PolicyVerdict check_request_policy(const Message& request, std::span<const std::string_view> supported,
                                   bool check_require = true);

}  // namespace sw::sip
