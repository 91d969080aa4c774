// What the stateful proxy sends (RFC 3261 16.6, 16.7, 9.1): next hops, the copy of a request for a
// branch, the CANCEL of a branch, the response for the previous hop, and loop detection.
#include "proxy/forward.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/route_set.hpp"
#include "sip/builder.hpp"
#include "sip/message.hpp"

using sw::proxy::branch_id;
using sw::proxy::BranchSpec;
using sw::proxy::build_branch_request;
using sw::proxy::build_cancel;
using sw::proxy::hop_for_uri;
using sw::proxy::hop_from_source;
using sw::proxy::list_values;
using sw::proxy::loop_hash;
using sw::proxy::looped;
using sw::proxy::NextHop;
using sw::proxy::response_for_upstream;
using sw::sip::HeaderId;
using sw::sip::Message;
using sw::transport::Protocol;
using Strings = std::vector<std::string>;

namespace {

constexpr std::uint64_t kK0 = 0x0706050403020100ull;
constexpr std::uint64_t kK1 = 0x0f0e0d0c0b0a0908ull;
constexpr std::string_view kSdp =
    "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n";

Message parse(std::string_view text) {
    auto m = Message::parse(text);
    EXPECT_TRUE(m.has_value()) << (m ? std::string_view{} : m.error().reason) << "\n" << text;
    return std::move(m).value();
}

std::optional<NextHop> hop(std::string_view uri) {
    auto u = sw::sip::parse_uri(uri);
    EXPECT_TRUE(u.has_value()) << uri;
    if (!u) return std::nullopt;
    return hop_for_uri(*u);
}

// An INVITE as a phone sends it, with `extra` header lines (CRLF included) before the body.
std::string invite(std::string_view ruri = "sip:bob@example.com", std::string_view extra = {},
                   std::string_view max_forwards = "Max-Forwards: 70\r\n") {
    std::string t = "INVITE " + std::string(ruri) + " SIP/2.0\r\n";
    t += "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-caller1;rport\r\n";
    t += std::string(max_forwards);
    t += "From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n";
    t += "To: <sip:bob@example.com>\r\n";
    t += "Call-ID: call-1@192.0.2.10\r\n";
    t += "CSeq: 7 INVITE\r\n";
    t += "Contact: <sip:alice@192.0.2.10:5060>\r\n";
    t += std::string(extra);
    t += "Content-Type: application/sdp\r\n";
    t += "Content-Length: " + std::to_string(kSdp.size()) + "\r\n\r\n";
    t += std::string(kSdp);
    return t;
}

constexpr std::string_view kOurVia = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK00000000000000aa.1;rport";

BranchSpec spec() {
    BranchSpec s;
    s.request_uri = "sip:bob@192.0.2.20:5062";
    s.via = std::string(kOurVia);
    return s;
}

std::vector<std::string> values(const Message& m, HeaderId id) {
    std::vector<std::string> out;
    for (auto v : m.values(id))
        out.emplace_back(v);
    return out;
}

}  // namespace

// ---- next hops ----

TEST(ProxyForwardTest, HopForUriTakesAnIpLiteralAndDefaultPort) {
    auto h = hop("sip:bob@192.0.2.20");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->protocol, Protocol::Udp);
    EXPECT_EQ(h->host, "192.0.2.20");
    EXPECT_EQ(h->port, 5060);
    EXPECT_EQ(h->connection, 0u);

    h = hop("sip:bob@192.0.2.20:5070;transport=udp");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->protocol, Protocol::Udp);
    EXPECT_EQ(h->port, 5070);

    h = hop("sip:bob@[2001:db8::20]:5080;lr");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->host, "2001:db8::20");  // no brackets
    EXPECT_EQ(h->port, 5080);
    EXPECT_EQ(h->protocol, Protocol::Udp);
}

TEST(ProxyForwardTest, HopForUriFollowsTheTransportParameter) {
    auto h = hop("sip:bob@192.0.2.20:5070;transport=TCP");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->protocol, Protocol::Tcp);
    EXPECT_EQ(h->port, 5070);

    h = hop("sip:192.0.2.20;transport=tcp;lr");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->protocol, Protocol::Tcp);
    EXPECT_EQ(h->port, 5060);

    h = hop("sip:bob@192.0.2.20;transport=tls");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->protocol, Protocol::Tls);
    EXPECT_EQ(h->port, 5061);
}

TEST(ProxyForwardTest, HopForSipsIsTlsOn5061) {
    auto h = hop("sips:bob@192.0.2.20");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->protocol, Protocol::Tls);
    EXPECT_EQ(h->port, 5061);

    h = hop("sips:bob@192.0.2.20:6000");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->protocol, Protocol::Tls);
    EXPECT_EQ(h->port, 6000);
}

TEST(ProxyForwardTest, HopForUriRefusesNamesAndUnknownTransports) {
    EXPECT_FALSE(hop("sip:bob@phone.example.com"));  // no resolver yet
    EXPECT_FALSE(hop("sip:bob@example.com:5060;transport=udp"));
    EXPECT_FALSE(hop("sip:bob@192.0.2.20;transport=sctp"));
    EXPECT_FALSE(hop("sip:bob@192.0.2.20;transport=ws"));
    EXPECT_FALSE(hop("tel:+12015550123"));
}

TEST(ProxyForwardTest, HopFromSourceKeepsTheConnection) {
    auto h = hop_from_source("udp:198.51.100.20:40000", 0);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->protocol, Protocol::Udp);
    EXPECT_EQ(h->host, "198.51.100.20");
    EXPECT_EQ(h->port, 40000);
    EXPECT_EQ(h->connection, 0u);

    h = hop_from_source("tcp:198.51.100.21:5062", 17);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->protocol, Protocol::Tcp);
    EXPECT_EQ(h->connection, 17u);

    h = hop_from_source("tls:[2001:db8::1]:40001", 42);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->protocol, Protocol::Tls);
    EXPECT_EQ(h->host, "2001:db8::1");
    EXPECT_EQ(h->port, 40001);
    EXPECT_EQ(h->connection, 42u);

    EXPECT_FALSE(hop_from_source("", 0));
    EXPECT_FALSE(hop_from_source("sctp:198.51.100.20:5060", 0));
    EXPECT_FALSE(hop_from_source("udp:phone.example.com:5060", 0));
    EXPECT_FALSE(hop_from_source("udp:198.51.100.20", 0));
}

// ---- the request of a branch ----

TEST(ProxyForwardTest, BranchRequestRewritesTheRequestLineViaAndMaxForwards) {
    const Message in = parse(invite());
    const std::string out = build_branch_request(in, spec());
    ASSERT_FALSE(out.empty());
    const Message m = parse(out);
    EXPECT_TRUE(m.is_request());
    EXPECT_EQ(m.method(), "INVITE");
    EXPECT_EQ(m.request_uri().raw, "sip:bob@192.0.2.20:5062");  // RFC 3261 16.6 step 2
    EXPECT_EQ(m.max_forwards(), std::optional<int>(69));        // step 3
    ASSERT_EQ(m.vias().size(), 2u);                             // step 8: ours on top
    EXPECT_EQ(m.vias()[0].host, "192.0.2.1");
    EXPECT_EQ(m.vias()[0].branch, "z9hG4bK00000000000000aa.1");
    EXPECT_EQ(m.vias()[1].branch, "z9hG4bK-caller1");
    EXPECT_EQ(m.call_id(), "call-1@192.0.2.10");
    EXPECT_EQ(m.cseq().number, 7u);
    EXPECT_EQ(m.from().tag, "a1");
    EXPECT_EQ(m.header(HeaderId::To), "<sip:bob@example.com>");
    EXPECT_EQ(m.body(), kSdp);  // the body goes as it came
    EXPECT_EQ(m.header(HeaderId::ContentLength), std::to_string(kSdp.size()));
    // The server's copy is untouched.
    EXPECT_EQ(in.request_uri().raw, "sip:bob@example.com");
    EXPECT_EQ(in.max_forwards(), std::optional<int>(70));
    EXPECT_EQ(in.vias().size(), 1u);
}

// The branch request as the proxy used to build it: a parsed copy of the request, edited with Message's
// own operations and serialised. build_branch_request writes the same bytes in one pass.
std::string edited_copy(const Message& request, const BranchSpec& spec) {
    auto copy = Message::parse(request.serialize());
    if (!copy) return {};
    Message& m = *copy;
    m.set_request_uri(spec.request_uri);
    const auto mf = m.max_forwards();
    m.set_max_forwards(mf ? *mf - 1 : 70);
    if (!spec.routes.empty()) {
        Strings routes = spec.routes;
        for (auto& r : list_values(m, HeaderId::Route))
            routes.push_back(std::move(r));
        sw::proxy::set_routes(m, routes);
    }
    if (!spec.record_routes.empty()) {
        Strings rr = spec.record_routes;
        for (auto& r : list_values(m, HeaderId::RecordRoute))
            rr.push_back(std::move(r));
        std::string joined;
        for (const auto& v : rr)
            joined.append(joined.empty() ? "" : ", ").append(v);
        m.remove_headers(HeaderId::RecordRoute);
        m.add_header("Record-Route", joined);
    }
    if (!spec.keep_asserted_identity) {
        m.remove_headers("P-Asserted-Identity");
        if (spec.asserted_identity) m.add_header("P-Asserted-Identity", *spec.asserted_identity);
    }
    for (const auto& [name, value] : spec.extra_headers)
        m.add_header(name, value);
    (void)m.push_via(spec.via);
    return m.serialize();
}

TEST(ProxyForwardTest, BranchRequestIsByteForByteTheEditedCopy) {
    // Requests with what the edits touch in every shape: compact and comma-list Vias, Max-Forwards
    // absent, twice or not first, Routes and Record-Routes over several fields, a folded header,
    // P-Asserted-Identity twice, a body or none; and requests the proxy has itself edited (a Via with
    // received, a Route popped), whose fields no longer point into the datagram.
    const std::vector<std::string> requests = {
        invite(),
        "INVITE sip:bob@example.com SIP/2.0\r\nv: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-a, SIP/2.0/UDP "
        "10.0.0.1;branch=z9hG4bK-b\r\nMax-Forwards: 9\r\nf: <sip:alice@example.com>;tag=a1\r\nt: "
        "<sip:bob@example.com>\r\ni: c2@x\r\nCSeq: 1 INVITE\r\nRoute: <sip:p1.example.net;lr>, "
        "<sip:p2.example.net;lr>\r\nSubject: a long\r\n  folded subject\r\nRoute: "
        "<sip:p3.example.net;lr>\r\nRecord-Route: <sip:rr1.example.net;lr>\r\nRecord-Route: "
        "<sip:rr2.example.net;lr>, <sip:rr3.example.net;lr>\r\nP-Asserted-Identity: "
        "<sip:alice@example.com>\r\nP-Asserted-Identity: <tel:+4930123>\r\nl: 0\r\n\r\n",
        "OPTIONS sip:bob@example.com SIP/2.0\r\nFrom: <sip:alice@example.com>;tag=o\r\nTo: "
        "<sip:bob@example.com>\r\nVia: SIP/2.0/TCP 192.0.2.11:5070;branch=z9hG4bK-o\r\nCall-ID: o@x\r\n"
        "CSeq: 2 OPTIONS\r\nMax-Forwards: 3\r\nVia: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-o2\r\n"
        "Content-Length: 0\r\n\r\n",
        // Max-Forwards: 0 (answered 483 before a branch is made; still never written as -1).
        "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP host1.example.com;branch=z9hG4bK-z\r\n"
        "Max-Forwards:   0\r\nTo: <sip:bob@example.com>\r\nFrom: <sip:a@example.net>;tag=z\r\nCall-ID: "
        "z@x\r\n"
        "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        "MESSAGE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.12;branch=z9hG4bK-m\r\nFrom: "
        "<sip:alice@example.com>;tag=m\r\nTo: <sip:bob@example.com>\r\nCall-ID: m@x\r\nCSeq: 3 "
        "MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
    };
    std::vector<BranchSpec> specs;
    for (int shape = 0; shape < 16; ++shape) {
        BranchSpec s = spec();
        if (shape & 1) s.routes = {"<sip:edge.example.net;lr>", "<sip:edge2.example.net;lr>"};
        if (shape & 2) s.record_routes = {"<sip:192.0.2.1;lr;sw=abc>", "<sip:[2001:db8::1];lr;sw=abc>"};
        if (shape & 4) s.keep_asserted_identity = true;
        if (shape & 8) {
            s.asserted_identity = "<sip:alice@example.com>";
            s.extra_headers = {{"History-Info", "<sip:bob@example.com>;index=1"},
                               {"Diversion", "<sip:bob@x>"}};
        }
        specs.push_back(s);
    }
    BranchSpec bad_uri = spec();
    bad_uri.request_uri = "sip:bob@exa mple.com";  // does not parse: the request's own stays
    specs.push_back(bad_uri);
    int compared = 0;
    for (const auto& text : requests) {
        for (bool edited : {false, true}) {
            Message in = parse(text);
            if (edited) {
                const std::string via = sw::sip::via_with_received(in.top_via(), "198.51.100.7", 40001);
                in.pop_via();
                ASSERT_TRUE(in.push_via(via));
                auto routes = list_values(in, HeaderId::Route);
                if (!routes.empty()) routes.erase(routes.begin());
                sw::proxy::set_routes(in, routes);
            }
            for (const auto& s : specs) {
                SCOPED_TRACE(text.substr(0, 40) + (edited ? " (edited)" : ""));
                const std::string want = edited_copy(in, s);
                ASSERT_FALSE(want.empty());
                EXPECT_EQ(build_branch_request(in, s), want);
                ++compared;
            }
        }
    }
    EXPECT_EQ(compared, 5 * 2 * 17);
}

TEST(ProxyForwardTest, BranchRequestAddsMaxForwardsWhenAbsent) {
    const Message in = parse(invite("sip:bob@example.com", {}, {}));
    ASSERT_FALSE(in.max_forwards());
    const Message m = parse(build_branch_request(in, spec()));
    EXPECT_EQ(m.max_forwards(), std::optional<int>(70));  // RFC 3261 16.6 step 3

    const Message low = parse(invite("sip:bob@example.com", {}, "Max-Forwards: 1\r\n"));
    EXPECT_EQ(parse(build_branch_request(low, spec())).max_forwards(), std::optional<int>(0));
}

TEST(ProxyForwardTest, BranchRequestPutsOurRecordRoutesAboveExistingOnes) {
    const Message in = parse(invite(
        "sip:bob@example.com", "Record-Route: <sip:edge.example.net;lr>, <sip:core.example.net;lr>\r\n"));
    BranchSpec s = spec();
    s.record_routes = {"<sip:192.0.2.1:5060;lr>", "<sip:192.0.2.1:5060;transport=tcp;lr>"};
    const Message m = parse(build_branch_request(in, s));
    EXPECT_EQ(list_values(m, HeaderId::RecordRoute),
              (Strings{"<sip:192.0.2.1:5060;lr>", "<sip:192.0.2.1:5060;transport=tcp;lr>",
                       "<sip:edge.example.net;lr>", "<sip:core.example.net;lr>"}));

    // None to add: what came stays as it was.
    const Message untouched = parse(build_branch_request(in, spec()));
    EXPECT_EQ(list_values(untouched, HeaderId::RecordRoute),
              (Strings{"<sip:edge.example.net;lr>", "<sip:core.example.net;lr>"}));

    // The first Record-Route of a dialog.
    const Message fresh = parse(invite());
    EXPECT_EQ(list_values(parse(build_branch_request(fresh, s)), HeaderId::RecordRoute),
              (Strings{"<sip:192.0.2.1:5060;lr>", "<sip:192.0.2.1:5060;transport=tcp;lr>"}));
}

TEST(ProxyForwardTest, BranchRequestReplacesOrRemovesTheAssertedIdentity) {
    const Message in = parse(invite("sip:bob@example.com",
                                    "P-Asserted-Identity: <sip:boss@example.com>\r\n"
                                    "P-Asserted-Identity: <tel:+12015550100>\r\n"));
    BranchSpec s = spec();
    s.asserted_identity = "\"Alice\" <sip:alice@example.com>";
    const Message replaced = parse(build_branch_request(in, s));
    EXPECT_EQ(values(replaced, HeaderId::PAssertedIdentity), Strings{"\"Alice\" <sip:alice@example.com>"});

    s.asserted_identity.reset();  // Privacy: id, or nobody authenticated
    const Message removed = parse(build_branch_request(in, s));
    EXPECT_EQ(removed.find(HeaderId::PAssertedIdentity), nullptr);

    s.keep_asserted_identity = true;
    s.asserted_identity = "<sip:ignored@example.com>";
    const Message kept = parse(build_branch_request(in, s));
    EXPECT_EQ(values(kept, HeaderId::PAssertedIdentity),
              (Strings{"<sip:boss@example.com>", "<tel:+12015550100>"}));

    // Added when the caller sent none.
    s = spec();
    s.asserted_identity = "<sip:alice@example.com>";
    EXPECT_EQ(values(parse(build_branch_request(parse(invite()), s)), HeaderId::PAssertedIdentity),
              Strings{"<sip:alice@example.com>"});
}

TEST(ProxyForwardTest, BranchRequestPutsPreloadedRoutesOnTop) {
    const Message in = parse(invite("sip:bob@example.com", "Route: <sip:p2.example.net;lr>\r\n"));
    BranchSpec s = spec();
    s.routes = {"<sip:edge1.example.net;lr>", "<sip:edge2.example.net;lr;ob>"};
    const Message m = parse(build_branch_request(in, s));
    EXPECT_EQ(
        list_values(m, HeaderId::Route),
        (Strings{"<sip:edge1.example.net;lr>", "<sip:edge2.example.net;lr;ob>", "<sip:p2.example.net;lr>"}));

    // No pre-loaded routes: the request's own Route set is left as it is.
    EXPECT_EQ(list_values(parse(build_branch_request(in, spec())), HeaderId::Route),
              Strings{"<sip:p2.example.net;lr>"});
    EXPECT_FALSE(parse(build_branch_request(parse(invite()), spec())).has(HeaderId::Route));
}

TEST(ProxyForwardTest, BranchRequestAddsExtraHeaders) {
    BranchSpec s = spec();
    s.extra_headers = {{"Reason", "SIP;cause=302"}, {"X-Branch", "2"}};
    const Message m = parse(build_branch_request(parse(invite()), s));
    EXPECT_EQ(m.header(HeaderId::Reason), "SIP;cause=302");
    ASSERT_NE(m.find("X-Branch"), nullptr);
    EXPECT_EQ(m.find("X-Branch")->value, "2");
}

// ---- CANCEL ----

TEST(ProxyForwardTest, CancelMatchesTheBranchRequest) {
    BranchSpec s = spec();
    s.routes = {"<sip:edge1.example.net;lr>"};
    s.record_routes = {"<sip:192.0.2.1:5060;lr>"};
    const Message branch = parse(build_branch_request(parse(invite()), s));
    const Message c = parse(build_cancel(branch));
    EXPECT_EQ(c.method(), "CANCEL");
    EXPECT_EQ(c.method_id(), sw::sip::Method::Cancel);
    // RFC 3261 9.1: the same Request-URI, Call-ID, To, From, CSeq number and the one top Via.
    EXPECT_EQ(c.request_uri().raw, "sip:bob@192.0.2.20:5062");
    ASSERT_EQ(c.vias().size(), 1u);
    EXPECT_EQ(c.vias()[0].branch, "z9hG4bK00000000000000aa.1");
    EXPECT_EQ(c.vias()[0].host, "192.0.2.1");
    EXPECT_EQ(c.call_id(), "call-1@192.0.2.10");
    EXPECT_EQ(c.cseq().number, 7u);
    EXPECT_EQ(c.cseq().method, "CANCEL");
    EXPECT_EQ(c.header(HeaderId::From), branch.header(HeaderId::From));
    EXPECT_EQ(c.header(HeaderId::To), branch.header(HeaderId::To));
    EXPECT_EQ(c.max_forwards(), std::optional<int>(70));
    // The Route set of the request it cancels (RFC 3261 9.1), and nothing of its body.
    EXPECT_EQ(list_values(c, HeaderId::Route), list_values(branch, HeaderId::Route));
    EXPECT_EQ(list_values(c, HeaderId::Route), Strings{"<sip:edge1.example.net;lr>"});
    EXPECT_FALSE(c.has(HeaderId::RecordRoute));
    EXPECT_TRUE(c.body().empty());
}

TEST(ProxyForwardTest, CancelTakesOnlyTheTopViaOfACommaList) {
    const Message branch = parse(
        "INVITE sip:bob@192.0.2.20 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKours.3, SIP/2.0/UDP "
        "192.0.2.10;branch=z9hG4bK-caller\r\n"
        "Max-Forwards: 69\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n"
        "Call-ID: c2@192.0.2.10\r\nCSeq: 4711 INVITE\r\n"
        "Route: <sip:r1.example.net;lr>\r\nRoute: <sip:r2.example.net;lr>\r\nContent-Length: 0\r\n\r\n");
    const Message c = parse(build_cancel(branch));
    ASSERT_EQ(c.vias().size(), 1u);
    EXPECT_EQ(c.vias()[0].branch, "z9hG4bKours.3");
    EXPECT_EQ(c.cseq().number, 4711u);
    EXPECT_EQ(c.cseq().method, "CANCEL");
    EXPECT_EQ(list_values(c, HeaderId::Route),
              (Strings{"<sip:r1.example.net;lr>", "<sip:r2.example.net;lr>"}));
}

// ---- responses ----

TEST(ProxyForwardTest, ResponseForUpstreamPopsOurVia) {
    Message r = parse(
        "SIP/2.0 180 Ringing\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK00000000000000aa.1;rport=5060\r\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-caller1;rport=5060;received=198.51.100.10\r\n"
        "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>;tag=b1\r\n"
        "Call-ID: call-1@192.0.2.10\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n");
    auto up = response_for_upstream(r);
    ASSERT_TRUE(up);
    const Message m = parse(*up);
    EXPECT_EQ(m.status(), 180);
    ASSERT_EQ(m.vias().size(), 1u);
    EXPECT_EQ(m.vias()[0].branch, "z9hG4bK-caller1");
    EXPECT_EQ(m.vias()[0].received, "198.51.100.10");
    EXPECT_EQ(m.header(HeaderId::To), "<sip:bob@example.com>;tag=b1");
}

TEST(ProxyForwardTest, ResponseForUpstreamPopsOurViaFromACommaList) {
    Message r = parse(
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKours.1, SIP/2.0/TCP 192.0.2.30;branch=z9hG4bK-mid\r\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-caller1\r\n"
        "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>;tag=b1\r\n"
        "Call-ID: call-1@192.0.2.10\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n");
    auto up = response_for_upstream(r);
    ASSERT_TRUE(up);
    const Message m = parse(*up);
    ASSERT_EQ(m.vias().size(), 2u);
    EXPECT_EQ(m.vias()[0].branch, "z9hG4bK-mid");
    EXPECT_EQ(m.vias()[1].branch, "z9hG4bK-caller1");
}

TEST(ProxyForwardTest, ResponseWithOneViaIsNotForwarded) {
    Message r = parse(
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK00000000000000aa.1\r\n"
        "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>;tag=b1\r\n"
        "Call-ID: call-1@192.0.2.10\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n");
    EXPECT_FALSE(response_for_upstream(r));
    EXPECT_EQ(r.vias().size(), 1u);  // and left as it was
}

// ---- loops and spirals ----

TEST(ProxyForwardTest, BranchIdCarriesTheMagicCookieThePrefixAndTheNumber) {
    EXPECT_EQ(branch_id(0x1234, 'A', 5), "z9hG4bK0000000000001234.A5");
    EXPECT_EQ(branch_id(0xfedcba9876543210ull, '-', 0), "z9hG4bKfedcba9876543210.-0");
}

TEST(ProxyForwardTest, LoopHashIsStableAndKeyed) {
    const Message a = parse(invite());
    const Message b = parse(invite());
    EXPECT_EQ(loop_hash(a, kK0, kK1), loop_hash(b, kK0, kK1));
    EXPECT_NE(loop_hash(a, kK0, kK1), loop_hash(a, kK0 + 1, kK1));
    // Another transaction of the dialog is another request.
    std::string other = invite();
    other.replace(other.find("CSeq: 7"), 7, "CSeq: 8");
    EXPECT_NE(loop_hash(parse(other), kK0, kK1), loop_hash(a, kK0, kK1));
}

TEST(ProxyForwardTest, SpiralHasAnotherHashAndIsNoLoop) {
    // We forwarded sip:bob@example.com; it comes back, through us, with a retargeted Request-URI.
    const Message first = parse(invite("sip:bob@example.com"));
    const std::uint64_t h1 = loop_hash(first, kK0, kK1);
    BranchSpec s = spec();
    s.request_uri = "sip:bob-mobile@example.com";
    s.via = "SIP/2.0/UDP 192.0.2.1:5060;branch=" + branch_id(h1, 'B', 1);
    const Message back = parse(build_branch_request(first, s));
    const std::uint64_t h2 = loop_hash(back, kK0, kK1);
    EXPECT_NE(h1, h2);
    EXPECT_FALSE(looped(back, h2));
    EXPECT_FALSE(looped(first, h1));
}

TEST(ProxyForwardTest, LoopFindsOurBranchPrefix) {
    // The same request comes back unchanged but for Max-Forwards and the Vias on top of ours.
    const Message first = parse(invite("sip:bob@example.com"));
    const std::uint64_t h = loop_hash(first, kK0, kK1);
    BranchSpec s = spec();
    s.request_uri = "sip:bob@example.com";
    s.via = "SIP/2.0/UDP 192.0.2.1:5060;branch=" + branch_id(h, 'C', 9);
    const Message out = parse(build_branch_request(first, s));
    BranchSpec s2 = spec();
    s2.request_uri = "sip:bob@example.com";
    s2.via = "SIP/2.0/UDP 198.51.100.99:5060;branch=z9hG4bK-elsewhere";
    const Message back = parse(build_branch_request(out, s2));
    ASSERT_EQ(back.vias().size(), 3u);
    EXPECT_EQ(loop_hash(back, kK0, kK1), h);
    EXPECT_TRUE(looped(back, h));
    EXPECT_FALSE(looped(back, h ^ 1));  // another request's hash
}
