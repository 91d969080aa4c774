// What the B2BUA writes into the legs of a trunk call: Request-URI, To and From per trunk options, the
// 100rel option tags (RFC 3262) and the number a URI names.
#include "b2bua/call_legs.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "b2bua/trunk.hpp"
#include "sip/message.hpp"
#include "sip/uri.hpp"

using sw::b2bua::number_of;
using sw::b2bua::requires_100rel;
using sw::b2bua::supports_100rel;
using sw::b2bua::Trunk;
using sw::b2bua::trunk_from;
using sw::b2bua::trunk_request_uri;
using sw::b2bua::trunk_to;
using sw::sip::Message;
using sw::transport::Protocol;

namespace {

constexpr std::string_view kNumber = "+49301234567";

Trunk trunk() {
    Trunk t;
    t.name = "provider";
    t.host = "sip.provider.test";
    return t;
}

Message parse(std::string_view text) {
    auto m = Message::parse(text);
    EXPECT_TRUE(m.has_value()) << (m ? std::string_view{} : m.error().reason) << "\n" << text;
    return std::move(m).value();
}

// An INVITE from a trunk with `extra` header lines (CRLF included).
Message invite(std::string_view extra) {
    std::string t = "INVITE sip:+4930555@192.0.2.1 SIP/2.0\r\n";
    t += "Via: SIP/2.0/UDP 198.51.100.5:5060;branch=z9hG4bK-trunk1\r\n";
    t += "Max-Forwards: 70\r\n";
    t += "From: <sip:+4940999@sip.provider.test>;tag=t1\r\n";
    t += "To: <sip:+4930555@192.0.2.1>\r\n";
    t += "Call-ID: in-1@198.51.100.5\r\n";
    t += "CSeq: 1 INVITE\r\n";
    t += "Contact: <sip:+4940999@198.51.100.5:5060>\r\n";
    t += std::string(extra);
    t += "Content-Length: 0\r\n\r\n";
    return parse(t);
}

std::string number(std::string_view uri_text) {
    auto u = sw::sip::parse_uri(uri_text);
    EXPECT_TRUE(u.has_value()) << uri_text;
    if (!u) return "(unparsable)";
    return number_of(*u);
}

}  // namespace

// ---- Request-URI ----

TEST(TrunkRequestUri, TelUriOption) {
    Trunk t = trunk();
    t.tel_uri = true;
    t.ruri_params = "user=phone";  // for sip URIs only
    EXPECT_EQ(trunk_request_uri(t, kNumber), "tel:+49301234567");
}

TEST(TrunkRequestUri, SipUriWithoutDefaultPort) {
    Trunk t = trunk();
    EXPECT_EQ(trunk_request_uri(t, kNumber), "sip:+49301234567@sip.provider.test");
    t.port = 5060;  // written out, but the default
    EXPECT_EQ(trunk_request_uri(t, kNumber), "sip:+49301234567@sip.provider.test");
}

TEST(TrunkRequestUri, SipUriWithOtherPort) {
    Trunk t = trunk();
    t.port = 5080;
    EXPECT_EQ(trunk_request_uri(t, kNumber), "sip:+49301234567@sip.provider.test:5080");
}

TEST(TrunkRequestUri, TcpAddsTransportParameter) {
    Trunk t = trunk();
    t.transport = Protocol::Tcp;
    EXPECT_EQ(trunk_request_uri(t, kNumber), "sip:+49301234567@sip.provider.test;transport=tcp");
}

TEST(TrunkRequestUri, TlsDefaultsTo5061AndAddsTransportParameter) {
    Trunk t = trunk();
    t.transport = Protocol::Tls;
    EXPECT_EQ(trunk_request_uri(t, kNumber), "sip:+49301234567@sip.provider.test;transport=tls");
    t.port = 5060;  // not the default for TLS
    EXPECT_EQ(trunk_request_uri(t, kNumber), "sip:+49301234567@sip.provider.test:5060;transport=tls");
}

TEST(TrunkRequestUri, UdpHasNoTransportParameter) {
    Trunk t = trunk();
    t.transport = Protocol::Udp;
    EXPECT_EQ(trunk_request_uri(t, kNumber).find("transport="), std::string::npos);
}

TEST(TrunkRequestUri, RuriParamsAreAppendedLast) {
    Trunk t = trunk();
    t.transport = Protocol::Tcp;
    t.ruri_params = "user=phone";
    EXPECT_EQ(trunk_request_uri(t, kNumber), "sip:+49301234567@sip.provider.test;transport=tcp;user=phone");
}

TEST(TrunkRequestUri, Ipv6HostInBrackets) {
    Trunk t = trunk();
    t.host = "2001:db8::5";
    EXPECT_EQ(trunk_request_uri(t, kNumber), "sip:+49301234567@[2001:db8::5]");
    t.port = 5080;
    EXPECT_EQ(trunk_request_uri(t, kNumber), "sip:+49301234567@[2001:db8::5]:5080");
}

TEST(TrunkRequestUri, ResultParsesAsASipUri) {
    Trunk t = trunk();
    t.host = "2001:db8::5";
    t.port = 5080;
    t.transport = Protocol::Tcp;
    t.ruri_params = "user=phone";
    const std::string text = trunk_request_uri(t, kNumber);
    auto u = sw::sip::parse_uri(text);
    ASSERT_TRUE(u.has_value()) << text;
    EXPECT_EQ(u->user, kNumber);
    EXPECT_EQ(u->host, "2001:db8::5");
    EXPECT_EQ(u->port, 5080);
    EXPECT_EQ(u->param_value("transport"), "tcp");
    EXPECT_EQ(u->param_value("user"), "phone");
}

// ---- To and From ----

TEST(TrunkTo, TelUriOption) {
    Trunk t = trunk();
    t.tel_uri = true;
    EXPECT_EQ(trunk_to(t, kNumber), "<tel:+49301234567>");
}

TEST(TrunkTo, SipUriAtTheHostWithoutUriParameters) {
    Trunk t = trunk();
    t.transport = Protocol::Tcp;
    t.ruri_params = "user=phone";
    EXPECT_EQ(trunk_to(t, kNumber), "<sip:+49301234567@sip.provider.test>");
}

TEST(TrunkFrom, CallerAtTheFromDomain) {
    Trunk t = trunk();
    t.from_domain = "voip.example.test";
    EXPECT_EQ(trunk_from(t, "201"), "<sip:201@voip.example.test>");
}

TEST(TrunkFrom, CallerAtTheHostWithoutFromDomain) {
    EXPECT_EQ(trunk_from(trunk(), "+4930555"), "<sip:+4930555@sip.provider.test>");
}

// An IPv6 literal host needs brackets to make a valid SIP URI (RFC 3261 25.1 IPv6reference).
TEST(TrunkFrom, Ipv6HostInBrackets) {
    Trunk t = trunk();
    t.host = "2001:db8::5";
    EXPECT_EQ(trunk_from(t, "201"), "<sip:201@[2001:db8::5]>");
}

// ---- 100rel ----

TEST(Rel100, RequireNamesIt) {
    const Message m = invite("Require: 100rel\r\n");
    EXPECT_TRUE(requires_100rel(m));
    EXPECT_TRUE(supports_100rel(m));  // required implies supported
}

TEST(Rel100, SupportedAloneDoesNotRequire) {
    const Message m = invite("Supported: 100rel\r\n");
    EXPECT_FALSE(requires_100rel(m));
    EXPECT_TRUE(supports_100rel(m));
}

TEST(Rel100, FoundCaseInsensitivelyInListsWithOtherTags) {
    const Message supported = invite("Supported: timer, 100REL, replaces\r\n");
    EXPECT_TRUE(supports_100rel(supported));
    const Message required = invite("Require: timer\r\nRequire: 100Rel\r\n");
    EXPECT_TRUE(requires_100rel(required));
}

TEST(Rel100, OtherTagsOnly) {
    const Message m = invite("Supported: timer, replaces\r\nRequire: precondition\r\n");
    EXPECT_FALSE(requires_100rel(m));
    EXPECT_FALSE(supports_100rel(m));
}

TEST(Rel100, NeitherHeader) {
    const Message m = invite({});
    EXPECT_FALSE(requires_100rel(m));
    EXPECT_FALSE(supports_100rel(m));
}

// ---- numbers ----

TEST(NumberOf, TelUriWithoutVisualSeparators) {
    EXPECT_EQ(number("tel:+49-30-123"), "+4930123");
}

TEST(NumberOf, SipUriUserWithUserPhone) {
    EXPECT_EQ(number("sip:+4930123@h.example.test;user=phone"), "+4930123");
}

TEST(NumberOf, EscapedPlusInSipUser) {
    EXPECT_EQ(number("sip:%2B4930123@h.example.test"), "+4930123");
}

TEST(NumberOf, SipUriWithANameIsNoNumber) {
    EXPECT_EQ(number("sip:alice@h.example.test"), "");
}

TEST(NumberOf, SipUriWithoutUserIsNoNumber) {
    EXPECT_EQ(number("sip:h.example.test"), "");
}
