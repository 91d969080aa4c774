// Where the server listens: "udp:127.0.0.1:5060", "tcp:[::1]:5060", "tls:0.0.0.0:5061".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sw::transport {

enum class Protocol : std::uint8_t { Udp, Tcp, Tls };
std::string_view protocol_name(Protocol p);  // "UDP", "TCP", "TLS" (as in a Via)

struct ListenSpec {
    Protocol protocol = Protocol::Udp;
    std::string host;  // IPv4 or IPv6 literal, without brackets
    std::uint16_t port = 5060;
    std::string text() const;  // back to "udp:[::1]:5060"
};

// The error names what is wrong with the text.
sw::Result<ListenSpec, std::string> parse_listen(std::string_view text);

}  // namespace sw::transport
