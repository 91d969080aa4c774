// Typed views of header field values. Each parse_* takes one value (already unfolded, one element of a
// comma list where the header is a list) and returns a value or a ParseError naming the fault.
// Results hold string_views into the text they were given: keep that text alive (the Message does).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/small_vec.hpp"
#include "sip/params.hpp"
#include "sip/parse_error.hpp"
#include "sip/uri.hpp"

namespace sw::sip {

namespace detail {
// The bytes that end a run inside a quoted string (an escape, the closing quote) and outside one (a
// quote, an angle bracket, a comma), for for_each_list_element.
inline constexpr auto kQuotedStop = [] {
    std::array<bool, 256> t{};
    t[static_cast<unsigned char>('\\')] = t[static_cast<unsigned char>('"')] = true;
    return t;
}();
inline constexpr auto kListStop = [] {
    std::array<bool, 256> t{};
    for (char c : {'"', '<', '>', ','})
        t[static_cast<unsigned char>(c)] = true;
    return t;
}();
}  // namespace detail

// Calls f(element) for each element of a comma-separated header value; commas inside quoted strings
// and <...> do not separate. Returns false (having stopped) when an element is empty or f returns false.
template <typename F>
bool for_each_list_element(std::string_view value, F&& f);

// Via (RFC 3261 20.42, RFC 3581 rport, RFC 5118 IPv6 received).
struct Via {
    std::string_view protocol_name;     // "SIP"
    std::string_view protocol_version;  // "2.0"
    std::string_view transport;         // "UDP", "TCP", "TLS", "SCTP", "WS" ... as written
    std::string_view host;              // without brackets
    bool ipv6 = false;
    std::int32_t port = -1;
    std::string_view params;  // raw run after the first ';'
    std::string_view branch;
    std::string_view received;  // may carry brackets for IPv6 (RFC 5118 4.5 accepts both)
    std::string_view maddr;
    bool has_rport = false;
    std::int32_t rport = -1;  // value when written, -1 when empty

    // RFC 3261 8.1.1.7: branches made by RFC 3261 elements start with the magic cookie.
    bool rfc3261_branch() const { return branch.size() > 7 && branch.substr(0, 7) == "z9hG4bK"; }
    std::optional<Param> param(std::string_view name) const { return find_param(params, name); }
};
ParseResult<Via> parse_via(std::string_view value);
ParseResult<bool> parse_via_into(std::string_view value, Via& out);  // out: default-constructed

// name-addr or addr-spec with header parameters: From, To, Contact, Route, Record-Route, P-Asserted-Identity,
// Diversion, History-Info, Refer-To, Referred-By, Reply-To, Path, Service-Route.
struct NameAddr {
    std::string_view display_name;  // as written, quotes included; empty when absent
    Uri uri;
    bool angle_brackets = false;
    std::string_view params;  // raw run after the first ';' following the address
    std::string_view tag;     // value of the tag parameter, if any
    bool has_tag = false;

    // Display name without quotes and escapes.
    std::string display() const;
    std::optional<Param> param(std::string_view name) const { return find_param(params, name); }
};
enum class AddrForm : std::uint8_t { NameAddrOrAddrSpec, NameAddrOnly };
ParseResult<NameAddr> parse_name_addr(std::string_view value, AddrForm form = AddrForm::NameAddrOrAddrSpec);
ParseResult<bool> parse_name_addr_into(std::string_view value, AddrForm form, NameAddr& out);  // out: fresh

struct CSeq {
    std::uint32_t number = 0;  // < 2^31 (RFC 3261 8.1.1.5)
    std::string_view method;
};
ParseResult<CSeq> parse_cseq(std::string_view value);

// Contact: either "*" or a list of addresses with expires/q parameters.
struct ContactList {
    bool star = false;
    sw::SmallVec<NameAddr, 2> contacts;
};
// Adds the contacts of one Contact header value (itself a comma list, or "*") to out.
ParseResult<bool> append_contacts(std::string_view value, ContactList& out);
// Parses every Contact header value of a message (each may itself be a comma list).
ParseResult<ContactList> parse_contacts(std::span<const std::string_view> values);
// q parameter as thousandths (q=0.33 -> 330); nullopt when absent, error when malformed.
ParseResult<std::optional<int>> contact_q(const NameAddr& c);
// expires parameter in seconds, nullopt when absent, error when malformed or overflowing.
ParseResult<std::optional<std::uint32_t>> contact_expires(const NameAddr& c);

// Call-ID = word [ "@" word ]
bool is_valid_call_id(std::string_view value);

// Numeric headers. delta-seconds overflow (RFC 3261 says 2^32-1 at most) is an error.
ParseResult<std::uint32_t> parse_delta_seconds(std::string_view value);

// Require, Supported, Unsupported, Proxy-Require, Allow, Allow-Events: comma-separated tokens.
ParseResult<std::vector<std::string_view>> parse_token_list(std::span<const std::string_view> values);

// Authorization, Proxy-Authorization (credentials), WWW-/Proxy-Authenticate (challenge),
// Authentication-Info: a scheme followed by comma-separated auth-params.
struct AuthParams {
    std::string_view scheme;  // "Digest"; empty for Authentication-Info
    std::string_view params;  // raw comma-separated auth-params
    // Value of a parameter, unquoted. nullopt when absent.
    std::optional<std::string> get(std::string_view name) const;
};
ParseResult<AuthParams> parse_auth(std::string_view value, bool has_scheme = true);
// The same, and in the same pass the parameters a server checking credentials reads, no copies:
// out[i] = the unquoted value of names[i] (first occurrence, names without case), nullopt when absent
// or when the header does not parse. The value views `value` unless it had escapes to undo; then it is
// unescaped into storage[i] and views that. out and storage have names.size() elements.
ParseResult<AuthParams> parse_auth(std::string_view value, bool has_scheme,
                                   std::span<const std::string_view> names,
                                   std::span<std::optional<std::string_view>> out,
                                   std::span<std::string> storage);

// RAck (RFC 3262): response-num CSeq-num Method
struct RAck {
    std::uint32_t rseq = 0;
    std::uint32_t cseq = 0;
    std::string_view method;
};
ParseResult<RAck> parse_rack(std::string_view value);

// token-with-parameters headers: Event, Subscription-State, Content-Disposition, Reason (protocol),
// Retry-After (delta-seconds with optional comment), Priority, Session-Expires, Privacy.
struct ValueParams {
    std::string_view value;
    std::string_view comment;  // Retry-After only
    std::string_view params;
    std::optional<Param> param(std::string_view name) const { return find_param(params, name); }
};
ParseResult<ValueParams> parse_value_params(std::string_view value);
ParseResult<ValueParams> parse_retry_after(std::string_view value);

// Content-Type: type "/" subtype *(;param)
struct MediaType {
    std::string_view type;
    std::string_view subtype;
    std::string_view params;
    bool is(std::string_view t, std::string_view s) const;
};
ParseResult<MediaType> parse_media_type(std::string_view value);

// Date (RFC 3261 20.17): an RFC 1123 date whose zone is always "GMT".
bool is_valid_sip_date(std::string_view value);

// Validates a run of generic header parameters: token [ "=" ( token / host / quoted-string ) ].
bool valid_header_params(std::string_view run);

// Replaces CR and LF (the folding of RFC 3261 7.3.1) with spaces, keeping every offset.
void unfold_in_place(std::string& s);

// ---- implementation of the template ----
template <typename F>
bool for_each_list_element(std::string_view value, F&& f) {
    std::size_t start = 0;
    bool quoted = false;
    int angle = 0;
    auto emit = [&](std::size_t end) -> bool {
        std::string_view item = value.substr(start, end - start);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
            item.remove_suffix(1);
        if (item.empty()) return false;
        return f(item);
    };
    // Most values (a Via, a Contact) are one element: without a comma there is nothing to split, and
    // memchr finds that out faster than the walk below, which tracks quotes and brackets byte by byte.
    if (value.find(',') == std::string_view::npos) return emit(value.size());
    // The bytes between those that change the state are skipped through a table (an Authorization
    // value is ~250 bytes of quoted text: a test per byte instead of five).
    const std::size_t n = value.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (quoted) {
            while (i < n && !detail::kQuotedStop[static_cast<unsigned char>(value[i])])
                ++i;
            if (i >= n) break;
            if (value[i] == '\\') {
                ++i;
            } else if (value[i] == '"') {
                quoted = false;
            }
            continue;
        }
        while (i < n && !detail::kListStop[static_cast<unsigned char>(value[i])])
            ++i;
        if (i >= n) break;
        const char c = value[i];
        if (c == '"') {
            quoted = true;
        } else if (c == '<') {
            ++angle;
        } else if (c == '>') {
            if (angle > 0) --angle;
        } else if (angle == 0) {  // ','
            if (!emit(i)) return false;
            start = i + 1;
        }
    }
    return emit(value.size());
}

}  // namespace sw::sip
