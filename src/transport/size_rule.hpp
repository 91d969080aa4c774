// RFC 3261 18.1.1: a request that is within 200 bytes of the path MTU, or larger than 1300 bytes when the
// MTU is unknown, must be sent over a congestion-controlled transport (TCP) instead of UDP, unless the
// next hop's URI named UDP explicitly (transport=udp); if the TCP attempt fails the element may fall back
// to UDP. The proxy's client side calls this before sending a request it forwards.
#pragma once

#include <cstddef>

#include "transport/listen_spec.hpp"

namespace sw::transport {

// The transport to send a request of `size` bytes over, when the next hop was resolved to `chosen`.
// explicit_udp: the URI carried transport=udp. path_mtu: 0 when unknown (RFC 3261 uses 1500 then).
inline Protocol transport_for_size(Protocol chosen, std::size_t size, bool explicit_udp,
                                   std::size_t path_mtu = 0) {
    if (chosen != Protocol::Udp || explicit_udp) return chosen;
    const std::size_t limit = path_mtu == 0 ? 1300 : (path_mtu > 200 ? path_mtu - 200 : 0);
    return size > limit ? Protocol::Tcp : Protocol::Udp;
}

}  // namespace sw::transport
