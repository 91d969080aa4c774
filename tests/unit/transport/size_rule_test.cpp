#include "transport/size_rule.hpp"

#include <gtest/gtest.h>

using sw::transport::Protocol;
using sw::transport::transport_for_size;

// RFC 3261 18.1.1: large requests move from UDP to TCP unless UDP was asked for by name.
TEST(SizeRule, LargeRequestsGoOverTcp) {
    EXPECT_EQ(transport_for_size(Protocol::Udp, 1300, false), Protocol::Udp);
    EXPECT_EQ(transport_for_size(Protocol::Udp, 1301, false), Protocol::Tcp);
    EXPECT_EQ(transport_for_size(Protocol::Udp, 5000, true), Protocol::Udp);    // transport=udp in the URI
    EXPECT_EQ(transport_for_size(Protocol::Tls, 50000, false), Protocol::Tls);  // already reliable
    EXPECT_EQ(transport_for_size(Protocol::Udp, 1200, false, 1400), Protocol::Udp);
    EXPECT_EQ(transport_for_size(Protocol::Udp, 1201, false, 1400),
              Protocol::Tcp);  // within 200 bytes of the MTU
}
