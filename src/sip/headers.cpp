#include "sip/headers.hpp"

#include <algorithm>
#include <array>

#include "common/text.hpp"
#include "sip/charset.hpp"

namespace sw::sip {

namespace {

constexpr std::string_view npos_view{};

struct Scanner {
    std::string_view s;
    std::size_t i = 0;

    bool eof() const { return i >= s.size(); }
    char peek() const { return eof() ? '\0' : s[i]; }
    void ws() {
        while (i < s.size() && sw::is_wsp(s[i]))
            ++i;
    }
    bool eat(char c) {
        if (i < s.size() && s[i] == c) {
            ++i;
            return true;
        }
        return false;
    }
    std::string_view token() {
        const std::size_t start = i;
        while (i < s.size() && is_token_char(s[i]))
            ++i;
        return s.substr(start, i - start);
    }
    std::string_view digits() {
        const std::size_t start = i;
        while (i < s.size() && sw::is_digit(s[i]))
            ++i;
        return s.substr(start, i - start);
    }
    std::string_view rest() const { return eof() ? npos_view : s.substr(i); }
};

// Index just past the closing quote of the quoted-string starting at s[pos] == '"', or npos.
// The ordinary bytes of a quoted string are skipped through a table: one test per byte instead of five.
constexpr auto kQuotedEndStop = [] {
    std::array<bool, 256> t{};
    for (char c : {'\\', '"', '\r', '\n', '\0'})
        t[static_cast<unsigned char>(c)] = true;
    return t;
}();

std::size_t quoted_end(std::string_view s, std::size_t pos) {
    const std::size_t n = s.size();
    for (std::size_t i = pos + 1; i < n; ++i) {
        while (i < n && !kQuotedEndStop[static_cast<unsigned char>(s[i])])
            ++i;
        if (i >= n) break;
        const char c = s[i];
        if (c == '\\') {
            if (i + 1 >= n || s[i + 1] == '\r' || s[i + 1] == '\n') return std::string_view::npos;
            ++i;
        } else if (c == '"') {
            return i + 1;
        } else {  // CR, LF, NUL
            return std::string_view::npos;
        }
    }
    return std::string_view::npos;
}

bool is_quoted_string(std::string_view v) {
    return !v.empty() && v.front() == '"' && quoted_end(v, 0) == v.size();
}

std::string_view rtrim(std::string_view s) {
    while (!s.empty() && sw::is_wsp(s.back()))
        s.remove_suffix(1);
    return s;
}

bool is_gen_value(std::string_view v) {
    if (v.empty()) return false;
    if (v.front() == '"') return is_quoted_string(v);
    if (v.front() == '[') return v.back() == ']' && is_ipv6_address(v.substr(1, v.size() - 2));
    if (is_token(v)) return true;
    // RFC 5118 4.5: received carries a bare IPv6 address, which is neither token nor host.
    return is_ipv6_address(v);
}

}  // namespace

namespace {
// Validates a run of header parameters and hands each one, trimmed, to on_param (which may refuse it
// by returning false): one pass both checks the grammar and extracts what the caller needs.
template <typename F>
bool scan_header_params(std::string_view run, F&& on_param) {
    std::size_t i = 0;
    while (true) {
        // One parameter: up to the next ';' outside quotes.
        std::size_t end = i;
        while (end < run.size() && run[end] != ';') {
            if (run[end] == '"') {
                end = quoted_end(run, end);
                if (end == std::string_view::npos) return false;
            } else {
                ++end;
            }
        }
        std::string_view item = sw::trim(run.substr(i, end - i));
        if (item.empty()) return false;
        const auto eq = item.find('=');
        Param p;
        p.name = rtrim(item.substr(0, eq));
        if (!is_token(p.name)) return false;
        if (eq != std::string_view::npos) {
            p.value = sw::trim(item.substr(eq + 1));
            p.has_value = true;
            if (!is_gen_value(p.value)) return false;
        }
        if (!on_param(p)) return false;
        if (end >= run.size()) return true;
        i = end + 1;
    }
}
}  // namespace

bool valid_header_params(std::string_view run) {
    return scan_header_params(run, [](const Param&) { return true; });
}

void unfold_in_place(std::string& s) {
    for (char& c : s)
        if (c == '\r' || c == '\n') c = ' ';
}

ParseResult<bool> parse_via_into(std::string_view value, Via& v) {
    Scanner sc{sw::trim(value)};
    v.protocol_name = sc.token();
    sc.ws();
    if (v.protocol_name.empty() || !sc.eat('/')) return bad("Bad Request - Invalid Via");
    sc.ws();
    v.protocol_version = sc.token();
    sc.ws();
    if (v.protocol_version.empty() || !sc.eat('/')) return bad("Bad Request - Invalid Via");
    sc.ws();
    v.transport = sc.token();
    if (v.transport.empty() || !sw::is_wsp(sc.peek())) return bad("Bad Request - Invalid Via");
    sc.ws();
    // sent-by = host [ COLON port ]
    if (sc.peek() == '[') {
        const auto close = sc.s.find(']', sc.i);
        if (close == std::string_view::npos) return bad("Bad Request - Invalid Via host");
        v.host = sc.s.substr(sc.i + 1, close - sc.i - 1);
        v.ipv6 = true;
        if (!is_ipv6_address(v.host)) return bad("Bad Request - Invalid Via host");
        sc.i = close + 1;
    } else {
        const std::size_t start = sc.i;
        while (!sc.eof() && is_host_char(sc.peek()))
            ++sc.i;
        v.host = sc.s.substr(start, sc.i - start);
        if (!is_valid_host(v.host)) return bad("Bad Request - Invalid Via host");
    }
    sc.ws();
    if (sc.eat(':')) {
        sc.ws();
        auto port = sw::parse_uint(sc.digits(), 65535);
        if (!port) return bad("Bad Request - Invalid Via port");
        v.port = static_cast<std::int32_t>(*port);
        sc.ws();
    }
    if (sc.eof()) return true;
    if (!sc.eat(';')) return bad("Bad Request - Invalid Via");
    v.params = sc.rest();
    std::string_view fault = "Bad Request - Invalid Via parameters";
    const bool ok = scan_header_params(v.params, [&](const Param& p) {
        if (p.name.size() == 6 && sw::iequals(p.name, "branch")) {
            if (!p.has_value || !is_token(p.value)) {
                fault = "Bad Request - Invalid Via branch";
                return false;
            }
            if (v.branch.empty()) v.branch = p.value;
        } else if (p.name.size() == 8 && sw::iequals(p.name, "received")) {
            std::string_view r = p.value;
            const bool good = is_ipv4_address(r) || is_ipv6_address(r) ||
                              (r.size() > 2 && r.front() == '[' && r.back() == ']' &&
                               is_ipv6_address(r.substr(1, r.size() - 2)));
            if (!good) {
                fault = "Bad Request - Invalid Via received";
                return false;
            }
            v.received = r;
        } else if (p.name.size() == 5 && sw::iequals(p.name, "rport")) {
            v.has_rport = true;
            if (p.has_value) {
                auto port = sw::parse_uint(p.value, 65535);
                if (!port) {
                    fault = "Bad Request - Invalid Via rport";
                    return false;
                }
                v.rport = static_cast<std::int32_t>(*port);
            }
        } else if (p.name.size() == 5 && sw::iequals(p.name, "maddr")) {
            v.maddr = p.value;
        }
        return true;
    });
    if (!ok) return bad(fault);
    return true;
}

ParseResult<Via> parse_via(std::string_view value) {
    Via v;
    auto ok = parse_via_into(value, v);
    if (!ok) return sw::unexpected(ok.error());
    return v;
}

std::string NameAddr::display() const {
    if (!display_name.empty() && display_name.front() == '"') return unquote(display_name);
    return std::string(display_name);
}

ParseResult<bool> parse_name_addr_into(std::string_view value, AddrForm form, NameAddr& na) {
    std::string_view s = sw::trim(value);
    if (s.empty()) return bad("Bad Request - Empty address");
    std::size_t i = 0;
    bool name_addr = false;
    if (s.front() == '"') {
        const auto end = quoted_end(s, 0);
        if (end == std::string_view::npos) return bad("Bad Request - Unterminated quoted string");
        na.display_name = s.substr(0, end);
        i = end;
        while (i < s.size() && sw::is_wsp(s[i]))
            ++i;
        if (i >= s.size() || s[i] != '<') return bad("Bad Request - Invalid display name");
        name_addr = true;
    } else {
        std::size_t j = 0;
        while (j < s.size() && (is_token_char(s[j]) || sw::is_wsp(s[j])))
            ++j;
        if (j < s.size() && s[j] == '<') {
            na.display_name = rtrim(s.substr(0, j));
            i = j;
            name_addr = true;
        }
    }
    std::string_view after;
    if (name_addr) {
        const auto gt = s.find('>', i);
        if (gt == std::string_view::npos) return bad("Bad Request - Missing '>'");
        auto uri = parse_uri_into(s.substr(i + 1, gt - i - 1), na.uri);
        if (!uri) return sw::unexpected(uri.error());
        na.angle_brackets = true;
        after = s.substr(gt + 1);
    } else {
        if (form == AddrForm::NameAddrOnly) return bad("Bad Request - Address must be in angle brackets");
        const auto semi = s.find(';');
        std::string_view uri_text = rtrim(s.substr(0, semi));
        // RFC 3261 20: a URI with a comma, question mark or semicolon must be in angle brackets.
        if (sw::contains_any(uri_text, "?,")) {
            return bad("Bad Request - URI with '?' or ',' must be in angle brackets");
        }
        auto uri = parse_uri_into(uri_text, na.uri);
        if (!uri) return sw::unexpected(uri.error());
        after = semi == std::string_view::npos ? std::string_view{} : s.substr(semi);
    }
    while (!after.empty() && sw::is_wsp(after.front()))
        after.remove_prefix(1);
    if (after.empty()) return true;
    if (after.front() != ';') return bad("Bad Request - Invalid address parameters");
    na.params = after.substr(1);
    bool bad_tag = false;
    const bool ok = scan_header_params(na.params, [&](const Param& p) {
        if (!na.has_tag && p.name.size() == 3 && sw::iequals(p.name, "tag")) {
            if (!p.has_value || !is_token(p.value)) {
                bad_tag = true;
                return false;
            }
            na.tag = p.value;
            na.has_tag = true;
        }
        return true;
    });
    if (bad_tag) return bad("Bad Request - Invalid tag");
    if (!ok) return bad("Bad Request - Invalid address parameters");
    return true;
}

ParseResult<NameAddr> parse_name_addr(std::string_view value, AddrForm form) {
    NameAddr na;
    auto ok = parse_name_addr_into(value, form, na);
    if (!ok) return sw::unexpected(ok.error());
    return na;
}

ParseResult<CSeq> parse_cseq(std::string_view value) {
    Scanner sc{sw::trim(value)};
    auto num = sw::parse_uint(sc.digits(), 0x7fffffffu);
    if (!num) return bad("Bad Request - Invalid CSeq number");
    if (!sw::is_wsp(sc.peek())) return bad("Bad Request - Invalid CSeq");
    sc.ws();
    CSeq c;
    c.number = static_cast<std::uint32_t>(*num);
    c.method = sc.token();
    if (c.method.empty() || !sc.eof()) return bad("Bad Request - Invalid CSeq method");
    return c;
}

ParseResult<bool> append_contacts(std::string_view value, ContactList& out) {
    if (sw::trim(value) == "*") {
        out.star = true;
    } else {
        const bool ok = for_each_list_element(value, [&](std::string_view item) {
            if (parse_name_addr_into(item, AddrForm::NameAddrOrAddrSpec, out.contacts.emplace_back()))
                return true;
            out.contacts.pop_back();
            return false;
        });
        if (!ok) return bad("Bad Request - Invalid Contact");
    }
    if (out.star && !out.contacts.empty()) return bad("Bad Request - Contact '*' mixed with addresses");
    return true;
}

ParseResult<ContactList> parse_contacts(std::span<const std::string_view> values) {
    ContactList out;
    for (std::string_view v : values) {
        auto ok = append_contacts(v, out);
        if (!ok) return sw::unexpected(ok.error());
    }
    return out;
}

ParseResult<std::optional<int>> contact_q(const NameAddr& c) {
    auto q = c.param("q");
    if (!q) return std::optional<int>{};
    std::string_view v = q->value;
    // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    if (v.empty() || (v[0] != '0' && v[0] != '1')) return bad("Bad Request - Invalid q value");
    int whole = v[0] - '0';
    int frac = 0;
    if (v.size() > 1) {
        if (v[1] != '.' || v.size() > 5) return bad("Bad Request - Invalid q value");
        int scale = 100;
        for (char ch : v.substr(2)) {
            if (!sw::is_digit(ch)) return bad("Bad Request - Invalid q value");
            frac += (ch - '0') * scale;
            scale /= 10;
        }
    }
    if (whole == 1 && frac != 0) return bad("Bad Request - Invalid q value");
    return std::optional<int>{whole * 1000 + frac};
}

ParseResult<std::optional<std::uint32_t>> contact_expires(const NameAddr& c) {
    auto e = c.param("expires");
    if (!e) return std::optional<std::uint32_t>{};
    auto v = sw::parse_uint(e->value, UINT32_MAX);
    if (!v) return bad("Bad Request - Invalid Contact expires");
    return std::optional<std::uint32_t>{static_cast<std::uint32_t>(*v)};
}

bool is_valid_call_id(std::string_view value) {
    if (value.empty()) return false;
    const auto at = value.find('@');
    auto word = [](std::string_view w) {
        if (w.empty()) return false;
        for (char c : w)
            if (!is_word_char(c)) return false;
        return true;
    };
    if (at == std::string_view::npos) return word(value);
    return word(value.substr(0, at)) && word(value.substr(at + 1));
}

ParseResult<std::uint32_t> parse_delta_seconds(std::string_view value) {
    auto v = sw::parse_uint(sw::trim(value), UINT32_MAX);
    if (!v) return bad("Bad Request - Invalid number");
    return static_cast<std::uint32_t>(*v);
}

ParseResult<std::vector<std::string_view>> parse_token_list(std::span<const std::string_view> values) {
    std::vector<std::string_view> out;
    for (std::string_view v : values) {
        if (sw::trim(v).empty()) continue;  // an empty Supported: is legal
        const bool ok = for_each_list_element(v, [&](std::string_view item) {
            if (!is_token(item)) return false;
            out.push_back(item);
            return true;
        });
        if (!ok) return bad("Bad Request - Invalid token list");
    }
    return out;
}

std::optional<std::string> AuthParams::get(std::string_view name) const {
    std::optional<std::string> found;
    for_each_list_element(params, [&](std::string_view item) {
        const auto eq = item.find('=');
        if (eq != std::string_view::npos && sw::iequals(rtrim(item.substr(0, eq)), name)) {
            found = unquote(sw::trim(item.substr(eq + 1)));
            return false;
        }
        return true;
    });
    return found;
}

namespace {

// out[i] = the value of the auth-param `name` = `v` when name is names[i] and out[i] is still unset: a view
// into v without its quotes, or, when it had escapes, the unescaped text in storage[i].
void pick_auth_param(std::string_view name, std::string_view v, std::span<const std::string_view> names,
                     std::span<std::optional<std::string_view>> out, std::span<std::string> storage) {
    const std::size_t n = std::min({names.size(), out.size(), storage.size()});
    for (std::size_t i = 0; i < n; ++i) {
        if (out[i] || !sw::iequals(name, names[i])) continue;
        const bool quoted = v.size() >= 2 && v.front() == '"' && v.back() == '"';
        if (!quoted) {
            out[i] = v;
        } else if (v.find('\\') == std::string_view::npos) {
            out[i] = v.substr(1, v.size() - 2);
        } else {
            storage[i] = unquote(v);
            out[i] = storage[i];
        }
        return;
    }
}

}  // namespace

ParseResult<AuthParams> parse_auth(std::string_view value, bool has_scheme) {
    return parse_auth(value, has_scheme, {}, {}, {});
}

ParseResult<AuthParams> parse_auth(std::string_view value, bool has_scheme,
                                   std::span<const std::string_view> names,
                                   std::span<std::optional<std::string_view>> out,
                                   std::span<std::string> storage) {
    AuthParams a;
    Scanner sc{sw::trim(value)};
    if (has_scheme) {
        a.scheme = sc.token();
        if (a.scheme.empty()) return bad("Bad Request - Invalid auth scheme");
        if (sc.eof()) return a;
        if (!sw::is_wsp(sc.peek())) return bad("Bad Request - Invalid auth header");
        sc.ws();
    }
    a.params = sc.rest();
    if (a.params.empty()) return a;
    const bool ok = for_each_list_element(a.params, [&](std::string_view item) {
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) return is_token(item);  // token68-like opaque credentials
        std::string_view name = rtrim(item.substr(0, eq));
        std::string_view v = sw::trim(item.substr(eq + 1));
        if (!is_token(name) || v.empty()) return false;
        if (!(v.front() == '"' ? is_quoted_string(v) : is_token(v) || !sw::contains_any(v, " \t,;")))
            return false;
        if (!names.empty()) pick_auth_param(name, v, names, out, storage);
        return true;
    });
    if (!ok) {
        for (auto& o : out)
            o.reset();
        return bad("Bad Request - Invalid auth parameters");
    }
    return a;
}

ParseResult<RAck> parse_rack(std::string_view value) {
    Scanner sc{sw::trim(value)};
    RAck r;
    auto a = sw::parse_uint(sc.digits(), UINT32_MAX);
    sc.ws();
    auto b = sw::parse_uint(sc.digits(), UINT32_MAX);
    sc.ws();
    r.method = sc.token();
    if (!a || !b || r.method.empty() || !sc.eof()) return bad("Bad Request - Invalid RAck");
    r.rseq = static_cast<std::uint32_t>(*a);
    r.cseq = static_cast<std::uint32_t>(*b);
    return r;
}

ParseResult<ValueParams> parse_value_params(std::string_view value) {
    std::string_view s = sw::trim(value);
    ValueParams out;
    const auto semi = s.find(';');
    out.value = rtrim(s.substr(0, semi));
    if (!is_token(out.value)) return bad("Bad Request - Invalid header value");
    if (semi != std::string_view::npos) {
        out.params = s.substr(semi + 1);
        if (!valid_header_params(out.params)) return bad("Bad Request - Invalid header parameters");
    }
    return out;
}

ParseResult<ValueParams> parse_retry_after(std::string_view value) {
    Scanner sc{sw::trim(value)};
    ValueParams out;
    out.value = sc.digits();
    if (!sw::parse_uint(out.value, UINT32_MAX)) return bad("Bad Request - Invalid Retry-After");
    sc.ws();
    if (sc.peek() == '(') {
        // comment = LPAREN *(ctext / quoted-pair / comment) RPAREN
        const std::size_t start = sc.i;
        int depth = 0;
        for (; !sc.eof(); ++sc.i) {
            const char c = sc.peek();
            if (c == '\\') {
                ++sc.i;
            } else if (c == '(') {
                ++depth;
            } else if (c == ')' && --depth == 0) {
                ++sc.i;
                break;
            }
        }
        if (depth != 0) return bad("Bad Request - Invalid Retry-After comment");
        out.comment = sc.s.substr(start, sc.i - start);
        sc.ws();
    }
    if (sc.eof()) return out;
    if (!sc.eat(';')) return bad("Bad Request - Invalid Retry-After");
    out.params = sc.rest();
    if (!valid_header_params(out.params)) return bad("Bad Request - Invalid Retry-After parameters");
    return out;
}

bool MediaType::is(std::string_view t, std::string_view s) const {
    return sw::iequals(type, t) && sw::iequals(subtype, s);
}

ParseResult<MediaType> parse_media_type(std::string_view value) {
    Scanner sc{sw::trim(value)};
    MediaType m;
    m.type = sc.token();
    sc.ws();
    if (m.type.empty() || !sc.eat('/')) return bad("Bad Request - Invalid Content-Type");
    sc.ws();
    m.subtype = sc.token();
    sc.ws();
    if (m.subtype.empty()) return bad("Bad Request - Invalid Content-Type");
    if (sc.eof()) return m;
    if (!sc.eat(';')) return bad("Bad Request - Invalid Content-Type");
    m.params = sc.rest();
    if (!valid_header_params(m.params)) return bad("Bad Request - Invalid Content-Type parameters");
    return m;
}

bool is_valid_sip_date(std::string_view value) {
    // rfc1123-date = wkday "," SP date1 SP time SP "GMT"; date1 = 2DIGIT SP month SP 4DIGIT
    std::string_view s = sw::trim(value);
    static constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (s.size() != 29) return false;
    auto in = [](std::string_view x, const auto& set) {
        for (auto e : set)
            if (e == x) return true;
        return false;
    };
    auto num = [&](std::size_t pos, std::size_t n, unsigned max) {
        auto v = sw::parse_uint(s.substr(pos, n));
        return v && *v <= max;
    };
    return in(s.substr(0, 3), kDays) && s.substr(3, 2) == ", " && num(5, 2, 31) && s[7] == ' ' &&
           in(s.substr(8, 3), kMonths) && s[11] == ' ' && num(12, 4, 9999) && s[16] == ' ' &&
           num(17, 2, 23) && s[19] == ':' && num(20, 2, 59) && s[22] == ':' && num(23, 2, 60) &&
           s.substr(25) == " GMT";
}

}  // namespace sw::sip
