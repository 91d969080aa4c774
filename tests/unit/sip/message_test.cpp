#include <gtest/gtest.h>

#include "sip/message.hpp"

using namespace sw::sip;

namespace {

const std::string kInvite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
    "X-Custom:  kept   verbatim \r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

Message parse(const std::string& s, ParseOptions o = {}) {
    auto m = Message::parse(s, o);
    EXPECT_TRUE(m.has_value()) << (m ? std::string_view{} : m.error().reason);
    return std::move(m).value();
}

}  // namespace

TEST(Message, TypedAccessToMandatoryHeaders) {
    auto m = parse(kInvite);
    EXPECT_TRUE(m.is_request());
    EXPECT_EQ(m.method_id(), Method::Invite);
    EXPECT_EQ(m.request_uri().user, "bob");
    EXPECT_EQ(m.top_via().branch, "z9hG4bK776asdhds");
    EXPECT_TRUE(m.top_via().has_rport);
    EXPECT_EQ(m.max_forwards(), 70);
    EXPECT_EQ(m.to().display(), "Bob");
    EXPECT_FALSE(m.to().has_tag);
    EXPECT_EQ(m.from().tag, "1928301774");
    EXPECT_EQ(m.call_id(), "a84b4c76e66710@pc33.atlanta.example.com");
    EXPECT_EQ(m.cseq().number, 314159u);
    EXPECT_EQ(m.body(), "v=0\n");
    EXPECT_EQ(m.find("x-custom")->value, "kept   verbatim");
    EXPECT_EQ(m.find("X-Custom")->raw, "X-Custom:  kept   verbatim ");
    auto routes = m.addresses(HeaderId::Route);
    ASSERT_TRUE(routes.has_value());
    ASSERT_EQ(routes->size(), 2u);
    EXPECT_EQ(routes->at(1).uri.host, "p2.example.com");
    EXPECT_EQ(m.serialize(), kInvite);
}

TEST(Message, CompactFormsFoldingAndBareLf) {
    const std::string s =
        "\r\n\r\nOPTIONS sip:x@y SIP/2.0\n"
        "v: SIP/2.0/TCP a.example;branch=z9hG4bK1,\n"
        "  SIP/2.0/UDP b.example;branch=z9hG4bK2\n"
        "f: <sip:a@y>;tag=1\n"
        "t: <sip:x@y>\n"
        "i: abc\n"
        "CSeq: 1\n"
        "\tOPTIONS\n"
        "l: 0\n"
        "\n";
    auto m = parse(s);
    EXPECT_EQ(m.vias().size(), 2u);
    EXPECT_EQ(m.vias()[1].branch, "z9hG4bK2");
    EXPECT_EQ(m.cseq().method, "OPTIONS");
    EXPECT_EQ(m.call_id(), "abc");
    EXPECT_EQ(m.find(HeaderId::Via)->name, "v");
}

TEST(Message, Response) {
    auto m = parse(
        "SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nFrom: <sip:a@b>;tag=1\r\n"
        "To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 5 INVITE\r\nContent-Length: 0\r\n\r\n");
    EXPECT_TRUE(m.is_response());
    EXPECT_EQ(m.status(), 486);
    EXPECT_EQ(m.reason(), "Busy Here");
    EXPECT_EQ(m.cseq().method, "INVITE");
}

TEST(Message, RejectionsNameTheFault) {
    auto reason = [](const std::string& s, ParseOptions o = {}) {
        auto m = Message::parse(s, o);
        return m ? std::string("ok") : std::to_string(m.error().status) + " " + std::string(m.error().reason);
    };
    const std::string head = "OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\n";
    const std::string rest = "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 5 OPTIONS\r\n";
    EXPECT_EQ(reason(head + rest + "\r\n"), "ok");
    EXPECT_EQ(reason(head + rest), "400 Bad Request - Headers not terminated");
    EXPECT_EQ(reason(head + rest + "Max-Forwards: 256\r\n\r\n"), "400 Bad Request - Invalid Max-Forwards");
    EXPECT_EQ(reason(head + rest + "Bad Header: x\r\n\r\n"), "400 Bad Request - Invalid header name");
    EXPECT_EQ(reason(head + rest + "X: a\rb\r\n\r\n"), "400 Bad Request - Bare CR in header");
    EXPECT_EQ(reason(head + rest + "\r\n", ParseOptions{65536, true}),
              "400 Bad Request - Missing Content-Length");
    EXPECT_EQ(reason(head + rest + "Content-Length: 5\r\n\r\nabc"),
              "400 Bad Request - Content-Length larger than body");
    EXPECT_EQ(reason("OPTIONS sip:x@y SIP/2.0\r\n" + rest + "\r\n"), "400 Bad Request - Missing Via");
    EXPECT_EQ(reason(head + "To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 5 OPTIONS\r\n\r\n"),
              "400 Bad Request - Missing From");
    EXPECT_EQ(reason("OPTIONS sip:x@y SIP/3.0\r\n\r\n"), "505 Version Not Supported");
    EXPECT_EQ(reason("OPTIONS sip:x@y HTTP/1.1\r\n\r\n"), "400 Bad Request - Invalid SIP version");
    EXPECT_EQ(reason("SIP/2.0 99 Low\r\n\r\n"), "400 Bad Request - Invalid status code");
    EXPECT_EQ(reason("SIP/2.0 700 High\r\n\r\n"), "400 Bad Request - Invalid status code");
    EXPECT_EQ(reason(""), "400 Bad Request - Empty message");
    EXPECT_EQ(reason("\r\n\r\n"), "400 Bad Request - Empty message");
    EXPECT_EQ(reason("INVITE"), "400 Bad Request - Truncated message");
    EXPECT_EQ(reason(" folded\r\n" + head + rest + "\r\n"), "400 Bad Request - Invalid request line");
    EXPECT_EQ(reason(std::string(70000, 'A')), "513 Message Too Large");
    EXPECT_EQ(reason(head + rest + "\r\n", ParseOptions{100, false}), "513 Message Too Large");
}

TEST(Message, EditingKeepsUnchangedBytesAndReparses) {
    auto m = parse(kInvite);
    ASSERT_TRUE(m.push_via("SIP/2.0/TCP proxy.example.com:5060;branch=z9hG4bKproxy1").has_value());
    EXPECT_FALSE(m.push_via("not a via").has_value());
    EXPECT_EQ(m.top_via().host, "proxy.example.com");
    m.set_max_forwards(69);
    EXPECT_EQ(m.max_forwards(), 69);
    m.set_request_uri("sip:bob@192.0.2.4:5062;transport=tcp");
    EXPECT_EQ(m.request_uri().port, 5062);
    EXPECT_EQ(m.remove_headers("X-Custom"), 1u);
    EXPECT_EQ(m.remove_headers(HeaderId::From), 0u);  // mandatory: refused
    m.add_header("Record-Route", "<sip:proxy.example.com;lr>");
    EXPECT_TRUE(m.modified());

    const std::string out = m.serialize();
    EXPECT_EQ(out.find("X-Custom"), std::string::npos);
    EXPECT_EQ(out.rfind("INVITE sip:bob@192.0.2.4:5062;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP proxy", 0),
              0u);
    // Unchanged fields are written as they came.
    EXPECT_NE(out.find("\r\nFrom: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"),
              std::string::npos);

    auto again = Message::parse(out);
    ASSERT_TRUE(again.has_value());
    ASSERT_EQ(again->vias().size(), 2u);
    EXPECT_EQ(again->vias()[0].branch, "z9hG4bKproxy1");
    EXPECT_EQ(again->vias()[1].branch, "z9hG4bK776asdhds");
    EXPECT_EQ(again->max_forwards(), 69);
    EXPECT_EQ(again->addresses(HeaderId::RecordRoute)->size(), 1u);
    EXPECT_EQ(again->body(), "v=0\n");

    // A proxy forwarding the response removes its own Via again.
    again->pop_via();
    EXPECT_EQ(again->vias().size(), 1u);
    auto third = Message::parse(again->serialize());
    ASSERT_TRUE(third.has_value());
    EXPECT_EQ(third->top_via().branch, "z9hG4bK776asdhds");
}

TEST(Message, PopViaFromACommaList) {
    auto m = parse(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\n"
        "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 5 INVITE\r\nContent-Length: "
        "0\r\n\r\n");
    m.pop_via();
    auto again = Message::parse(m.serialize());
    ASSERT_TRUE(again.has_value());
    ASSERT_EQ(again->vias().size(), 1u);
    EXPECT_EQ(again->top_via().host, "b");
}

TEST(Message, SetHeaderValidatesMandatoryHeadersAndSetBody) {
    auto m = parse(kInvite);
    EXPECT_FALSE(m.set_header("CSeq", "nonsense").has_value());
    EXPECT_EQ(m.cseq().number, 314159u);  // unchanged after a refused edit
    ASSERT_TRUE(m.set_header("To", "Bob <sip:bob@biloxi.example.com>;tag=xyz").has_value());
    EXPECT_EQ(m.to().tag, "xyz");
    m.set_body("hello", "text/plain");
    auto again = Message::parse(m.serialize());
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->body(), "hello");
    EXPECT_EQ(again->header(HeaderId::ContentType), "text/plain");
    EXPECT_EQ(again->header(HeaderId::ContentLength), "5");
    EXPECT_EQ(again->to().tag, "xyz");
    EXPECT_EQ(again->values(HeaderId::ContentType).size(), 1u);
}

TEST(Message, MethodNames) {
    EXPECT_EQ(method_from("REGISTER"), Method::Register);
    EXPECT_EQ(method_from("register"), Method::Extension);  // methods are case-sensitive
    EXPECT_EQ(method_name(Method::Prack), "PRACK");
    EXPECT_EQ(method_name(Method::Extension), "");
}

TEST(Message, TypedAccessToPbxAndExtensionHeaders) {
    auto m = parse(
        "INVITE sip:201@pbx.example.com SIP/2.0\r\n"
        "Via: SIP/2.0/TLS 192.0.2.7:5061;branch=z9hG4bKpbx\r\n"
        "From: <sip:100@pbx.example.com>;tag=a\r\nTo: <sip:201@pbx.example.com>\r\n"
        "Call-ID: pbx1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 69\r\n"
        "P-Asserted-Identity: \"Reception\" <sip:100@pbx.example.com>, <tel:+4930123456>\r\n"
        "Diversion: <sip:201@pbx.example.com>;reason=unconditional;counter=1\r\n"
        "History-Info: <sip:201@pbx.example.com>;index=1, "
        "<sip:202@pbx.example.com?Reason=SIP%3Bcause%3D302>;index=1.1\r\n"
        "Call-Info: <sip:201@pbx.example.com>;purpose=forwarding\r\n"
        "Reason: SIP;cause=480;text=\"Unavailable\"\r\n"
        "RAck: 776656 1 INVITE\r\nRSeq: 42\r\n"
        "Event: dialog;id=7\r\nSubscription-State: active;expires=600\r\n"
        "Require: 100rel\r\nSupported: path, outbound\r\nAllow: INVITE, ACK, BYE\r\n"
        "Expires: 120\r\nMin-Expires: 60\r\nRetry-After: 30 (maintenance)\r\n"
        "User-Agent: Phone/1.0 (build 7)\r\n"
        "WWW-Authenticate: Digest realm=\"pbx\", nonce=\"n1\", algorithm=SHA-256, qop=\"auth\"\r\n"
        "Content-Length: 0\r\n\r\n");
    auto pai = m.addresses(HeaderId::PAssertedIdentity);
    ASSERT_TRUE(pai.has_value());
    ASSERT_EQ(pai->size(), 2u);
    EXPECT_EQ(pai->at(0).display(), "Reception");
    EXPECT_TRUE(pai->at(1).uri.tel_global());
    auto div = m.addresses(HeaderId::Diversion);
    ASSERT_TRUE(div.has_value());
    EXPECT_EQ(div->at(0).param("reason")->value, "unconditional");
    auto hi = m.addresses(HeaderId::HistoryInfo);
    ASSERT_TRUE(hi.has_value());
    ASSERT_EQ(hi->size(), 2u);
    EXPECT_EQ(hi->at(1).param("index")->value, "1.1");
    EXPECT_EQ(unescape(hi->at(1).uri.headers), "Reason=SIP;cause=302");
    auto ci = m.addresses(HeaderId::CallInfo);
    ASSERT_TRUE(ci.has_value());
    EXPECT_EQ(ci->at(0).param("purpose")->value, "forwarding");
    auto reason = parse_value_params(m.header(HeaderId::Reason));
    ASSERT_TRUE(reason.has_value());
    EXPECT_EQ(reason->param("cause")->value, "480");
    EXPECT_EQ(parse_rack(m.header(HeaderId::RAck))->rseq, 776656u);
    EXPECT_EQ(m.rseq().value(), 42u);
    EXPECT_EQ(parse_value_params(m.header(HeaderId::Event))->value, "dialog");
    EXPECT_EQ(parse_value_params(m.header(HeaderId::SubscriptionState))->param("expires")->value, "600");
    EXPECT_EQ(m.tokens(HeaderId::Require)->at(0), "100rel");
    EXPECT_EQ(m.tokens(HeaderId::Supported)->size(), 2u);
    EXPECT_EQ(m.tokens(HeaderId::Allow)->size(), 3u);
    EXPECT_EQ(m.expires().value(), 120u);
    EXPECT_EQ(m.min_expires().value(), 60u);
    EXPECT_EQ(parse_retry_after(m.header(HeaderId::RetryAfter))->comment, "(maintenance)");
    EXPECT_EQ(m.header(HeaderId::UserAgent), "Phone/1.0 (build 7)");
    auto www = m.auth(HeaderId::WwwAuthenticate);
    ASSERT_TRUE(www.has_value());
    EXPECT_EQ(www->at(0).get("qop"), "auth");
    EXPECT_EQ(m.max_forwards(), 69);
}
