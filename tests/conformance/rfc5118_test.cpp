// RFC 5118: the IPv6 torture messages (LF converted to CRLF, as the archive's quirks require).
#include <gtest/gtest.h>

#include "app/check_message.hpp"
#include "sip/message.hpp"
#include "testdata.hpp"

using namespace sw::sip;
using sw::test::read_file;
using sw::test::testdata;

namespace {

// CRLF line ends, a terminating empty line, and a Content-Length that matches the body.
std::string wire(const char* name) {
    std::string s = sw::test::to_crlf(read_file(testdata(std::string("rfc5118/") + name)));
    auto hdr_end = s.find("\r\n\r\n");
    if (hdr_end == std::string::npos) {
        s += "\r\n";
        hdr_end = s.size() - 4;
    }
    const std::size_t body = s.size() - (hdr_end + 4);
    const auto cl = s.find("Content-Length: ");
    if (cl != std::string::npos && cl < hdr_end) {
        const auto eol = s.find("\r\n", cl);
        s.replace(cl, eol - cl, "Content-Length: " + std::to_string(body));
    }
    return s;
}

Message parse_ok(const char* name) {
    auto m = Message::parse(wire(name));
    EXPECT_TRUE(m.has_value()) << name << ": " << (m ? std::string_view{} : m.error().reason);
    return std::move(m).value();
}

TEST(Rfc5118, Good_4_1) {
    auto m = parse_ok("ipv6-good");
    EXPECT_TRUE(m.request_uri().ipv6);
    EXPECT_EQ(m.request_uri().host, "2001:db8::10");
    EXPECT_EQ(m.top_via().host, "2001:db8::9:1");
    EXPECT_TRUE(m.top_via().ipv6);
    EXPECT_EQ(m.contacts().contacts[0].uri.host, "2001:db8::1");
}

TEST(Rfc5118, Bad_4_2_UnbracketedIpv6IsRejected) {
    auto v = sw::app::check_message(wire("ipv6-bad"), 65536);
    EXPECT_EQ(v.status, 400);
    EXPECT_NE(v.reason.find("URI"), std::string::npos) << v.reason;
}

TEST(Rfc5118, PortAmbiguous_4_3) {
    auto m = parse_ok("port-ambiguous");
    EXPECT_EQ(m.request_uri().host, "2001:db8::10:5070");
    EXPECT_EQ(m.request_uri().port, -1);
}

TEST(Rfc5118, PortUnambiguous_4_4) {
    auto m = parse_ok("port-unambiguous");
    EXPECT_EQ(m.request_uri().host, "2001:db8::10");
    EXPECT_EQ(m.request_uri().port, 5070);
}

TEST(Rfc5118, ReceivedWithAndWithoutBrackets_4_5) {
    auto a = parse_ok("via-received-param-with-delim");
    EXPECT_EQ(a.top_via().received, "[2001:db8::9:255]");
    auto b = parse_ok("via-received-param-no-delim");
    EXPECT_EQ(b.top_via().received, "2001:db8::9:255");
    EXPECT_EQ(b.top_via().branch, "z9hG4bKas3");
}

TEST(Rfc5118, Ipv6InSdp_4_6) {
    auto m = parse_ok("ipv6-in-sdp");
    EXPECT_NE(m.body().find("c=IN IP6 2001:db8::20"), std::string_view::npos);
}

TEST(Rfc5118, MultipleIpsInHeader_4_7) {
    auto m = parse_ok("mult-ip-in-header");
    ASSERT_EQ(m.vias().size(), 3u);
    EXPECT_EQ(m.vias()[0].host, "2001:db8::9:1");
    EXPECT_EQ(m.vias()[0].port, 6050);
    EXPECT_EQ(m.vias()[1].host, "192.0.2.1");
    EXPECT_EQ(m.vias()[2].received, "192.0.2.200");
}

TEST(Rfc5118, MultipleIpsInSdp_4_8) {
    parse_ok("mult-ip-in-sdp");
}

TEST(Rfc5118, Ipv4Mapped_4_9) {
    auto m = parse_ok("ipv4-mapped-ipv6");
    EXPECT_EQ(m.top_via().host, "::ffff:192.0.2.10");
    EXPECT_EQ(m.top_via().port, 19823);
}

TEST(Rfc5118, ThreeColonsRejectedTwoAccepted_4_10) {
    // RFC 5954 corrected the RFC 3261 ABNF: "2001:db8:::192.0.2.1" is no IPv6 address.
    auto bad = sw::app::check_message(wire("ipv6-bug-abnf-3-colons"), 65536);
    EXPECT_EQ(bad.status, 400);
    auto m = parse_ok("ipv6-correct-abnf-2-colons");
    EXPECT_EQ(m.request_uri().host, "2001:db8::192.0.2.1");
}

}  // namespace
