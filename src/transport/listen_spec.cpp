#include "transport/listen_spec.hpp"

#include "common/text.hpp"
#include "sip/uri.hpp"

namespace sw::transport {

std::string_view protocol_name(Protocol p) {
    switch (p) {
        case Protocol::Udp:
            return "UDP";
        case Protocol::Tcp:
            return "TCP";
        case Protocol::Tls:
            return "TLS";
    }
    return "UDP";
}

std::string ListenSpec::text() const {
    std::string out = sw::to_lower(protocol_name(protocol));
    out.push_back(':');
    const bool v6 = host.find(':') != std::string::npos;
    if (v6) out.push_back('[');
    out.append(host);
    if (v6) out.push_back(']');
    out.push_back(':');
    out.append(std::to_string(port));
    return out;
}

sw::Result<ListenSpec, std::string> parse_listen(std::string_view text) {
    auto fail = [&](std::string why) { return sw::unexpected("--listen " + std::string(text) + ": " + why); };
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return fail("expected PROTOCOL:HOST:PORT");
    ListenSpec spec;
    const std::string_view proto = text.substr(0, colon);
    if (sw::iequals(proto, "udp")) {
        spec.protocol = Protocol::Udp;
    } else if (sw::iequals(proto, "tcp")) {
        spec.protocol = Protocol::Tcp;
    } else if (sw::iequals(proto, "tls")) {
        spec.protocol = Protocol::Tls;
    } else {
        return fail("protocol must be udp, tcp or tls");
    }
    std::string_view rest = text.substr(colon + 1);
    std::string_view host;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) return fail("unclosed '['");
        host = rest.substr(1, close - 1);
        if (!sip::is_ipv6_address(host)) return fail("not an IPv6 address");
        rest = rest.substr(close + 1);
    } else {
        const auto c = rest.rfind(':');
        if (c == std::string_view::npos) return fail("missing port");
        host = rest.substr(0, c);
        if (!sip::is_ipv4_address(host)) return fail("not an IPv4 address (write IPv6 in brackets)");
        rest = rest.substr(c);
    }
    if (rest.size() < 2 || rest.front() != ':') return fail("missing port");
    auto port = sw::parse_uint(rest.substr(1), 65535);
    if (!port) return fail("bad port");
    spec.host = std::string(host);
    spec.port = static_cast<std::uint16_t>(*port);
    return spec;
}

}  // namespace sw::transport
