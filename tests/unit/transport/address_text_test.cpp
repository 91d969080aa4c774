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

namespace sw::transport {
namespace {

// parse_address reads what asio::ip::make_address reads, and refuses what it refuses.
TEST(ParseAddress, LikeAsio) {
    auto same = [](const std::string& text) {
        asio::error_code ec;
        const auto a = asio::ip::make_address(text, ec);
        const auto b = parse_address(text);
        EXPECT_EQ(b.has_value(), !ec) << "'" << text << "'";
        if (b && !ec) {
            EXPECT_EQ(*b, a) << text;
        }
    };
    for (const char* text : {"127.0.0.1", "0.0.0.0",        "255.255.255.255", "10.0.0.01", "1.2.3",
                             "1.2.3.4.5", "256.1.1.1",      "1..2.3",          ".1.2.3",    "1.2.3.",
                             "",          "01.2.3.4",       "0.0.0.00",        "::1",       "2001:db8::1",
                             "fe80::1%1", "::ffff:1.2.3.4", "example.com",     "1.2.3.4 ",  "1234.1.1.1"})
        same(text);
    std::mt19937 rng(11);
    const char alphabet[] = "0123456789.";
    for (int i = 0; i < 100000; ++i) {
        std::string s;
        const int len = static_cast<int>(rng() % 16);
        for (int k = 0; k < len; ++k)
            s.push_back(alphabet[rng() % 11]);
        same(s);
    }
    for (int i = 0; i < 20000; ++i) {  // valid ones, often
        const auto a = asio::ip::address_v4(static_cast<asio::ip::address_v4::uint_type>(rng()));
        same(a.to_string());
    }
}

}  // namespace
}  // namespace sw::transport
