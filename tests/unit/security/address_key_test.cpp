// AddressKey: one key per peer whichever form its address arrives in.
#include "security/address_key.hpp"

#include <gtest/gtest.h>

namespace sw::security {
namespace {

TEST(AddressKey, ParsesBothFamiliesAndPrintsTheNormalForm) {
    auto v4 = AddressKey::from_text("192.0.2.7");
    ASSERT_TRUE(v4);
    EXPECT_FALSE(v4->v6);
    EXPECT_EQ(v4->text(), "192.0.2.7");
    EXPECT_EQ(v4->bytes[0], 192);
    EXPECT_EQ(v4->bytes[4], 0);

    auto v6 = AddressKey::from_text("2001:DB8:0:0::1");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->v6);
    EXPECT_EQ(v6->text(), "2001:db8::1");
}

TEST(AddressKey, MappedIpv6IsTheIpv4Address) {
    const auto mapped = AddressKey::from_text("::ffff:192.0.2.7");
    const auto plain = AddressKey::from_text("192.0.2.7");
    ASSERT_TRUE(mapped && plain);
    EXPECT_FALSE(mapped->v6);
    EXPECT_EQ(*mapped, *plain);
    EXPECT_EQ(mapped->text(), "192.0.2.7");

    std::array<std::uint8_t, 16> raw{};
    raw[10] = raw[11] = 0xff;
    raw[12] = 192;
    raw[13] = 0;
    raw[14] = 2;
    raw[15] = 7;
    EXPECT_EQ(AddressKey::from_v6(raw), *plain);
    EXPECT_EQ(AddressKey::from_v4({192, 0, 2, 7}), *plain);
}

TEST(AddressKey, AcceptsBracketsAndZonesAsAsioPrintsThem) {
    const auto bracketed = AddressKey::from_text("[2001:db8::1]");
    const auto zoned = AddressKey::from_text("fe80::1%eth0");
    ASSERT_TRUE(bracketed && zoned);
    EXPECT_EQ(bracketed->text(), "2001:db8::1");
    EXPECT_EQ(zoned->text(), "fe80::1");
}

TEST(AddressKey, RefusesWhatIsNotOneAddress) {
    for (const char* bad : {"", "10.0.0.0/8", "999.1.1.1", "example.com", " 192.0.2.7", "192.0.2.7 ", "1.2.3",
                            "2001:db8:::1", "[::1", "::1]", "192.0.2.7:5060"})
        EXPECT_FALSE(AddressKey::from_text(bad)) << bad;
}

TEST(AddressKey, Ipv4AndIpv6WithTheSameBytesDiffer) {
    // 1.2.3.4 has the bytes 01 02 03 04 00..; so has the IPv6 address 102:304::.
    const auto v4 = AddressKey::from_text("1.2.3.4");
    const auto v6 = AddressKey::from_text("102:304::");
    ASSERT_TRUE(v4 && v6);
    EXPECT_EQ(v4->bytes, v6->bytes);
    EXPECT_NE(*v4, *v6);
    EXPECT_NE(v4->canonical(), v6->canonical());
    const SipKey key{1, 2};
    EXPECT_NE(address_hash(key, *v4), address_hash(key, *v6));
    EXPECT_EQ(address_hash(key, *v4), address_hash(key, *AddressKey::from_text("::ffff:1.2.3.4")));
    EXPECT_NE(address_hash(key, *v4), address_hash(SipKey{3, 4}, *v4));
}

}  // namespace
}  // namespace sw::security
