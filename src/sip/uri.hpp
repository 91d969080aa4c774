// SIP, SIPS (RFC 3261 19.1) and tel (RFC 3966) URIs, as views into text owned by someone else
// (normally the Message). Other schemes are kept opaque: a proxy must carry them, not understand them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/params.hpp"
#include "sip/parse_error.hpp"

namespace sw::sip {

enum class UriScheme : std::uint8_t { Sip, Sips, Tel, Other };

struct Uri {
    UriScheme scheme = UriScheme::Other;
    std::string_view scheme_text;  // as written, e.g. "SIP" or "nobodyKnowsThisScheme"
    std::string_view raw;          // the whole URI text

    // sip/sips: user and password stay %-escaped; host has no brackets (ipv6 tells).
    // tel: user holds the telephone-subscriber number as written ("+1-201-555-0123").
    std::string_view user;
    std::string_view password;
    std::string_view host;
    bool has_user = false;
    bool has_password = false;
    bool ipv6 = false;
    std::int32_t port = -1;    // -1: none written
    std::string_view params;   // raw run after the first ';' (without it), escaped
    std::string_view headers;  // raw run after '?' (without it), escaped
    std::string_view opaque;   // Other: everything after "scheme:"

    bool is_sip() const { return scheme == UriScheme::Sip || scheme == UriScheme::Sips; }
    bool is_tel() const { return scheme == UriScheme::Tel; }
    bool tel_global() const { return is_tel() && !user.empty() && user.front() == '+'; }

    std::optional<Param> param(std::string_view name) const { return find_param(params, name); }
    bool has_param(std::string_view name) const { return param(name).has_value(); }
    std::string_view param_value(std::string_view name) const {
        auto p = param(name);
        return p ? p->value : std::string_view{};
    }
    // Host with brackets for IPv6, and ":port" when written.
    std::string hostport() const;
};

// Parses a URI written without enclosing angle brackets and without surrounding whitespace.
ParseResult<Uri> parse_uri(std::string_view text);
// The same, filling a default-constructed Uri in place (no temporary on the hot path).
ParseResult<bool> parse_uri_into(std::string_view text, Uri& out);

// %HH decoding. Invalid escapes are copied as they are (the parser has rejected them already).
std::string unescape(std::string_view s);

// tel numbers without visual separators (- . ( )), for comparison (RFC 3966 4).
std::string tel_normalized(std::string_view number);

// URI equality of RFC 3261 19.1.4 (sip/sips) and RFC 3966 4 (tel); other schemes compare exactly.
bool uri_equal(const Uri& a, const Uri& b);

// IPv6 address text as RFC 5954 corrects the RFC 3261 grammar (at most one "::", 8 groups, IPv4 tail).
bool is_ipv6_address(std::string_view s);
bool is_ipv4_address(std::string_view s);
// A host as RFC 3261 writes it: hostname, IPv4 address or bracketed IPv6 reference.
bool is_valid_host(std::string_view s);

}  // namespace sw::sip
