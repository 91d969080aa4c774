#include "sip/uri.hpp"

#include <algorithm>
#include <array>
#include <tuple>
#include <vector>

#include "common/text.hpp"
#include "sip/charset.hpp"

namespace sw::sip {

// Four dot-separated decimal octets of 1-3 digits, each at most 255 (leading zeros allowed, as before).
// One pass, no sub-parsers: every URI, Via and Contact host that looks numeric comes through here.
bool is_ipv4_address(std::string_view s) {
    int parts = 0;
    unsigned value = 0;
    int digits = 0;
    for (const char c : s) {
        if (c >= '0' && c <= '9') {
            if (++digits > 3) return false;
            value = value * 10 + static_cast<unsigned>(c - '0');
        } else if (c == '.') {
            if (digits == 0 || value > 255 || ++parts == 4) return false;
            value = 0;
            digits = 0;
        } else {
            return false;
        }
    }
    return digits > 0 && value <= 255 && parts == 3;
}

bool is_ipv6_address(std::string_view s) {
    if (s.empty()) return false;
    int groups = 0;
    bool compressed = false;
    std::size_t i = 0;
    if (s.substr(0, 2) == "::") {
        compressed = true;
        i = 2;
        if (i == s.size()) return true;
    } else if (s.front() == ':') {
        return false;
    }
    while (i < s.size()) {
        std::size_t j = i;
        while (j < s.size() && sw::is_hex(s[j]))
            ++j;
        if (j < s.size() && s[j] == '.') {
            // IPv4 tail takes the place of two groups.
            if (!is_ipv4_address(s.substr(i))) return false;
            groups += 2;
            i = s.size();
            break;
        }
        if (j == i || j - i > 4) return false;
        ++groups;
        i = j;
        if (i == s.size()) break;
        if (s[i] != ':') return false;
        ++i;
        if (i < s.size() && s[i] == ':') {
            if (compressed) return false;  // a second "::"
            compressed = true;
            ++i;
            if (i == s.size()) break;
            if (s[i] == ':') return false;  // ":::" (RFC 5118 4.10, RFC 5954)
        } else if (i == s.size()) {
            return false;  // trailing single ':'
        }
    }
    return compressed ? groups <= 7 : groups == 8;
}

namespace {

bool is_scheme(std::string_view s) {
    if (s.empty() || !sw::is_alpha(s.front())) return false;
    for (char c : s)
        if (!sw::is_alnum(c) && c != '+' && c != '-' && c != '.') return false;
    return true;
}

bool same_param_name(std::string_view a, std::string_view b) {
    if (a.find('%') == std::string_view::npos && b.find('%') == std::string_view::npos)
        return sw::iequals(a, b);
    return sw::iequals(unescape(a), unescape(b));
}

// uri-parameters: *( ";" pname [ "=" pvalue ] ), both made of paramchar. A name may appear once only
// (RFC 3966 3 for tel; for sip a repeated transport or maddr would be ambiguous), and a URI carries at
// most kMaxUriParams parameters, which also bounds the duplicate check.
constexpr std::size_t kMaxUriParams = 32;
bool valid_uri_params(std::string_view run) {
    if (run.empty()) return false;
    std::string_view names[kMaxUriParams];
    std::size_t count = 0;
    std::size_t start = 0;
    while (start <= run.size()) {
        std::size_t end = run.find(';', start);
        if (end == std::string_view::npos) end = run.size();
        std::string_view item = run.substr(start, end - start);
        const auto eq = item.find('=');
        std::string_view name = item.substr(0, eq);
        if (name.empty() || !is_escaped_run<is_param_char>(name)) return false;
        if (eq != std::string_view::npos) {
            std::string_view value = item.substr(eq + 1);
            if (value.empty() || !is_escaped_run<is_param_char>(value)) return false;
        }
        if (count == kMaxUriParams) return false;
        for (std::size_t i = 0; i < count; ++i)
            if (same_param_name(names[i], name)) return false;
        names[count++] = name;
        start = end + 1;
    }
    return true;
}

// headers: hname "=" hvalue *( "&" hname "=" hvalue )
bool valid_uri_headers(std::string_view run) {
    if (run.empty()) return false;
    std::size_t start = 0;
    while (start <= run.size()) {
        std::size_t end = run.find('&', start);
        if (end == std::string_view::npos) end = run.size();
        std::string_view item = run.substr(start, end - start);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0) return false;
        if (!is_escaped_run<is_header_char>(item.substr(0, eq))) return false;
        if (!is_escaped_run<is_header_char>(item.substr(eq + 1))) return false;
        start = end + 1;
    }
    return true;
}

bool is_visual_separator(char c) {
    return c == '-' || c == '.' || c == '(' || c == ')';
}

ParseResult<bool> parse_tel(Uri& u, std::string_view rest) {
    // RFC 3966 3: telephone-subscriber = global-number / local-number
    const auto semi = rest.find(';');
    std::string_view number = rest.substr(0, semi);
    if (semi != std::string_view::npos) {
        u.params = rest.substr(semi + 1);
        if (!valid_uri_params(u.params)) return bad("Bad Request - Invalid tel URI parameters");
    }
    if (number.empty()) return bad("Bad Request - Empty tel URI");
    bool digit_seen = false;
    if (number.front() == '+') {
        for (char c : number.substr(1)) {
            if (sw::is_digit(c)) {
                digit_seen = true;
            } else if (!is_visual_separator(c)) {
                return bad("Bad Request - Invalid global tel number");
            }
        }
    } else {
        for (char c : number) {
            if (sw::is_hex(c) || c == '*' || c == '#') {
                digit_seen = true;
            } else if (!is_visual_separator(c)) {
                return bad("Bad Request - Invalid local tel number");
            }
        }
        // RFC 3966 5.1.5: a local number must name its context.
        if (!find_param(u.params, "phone-context"))
            return bad("Bad Request - Local tel number without phone-context");
    }
    if (!digit_seen) return bad("Bad Request - tel URI without digits");
    u.user = number;
    u.has_user = true;
    return true;
}

}  // namespace

namespace {
// Host character classes: 0 invalid, 1 digit, 2 letter, 3 '-', 4 '.'.
constexpr std::array<std::uint8_t, 256> kHostClass = [] {
    std::array<std::uint8_t, 256> t{};
    for (int c = '0'; c <= '9'; ++c)
        t[c] = 1;
    for (int c = 'a'; c <= 'z'; ++c)
        t[c] = 2;
    for (int c = 'A'; c <= 'Z'; ++c)
        t[c] = 2;
    t['-'] = 3;
    t['.'] = 4;
    return t;
}();
}  // namespace

bool is_valid_host(std::string_view s) {
    if (s.size() >= 2 && s.front() == '[' && s.back() == ']')
        return is_ipv6_address(s.substr(1, s.size() - 2));
    // One pass: labels of alphanumerics with inner '-', separated by single dots, an optional final dot.
    // An all-numeric dotted host must then be a correct IPv4 address.
    if (s.empty()) return false;
    bool letters = false;
    std::uint8_t prev = 4;  // as if after a dot
    for (char ch : s) {
        const std::uint8_t c = kHostClass[static_cast<unsigned char>(ch)];
        switch (c) {
            case 0:
                return false;
            case 2:
                letters = true;
                break;
            case 3:
                if (prev == 4) return false;  // label starts with '-'
                letters = true;
                break;
            case 4:
                if (prev == 4 || prev == 3) return false;  // empty label or label ends with '-'
                break;
            default:
                break;
        }
        prev = c;
    }
    if (prev == 3) return false;
    return letters ? true : is_ipv4_address(s);
}

ParseResult<bool> parse_uri_into(std::string_view text, Uri& u) {
    u.raw = text;
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || !is_scheme(text.substr(0, colon))) {
        return bad("Bad Request - Invalid URI");
    }
    u.scheme_text = text.substr(0, colon);
    std::string_view rest = text.substr(colon + 1);
    if (sw::iequals(u.scheme_text, "sip")) {
        u.scheme = UriScheme::Sip;
    } else if (sw::iequals(u.scheme_text, "sips")) {
        u.scheme = UriScheme::Sips;
    } else if (sw::iequals(u.scheme_text, "tel")) {
        u.scheme = UriScheme::Tel;
        return parse_tel(u, rest);
    } else {
        // Opaque: any non-space, non-control text (e.g. "isbn:2983792873", "soap.beep://192.0.2.103:3002").
        if (rest.empty()) return bad("Bad Request - Invalid URI");
        for (char c : rest) {
            if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"') {
                return bad("Bad Request - Invalid URI");
            }
        }
        u.scheme = UriScheme::Other;
        u.opaque = rest;
        return true;
    }

    // userinfo: everything before the '@' (user may hold ';' '?' '/', never an unescaped '@').
    const auto at = rest.find('@');
    if (at != std::string_view::npos) {
        std::string_view userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        const auto pc = userinfo.find(':');
        u.user = userinfo.substr(0, pc);
        u.has_user = true;
        if (u.user.empty() || !is_escaped_run<is_user_char>(u.user))
            return bad("Bad Request - Invalid URI user");
        if (pc != std::string_view::npos) {
            u.password = userinfo.substr(pc + 1);
            u.has_password = true;
            if (!is_escaped_run<is_password_char>(u.password))
                return bad("Bad Request - Invalid URI password");
        }
    }

    // hostport
    std::size_t host_end = 0;
    if (!rest.empty() && rest.front() == '[') {
        host_end = rest.find(']');
        if (host_end == std::string_view::npos) return bad("Bad Request - Invalid IPv6 reference");
        u.host = rest.substr(1, host_end - 1);
        u.ipv6 = true;
        if (!is_ipv6_address(u.host)) return bad("Bad Request - Invalid IPv6 reference");
        ++host_end;
    } else {
        while (host_end < rest.size() && is_host_char(rest[host_end]))
            ++host_end;
        u.host = rest.substr(0, host_end);
        if (!is_valid_host(u.host)) return bad("Bad Request - Invalid URI host");
    }
    rest.remove_prefix(host_end);
    if (!rest.empty() && rest.front() == ':') {
        std::size_t n = 1;
        while (n < rest.size() && sw::is_digit(rest[n]))
            ++n;
        auto port = sw::parse_uint(rest.substr(1, n - 1), 65535);
        if (!port) return bad("Bad Request - Invalid URI port");
        u.port = static_cast<std::int32_t>(*port);
        rest.remove_prefix(n);
    }
    if (!rest.empty() && rest.front() == ';') {
        const auto q = rest.find('?');
        u.params = rest.substr(1, q == std::string_view::npos ? std::string_view::npos : q - 1);
        if (!valid_uri_params(u.params)) return bad("Bad Request - Invalid URI parameters");
        rest.remove_prefix(u.params.size() + 1);
    }
    if (!rest.empty() && rest.front() == '?') {
        u.headers = rest.substr(1);
        if (!valid_uri_headers(u.headers)) return bad("Bad Request - Invalid URI headers");
        rest = {};
    }
    if (!rest.empty()) return bad("Bad Request - Invalid URI");
    return true;
}

ParseResult<Uri> parse_uri(std::string_view text) {
    Uri u;
    auto ok = parse_uri_into(text, u);
    if (!ok) return sw::unexpected(ok.error());
    return u;
}

std::string Uri::hostport() const {
    std::string out;
    if (ipv6) out.push_back('[');
    out.append(host);
    if (ipv6) out.push_back(']');
    if (port >= 0) {
        out.push_back(':');
        out.append(std::to_string(port));
    }
    return out;
}

std::string unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && sw::is_hex(s[i + 1]) && sw::is_hex(s[i + 2])) {
            out.push_back(static_cast<char>(sw::hex_value(s[i + 1]) * 16 + sw::hex_value(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::string tel_normalized(std::string_view number) {
    std::string out;
    for (char c : number)
        if (!is_visual_separator(c)) out.push_back(sw::ascii_lower(c));
    return out;
}

namespace {

struct Kv {
    std::string name;
    std::string value;
    bool has_value;
};

std::vector<Kv> collect(std::string_view run, char sep) {
    std::vector<Kv> out;
    ParamCursor cur(run, sep);
    Param p;
    while (cur.next(p))
        out.push_back({sw::to_lower(unescape(p.name)), unescape(p.value), p.has_value});
    return out;
}

const Kv* lookup(const std::vector<Kv>& v, std::string_view name) {
    for (const auto& kv : v)
        if (kv.name == name) return &kv;
    return nullptr;
}

bool params_equal_sip(std::string_view a, std::string_view b) {
    const auto pa = collect(a, ';');
    const auto pb = collect(b, ';');
    // RFC 3261 19.1.4: user, ttl, method, maddr and transport must match when either URI has them;
    // any other parameter is compared only when both URIs have it.
    static constexpr std::string_view kStrict[] = {"user", "ttl", "method", "maddr", "transport"};
    for (auto name : kStrict) {
        const Kv* x = lookup(pa, name);
        const Kv* y = lookup(pb, name);
        if ((x == nullptr) != (y == nullptr)) return false;
        if (x && !sw::iequals(x->value, y->value)) return false;
    }
    for (const auto& x : pa) {
        const Kv* y = lookup(pb, x.name);
        if (y && (x.has_value != y->has_value || !sw::iequals(x.value, y->value))) return false;
    }
    return true;
}

bool headers_equal(std::string_view a, std::string_view b) {
    // Header components compare as multisets: order does not matter, repetitions do.
    auto ha = collect(a, '&');
    auto hb = collect(b, '&');
    if (ha.size() != hb.size()) return false;
    auto key = [](const Kv& x, const Kv& y) { return std::tie(x.name, x.value) < std::tie(y.name, y.value); };
    std::sort(ha.begin(), ha.end(), key);
    std::sort(hb.begin(), hb.end(), key);
    for (std::size_t i = 0; i < ha.size(); ++i) {
        if (ha[i].name != hb[i].name || ha[i].value != hb[i].value) return false;
    }
    return true;
}

bool params_equal_tel(std::string_view a, std::string_view b) {
    // RFC 3966 4: parameters must match as sets; names and values compare case-insensitively.
    const auto pa = collect(a, ';');
    const auto pb = collect(b, ';');
    if (pa.size() != pb.size()) return false;
    for (const auto& x : pa) {
        const Kv* y = lookup(pb, x.name);
        if (!y || !sw::iequals(tel_normalized(x.value), tel_normalized(y->value))) return false;
    }
    return true;
}

}  // namespace

bool uri_equal(const Uri& a, const Uri& b) {
    if (a.scheme != b.scheme) return false;
    switch (a.scheme) {
        case UriScheme::Other:
            return sw::iequals(a.scheme_text, b.scheme_text) && a.opaque == b.opaque;
        case UriScheme::Tel:
            return tel_normalized(a.user) == tel_normalized(b.user) && params_equal_tel(a.params, b.params);
        case UriScheme::Sip:
        case UriScheme::Sips:
            break;
    }
    if (a.has_user != b.has_user || a.has_password != b.has_password) return false;
    if (unescape(a.user) != unescape(b.user) || unescape(a.password) != unescape(b.password)) return false;
    if (!sw::iequals(a.host, b.host) || a.port != b.port) return false;
    return params_equal_sip(a.params, b.params) && headers_equal(a.headers, b.headers);
}

}  // namespace sw::sip
