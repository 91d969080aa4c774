#include "sip/message.hpp"

#include <cstring>
#include <new>

#include "common/text.hpp"
#include "sip/charset.hpp"

namespace sw::sip {

namespace {

constexpr std::string_view kMethodNames[] = {"INVITE",  "ACK",   "BYE",       "CANCEL", "REGISTER",
                                             "OPTIONS", "PRACK", "SUBSCRIBE", "NOTIFY", "PUBLISH",
                                             "INFO",    "REFER", "MESSAGE",   "UPDATE"};

std::string_view rtrim(std::string_view s) {
    while (!s.empty() && sw::is_wsp(s.back()))
        s.remove_suffix(1);
    return s;
}

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; anything but 2.0 is 505 (RFC 3261 8.2.2 / 21.5.6).
ParseResult<bool> check_version(std::string_view v) {
    if (v.size() < 7 || !sw::iequals(v.substr(0, 4), "SIP/")) return bad("Bad Request - Invalid SIP version");
    std::string_view num = v.substr(4);
    const auto dot = num.find('.');
    if (dot == std::string_view::npos || !sw::parse_uint(num.substr(0, dot)) ||
        !sw::parse_uint(num.substr(dot + 1))) {
        return bad("Bad Request - Invalid SIP version");
    }
    if (num != "2.0") return fail(505, "Version Not Supported");
    return true;
}

struct LineEnd {
    std::size_t end = 0;   // first byte of the line terminator
    std::size_t next = 0;  // first byte of the next line
    bool found = false;    // false: the buffer ends inside this line
    bool bare_cr = false;  // a CR not followed by LF: never legal inside a SIP line
};

// One pass over the line looking for CR or LF, eight bytes at a time (the SWAR "has zero byte" test on
// the word XOR'ed with each terminator). Both CRLF and bare LF end a line; a bare CR is reported.
// NUL is not checked here: it is legal inside a quoted-pair (RFC 4475 3.1.1.2), and the typed parsers
// accept it only there.
LineEnd scan_line(std::string_view s, std::size_t pos) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    const std::size_t n = s.size();
    std::size_t i = pos;
    bool hit = false;
    while (i + 8 <= n) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        const std::uint64_t x = w ^ (kOnes * '\n');
        const std::uint64_t y = w ^ (kOnes * '\r');
        const std::uint64_t t = (((x - kOnes) & ~x) | ((y - kOnes) & ~y)) & kHigh;
        if (t != 0) {
            i += static_cast<std::size_t>(__builtin_ctzll(t)) / 8;  // the lowest match is exact
            hit = true;
            break;
        }
        i += 8;
    }
    if (!hit) {
        while (i < n && s[i] != '\r' && s[i] != '\n')
            ++i;
        if (i >= n) return LineEnd{n, n, false, false};
    }
    if (s[i] == '\n') return LineEnd{i, i + 1, true, false};
    if (i + 1 < n && s[i + 1] == '\n') return LineEnd{i, i + 2, true, false};
    if (i + 1 >= n) return LineEnd{i, n, false, false};  // CR at the very end: truncated
    return LineEnd{i, i, true, true};
}

// Bits for the single-valued mandatory headers already seen.
enum SeenBit : unsigned {
    kFrom = 1,
    kTo = 2,
    kCallId = 4,
    kCSeq = 8,
    kMaxFwd = 16,
    kContentLength = 32,
    kContentType = 64
};

}  // namespace

void Message::DataDeleter::operator()(Data* d) const {
    d->~Data();
    ::operator delete(d);
}

Method method_from(std::string_view token) {
    for (std::size_t i = 0; i < std::size(kMethodNames); ++i) {
        if (token == kMethodNames[i]) return static_cast<Method>(i);  // methods are case-sensitive
    }
    return Method::Extension;
}

std::string_view method_name(Method m) {
    const auto i = static_cast<std::size_t>(m);
    return i < std::size(kMethodNames) ? kMethodNames[i] : std::string_view{};
}

ParseResult<Message> Message::parse(std::string_view bytes, const ParseOptions& options) {
    if (bytes.size() > options.max_message_size) return fail(513, "Message Too Large");
    Message m;
    void* block = ::operator new(sizeof(Data) + bytes.size() + 1);
    m.d_.reset(new (block) Data());
    m.d_->buf_ = reinterpret_cast<char*>(m.d_.get() + 1);
    std::memcpy(m.d_->buf_, bytes.data(), bytes.size());
    m.d_->buf_[bytes.size()] = '\0';
    const std::string_view s(m.d_->buf_, bytes.size());

    std::size_t pos = 0;
    // RFC 3261 7.5: empty lines before the start line are ignored.
    while (pos < s.size() && (s[pos] == '\r' || s[pos] == '\n'))
        ++pos;
    if (pos == s.size()) return bad("Bad Request - Empty message");

    // ---- start line ----
    const LineEnd first = scan_line(s, pos);
    if (!first.found) return bad("Bad Request - Truncated message");
    if (first.bare_cr) return bad("Bad Request - Bare CR in start line");
    const std::string_view line = s.substr(pos, first.end - pos);
    m.d_->start_line_ = line;
    if (line.size() >= 4 && sw::iequals(line.substr(0, 4), "SIP/")) {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        m.d_->request_ = false;
        const auto sp = line.find(' ');
        if (sp == std::string_view::npos) return bad("Bad Request - Invalid status line");
        auto ver = check_version(line.substr(0, sp));
        if (!ver) return sw::unexpected(ver.error());
        m.d_->version_ = line.substr(0, sp);
        std::string_view rest = line.substr(sp + 1);
        if (rest.size() < 3 || !sw::is_digit(rest[0]) || !sw::is_digit(rest[1]) || !sw::is_digit(rest[2]) ||
            (rest.size() > 3 && rest[3] != ' ')) {
            return bad("Bad Request - Invalid status code");
        }
        m.d_->status_ = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
        if (m.d_->status_ < 100 || m.d_->status_ > 699) return bad("Bad Request - Invalid status code");
        m.d_->reason_ = rest.size() > 4 ? rest.substr(4) : std::string_view{};
    } else {
        // Request-Line = Method SP Request-URI SP SIP-Version, single spaces only (RFC 4475 3.1.2.9).
        const auto sp1 = line.find(' ');
        const auto sp2 = line.rfind(' ');
        if (sp1 == std::string_view::npos || sp1 == sp2) return bad("Bad Request - Invalid request line");
        m.d_->method_ = line.substr(0, sp1);
        if (!is_token(m.d_->method_)) return bad("Bad Request - Invalid method");
        auto ver = check_version(line.substr(sp2 + 1));
        if (!ver) return sw::unexpected(ver.error());
        m.d_->version_ = line.substr(sp2 + 1);
        const std::string_view uri_text = line.substr(sp1 + 1, sp2 - sp1 - 1);
        if (uri_text.empty() || sw::contains_any(uri_text, " \t")) {
            return bad("Bad Request - Whitespace in request line");
        }
        if (uri_text.front() == '<') return bad("Bad Request - Request-URI in angle brackets");
        auto uri = parse_uri(uri_text);
        if (!uri) return sw::unexpected(uri.error());
        m.d_->ruri_ = *uri;
        // RFC 3261 19.1.5: a header component is not allowed in a Request-URI.
        if (m.d_->ruri_.is_sip() && !m.d_->ruri_.headers.empty())
            return bad("Bad Request - Headers in Request-URI");
        m.d_->method_id_ = method_from(m.d_->method_);
    }
    pos = first.next;

    // ---- header fields ----
    m.d_->headers_.reserve(16);
    unsigned seen = 0;
    bool terminated = false;
    while (pos < s.size()) {
        const LineEnd le = scan_line(s, pos);
        if (!le.found) break;
        if (le.bare_cr) return bad("Bad Request - Bare CR in header");
        std::size_t end = le.end;
        if (end == pos) {  // the empty line
            pos = le.next;
            terminated = true;
            break;
        }
        if (sw::is_wsp(s[pos])) return bad("Bad Request - Folded line without header");
        const std::size_t field_start = pos;
        std::size_t next = le.next;
        bool folded = false;
        // RFC 3261 7.3.1: a line starting with whitespace continues the field above.
        while (next < s.size() && sw::is_wsp(s[next])) {
            const LineEnd cont = scan_line(s, next);
            if (!cont.found) return bad("Bad Request - Headers not terminated");
            if (cont.bare_cr) return bad("Bad Request - Bare CR in header");
            end = cont.end;
            next = cont.next;
            folded = true;
        }
        const std::string_view raw = s.substr(field_start, end - field_start);
        const auto colon = raw.find(':');
        if (colon == std::string_view::npos) return bad("Bad Request - Malformed header line");
        const std::string_view name = rtrim(raw.substr(0, colon));
        const HeaderId id = header_id(name);  // a known name is a token already
        if (id == HeaderId::Unknown && !is_token(name)) return bad("Bad Request - Invalid header name");
        std::string_view value = raw.substr(colon + 1);
        if (folded) {
            std::string unfolded(value);
            unfold_in_place(unfolded);
            value = m.keep(std::move(unfolded));
        }
        // Built in place: a 56-byte copy per header is measurable at this rate.
        HeaderField& f = m.d_->headers_.emplace_back();
        f.id = id;
        f.name = name;
        f.value = sw::trim(value);
        f.raw = raw;
        // Duplicate single-valued mandatory headers (RFC 4475 3.3.9, 3.3.10).
        unsigned bit = 0;
        switch (f.id) {
            case HeaderId::From:
                bit = kFrom;
                break;
            case HeaderId::To:
                bit = kTo;
                break;
            case HeaderId::CallId:
                bit = kCallId;
                break;
            case HeaderId::CSeq:
                bit = kCSeq;
                break;
            case HeaderId::MaxForwards:
                bit = kMaxFwd;
                break;
            case HeaderId::ContentLength:
                bit = kContentLength;
                break;
            case HeaderId::ContentType:
                bit = kContentType;
                break;
            default:
                break;
        }
        if (bit != 0) {
            if (seen & bit) {
                switch (f.id) {
                    case HeaderId::From:
                        return bad("Bad Request - Multiple From headers");
                    case HeaderId::To:
                        return bad("Bad Request - Multiple To headers");
                    case HeaderId::CallId:
                        return bad("Bad Request - Multiple Call-ID headers");
                    case HeaderId::CSeq:
                        return bad("Bad Request - Multiple CSeq headers");
                    case HeaderId::MaxForwards:
                        return bad("Bad Request - Multiple Max-Forwards headers");
                    case HeaderId::ContentLength:
                        return bad("Bad Request - Multiple Content-Length headers");
                    default:
                        return bad("Bad Request - Multiple Content-Type headers");
                }
            }
            seen |= bit;
        }
        auto applied = m.apply_mandatory(f, false);
        if (!applied) return sw::unexpected(applied.error());
        pos = next;
    }
    if (!terminated) return bad("Bad Request - Headers not terminated");

    if (m.d_->vias_.empty()) return bad("Bad Request - Missing Via");
    if (!(seen & kFrom)) return bad("Bad Request - Missing From");
    if (!(seen & kTo)) return bad("Bad Request - Missing To");
    if (!(seen & kCallId)) return bad("Bad Request - Missing Call-ID");
    if (!(seen & kCSeq)) return bad("Bad Request - Missing CSeq");
    // RFC 3261 8.1.1.5 / RFC 4475 3.1.2.17-18: the CSeq method must match the request method.
    if (m.d_->request_ && m.d_->cseq_.method != m.d_->method_)
        return bad("Bad Request - CSeq method does not match");

    // ---- body ----
    const std::size_t available = s.size() - pos;
    if (m.d_->content_length_ >= 0) {
        if (static_cast<std::size_t>(m.d_->content_length_) > available) {
            return bad("Bad Request - Content-Length larger than body");
        }
        m.d_->body_ = s.substr(pos, static_cast<std::size_t>(m.d_->content_length_));
    } else {
        if (options.stream) return bad("Bad Request - Missing Content-Length");
        m.d_->body_ = s.substr(pos);
    }
    m.d_->size_ = pos + m.d_->body_.size();
    return m;
}

ParseResult<bool> Message::apply_mandatory(HeaderField& f, bool replacing) {
    switch (f.id) {
        case HeaderId::Via: {
            ParseError err{400, "Bad Request - Invalid Via"};
            const bool ok = for_each_list_element(f.value, [&](std::string_view item) {
                auto v = parse_via_into(item, d_->vias_.emplace_back());
                if (!v) {
                    err = v.error();
                    d_->vias_.pop_back();
                    return false;
                }
                return true;
            });
            if (!ok) return sw::unexpected(err);
            return true;
        }
        case HeaderId::Contact: {
            auto ok = append_contacts(f.value, d_->contacts_);
            if (!ok) return sw::unexpected(ok.error());
            return true;
        }
        case HeaderId::From:
        case HeaderId::To: {
            NameAddr& target = f.id == HeaderId::From ? d_->from_ : d_->to_;
            // While parsing, fill the member in place; when replacing, keep the old value on failure.
            bool ok;
            if (replacing) {
                auto na = parse_name_addr(f.value);
                ok = na.has_value();
                if (ok) target = *na;
            } else {
                ok = parse_name_addr_into(f.value, AddrForm::NameAddrOrAddrSpec, target).has_value();
            }
            if (!ok) {
                return bad(f.id == HeaderId::From ? std::string_view("Bad Request - Invalid From")
                                                  : std::string_view("Bad Request - Invalid To"));
            }
            return true;
        }
        case HeaderId::CallId:
            if (!is_valid_call_id(f.value)) return bad("Bad Request - Invalid Call-ID");
            d_->call_id_ = f.value;
            return true;
        case HeaderId::CSeq: {
            auto c = parse_cseq(f.value);
            if (!c) return sw::unexpected(c.error());
            d_->cseq_ = *c;
            return true;
        }
        case HeaderId::MaxForwards: {
            auto v = sw::parse_uint(f.value, 255);
            if (!v) return bad("Bad Request - Invalid Max-Forwards");
            d_->max_forwards_ = static_cast<int>(*v);
            return true;
        }
        case HeaderId::ContentLength: {
            auto v = sw::parse_uint(f.value, UINT32_MAX);
            if (!v) return bad("Bad Request - Invalid Content-Length");
            if (!replacing) d_->content_length_ = static_cast<std::int64_t>(*v);
            return true;
        }
        default:
            return true;
    }
}

std::string_view Message::keep(std::string text) {
    d_->arena_.push_back(std::make_unique<std::string>(std::move(text)));
    return *d_->arena_.back();
}

const HeaderField* Message::find(HeaderId id) const {
    for (const auto& f : d_->headers_)
        if (f.id == id) return &f;
    return nullptr;
}

const HeaderField* Message::find(std::string_view name) const {
    const HeaderId id = header_id(name);
    if (id != HeaderId::Unknown) return find(id);
    for (const auto& f : d_->headers_)
        if (f.id == HeaderId::Unknown && sw::iequals(f.name, name)) return &f;
    return nullptr;
}

std::string_view Message::header(HeaderId id) const {
    const HeaderField* f = find(id);
    return f ? f->value : std::string_view{};
}

std::vector<std::string_view> Message::values(HeaderId id) const {
    std::vector<std::string_view> out;
    for (const auto& f : d_->headers_)
        if (f.id == id) out.push_back(f.value);
    return out;
}

ParseResult<std::vector<NameAddr>> Message::addresses(HeaderId id) const {
    std::vector<NameAddr> out;
    const AddrForm form = (id == HeaderId::Route || id == HeaderId::RecordRoute || id == HeaderId::Path ||
                           id == HeaderId::ServiceRoute)
                              ? AddrForm::NameAddrOnly
                              : AddrForm::NameAddrOrAddrSpec;
    ParseError err{400, "Bad Request - Invalid address list"};
    for (const auto& f : d_->headers_) {
        if (f.id != id) continue;
        const bool ok = for_each_list_element(f.value, [&](std::string_view item) {
            auto na = parse_name_addr(item, form);
            if (!na) {
                err = na.error();
                return false;
            }
            out.push_back(*na);
            return true;
        });
        if (!ok) return sw::unexpected(err);
    }
    return out;
}

ParseResult<std::optional<std::uint32_t>> Message::optional_seconds(HeaderId id) const {
    const HeaderField* f = find(id);
    if (!f) return std::optional<std::uint32_t>{};
    auto v = parse_delta_seconds(f->value);
    if (!v) return sw::unexpected(v.error());
    return std::optional<std::uint32_t>{*v};
}

ParseResult<std::optional<MediaType>> Message::content_type() const {
    const HeaderField* f = find(HeaderId::ContentType);
    if (!f) return std::optional<MediaType>{};
    auto m = parse_media_type(f->value);
    if (!m) return sw::unexpected(m.error());
    return std::optional<MediaType>{*m};
}

ParseResult<std::vector<AuthParams>> Message::auth(HeaderId id) const {
    std::vector<AuthParams> out;
    const bool scheme = id != HeaderId::AuthenticationInfo;
    for (const auto& f : d_->headers_) {
        if (f.id != id) continue;
        auto a = parse_auth(f.value, scheme);
        if (!a) return sw::unexpected(a.error());
        out.push_back(*a);
    }
    return out;
}

// ---- editing ----

HeaderField Message::make_field(std::string_view name, std::string_view value) {
    std::string line;
    line.reserve(name.size() + 2 + value.size());
    line.append(name).append(": ").append(value);
    const std::string_view kept = keep(std::move(line));
    return HeaderField{header_id(name), kept.substr(0, name.size()), kept.substr(name.size() + 2), kept};
}

ParseResult<bool> Message::push_via(std::string_view value) {
    HeaderField f = make_field("Via", value);
    auto v = parse_via(f.value);
    if (!v) return sw::unexpected(v.error());
    std::size_t at = 0;
    while (at < d_->headers_.size() && d_->headers_[at].id != HeaderId::Via)
        ++at;
    if (at == d_->headers_.size()) at = 0;
    d_->headers_.insert(d_->headers_.begin() + static_cast<std::ptrdiff_t>(at), f);
    d_->vias_.insert_front(*v);
    d_->modified_ = true;
    return true;
}

void Message::pop_via() {
    for (std::size_t i = 0; i < d_->headers_.size(); ++i) {
        if (d_->headers_[i].id != HeaderId::Via) continue;
        // Keep the values after the first one, if this field holds a comma list.
        std::string rest;
        bool first = true;
        for_each_list_element(d_->headers_[i].value, [&](std::string_view item) {
            if (!first) {
                if (!rest.empty()) rest.append(", ");
                rest.append(item);
            }
            first = false;
            return true;
        });
        if (rest.empty()) {
            d_->headers_.erase(d_->headers_.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            d_->headers_[i] = make_field(d_->headers_[i].name, rest);
        }
        d_->vias_.erase_front();
        d_->modified_ = true;
        return;
    }
}

void Message::set_request_uri(std::string_view uri_text) {
    if (!d_->request_) return;
    const std::string_view kept = keep(std::string(uri_text));
    auto uri = parse_uri(kept);
    if (!uri) return;
    d_->ruri_ = *uri;
    d_->start_line_modified_ = true;
    d_->modified_ = true;
}

void Message::set_max_forwards(int value) {
    (void)set_header("Max-Forwards", std::to_string(value));
}

void Message::add_header(std::string_view name, std::string_view value) {
    const HeaderId id = header_id(name);
    if (id == HeaderId::Via || is_single_valued(id)) {
        (void)set_header(name, value);
        return;
    }
    HeaderField f = make_field(name, value);
    if (id == HeaderId::Contact && !append_contacts(f.value, d_->contacts_)) return;
    d_->headers_.push_back(f);
    d_->modified_ = true;
}

ParseResult<bool> Message::set_header(std::string_view name, std::string_view value) {
    HeaderField f = make_field(name, value);
    if (f.id == HeaderId::Via || f.id == HeaderId::Contact) {
        // Lists are rebuilt from the new value; a refused value leaves the old ones in place.
        const auto saved_vias = d_->vias_;
        const auto saved_contacts = d_->contacts_;
        if (f.id == HeaderId::Via) d_->vias_.clear();
        if (f.id == HeaderId::Contact) d_->contacts_ = ContactList{};
        auto ok = apply_mandatory(f, true);
        if (!ok) {
            d_->vias_ = saved_vias;
            d_->contacts_ = saved_contacts;
            return ok;
        }
    } else {
        auto ok = apply_mandatory(f, true);
        if (!ok) return ok;
        if (f.id == HeaderId::ContentLength)
            d_->content_length_ = static_cast<std::int64_t>(*sw::parse_uint(f.value));
    }
    bool placed = false;
    for (std::size_t i = 0; i < d_->headers_.size();) {
        const bool same = f.id != HeaderId::Unknown ? d_->headers_[i].id == f.id
                                                    : (d_->headers_[i].id == HeaderId::Unknown &&
                                                       sw::iequals(d_->headers_[i].name, name));
        if (!same) {
            ++i;
        } else if (!placed) {
            d_->headers_[i++] = f;
            placed = true;
        } else {
            d_->headers_.erase(d_->headers_.begin() + static_cast<std::ptrdiff_t>(i));
        }
    }
    if (!placed) d_->headers_.push_back(f);
    d_->modified_ = true;
    return true;
}

std::size_t Message::remove_headers(HeaderId id) {
    switch (id) {
        // Removing these would leave a message that is not SIP; refuse.
        case HeaderId::Via:
        case HeaderId::From:
        case HeaderId::To:
        case HeaderId::CallId:
        case HeaderId::CSeq:
        case HeaderId::Unknown:
            return 0;
        case HeaderId::MaxForwards:
            d_->max_forwards_ = -1;
            break;
        case HeaderId::ContentLength:
            d_->content_length_ = -1;
            break;
        case HeaderId::Contact:
            d_->contacts_ = ContactList{};
            break;
        default:
            break;
    }
    const auto before = d_->headers_.size();
    std::erase_if(d_->headers_, [id](const HeaderField& f) { return f.id == id; });
    const auto removed = before - d_->headers_.size();
    if (removed) d_->modified_ = true;
    return removed;
}

std::size_t Message::remove_headers(std::string_view name) {
    const HeaderId id = header_id(name);
    if (id != HeaderId::Unknown) return remove_headers(id);
    const auto before = d_->headers_.size();
    std::erase_if(d_->headers_, [name](const HeaderField& f) {
        return f.id == HeaderId::Unknown && sw::iequals(f.name, name);
    });
    const auto removed = before - d_->headers_.size();
    if (removed) d_->modified_ = true;
    return removed;
}

void Message::set_body(std::string_view body, std::string_view content_type) {
    d_->body_ = keep(std::string(body));
    (void)set_header("Content-Length", std::to_string(body.size()));
    if (!content_type.empty()) (void)set_header("Content-Type", content_type);
    d_->modified_ = true;
}

std::string Message::serialize() const {
    std::string out;
    serialize_to(out);
    return out;
}

void Message::serialize_to(std::string& out) const {
    if (!d_->modified_) {
        out.append(d_->buf_, d_->size_);
        return;
    }
    std::size_t total = d_->start_line_.size() + 4 + d_->body_.size();
    for (const auto& f : d_->headers_)
        total += f.raw.size() + 2;
    out.reserve(out.size() + total + 64);
    if (d_->start_line_modified_) {
        out.append(d_->method_).append(" ").append(d_->ruri_.raw).append(" ").append(d_->version_);
    } else {
        out.append(d_->start_line_);
    }
    out.append("\r\n");
    for (const auto& f : d_->headers_)
        out.append(f.raw).append("\r\n");
    out.append("\r\n");
    out.append(d_->body_);
}

}  // namespace sw::sip
