// Who the proxy is, and its Route / Record-Route handling (RFC 3261 16.4, 16.6 step 4).
#include "proxy/route_set.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"

using sw::proxy::list_values;
using sw::proxy::LocalAddress;
using sw::proxy::preprocess_routes;
using sw::proxy::route_uri;
using sw::proxy::SelfIdentity;
using sw::proxy::set_routes;
using sw::sip::HeaderId;
using sw::sip::Message;
using sw::transport::Protocol;
using Strings = std::vector<std::string>;

namespace {

LocalAddress address(Protocol p, std::string host, std::uint16_t port, bool ipv6 = false) {
    LocalAddress a;
    a.protocol = p;
    a.host = std::move(host);
    a.port = port;
    a.ipv6 = ipv6;
    a.v6_family = ipv6;
    return a;
}

// example.com, on UDP and TCP 192.0.2.1:5060, TLS 192.0.2.1:5061 and UDP [2001:db8::1]:5060.
SelfIdentity self() {
    SelfIdentity s;
    s.domains = {"example.com", "example.org"};
    s.addresses = {address(Protocol::Udp, "192.0.2.1", 5060), address(Protocol::Tcp, "192.0.2.1", 5060),
                   address(Protocol::Tls, "192.0.2.1", 5061),
                   address(Protocol::Udp, "2001:db8::1", 5060, true)};
    return s;
}

bool names_us(const SelfIdentity& s, std::string_view uri) {
    auto u = sw::sip::parse_uri(uri);
    EXPECT_TRUE(u.has_value()) << uri;
    return u && s.names_us(*u);
}

// An in-dialog style request with these Route lines (each a whole field value) and Request-URI.
Message request(std::string_view ruri, const Strings& route_fields, std::string_view extra = {}) {
    std::string t = "BYE " + std::string(ruri) + " SIP/2.0\r\n";
    t += "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-bye1\r\n";
    t += "Max-Forwards: 70\r\n";
    t += "From: <sip:alice@example.com>;tag=a1\r\n";
    t += "To: <sip:bob@example.com>;tag=b1\r\n";
    t += "Call-ID: dlg-1@198.51.100.7\r\n";
    t += "CSeq: 2 BYE\r\n";
    for (const auto& r : route_fields)
        t += "Route: " + r + "\r\n";
    t += std::string(extra);
    t += "Content-Length: 0\r\n\r\n";
    auto m = Message::parse(t);
    EXPECT_TRUE(m.has_value()) << t;
    return std::move(m).value();
}

// The message as the next hop sees it: serialised and parsed again.
Message reparsed(const Message& m) {
    auto again = Message::parse(m.serialize());
    EXPECT_TRUE(again.has_value()) << m.serialize();
    return std::move(again).value();
}

}  // namespace

TEST(ProxyRouteSetTest, NamesUsByAddressAndPort) {
    const SelfIdentity s = self();
    EXPECT_TRUE(names_us(s, "sip:192.0.2.1"));  // no port: 5060
    EXPECT_TRUE(names_us(s, "sip:192.0.2.1:5060;lr"));
    EXPECT_TRUE(names_us(s, "sip:192.0.2.1:5060;transport=tcp;lr"));
    EXPECT_TRUE(names_us(s, "sip:192.0.2.1:5061;transport=tls;lr"));
    EXPECT_TRUE(names_us(s, "sip:[2001:db8::1]:5060;lr"));
    EXPECT_TRUE(names_us(s, "sip:[2001:DB8::1];lr"));
    EXPECT_FALSE(names_us(s, "sip:192.0.2.1:5070;lr"));  // a port we do not listen on
    EXPECT_FALSE(names_us(s, "sip:192.0.2.2;lr"));
    EXPECT_FALSE(names_us(s, "sip:[2001:db8::2]:5060"));
    EXPECT_FALSE(names_us(s, "sip:[2001:db8::1]:5062"));
    EXPECT_FALSE(names_us(s, "tel:+12015550123"));
}

TEST(ProxyRouteSetTest, NamesUsDefaultPortIs5061ForSipsAndTls) {
    SelfIdentity udp_only;
    udp_only.addresses = {address(Protocol::Udp, "192.0.2.1", 5060)};
    EXPECT_TRUE(names_us(udp_only, "sip:192.0.2.1;lr"));
    EXPECT_FALSE(names_us(udp_only, "sips:192.0.2.1;lr"));  // 5061: not ours
    EXPECT_FALSE(names_us(udp_only, "sip:192.0.2.1;transport=tls;lr"));

    SelfIdentity tls_only;
    tls_only.addresses = {address(Protocol::Tls, "192.0.2.1", 5061)};
    EXPECT_TRUE(names_us(tls_only, "sips:192.0.2.1;lr"));
    EXPECT_TRUE(names_us(tls_only, "sip:192.0.2.1;transport=TLS;lr"));
    EXPECT_FALSE(names_us(tls_only, "sip:192.0.2.1;lr"));  // 5060
}

TEST(ProxyRouteSetTest, NamesUsByDomainOnlyWithoutAPort) {
    const SelfIdentity s = self();
    EXPECT_TRUE(names_us(s, "sip:example.com"));
    EXPECT_TRUE(names_us(s, "sip:EXAMPLE.com;lr"));
    EXPECT_TRUE(names_us(s, "sip:example.org;lr"));
    EXPECT_TRUE(names_us(s, "sips:example.com"));
    // With a port the URI names a particular host:port, and no address of ours has the name.
    EXPECT_FALSE(names_us(s, "sip:example.com:5060;lr"));
    EXPECT_FALSE(names_us(s, "sip:example.com:5070"));
    EXPECT_FALSE(names_us(s, "sip:example.net"));
    EXPECT_FALSE(names_us(s, "sip:sub.example.com"));
}

TEST(ProxyRouteSetTest, IsLocalHostKnowsDomainsAndAddresses) {
    const SelfIdentity s = self();
    EXPECT_TRUE(s.is_local_host("example.com"));
    EXPECT_TRUE(s.is_local_host("Example.COM"));
    EXPECT_TRUE(s.is_local_host("example.org"));
    EXPECT_TRUE(s.is_local_host("192.0.2.1"));
    EXPECT_TRUE(s.is_local_host("2001:db8::1"));
    EXPECT_FALSE(s.is_local_host("192.0.2.10"));
    EXPECT_FALSE(s.is_local_host("example.net"));
    EXPECT_FALSE(s.is_local_host("com"));
    EXPECT_FALSE(s.is_local_host(""));
}

TEST(ProxyRouteSetTest, DefaultDomainIsTheFirstDomainOrTheFirstAddress) {
    EXPECT_EQ(self().default_domain(), "example.com");
    SelfIdentity no_domain;
    no_domain.addresses = {address(Protocol::Udp, "192.0.2.9", 5060)};
    EXPECT_EQ(no_domain.default_domain(), "192.0.2.9");
    EXPECT_EQ(SelfIdentity{}.default_domain(), "localhost");
}

TEST(ProxyRouteSetTest, RecordRouteForEachTransport) {
    const auto udp = address(Protocol::Udp, "192.0.2.1", 5060);
    const auto tcp = address(Protocol::Tcp, "192.0.2.1", 5060);
    const auto tls = address(Protocol::Tls, "192.0.2.1", 5061);
    const auto v6 = address(Protocol::Udp, "2001:db8::1", 5070, true);
    const auto v6tcp = address(Protocol::Tcp, "2001:db8::1", 5060, true);
    EXPECT_EQ(udp.hostport(), "192.0.2.1:5060");
    EXPECT_EQ(v6.hostport(), "[2001:db8::1]:5070");
    EXPECT_EQ(udp.record_route(), "<sip:192.0.2.1:5060;lr>");
    EXPECT_EQ(tcp.record_route(), "<sip:192.0.2.1:5060;transport=tcp;lr>");
    EXPECT_EQ(tls.record_route(), "<sip:192.0.2.1:5061;transport=tls;lr>");
    EXPECT_EQ(v6.record_route(), "<sip:[2001:db8::1]:5070;lr>");
    EXPECT_EQ(v6tcp.record_route(), "<sip:[2001:db8::1]:5060;transport=tcp;lr>");
}

TEST(ProxyRouteSetTest, OurRecordRoutesNameUs) {
    // What we record-route must be recognised when it comes back as a Route.
    const SelfIdentity s = self();
    for (const auto& a : s.addresses) {
        auto u = route_uri(a.record_route());
        ASSERT_TRUE(u) << a.record_route();
        EXPECT_TRUE(names_us(s, *u)) << *u;
    }
}

TEST(ProxyRouteSetTest, RouteUriTakesTheUriOfANameAddr) {
    EXPECT_EQ(route_uri("<sip:p1.example.com;lr>"), std::optional<std::string>("sip:p1.example.com;lr"));
    EXPECT_EQ(route_uri("\"Edge, West\" <sip:p1.example.com:5070;lr>;ext=1"),
              std::optional<std::string>("sip:p1.example.com:5070;lr"));
    EXPECT_FALSE(route_uri("sip:p1.example.com;lr"));  // RFC 3261 20.34: Route is name-addr only
    EXPECT_FALSE(route_uri("<sip:p1.example.com;lr"));
}

TEST(ProxyRouteSetTest, ListValuesSplitsCommaListsAcrossFields) {
    const Message m = request("sip:bob@192.0.2.20",
                              {"<sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
                               "\"Edge, West\" <sip:p3.example.com;lr>;x=1", "<sip:p4.example.com;lr>"},
                              "Record-Route: <sip:rr.example.com;lr>\r\n");
    EXPECT_EQ(list_values(m, HeaderId::Route),
              (Strings{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>",
                       "\"Edge, West\" <sip:p3.example.com;lr>;x=1", "<sip:p4.example.com;lr>"}));
    EXPECT_EQ(list_values(m, HeaderId::RecordRoute), Strings{"<sip:rr.example.com;lr>"});
    EXPECT_TRUE(list_values(m, HeaderId::Path).empty());
}

TEST(ProxyRouteSetTest, SetRoutesReplacesEveryRouteField) {
    Message m = request("sip:bob@192.0.2.20", {"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"});
    set_routes(m, {"<sip:n1.example.com;lr>", "<sip:n2.example.com;lr>"});
    Message again = reparsed(m);
    EXPECT_EQ(list_values(again, HeaderId::Route),
              (Strings{"<sip:n1.example.com;lr>", "<sip:n2.example.com;lr>"}));
    set_routes(m, {});
    EXPECT_FALSE(reparsed(m).has(HeaderId::Route));
}

TEST(ProxyRouteSetTest, PreprocessRemovesOurRouteAtTheTop) {
    Message m = request("sip:bob@192.0.2.20:5062",
                        {"<sip:192.0.2.1;lr>, <sip:p2.example.net;lr>", "<sip:p3.example.net;lr>"});
    const auto r = preprocess_routes(m, self());
    EXPECT_FALSE(r.strict_router_fixed);
    EXPECT_EQ(r.own_routes_removed, 1);
    EXPECT_EQ(m.request_uri().raw, "sip:bob@192.0.2.20:5062");
    const Message again = reparsed(m);
    EXPECT_EQ(list_values(again, HeaderId::Route),
              (Strings{"<sip:p2.example.net;lr>", "<sip:p3.example.net;lr>"}));
    EXPECT_EQ(again.request_uri().raw, "sip:bob@192.0.2.20:5062");
}

TEST(ProxyRouteSetTest, PreprocessRemovesTwoOfOursAcrossATransportChange) {
    // RFC 5658: we record-routed twice (UDP in, TCP out); both entries come back at the top.
    Message m = request("sip:bob@192.0.2.20:5062", {"<sip:192.0.2.1:5060;transport=tcp;lr>",
                                                    "<sip:192.0.2.1:5060;lr>", "<sip:p2.example.net;lr>"});
    const auto r = preprocess_routes(m, self());
    EXPECT_FALSE(r.strict_router_fixed);
    EXPECT_EQ(r.own_routes_removed, 2);
    EXPECT_EQ(list_values(reparsed(m), HeaderId::Route), Strings{"<sip:p2.example.net;lr>"});
}

TEST(ProxyRouteSetTest, PreprocessRemovesTheLastRouteWhenItIsOurs) {
    Message m = request("sip:bob@192.0.2.20:5062", {"<sip:[2001:db8::1];lr>"});
    const auto r = preprocess_routes(m, self());
    EXPECT_EQ(r.own_routes_removed, 1);
    const Message again = reparsed(m);
    EXPECT_FALSE(again.has(HeaderId::Route));
    EXPECT_EQ(again.request_uri().raw, "sip:bob@192.0.2.20:5062");
}

TEST(ProxyRouteSetTest, PreprocessKeepsRoutesThatAreNotOursAtTheTop) {
    // Ours, but below somebody else's: not for us to remove (RFC 3261 16.4: only the first value).
    Message m = request("sip:bob@192.0.2.20:5062", {"<sip:p2.example.net;lr>, <sip:192.0.2.1;lr>"});
    const auto r = preprocess_routes(m, self());
    EXPECT_FALSE(r.strict_router_fixed);
    EXPECT_EQ(r.own_routes_removed, 0);
    EXPECT_FALSE(m.modified());
    EXPECT_EQ(list_values(m, HeaderId::Route), (Strings{"<sip:p2.example.net;lr>", "<sip:192.0.2.1;lr>"}));

    // A port we do not listen on is somebody else.
    Message other = request("sip:bob@192.0.2.20", {"<sip:192.0.2.1:5080;lr>"});
    EXPECT_EQ(preprocess_routes(other, self()).own_routes_removed, 0);
    EXPECT_EQ(list_values(other, HeaderId::Route), Strings{"<sip:192.0.2.1:5080;lr>"});

    Message none = request("sip:bob@192.0.2.20", {});
    const auto n = preprocess_routes(none, self());
    EXPECT_EQ(n.own_routes_removed, 0);
    EXPECT_FALSE(n.strict_router_fixed);
    EXPECT_FALSE(none.modified());
}

TEST(ProxyRouteSetTest, PreprocessFixesAStrictRouterBeforeUs) {
    // RFC 3261 16.4: the Request-URI is our Record-Route value, so a strict router put it there; the
    // last Route is the real Request-URI.
    Message m = request("sip:192.0.2.1:5060;lr", {"<sip:p3.example.net;lr>, <sip:bob@192.0.2.20:5062>"});
    const auto r = preprocess_routes(m, self());
    EXPECT_TRUE(r.strict_router_fixed);
    EXPECT_EQ(r.own_routes_removed, 0);
    EXPECT_EQ(m.request_uri().raw, "sip:bob@192.0.2.20:5062");
    const Message again = reparsed(m);
    EXPECT_EQ(again.request_uri().raw, "sip:bob@192.0.2.20:5062");
    EXPECT_EQ(again.request_uri().user, "bob");
    EXPECT_EQ(list_values(again, HeaderId::Route), Strings{"<sip:p3.example.net;lr>"});
}

TEST(ProxyRouteSetTest, PreprocessStrictRouterThenOurOwnRoute) {
    // Both at once: the strict router's fix, then our (second) entry at the top of what is left.
    Message m = request("sip:192.0.2.1:5061;transport=tls;lr",
                        {"<sip:192.0.2.1;lr>", "<sip:p3.example.net;lr>", "<sip:bob@192.0.2.20>"});
    const auto r = preprocess_routes(m, self());
    EXPECT_TRUE(r.strict_router_fixed);
    EXPECT_EQ(r.own_routes_removed, 1);
    const Message again = reparsed(m);
    EXPECT_EQ(again.request_uri().raw, "sip:bob@192.0.2.20");
    EXPECT_EQ(list_values(again, HeaderId::Route), Strings{"<sip:p3.example.net;lr>"});
}

TEST(ProxyRouteSetTest, PreprocessLeavesAUserRequestUriAlone) {
    // Addressed to a user at our address (not a Record-Route of ours): not the strict-router case.
    Message m = request("sip:bob@192.0.2.1;lr", {"<sip:p3.example.net;lr>"});
    const auto r = preprocess_routes(m, self());
    EXPECT_FALSE(r.strict_router_fixed);
    EXPECT_EQ(m.request_uri().raw, "sip:bob@192.0.2.1;lr");
    EXPECT_EQ(list_values(m, HeaderId::Route), Strings{"<sip:p3.example.net;lr>"});

    // Our URI without lr is no Record-Route of ours either.
    Message no_lr = request("sip:192.0.2.1", {"<sip:bob@192.0.2.20>"});
    EXPECT_FALSE(preprocess_routes(no_lr, self()).strict_router_fixed);
    EXPECT_EQ(no_lr.request_uri().raw, "sip:192.0.2.1");
}
