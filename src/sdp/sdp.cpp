#include "sdp/sdp.hpp"

#include "common/text.hpp"

namespace sw::sdp {

namespace {

std::vector<std::string_view> split_spaces(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        const auto sp = s.find(' ', i);
        const auto end = sp == std::string_view::npos ? s.size() : sp;
        out.push_back(s.substr(i, end - i));
        if (sp == std::string_view::npos) break;
        i = sp + 1;
    }
    return out;
}

bool no_empty(const std::vector<std::string_view>& v) {
    for (auto x : v)
        if (x.empty()) return false;
    return true;
}

std::optional<Connection> parse_connection(std::string_view v) {
    auto f = split_spaces(v);
    if (f.size() != 3 || !no_empty(f)) return std::nullopt;
    return Connection{std::string(f[0]), std::string(f[1]), std::string(f[2])};
}

Attribute parse_attribute(std::string_view v) {
    const auto colon = v.find(':');
    if (colon == std::string_view::npos) return Attribute{std::string(v), {}, false};
    return Attribute{std::string(v.substr(0, colon)), std::string(v.substr(colon + 1)), true};
}

bool valid_attribute_name(std::string_view n) {
    if (n.empty()) return false;
    for (char c : n)
        if (!sw::is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
    return true;
}

const Attribute* find_attribute(const std::vector<Attribute>& attrs, std::string_view name) {
    for (const auto& a : attrs)
        if (a.name == name) return &a;
    return nullptr;
}

std::optional<Direction> direction_of(const std::vector<Attribute>& attrs) {
    for (const auto& a : attrs) {
        if (a.has_value) continue;
        if (a.name == "sendrecv") return Direction::SendRecv;
        if (a.name == "sendonly") return Direction::SendOnly;
        if (a.name == "recvonly") return Direction::RecvOnly;
        if (a.name == "inactive") return Direction::Inactive;
    }
    return std::nullopt;
}

void put(std::string& out, char type, std::string_view value) {
    out.push_back(type);
    out.push_back('=');
    out.append(value);
    out.append("\r\n");
}

void put_connection(std::string& out, const Connection& c) {
    put(out, 'c', c.net_type + " " + c.addr_type + " " + c.address);
}

void put_attributes(std::string& out, const std::vector<Attribute>& attrs) {
    for (const auto& a : attrs)
        put(out, 'a', a.has_value ? a.name + ":" + a.value : a.name);
}

}  // namespace

std::string_view direction_name(Direction d) {
    switch (d) {
        case Direction::SendRecv:
            return "sendrecv";
        case Direction::SendOnly:
            return "sendonly";
        case Direction::RecvOnly:
            return "recvonly";
        case Direction::Inactive:
            return "inactive";
    }
    return "sendrecv";
}

std::optional<RtpMap> parse_rtpmap(std::string_view value) {
    const auto sp = value.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    auto pt = sw::parse_uint(value.substr(0, sp), 127);
    if (!pt) return std::nullopt;
    std::string_view enc = value.substr(sp + 1);
    const auto s1 = enc.find('/');
    if (s1 == std::string_view::npos || s1 == 0) return std::nullopt;
    RtpMap r;
    r.payload = static_cast<int>(*pt);
    r.encoding = std::string(enc.substr(0, s1));
    std::string_view rate = enc.substr(s1 + 1);
    const auto s2 = rate.find('/');
    if (s2 != std::string_view::npos) {
        r.parameters = std::string(rate.substr(s2 + 1));
        rate = rate.substr(0, s2);
    }
    auto cr = sw::parse_uint(rate, 10'000'000);
    if (!cr) return std::nullopt;
    r.clock_rate = static_cast<int>(*cr);
    return r;
}

std::optional<Crypto> parse_crypto(std::string_view value) {
    auto f = split_spaces(value);
    if (f.size() < 3 || !no_empty(f)) return std::nullopt;
    auto tag = sw::parse_uint(f[0], 999999999);
    if (!tag) return std::nullopt;
    Crypto c;
    c.tag = static_cast<int>(*tag);
    c.suite = std::string(f[1]);
    c.key_params = std::string(f[2]);
    if (c.key_params.rfind("inline:", 0) != 0) return std::nullopt;
    for (std::size_t i = 3; i < f.size(); ++i) {
        if (!c.session_params.empty()) c.session_params.push_back(' ');
        c.session_params.append(f[i]);
    }
    return c;
}

std::string_view Crypto::inline_key() const {
    std::string_view k = key_params;
    if (k.rfind("inline:", 0) != 0) return {};
    k.remove_prefix(7);
    const auto end = k.find_first_of("|;");
    return k.substr(0, end);
}

const Attribute* Media::attribute(std::string_view name) const {
    return find_attribute(attributes, name);
}

std::vector<RtpMap> Media::rtpmaps() const {
    std::vector<RtpMap> out;
    for (const auto& a : attributes) {
        if (a.name != "rtpmap") continue;
        if (auto r = parse_rtpmap(a.value)) out.push_back(*r);
    }
    return out;
}

std::optional<std::string> Media::fmtp(int payload) const {
    const std::string prefix = std::to_string(payload) + " ";
    for (const auto& a : attributes) {
        if (a.name == "fmtp" && a.value.rfind(prefix, 0) == 0) return a.value.substr(prefix.size());
    }
    return std::nullopt;
}

std::vector<Crypto> Media::cryptos() const {
    std::vector<Crypto> out;
    for (const auto& a : attributes) {
        if (a.name != "crypto") continue;
        if (auto c = parse_crypto(a.value)) out.push_back(*c);
    }
    return out;
}

std::optional<Direction> Media::direction() const {
    return direction_of(attributes);
}

const Attribute* SessionDescription::attribute(std::string_view name) const {
    return find_attribute(attributes, name);
}

Direction SessionDescription::direction(const Media& m) const {
    if (auto d = m.direction()) return *d;
    if (auto d = direction_of(attributes)) return *d;
    return Direction::SendRecv;
}

const Connection* SessionDescription::connection_for(const Media& m) const {
    if (!m.connections.empty()) return &m.connections.front();
    return connection ? &*connection : nullptr;
}

Result<SessionDescription> parse(std::string_view text) {
    SessionDescription sdp;
    std::size_t pos = 0;
    std::size_t line_no = 0;
    bool have_v = false, have_o = false, have_s = false;
    Media* media = nullptr;
    auto err = [&](std::string_view reason) { return sw::unexpected(Error{reason, line_no}); };

    while (pos < text.size()) {
        ++line_no;
        auto nl = text.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? text.size() : nl;
        std::size_t next = nl == std::string_view::npos ? text.size() : nl + 1;
        if (end > pos && text[end - 1] == '\r') --end;
        const std::string_view line = text.substr(pos, end - pos);
        pos = next;
        if (line.empty()) {
            // Only trailing empty lines are tolerated.
            if (text.find_first_not_of("\r\n", pos) == std::string_view::npos) break;
            return err("Empty line");
        }
        if (line.size() < 2 || line[1] != '=' || !(line[0] >= 'a' && line[0] <= 'z'))
            return err("Invalid line");
        const char type = line[0];
        const std::string_view v = line.substr(2);
        if (!have_v && type != 'v') return err("Description must start with v=");
        switch (type) {
            case 'v':
                if (have_v || v != "0") return err("Invalid version");
                have_v = true;
                break;
            case 'o': {
                auto f = split_spaces(v);
                if (have_o || f.size() != 6 || !no_empty(f)) return err("Invalid origin");
                if (!sw::parse_uint(f[1]) || !sw::parse_uint(f[2])) return err("Invalid origin");
                sdp.origin = Origin{std::string(f[0]), std::string(f[1]), std::string(f[2]),
                                    std::string(f[3]), std::string(f[4]), std::string(f[5])};
                have_o = true;
                break;
            }
            case 's':
                if (have_s || media) return err("Invalid session name");
                sdp.session_name = std::string(v);
                have_s = true;
                break;
            case 'i':
                (media ? media->title : sdp.information) = std::string(v);
                break;
            case 'u':
                if (media) return err("u= inside media");
                sdp.uri = std::string(v);
                break;
            case 'e':
                if (media) return err("e= inside media");
                sdp.emails.emplace_back(v);
                break;
            case 'p':
                if (media) return err("p= inside media");
                sdp.phones.emplace_back(v);
                break;
            case 'c': {
                auto c = parse_connection(v);
                if (!c) return err("Invalid connection");
                if (media) {
                    media->connections.push_back(*c);
                } else {
                    if (sdp.connection) return err("Duplicate connection");
                    sdp.connection = *c;
                }
                break;
            }
            case 'b':
                if (v.find(':') == std::string_view::npos) return err("Invalid bandwidth");
                (media ? media->bandwidths : sdp.bandwidths).emplace_back(v);
                break;
            case 't': {
                auto f = split_spaces(v);
                if (media || f.size() != 2 || !sw::parse_uint(f[0]) || !sw::parse_uint(f[1]))
                    return err("Invalid timing");
                sdp.timings.push_back(Timing{std::string(f[0]), std::string(f[1]), {}});
                break;
            }
            case 'r':
                if (media || sdp.timings.empty()) return err("Invalid repeat");
                sdp.timings.back().repeats.emplace_back(v);
                break;
            case 'z':
                if (media) return err("z= inside media");
                sdp.zone = std::string(v);
                break;
            case 'k':
                (media ? media->key : sdp.key) = std::string(v);
                break;
            case 'a': {
                Attribute a = parse_attribute(v);
                if (!valid_attribute_name(a.name)) return err("Invalid attribute");
                (media ? media->attributes : sdp.attributes).push_back(std::move(a));
                break;
            }
            case 'm': {
                if (!have_o || !have_s) return err("m= before o= and s=");
                auto f = split_spaces(v);
                if (f.size() < 4 || !no_empty(f)) return err("Invalid media");
                Media m;
                m.media = std::string(f[0]);
                std::string_view port = f[1];
                const auto slash = port.find('/');
                if (slash != std::string_view::npos) {
                    auto count = sw::parse_uint(port.substr(slash + 1), 65535);
                    if (!count) return err("Invalid media port count");
                    m.port_count = static_cast<std::uint32_t>(*count);
                    port = port.substr(0, slash);
                }
                auto p = sw::parse_uint(port, 65535);
                if (!p) return err("Invalid media port");
                m.port = static_cast<std::uint32_t>(*p);
                m.proto = std::string(f[2]);
                for (std::size_t i = 3; i < f.size(); ++i)
                    m.formats.emplace_back(f[i]);
                sdp.media.push_back(std::move(m));
                media = &sdp.media.back();
                break;
            }
            default:
                return err("Unknown line type");
        }
    }
    if (!have_v) return err("Missing v=");
    if (!have_o) return err("Missing o=");
    if (!have_s) return err("Missing s=");
    if (sdp.timings.empty()) return err("Missing t=");
    // RFC 4566 5.7: every media stream needs a connection address, its own or the session's.
    for (const auto& m : sdp.media) {
        if (!sdp.connection && m.connections.empty()) return err("Media without connection address");
    }
    return sdp;
}

std::string serialize(const SessionDescription& sdp) {
    std::string out;
    out.reserve(256 + sdp.media.size() * 128);
    put(out, 'v', std::to_string(sdp.version));
    const Origin& o = sdp.origin;
    put(out, 'o',
        o.username + " " + o.session_id + " " + o.session_version + " " + o.net_type + " " + o.addr_type +
            " " + o.address);
    put(out, 's', sdp.session_name);
    if (!sdp.information.empty()) put(out, 'i', sdp.information);
    if (!sdp.uri.empty()) put(out, 'u', sdp.uri);
    for (const auto& e : sdp.emails)
        put(out, 'e', e);
    for (const auto& p : sdp.phones)
        put(out, 'p', p);
    if (sdp.connection) put_connection(out, *sdp.connection);
    for (const auto& b : sdp.bandwidths)
        put(out, 'b', b);
    for (const auto& t : sdp.timings) {
        put(out, 't', t.start + " " + t.stop);
        for (const auto& r : t.repeats)
            put(out, 'r', r);
    }
    if (!sdp.zone.empty()) put(out, 'z', sdp.zone);
    if (!sdp.key.empty()) put(out, 'k', sdp.key);
    put_attributes(out, sdp.attributes);
    for (const auto& m : sdp.media) {
        std::string line = m.media + " " + std::to_string(m.port);
        if (m.port_count) line += "/" + std::to_string(*m.port_count);
        line += " " + m.proto;
        for (const auto& f : m.formats)
            line += " " + f;
        put(out, 'm', line);
        if (!m.title.empty()) put(out, 'i', m.title);
        for (const auto& c : m.connections)
            put_connection(out, c);
        for (const auto& b : m.bandwidths)
            put(out, 'b', b);
        if (!m.key.empty()) put(out, 'k', m.key);
        put_attributes(out, m.attributes);
    }
    return out;
}

}  // namespace sw::sdp
