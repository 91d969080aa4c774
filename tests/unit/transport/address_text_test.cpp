// transport::address_text writes what asio's address::to_string() writes, for every kind of address.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "transport/transports.hpp"

namespace sw::transport {
namespace {

TEST(AddressText, Ipv4LikeAsio) {
    for (const char* text : {"0.0.0.0", "127.0.0.1", "255.255.255.255", "10.0.100.9", "192.168.1.10",
                             "1.22.133.4", "100.99.10.0"}) {
        const auto a = asio::ip::make_address(text);
        EXPECT_EQ(address_text(a).view(), a.to_string()) << text;
        EXPECT_EQ(address_text(a).view(), text);
    }
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
        const asio::ip::address a = asio::ip::address_v4(static_cast<asio::ip::address_v4::uint_type>(rng()));
        ASSERT_EQ(address_text(a).view(), a.to_string());
    }
}

TEST(AddressText, Ipv6LikeAsio) {
    for (const char* text : {"::1", "::", "2001:db8::1", "fe80::1%1", "::ffff:192.0.2.1",
                             "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"}) {
        const auto a = asio::ip::make_address(text);
        EXPECT_EQ(address_text(a).view(), a.to_string()) << text;
    }
}

}  // namespace
}  // namespace sw::transport
