// The routing decision of the stateful proxy (RFC 3261 16.3 - 16.5), with a real Authenticator (fake
// clock and random) and a real LocationService holding the callees' bindings.
#include "proxy/router.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../auth/fakes.hpp"
#include "auth/authenticator.hpp"
#include "auth/digest.hpp"
#include "auth/user_directory.hpp"
#include "proxy/route_set.hpp"
#include "registrar/binding.hpp"
#include "registrar/location_service.hpp"
#include "sip/message.hpp"

using sw::auth::Algorithm;
using sw::auth::compute_ha1;
using sw::auth::compute_response;
using sw::auth::UserDirectory;
using sw::auth::UserRecord;
using sw::proxy::Decision;
using sw::proxy::LocalAddress;
using sw::proxy::preprocess_routes;
using sw::proxy::Router;
using sw::proxy::RouterConfig;
using sw::proxy::SelfIdentity;
using sw::proxy::Target;
using sw::registrar::Binding;
using sw::registrar::LocationService;
using sw::sip::Message;
using sw::transport::Protocol;
using Kind = Decision::Kind;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::string_view kRealm = "example.com";
constexpr std::string_view kPassword = "Correct Horse 42";

UserRecord user(std::string name, std::string display = {}, bool enabled = true) {
    UserRecord u;
    u.name = name;
    u.display_name = std::move(display);
    u.enabled = enabled;
    u.ha1_md5 = compute_ha1(Algorithm::Md5, name, kRealm, kPassword);
    u.ha1_sha256 = compute_ha1(Algorithm::Sha256, name, kRealm, kPassword);
    u.ha1_sha512_256 = compute_ha1(Algorithm::Sha512_256, name, kRealm, kPassword);
    return u;
}

// One request as a phone sends it. Credentials are computed for the Request-URI and method.
struct Req {
    std::string method = "INVITE";
    std::string ruri = "sip:bob@example.com";
    std::string from = "<sip:alice@example.com>;tag=a1";
    std::string to = "<sip:bob@example.com>";
    std::string auth_user = "alice";  // empty: no Proxy-Authorization
    std::string password = std::string(kPassword);
    std::vector<std::string> extra;  // header lines without CRLF

    Req& m(std::string v) {
        method = std::move(v);
        return *this;
    }
    Req& r(std::string v) {
        ruri = std::move(v);
        return *this;
    }
    Req& f(std::string v) {
        from = std::move(v);
        return *this;
    }
    Req& t(std::string v) {
        to = std::move(v);
        return *this;
    }
    Req& as(std::string v) {
        auth_user = std::move(v);
        return *this;
    }
    Req& h(std::string line) {
        extra.push_back(std::move(line));
        return *this;
    }

    std::string text(const std::string& nonce) const {
        std::string s = method + " " + ruri + " SIP/2.0\r\n";
        s += "Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-r1;rport\r\n";
        s += "Max-Forwards: 70\r\n";
        s += "From: " + from + "\r\n";
        s += "To: " + to + "\r\n";
        s += "Call-ID: call-1@203.0.113.10\r\n";
        s += "CSeq: 1 " + method + "\r\n";
        s += "Contact: <sip:alice@203.0.113.10:5060>\r\n";
        if (!auth_user.empty()) {
            const std::string ha1 = compute_ha1(Algorithm::Sha256, auth_user, kRealm, password);
            const std::string resp =
                compute_response(Algorithm::Sha256, ha1, nonce, "00000001", "0a4f113b", "auth", method, ruri);
            s += "Proxy-Authorization: Digest username=\"" + auth_user + "\", realm=\"" +
                 std::string(kRealm) + "\", nonce=\"" + nonce + "\", uri=\"" + ruri + "\", response=\"" +
                 resp + "\", algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"0a4f113b\"\r\n";
        }
        for (const auto& line : extra)
            s += line + "\r\n";
        s += "Content-Length: 0\r\n\r\n";
        return s;
    }
};

std::vector<std::string> header_values(const Decision& d, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [n, v] : d.headers)
        if (n == name) out.push_back(v);
    return out;
}

std::vector<std::string> request_uris(const Decision& d) {
    std::vector<std::string> out;
    for (const Target& t : d.targets)
        out.push_back(t.request_uri);
    return out;
}

class ProxyRouterTest : public ::testing::Test {
protected:
    ProxyRouterTest() {
        self.domains = {"example.com"};
        LocalAddress udp;
        udp.protocol = Protocol::Udp;
        udp.host = "192.0.2.1";
        udp.port = 5060;
        self.addresses = {udp};
    }

    // Parses, preprocesses the routes as the engine does, and routes.
    Decision route(const Req& r, const Router& with) {
        auto m = Message::parse(r.text(nonces.make(kRealm)));
        EXPECT_TRUE(m.has_value()) << r.text("n");
        if (!m) return {};
        const auto pre = preprocess_routes(*m, self);
        // Call forwarding and aliases only where a test sets them.
        return with.route(*m, pre, users, forwards ? &*forwards : nullptr, kNow,
                          aliases ? &*aliases : nullptr);
    }
    Decision route(const Req& r) { return route(r, router); }

    void bind(std::string aor, std::string contact, std::string source, int q = 1000, std::string path = {},
              std::uint64_t connection = 0, std::int64_t expires_at = kNow + 3600) {
        Binding b;
        b.aor = aor;
        b.contact = std::move(contact);
        b.source = std::move(source);
        b.q = q;
        b.path = std::move(path);
        b.connection = connection;
        b.expires_at = expires_at;
        b.registered_at = kNow - 60;
        b.call_id = "reg-" + b.contact;
        b.cseq = 1;
        location.update(aor, [&](std::vector<Binding>& v) { v.push_back(b); });
    }

    sw::auth::test::FakeClock clock{kNow};
    sw::auth::test::FakeRandom random;
    sw::auth::NonceFactory nonces{std::string(32, 's'), std::chrono::seconds(300), clock, random};
    sw::auth::NonceCounter counter;
    sw::auth::Authenticator auth{std::string(kRealm), sw::auth::DigestPolicy{}, nonces, counter, clock};
    UserDirectory users{{user("alice", "Alice \"Al\" Liddell"), user("bob"), user("carol"),
                         user("dave", {}, false), user("201")}};
    LocationService location;
    SelfIdentity self;
    Router router{self, auth, location};
    std::optional<sw::pbx::ForwardingTable> forwards;
    std::optional<sw::pbx::AliasTable> aliases;
};

using Strings = std::vector<std::string>;

}  // namespace

TEST_F(ProxyRouterTest, InviteWithoutCredentialsIsChallenged) {
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060");
    const Decision d = route(Req{}.as(""));
    EXPECT_EQ(d.kind, Kind::Reply);
    EXPECT_EQ(d.status, 407);
    EXPECT_TRUE(d.targets.empty());
    const auto challenges = header_values(d, "Proxy-Authenticate");
    ASSERT_EQ(challenges.size(), 3u);  // SHA-256, SHA-512-256, MD5
    for (const auto& c : challenges) {
        auto p = sw::sip::parse_auth(c);
        ASSERT_TRUE(p.has_value()) << c;
        EXPECT_EQ(p->scheme, "Digest");
        EXPECT_EQ(p->get("realm"), "example.com");
        EXPECT_TRUE(p->get("nonce").has_value());
    }
    EXPECT_NE(challenges[0].find("algorithm=SHA-256,"), std::string::npos) << challenges[0];
    EXPECT_TRUE(header_values(d, "WWW-Authenticate").empty());
}

TEST_F(ProxyRouterTest, WrongPasswordIsChallengedAgain) {
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060");
    Req r;
    r.password = "Correct Horse 43";
    const Decision d = route(r);
    EXPECT_EQ(d.kind, Kind::Reply);
    EXPECT_EQ(d.status, 407);
    EXPECT_EQ(header_values(d, "Proxy-Authenticate").size(), 3u);
}

TEST_F(ProxyRouterTest, StaleNonceIsChallengedWithStale) {
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060");
    const std::string old_nonce = nonces.make(kRealm);
    clock.advance(301);  // past the nonce lifetime
    auto m = Message::parse(Req{}.text(old_nonce));
    ASSERT_TRUE(m.has_value());
    const auto pre = preprocess_routes(*m, self);
    const Decision d = router.route(*m, pre, users, nullptr, kNow);
    EXPECT_EQ(d.kind, Kind::Reply);
    EXPECT_EQ(d.status, 407);
    const auto challenges = header_values(d, "Proxy-Authenticate");
    ASSERT_FALSE(challenges.empty());
    for (const auto& c : challenges) {
        auto p = sw::sip::parse_auth(c);
        ASSERT_TRUE(p.has_value()) << c;
        EXPECT_EQ(p->get("stale"), "true");  // RFC 7616 3.3: the password was right, ask again quietly
        EXPECT_NE(p->get("nonce"), old_nonce);
    }
}

TEST_F(ProxyRouterTest, AuthenticatedInviteIsForwardedToEveryBinding) {
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060", 500);
    bind("bob@example.com", "sip:bob@198.51.100.21:5070;transport=tcp", "tcp:198.51.100.21:40001", 1000, {},
         77);
    const Decision d = route(Req{});
    ASSERT_EQ(d.kind, Kind::Forward) << d.status << " " << d.reason;
    EXPECT_EQ(d.caller, "alice");
    EXPECT_TRUE(d.record_route);  // INVITE forms a dialog
    EXPECT_FALSE(d.in_dialog);
    // Highest q first, each with the contact as its Request-URI.
    EXPECT_EQ(request_uris(d),
              (Strings{"sip:bob@198.51.100.21:5070;transport=tcp", "sip:bob@198.51.100.20:5060"}));
    EXPECT_EQ(d.targets[0].q, 1000);
    EXPECT_EQ(d.targets[1].q, 500);
    // A stream binding goes over its own connection.
    EXPECT_EQ(d.targets[0].hop.protocol, Protocol::Tcp);
    EXPECT_EQ(d.targets[0].hop.host, "198.51.100.21");
    EXPECT_EQ(d.targets[0].hop.port, 40001);
    EXPECT_EQ(d.targets[0].hop.connection, 77u);
    EXPECT_EQ(d.targets[1].hop.protocol, Protocol::Udp);
    EXPECT_EQ(d.targets[1].hop.host, "198.51.100.20");
    EXPECT_EQ(d.targets[1].hop.port, 5060);
    EXPECT_TRUE(d.targets[1].routes.empty());
    // The asserted identity names the authenticated user at the default domain, display name escaped.
    EXPECT_EQ(d.asserted_identity,
              std::optional<std::string>("\"Alice \\\"Al\\\" Liddell\" <sip:alice@example.com>"));
}

TEST_F(ProxyRouterTest, CalleeByOurAddressMeansTheDefaultDomain) {
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060");
    const Decision d = route(Req{}.r("sip:bob@192.0.2.1"));
    ASSERT_EQ(d.kind, Kind::Forward) << d.status;
    EXPECT_EQ(request_uris(d), Strings{"sip:bob@198.51.100.20:5060"});
}

TEST_F(ProxyRouterTest, MessageIsForwardedWithoutRecordRoute) {
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060");
    const Decision d = route(Req{}.m("MESSAGE"));
    ASSERT_EQ(d.kind, Kind::Forward) << d.status;
    EXPECT_FALSE(d.record_route);
    EXPECT_EQ(d.targets.size(), 1u);
}

TEST_F(ProxyRouterTest, FromAnotherUserIsForbidden) {
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060");
    const Decision d = route(Req{}.f("<sip:carol@example.com>;tag=a1"));
    EXPECT_EQ(d.kind, Kind::Reply);
    EXPECT_EQ(d.status, 403);
    EXPECT_TRUE(d.targets.empty());
    // The right user at somebody else's domain is no better.
    const Decision foreign = route(Req{}.f("<sip:alice@evil.example.net>;tag=a1"));
    EXPECT_EQ(foreign.kind, Kind::Reply);
    EXPECT_EQ(foreign.status, 403);
}

TEST_F(ProxyRouterTest, AnonymousFromIsAllowedAndStillAsserted) {
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060");
    const Decision d = route(Req{}.f("\"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=a1"));
    ASSERT_EQ(d.kind, Kind::Forward) << d.status;
    EXPECT_EQ(d.caller, "alice");
    ASSERT_TRUE(d.asserted_identity);
    EXPECT_NE(d.asserted_identity->find("<sip:alice@example.com>"), std::string::npos);
}

TEST_F(ProxyRouterTest, ForeignDomainIsNoRelay) {
    const Decision d = route(Req{}.r("sip:bob@other.example.net"));
    EXPECT_EQ(d.kind, Kind::Reply);
    EXPECT_EQ(d.status, 403);
    const Decision ip = route(Req{}.r("sip:bob@198.51.100.20"));
    EXPECT_EQ(ip.kind, Kind::Reply);
    EXPECT_EQ(ip.status, 403);
}

TEST_F(ProxyRouterTest, PreloadedRouteElsewhereIsForbidden) {
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060");
    const Decision d = route(Req{}.h("Route: <sip:198.51.100.99;lr>"));
    EXPECT_EQ(d.kind, Kind::Reply);
    EXPECT_EQ(d.status, 403);
}

TEST_F(ProxyRouterTest, UnknownCalleeOfAnInviteIsForTheDialPlan) {
    // Not a user: the number may go out through a trunk; the engine answers 404 when no route takes it.
    const Decision d = route(Req{}.r("sip:0301234567@example.com"));
    EXPECT_EQ(d.kind, Kind::External);
    EXPECT_EQ(d.callee, "0301234567");
    EXPECT_EQ(d.caller, "alice");
    const Decision tel = route(Req{}.r("tel:+4930123456"));
    EXPECT_EQ(tel.kind, Kind::External);
    EXPECT_EQ(tel.callee, "+4930123456");
}

TEST_F(ProxyRouterTest, UnknownOrDisabledCalleeIsNotFound) {
    const Decision unknown = route(Req{}.m("MESSAGE").r("sip:zoe@example.com"));
    EXPECT_EQ(unknown.kind, Kind::Reply);
    EXPECT_EQ(unknown.status, 404);
    bind("dave@example.com", "sip:dave@198.51.100.20:5060", "udp:198.51.100.20:5060");
    const Decision disabled = route(Req{}.r("sip:dave@example.com"));
    EXPECT_EQ(disabled.kind, Kind::Reply);
    EXPECT_EQ(disabled.status, 404);
}

TEST_F(ProxyRouterTest, CalleeWithoutBindingIsTemporarilyUnavailable) {
    const Decision d = route(Req{}.r("sip:carol@example.com"));
    EXPECT_EQ(d.kind, Kind::Reply);
    EXPECT_EQ(d.status, 480);
    // An expired binding is no binding.
    bind("carol@example.com", "sip:carol@198.51.100.20:5060", "udp:198.51.100.20:5060", 1000, {}, 0,
         kNow - 1);
    EXPECT_EQ(route(Req{}.r("sip:carol@example.com")).status, 480);
    // Nor is one that cannot be reached (a host name, and no usable source).
    bind("carol@example.com", "sip:carol@phone.example.net", "");
    EXPECT_EQ(route(Req{}.r("sip:carol@example.com")).status, 480);
}

TEST_F(ProxyRouterTest, PrivateContactRegisteredFromAPublicSourceIsReachedAtTheSource) {
    // Behind NAT: the Contact names the phone's LAN address, the REGISTER came from the NAT.
    bind("bob@example.com", "sip:bob@10.0.0.5:5060", "udp:198.51.100.20:40000");
    const Decision d = route(Req{});
    ASSERT_EQ(d.kind, Kind::Forward) << d.status;
    ASSERT_EQ(d.targets.size(), 1u);
    EXPECT_EQ(d.targets[0].request_uri, "sip:bob@10.0.0.5:5060");  // the Request-URI stays the contact
    EXPECT_EQ(d.targets[0].hop.host, "198.51.100.20");
    EXPECT_EQ(d.targets[0].hop.port, 40000);
    EXPECT_EQ(d.targets[0].hop.protocol, Protocol::Udp);
}

TEST_F(ProxyRouterTest, PublicContactIsReachedAtTheContact) {
    // Registered by another device on the phone's behalf: the contact is where the phone is.
    bind("bob@example.com", "sip:bob@198.51.100.30:5062", "udp:198.51.100.40:5060");
    const Decision d = route(Req{});
    ASSERT_EQ(d.kind, Kind::Forward) << d.status;
    ASSERT_EQ(d.targets.size(), 1u);
    EXPECT_EQ(d.targets[0].hop.host, "198.51.100.30");
    EXPECT_EQ(d.targets[0].hop.port, 5062);
}

TEST_F(ProxyRouterTest, PrivateContactFromAPrivateSourceIsReachedAtTheContact) {
    // The same LAN as ours: no NAT in between, the contact is right.
    bind("bob@example.com", "sip:bob@10.0.0.5:5062", "udp:10.0.0.9:5060");
    const Decision d = route(Req{});
    ASSERT_EQ(d.kind, Kind::Forward) << d.status;
    ASSERT_EQ(d.targets.size(), 1u);
    EXPECT_EQ(d.targets[0].hop.host, "10.0.0.5");
    EXPECT_EQ(d.targets[0].hop.port, 5062);
}

TEST_F(ProxyRouterTest, PathBecomesTheRouteSetAndTheNextHop) {
    // RFC 3327: registered through an edge proxy; requests go back through it.
    bind("bob@example.com", "sip:bob@10.0.0.5:5060", "udp:198.51.100.50:5060", 1000,
         "<sip:198.51.100.50:5070;lr>, <sip:edge2.example.net;lr>");
    const Decision d = route(Req{});
    ASSERT_EQ(d.kind, Kind::Forward) << d.status;
    ASSERT_EQ(d.targets.size(), 1u);
    EXPECT_EQ(d.targets[0].routes, (Strings{"<sip:198.51.100.50:5070;lr>", "<sip:edge2.example.net;lr>"}));
    EXPECT_EQ(d.targets[0].hop.host, "198.51.100.50");
    EXPECT_EQ(d.targets[0].hop.port, 5070);
    EXPECT_EQ(d.targets[0].request_uri, "sip:bob@10.0.0.5:5060");
}

TEST_F(ProxyRouterTest, PrivacyIdMeansNoAssertedIdentity) {
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060");
    const Decision d = route(Req{}.h("Privacy: id"));
    ASSERT_EQ(d.kind, Kind::Forward) << d.status;
    EXPECT_FALSE(d.asserted_identity);
    EXPECT_EQ(d.caller, "alice");

    const Decision listed = route(Req{}.h("Privacy: header;id"));
    ASSERT_EQ(listed.kind, Kind::Forward);
    EXPECT_FALSE(listed.asserted_identity);

    const Decision none = route(Req{}.h("Privacy: none"));
    ASSERT_EQ(none.kind, Kind::Forward);
    EXPECT_EQ(none.asserted_identity,
              std::optional<std::string>("\"Alice \\\"Al\\\" Liddell\" <sip:alice@example.com>"));

    const Decision plain = route(Req{}.as("bob").f("<sip:bob@example.com>;tag=b1").r("sip:201@example.com"));
    EXPECT_EQ(plain.status, 480);  // 201 has no binding; bob has no display name either way
    bind("201@example.com", "sip:201@198.51.100.22", "udp:198.51.100.22:5060");
    const Decision to201 = route(Req{}.as("bob").f("<sip:bob@example.com>;tag=b1").r("sip:201@example.com"));
    ASSERT_EQ(to201.kind, Kind::Forward);
    EXPECT_EQ(to201.asserted_identity, std::optional<std::string>("<sip:bob@example.com>"));
}

// The dialog token our Record-Route carries for the test requests' Call-ID (the router's default key).
std::string token() {
    return sw::proxy::route_token(sw::SipKey{}, "call-1@203.0.113.10");
}

TEST_F(ProxyRouterTest, InDialogRequestWithoutOurRouteIsForbidden) {
    // A To tag and no Route of ours: somebody using us as a relay for a dialog we never saw.
    const Decision d =
        route(Req{}.m("BYE").as("").r("sip:bob@198.51.100.20:5060").t("<sip:bob@example.com>;tag=b1"));
    EXPECT_EQ(d.kind, Kind::Reply);
    EXPECT_EQ(d.status, 403);
    // Somebody else's Route on top does not make it ours.
    const Decision other = route(Req{}
                                     .m("BYE")
                                     .as("")
                                     .r("sip:bob@198.51.100.20:5060")
                                     .t("<sip:bob@example.com>;tag=b1")
                                     .h("Route: <sip:198.51.100.99;lr>, <sip:192.0.2.1;lr>"));
    EXPECT_EQ(other.kind, Kind::Reply);
    EXPECT_EQ(other.status, 403);
}

TEST_F(ProxyRouterTest, InDialogRequestThroughOurRouteGoesToTheRequestUri) {
    const Decision d = route(Req{}
                                 .m("BYE")
                                 .as("")
                                 .r("sip:bob@198.51.100.20:5062")
                                 .t("<sip:bob@example.com>;tag=b1")
                                 .h("Route: <sip:192.0.2.1:5060;lr;sw=" + token() + ">"));
    ASSERT_EQ(d.kind, Kind::Forward) << d.status << " " << d.reason;
    EXPECT_TRUE(d.in_dialog);
    EXPECT_FALSE(d.record_route);
    EXPECT_TRUE(d.caller.empty());  // no credentials needed inside a dialog
    ASSERT_EQ(d.targets.size(), 1u);
    EXPECT_EQ(d.targets[0].request_uri, "sip:bob@198.51.100.20:5062");
    EXPECT_EQ(d.targets[0].hop.host, "198.51.100.20");
    EXPECT_EQ(d.targets[0].hop.port, 5062);
    EXPECT_EQ(d.targets[0].hop.protocol, Protocol::Udp);
}

TEST_F(ProxyRouterTest, InDialogRequestGoesToTheNextRouteWhenThereIsOne) {
    // RFC 3261 16.12: loose routing, the Request-URI stays; the next hop is the next Route.
    const Decision d = route(
        Req{}
            .m("BYE")
            .as("")
            .r("sip:bob@198.51.100.20:5062")
            .t("<sip:bob@example.com>;tag=b1")
            .h("Route: <sip:192.0.2.1;lr;sw=" + token() + ">, <sip:198.51.100.60:5080;transport=tcp;lr>"));
    ASSERT_EQ(d.kind, Kind::Forward) << d.status;
    ASSERT_EQ(d.targets.size(), 1u);
    EXPECT_EQ(d.targets[0].request_uri, "sip:bob@198.51.100.20:5062");
    EXPECT_EQ(d.targets[0].hop.host, "198.51.100.60");
    EXPECT_EQ(d.targets[0].hop.port, 5080);
    EXPECT_EQ(d.targets[0].hop.protocol, Protocol::Tcp);
}

TEST_F(ProxyRouterTest, InDialogRequestToANameHasNoRoute) {
    const Decision d = route(Req{}
                                 .m("BYE")
                                 .as("")
                                 .r("sip:bob@phone.example.net")
                                 .t("<sip:bob@example.com>;tag=b1")
                                 .h("Route: <sip:192.0.2.1;lr;sw=" + token() + ">"));
    EXPECT_EQ(d.kind, Kind::Reply);
    EXPECT_EQ(d.status, 503);
}

// RFC 3261 16.4: a strict router before us puts our Record-Route URI into the Request-URI and the remote
// target at the end of the Route set; the request is forwarded to the remote target.
TEST_F(ProxyRouterTest, InDialogRequestFromAStrictRouterIsForwarded) {
    const Decision d = route(Req{}
                                 .m("BYE")
                                 .as("")
                                 .r("sip:192.0.2.1:5060;lr;sw=" + token())
                                 .t("<sip:bob@example.com>;tag=b1")
                                 .h("Route: <sip:bob@198.51.100.20:5062>"));
    ASSERT_EQ(d.kind, Kind::Forward) << d.status << " " << d.reason;
    ASSERT_EQ(d.targets.size(), 1u);
    EXPECT_EQ(d.targets[0].request_uri, "sip:bob@198.51.100.20:5062");
    EXPECT_EQ(d.targets[0].hop.host, "198.51.100.20");
    EXPECT_EQ(d.targets[0].hop.port, 5062);
}

TEST_F(ProxyRouterTest, InDialogRequestWithAForgedTokenIsForbidden) {
    // Our address in a Route is not enough: without this dialog's token it is a relay attempt.
    for (const std::string route :
         {"<sip:192.0.2.1:5060;lr>", "<sip:192.0.2.1:5060;lr;sw=0123456789abcdef>"}) {
        const Decision d = this->route(Req{}
                                           .m("BYE")
                                           .as("")
                                           .r("sip:bob@198.51.100.20:5062")
                                           .t("<sip:bob@example.com>;tag=b1")
                                           .h("Route: " + route));
        EXPECT_EQ(d.kind, Kind::Reply) << route;
        EXPECT_EQ(d.status, 403) << route;
    }
}

TEST_F(ProxyRouterTest, RequestsForTheServerItselfAreLocal) {
    const Decision options = route(Req{}.m("OPTIONS").as("").r("sip:example.com"));
    EXPECT_EQ(options.kind, Kind::Local);
    const Decision by_address = route(Req{}.m("OPTIONS").as("").r("sip:192.0.2.1:5060"));
    EXPECT_EQ(by_address.kind, Kind::Local);
    // In a dialog, too, when the Request-URI is ours and there is no Route.
    const Decision in_dialog =
        route(Req{}.m("BYE").as("").r("sip:192.0.2.1:5060").t("<sip:bob@example.com>;tag=b1"));
    EXPECT_EQ(in_dialog.kind, Kind::Local);
}

TEST_F(ProxyRouterTest, MethodsThatOnlyExistInADialogOrAreNotRoutable) {
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060");
    EXPECT_EQ(route(Req{}.m("BYE")).status, 481);
    EXPECT_EQ(route(Req{}.m("UPDATE")).status, 481);
    const Decision reg = route(Req{}.m("REGISTER"));
    EXPECT_EQ(reg.kind, Kind::Reply);
    EXPECT_EQ(reg.status, 405);
    EXPECT_TRUE(sw::proxy::routable_method(sw::sip::Method::Invite));
    EXPECT_TRUE(sw::proxy::routable_method(sw::sip::Method::Message));
    EXPECT_FALSE(sw::proxy::routable_method(sw::sip::Method::Register));
    EXPECT_FALSE(sw::proxy::routable_method(sw::sip::Method::Ack));
    EXPECT_FALSE(sw::proxy::routable_method(sw::sip::Method::Cancel));
}

TEST_F(ProxyRouterTest, SerialForkingIsAConfigurationOfTheRouter) {
    RouterConfig config;
    config.serial_forking = true;
    const Router serial(self, auth, location, config);
    EXPECT_TRUE(serial.config().serial_forking);
    EXPECT_FALSE(router.config().serial_forking);
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060", 300);
    bind("bob@example.com", "sip:bob@198.51.100.21:5060", "udp:198.51.100.21:5060", 900);
    const Decision d = route(Req{}, serial);
    ASSERT_EQ(d.kind, Kind::Forward);
    EXPECT_EQ(request_uris(d), (Strings{"sip:bob@198.51.100.21:5060", "sip:bob@198.51.100.20:5060"}));
}

// ---- call forwarding and aliases ----

using sw::pbx::ForwardKind;

TEST_F(ProxyRouterTest, ForwardAlwaysFollowsTheChainAndRingsTheLastUser) {
    bind("carol@example.com", "sip:carol@198.51.100.30:5060", "udp:198.51.100.30:5060");
    forwards.emplace(std::vector<sw::pbx::ForwardRule>{{"bob", ForwardKind::Always, "201", 0},
                                                       {"201", ForwardKind::Always, "carol", 0},
                                                       {"carol", ForwardKind::Busy, "alice", 0}});
    const Decision d = route(Req{});
    ASSERT_EQ(d.kind, Kind::Forward) << d.status << " " << d.reason;
    EXPECT_EQ(request_uris(d), Strings{"sip:carol@198.51.100.30:5060"});
    ASSERT_EQ(d.forwards.size(), 2u);
    EXPECT_EQ(d.forwards[0].from, "bob");
    EXPECT_EQ(d.forwards[0].to, "201");
    EXPECT_EQ(d.forwards[1].from, "201");
    EXPECT_EQ(d.forwards[1].to, "carol");
    EXPECT_EQ(d.callee, "carol");
    EXPECT_EQ(d.visited, (Strings{"bob", "201", "carol"}));
    ASSERT_TRUE(d.callee_rules && d.callee_rules->busy);  // what may still happen at carol
    EXPECT_EQ(sw::proxy::history_info("bob", d.forwards, d.domain),
              "<sip:bob@example.com>;index=1, <sip:201@example.com;cause=302>;index=1.1;mp=1, "
              "<sip:carol@example.com;cause=302>;index=1.1.1;mp=1.1");
    EXPECT_EQ(sw::proxy::diversion(d.forwards, d.domain),
              "<sip:201@example.com>;reason=unconditional;counter=1, "
              "<sip:bob@example.com>;reason=unconditional;counter=1");
}

TEST_F(ProxyRouterTest, ForwardingLoopsAndLongChainsEndWith482) {
    forwards.emplace(std::vector<sw::pbx::ForwardRule>{{"bob", ForwardKind::Always, "carol", 0},
                                                       {"carol", ForwardKind::Always, "bob", 0}});
    const Decision d = route(Req{});
    EXPECT_EQ(d.kind, Kind::Reply);
    EXPECT_EQ(d.status, 482);
    EXPECT_EQ(d.forwards.size(), 1u);  // bob to carol was still a step the caller hears of
}

TEST_F(ProxyRouterTest, ForwardingToANumberGoesOutAsACallOfTheUserWhoForwards) {
    forwards.emplace(std::vector<sw::pbx::ForwardRule>{{"bob", ForwardKind::Always, "carol", 0},
                                                       {"carol", ForwardKind::Always, "+4930123456", 0}});
    const Decision d = route(Req{});
    ASSERT_EQ(d.kind, Kind::External) << d.status << " " << d.reason;
    EXPECT_EQ(d.callee, "+4930123456");
    EXPECT_EQ(d.caller, "carol");  // her rule sends it out: her calling rights and caller ID apply
    ASSERT_EQ(d.forwards.size(), 2u);
    EXPECT_EQ(d.forwards[1].from, "carol");
    EXPECT_EQ(d.forwards[1].to, "+4930123456");
    EXPECT_EQ(d.domain, "example.com");

    // After ringing (busy): the same, from retarget.
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060");
    forwards.emplace(std::vector<sw::pbx::ForwardRule>{{"bob", ForwardKind::Busy, "0301234567", 0}});
    const Decision first = route(Req{});
    ASSERT_EQ(first.kind, Kind::Forward);
    const Decision busy = router.retarget(first, ForwardKind::Busy, users, &*forwards, kNow);
    ASSERT_EQ(busy.kind, Kind::External) << busy.status;
    EXPECT_EQ(busy.callee, "0301234567");
    EXPECT_EQ(busy.caller, "bob");
    ASSERT_EQ(busy.forwards.size(), 1u);
    EXPECT_EQ(busy.forwards[0].kind, ForwardKind::Busy);
}

TEST_F(ProxyRouterTest, ForwardingToADisabledUserIs404) {
    forwards.emplace(std::vector<sw::pbx::ForwardRule>{{"bob", ForwardKind::Always, "dave", 0}});
    const Decision d = route(Req{});
    EXPECT_EQ(d.kind, Kind::Reply);
    EXPECT_EQ(d.status, 404);
}

TEST_F(ProxyRouterTest, UnavailableForwardingWhenTheCalleeHasNoBinding) {
    bind("carol@example.com", "sip:carol@198.51.100.30:5060", "udp:198.51.100.30:5060");
    forwards.emplace(std::vector<sw::pbx::ForwardRule>{{"bob", ForwardKind::Unavailable, "carol", 0}});
    const Decision d = route(Req{});
    ASSERT_EQ(d.kind, Kind::Forward) << d.status;
    ASSERT_EQ(d.forwards.size(), 1u);
    EXPECT_EQ(d.forwards[0].kind, ForwardKind::Unavailable);
    EXPECT_EQ(d.callee, "carol");
}

TEST_F(ProxyRouterTest, RetargetOnBusyGoesToTheBusyTargetAndNowhereElse) {
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060");
    bind("carol@example.com", "sip:carol@198.51.100.30:5060", "udp:198.51.100.30:5060");
    forwards.emplace(std::vector<sw::pbx::ForwardRule>{{"bob", ForwardKind::Busy, "carol", 0}});
    const Decision first = route(Req{});
    ASSERT_EQ(first.kind, Kind::Forward);
    EXPECT_EQ(request_uris(first), Strings{"sip:bob@198.51.100.20:5060"});
    const Decision busy = router.retarget(first, ForwardKind::Busy, users, &*forwards, kNow);
    ASSERT_EQ(busy.kind, Kind::Forward) << busy.status;
    EXPECT_EQ(request_uris(busy), Strings{"sip:carol@198.51.100.30:5060"});
    EXPECT_EQ(busy.caller, "alice");
    EXPECT_EQ(busy.asserted_identity, first.asserted_identity);
    const Decision none = router.retarget(first, ForwardKind::NoAnswer, users, &*forwards, kNow);
    EXPECT_EQ(none.kind, Kind::Reply);  // bob has no no-answer rule
}

TEST_F(ProxyRouterTest, AnAliasReachesItsUserAndMayBeItsFrom) {
    bind("bob@example.com", "sip:bob@198.51.100.20:5060", "udp:198.51.100.20:5060");
    aliases.emplace(std::vector<sw::pbx::Alias>{{"sales", "bob"}, {"front", "alice"}});
    const Decision to_alias = route(Req{}.r("sip:sales@example.com").t("<sip:sales@example.com>"));
    ASSERT_EQ(to_alias.kind, Kind::Forward) << to_alias.status;
    EXPECT_EQ(request_uris(to_alias), Strings{"sip:bob@198.51.100.20:5060"});
    const Decision as_alias = route(Req{}.f("<sip:front@example.com>;tag=a1"));
    EXPECT_EQ(as_alias.kind, Kind::Forward) << as_alias.status;
    // Somebody else's alias is still a forged From.
    const Decision other = route(Req{}.f("<sip:sales@example.com>;tag=a1"));
    EXPECT_EQ(other.kind, Kind::Reply);
    EXPECT_EQ(other.status, 403);
}
