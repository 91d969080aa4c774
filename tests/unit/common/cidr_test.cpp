// Cidr: the networks a trunk's calls may come from.
#include "common/cidr.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>

namespace sw {
namespace {

TEST(Cidr, ParsesNetworksAndSingleAddressesOfBothFamilies) {
    auto net = Cidr::parse("10.0.0.0/8");
    ASSERT_TRUE(net);
    EXPECT_FALSE(net->v6);
    EXPECT_EQ(net->prefix, 8);
    EXPECT_EQ(net->text(), "10.0.0.0/8");

    auto host = Cidr::parse("192.0.2.7");
    ASSERT_TRUE(host);
    EXPECT_EQ(host->prefix, 32);
    EXPECT_EQ(host->text(), "192.0.2.7");

    auto v6 = Cidr::parse("2001:db8::/32");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->v6);
    EXPECT_EQ(v6->prefix, 32);
    EXPECT_EQ(v6->text(), "2001:db8::/32");

    auto loopback = Cidr::parse("::1");
    ASSERT_TRUE(loopback);
    EXPECT_TRUE(loopback->v6);
    EXPECT_EQ(loopback->prefix, 128);
    EXPECT_EQ(loopback->text(), "::1");
}

TEST(Cidr, ClearsHostBits) {
    auto net = Cidr::parse("192.0.2.77/24");
    ASSERT_TRUE(net);
    EXPECT_EQ(net->text(), "192.0.2.0/24");
    auto odd = Cidr::parse("10.255.255.255/9");
    ASSERT_TRUE(odd);
    EXPECT_EQ(odd->text(), "10.128.0.0/9");
    auto v6 = Cidr::parse("2001:db8:ffff::1/33");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->text(), "2001:db8:8000::/33");
    auto all = Cidr::parse("203.0.113.9/0");
    ASSERT_TRUE(all);
    EXPECT_EQ(all->text(), "0.0.0.0/0");
}

TEST(Cidr, RefusesWhatIsNoNetwork) {
    for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "2001:db8::/129", "10.0.0/8",
                            "10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0/ 8", " 10.0.0.0", "[::1]", "::1%eth0",
                            "example.com", "1.2.3.4.5", "10.0.0.0/+8", "2001:db8:::1"}) {
        EXPECT_FALSE(Cidr::parse(bad)) << bad;
    }
}

TEST(Cidr, ContainsAddressesInsideThePrefixOnly) {
    const auto net = *Cidr::parse("192.0.2.0/25");
    EXPECT_TRUE(net.contains("192.0.2.0"));
    EXPECT_TRUE(net.contains("192.0.2.127"));
    EXPECT_FALSE(net.contains("192.0.2.128"));
    EXPECT_FALSE(net.contains("192.0.3.1"));
    EXPECT_FALSE(net.contains("not an address"));
    EXPECT_FALSE(net.contains(""));

    const auto host = *Cidr::parse("127.0.0.3");
    EXPECT_TRUE(host.contains("127.0.0.3"));
    EXPECT_FALSE(host.contains("127.0.0.4"));

    const auto v6 = *Cidr::parse("2001:db8::/32");
    EXPECT_TRUE(v6.contains("2001:db8:1234::5"));
    EXPECT_TRUE(v6.contains("[2001:db8::1]"));
    EXPECT_FALSE(v6.contains("2001:db9::1"));
    EXPECT_FALSE(v6.contains("192.0.2.1"));

    const auto link_local = *Cidr::parse("fe80::/10");
    EXPECT_TRUE(link_local.contains("fe80::1%eth0"));

    const auto everything = *Cidr::parse("0.0.0.0/0");
    EXPECT_TRUE(everything.contains("198.51.100.1"));
    EXPECT_FALSE(everything.contains("::1"));  // /0 of one family is not the other family
}

TEST(Cidr, AnIpv4MappedAddressCountsAsIpv4) {
    const auto net = *Cidr::parse("192.0.2.0/24");
    EXPECT_TRUE(net.contains("::ffff:192.0.2.10"));
    EXPECT_FALSE(net.contains("::ffff:198.51.100.10"));
    // Only the ::ffff: prefix maps; ::192.0.2.10 (the deprecated compatible form) is IPv6.
    EXPECT_FALSE(net.contains("::192.0.2.10"));

    std::uint8_t mapped[16] = {};
    ASSERT_EQ(::inet_pton(AF_INET6, "::ffff:192.0.2.200", mapped), 1);
    EXPECT_TRUE(net.contains_bytes(mapped, true));
    std::uint8_t plain[4] = {};
    ASSERT_EQ(::inet_pton(AF_INET, "192.0.2.200", plain), 1);
    EXPECT_TRUE(net.contains_bytes(plain, false));

    // A network written in the mapped form is an IPv4 network.
    auto written_mapped = Cidr::parse("::ffff:10.1.0.0/112");
    ASSERT_TRUE(written_mapped);
    EXPECT_FALSE(written_mapped->v6);
    EXPECT_EQ(written_mapped->text(), "10.1.0.0/16");
    EXPECT_TRUE(written_mapped->contains("10.1.2.3"));
}

}  // namespace
}  // namespace sw
