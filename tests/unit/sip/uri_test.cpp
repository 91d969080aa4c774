#include <gtest/gtest.h>

#include "sip/uri.hpp"

using namespace sw::sip;

namespace {
Uri U(std::string_view s) {
    auto u = parse_uri(s);
    EXPECT_TRUE(u.has_value()) << s;
    return u.has_value() ? *u : Uri{};
}
bool eq(std::string_view a, std::string_view b) {
    return uri_equal(U(a), U(b));
}
}  // namespace

TEST(Uri, SipParts) {
    auto u = U("sips:alice:secret@Example.COM:5061;transport=tls;lr?subject=project%20x&priority=urgent");
    EXPECT_EQ(u.scheme, UriScheme::Sips);
    EXPECT_EQ(u.user, "alice");
    EXPECT_EQ(u.password, "secret");
    EXPECT_TRUE(u.has_password);
    EXPECT_EQ(u.host, "Example.COM");
    EXPECT_EQ(u.port, 5061);
    EXPECT_EQ(u.param_value("transport"), "tls");
    EXPECT_TRUE(u.has_param("lr"));
    EXPECT_EQ(unescape(u.headers), "subject=project x&priority=urgent");
    EXPECT_EQ(u.hostport(), "Example.COM:5061");
}

TEST(Uri, Ipv6References) {
    auto u = U("sip:bob@[2001:db8::1]:5070;maddr=[::1]");
    EXPECT_TRUE(u.ipv6);
    EXPECT_EQ(u.host, "2001:db8::1");
    EXPECT_EQ(u.port, 5070);
    EXPECT_EQ(u.hostport(), "[2001:db8::1]:5070");
    EXPECT_TRUE(parse_uri("sip:[::ffff:192.0.2.1]").has_value());
    EXPECT_TRUE(parse_uri("sip:[::]").has_value());
    EXPECT_FALSE(parse_uri("sip:[2001:db8:::1]").has_value());    // three colons (RFC 5954)
    EXPECT_FALSE(parse_uri("sip:[2001:db8::1::2]").has_value());  // two "::"
    EXPECT_FALSE(parse_uri("sip:[1:2:3:4:5:6:7:8:9]").has_value());
    EXPECT_FALSE(parse_uri("sip:[2001:db8::1").has_value());
    EXPECT_FALSE(parse_uri("sip:2001:db8::1").has_value());
}

TEST(Uri, RejectsBadText) {
    for (const char* bad : {"sip:", "sip:@host", "sip:user@", "sip:user@host:99999", "sip:user@host:abc",
                            "sip:us er@host", "sip:user@ho_st", "sip:user@host;", "sip:user@host;=x",
                            "sip:user@host?", "sip:user@host?novalue", "sip:a%zzb@host", "sip:user@-host",
                            "sip:u@1.2.3.256", "<sip:a@b>", "1sip:a@b", ":nothing", "sip:user@host>"}) {
        EXPECT_FALSE(parse_uri(bad).has_value()) << bad;
    }
}

TEST(Uri, OtherSchemesAreOpaque) {
    auto u = U("soap.beep://192.0.2.103:3002");
    EXPECT_EQ(u.scheme, UriScheme::Other);
    EXPECT_EQ(u.scheme_text, "soap.beep");
    EXPECT_EQ(u.opaque, "//192.0.2.103:3002");
    EXPECT_FALSE(parse_uri("http:").has_value());
}

TEST(Uri, TelGlobalAndLocal) {
    auto g = U("tel:+49-30-123456;ext=12");
    EXPECT_TRUE(g.tel_global());
    EXPECT_EQ(g.user, "+49-30-123456");
    EXPECT_EQ(g.param_value("ext"), "12");
    EXPECT_EQ(tel_normalized(g.user), "+4930123456");
    auto l = U("tel:7042;phone-context=example.com");
    EXPECT_FALSE(l.tel_global());
    EXPECT_EQ(l.param_value("phone-context"), "example.com");
    EXPECT_TRUE(parse_uri("tel:*21#;phone-context=+49").has_value());
    EXPECT_FALSE(parse_uri("tel:7042").has_value());  // local number without phone-context
    EXPECT_FALSE(parse_uri("tel:+").has_value());
    EXPECT_FALSE(parse_uri("tel:+49 30").has_value());
    EXPECT_FALSE(parse_uri("tel:+49x30").has_value());
}

TEST(Uri, EqualityRfc3261Examples) {
    // RFC 3261 19.1.4: equivalent
    EXPECT_TRUE(eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
    EXPECT_TRUE(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
    EXPECT_TRUE(eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;newparam=5"));
    EXPECT_TRUE(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                   "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
    EXPECT_TRUE(eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                   "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));
    // not equivalent
    EXPECT_FALSE(eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
    EXPECT_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
    EXPECT_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
    EXPECT_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
    EXPECT_FALSE(eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
    EXPECT_FALSE(eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
    EXPECT_FALSE(eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"));
    EXPECT_FALSE(eq("sip:alice@atlanta.com", "sips:alice@atlanta.com"));
}

TEST(Uri, TelEquality) {
    EXPECT_TRUE(eq("tel:+1-201-555-0123", "tel:+1.201.555.0123"));
    EXPECT_TRUE(eq("tel:7042;phone-context=Example.com", "tel:7042;phone-context=example.com"));
    EXPECT_FALSE(eq("tel:+1-201-555-0123", "tel:+1-201-555-0124"));
    EXPECT_FALSE(eq("tel:+1-201-555-0123;ext=1", "tel:+1-201-555-0123"));
    EXPECT_FALSE(eq("tel:+12015550123", "sip:+12015550123@example.com"));
}

TEST(Uri, Unescape) {
    EXPECT_EQ(unescape("a%20b%2"), "a b%2");
    EXPECT_EQ(unescape("%41%6c"), "Al");
}

TEST(Uri, DuplicateAndTooManyParametersAreRefused) {
    // Found by fuzz_uri: a repeated phone-context made equality non-reflexive.
    EXPECT_FALSE(parse_uri("tel:+1-201;phone-context=a;phone-context=b").has_value());
    EXPECT_FALSE(parse_uri("sip:a@b;transport=tcp;Transport=udp").has_value());
    EXPECT_FALSE(parse_uri("sip:a@b;lr;%6Cr").has_value());
    std::string many = "sip:a@b";
    for (int i = 0; i < 32; ++i)
        many += ";p" + std::to_string(i);
    EXPECT_TRUE(parse_uri(many).has_value());
    EXPECT_FALSE(parse_uri(many + ";p32").has_value());
    // Header components may repeat; equality treats them as a multiset.
    EXPECT_TRUE(eq("sip:a@b?route=x&route=y", "sip:a@b?route=y&route=x"));
    EXPECT_FALSE(eq("sip:a@b?route=x&route=x", "sip:a@b?route=x&route=y"));
}

namespace {
// The previous definition of an IPv4 address, kept as the reference: four parts of 1-3 digits, each
// at most 255, separated by single dots.
bool reference_ipv4(std::string_view s) {
    int parts = 0;
    while (true) {
        std::size_t n = 0;
        while (n < s.size() && s[n] >= '0' && s[n] <= '9')
            ++n;
        if (n == 0 || n > 3) return false;
        if (std::stoi(std::string(s.substr(0, n))) > 255) return false;
        ++parts;
        s.remove_prefix(n);
        if (s.empty()) break;
        if (s.front() != '.' || parts == 4) return false;
        s.remove_prefix(1);
    }
    return parts == 4;
}
}  // namespace

TEST(Ipv4Address, OnePassMatchesTheReference) {
    for (const char* yes : {"0.0.0.0", "127.0.0.1", "255.255.255.255", "010.001.0.9", "1.2.3.4"})
        EXPECT_TRUE(sw::sip::is_ipv4_address(yes)) << yes;
    for (const char* no : {"", ".", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1..2.3", "256.1.1.1", "1.2.3.256",
                           "1.2.3.4.5", "0000.1.1.1", "1.2.3.a", "1.2.3.4 ", "999.999.999.999", "1.2.3.-4"})
        EXPECT_FALSE(sw::sip::is_ipv4_address(no)) << no;
    std::uint64_t x = 88172645463325252ULL;  // xorshift: the same cases every run
    const char alphabet[] = "0123456789..2a";
    for (int i = 0; i < 300000; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::string s;
        const int len = static_cast<int>(x % 17);
        std::uint64_t y = x;
        for (int k = 0; k < len; ++k) {
            s.push_back(alphabet[y % 14]);
            y = y / 14 + (x >> 32) * (k + 1);
        }
        ASSERT_EQ(sw::sip::is_ipv4_address(s), reference_ipv4(s)) << "'" << s << "'";
    }
}
