// Marking what a socket sends for the network's quality of service: the DS field (RFC 2474) of IPv4's
// TOS byte or IPv6's traffic class, with the ECN bits 0 (not ECN-capable). Used by the SIP transport
// and the media relay.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

namespace sw {

// dscp 0-63; a negative value leaves the socket as the system made it.
inline void mark_dscp(int fd, bool v6, int dscp) {
    if (dscp < 0 || fd < 0) return;
    const int tos = dscp << 2;
    if (v6)
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
    else
        ::setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
}

}  // namespace sw
