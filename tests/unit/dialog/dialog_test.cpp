// Dialogs (RFC 3261 12): the state made from a dialog-creating request or response, target refresh, the
// remote CSeq check, the requests sent inside a dialog and their next hop.
#include "dialog/dialog.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"

using sw::dialog::accept_remote_cseq;
using sw::dialog::build_request;
using sw::dialog::Dialog;
using sw::dialog::next_hop_uri;
using sw::dialog::refresh_target;
using sw::dialog::RequestParts;
using sw::dialog::uac_dialog;
using sw::dialog::uas_dialog;
using sw::sip::HeaderId;
using sw::sip::Message;
using Strings = std::vector<std::string>;

namespace {

constexpr std::string_view kSdp =
    "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n";

Message parse(std::string_view text) {
    auto m = Message::parse(text);
    EXPECT_TRUE(m.has_value()) << (m ? std::string_view{} : m.error().reason) << "\n" << text;
    return std::move(m).value();
}

// The INVITE a phone sends through two proxies that record-routed (the first field nearest to us).
std::string incoming_invite(std::string_view extra = {}) {
    std::string t = "INVITE sip:bob@192.0.2.1 SIP/2.0\r\n";
    t += "Via: SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bK-p2\r\n";
    t += "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-caller1;rport\r\n";
    t += "Max-Forwards: 68\r\n";
    t += "Record-Route: <sip:p2.example.com;lr>\r\n";
    t += "Record-Route: <sip:p1.example.com;lr>, <sip:p0.example.com;lr>\r\n";
    t += "From: \"Alice\" <sip:alice@example.com>;tag=a1;x-other=1\r\n";
    t += "To: \"Bob\" <sip:bob@example.com>\r\n";
    t += "Call-ID: call-1@192.0.2.10\r\n";
    t += "CSeq: 7 INVITE\r\n";
    t += "Contact: <sip:alice@192.0.2.10:5060;transport=udp>\r\n";
    t += std::string(extra);
    t += "Content-Length: 0\r\n\r\n";
    return t;
}

// The INVITE we sent as a UAC (leg B of a call).
std::string outgoing_invite() {
    std::string t = "INVITE sip:bob@192.0.2.20:5062 SIP/2.0\r\n";
    t += "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-b2bua1\r\n";
    t += "Max-Forwards: 70\r\n";
    t += "From: \"Alice\" <sip:alice@example.com>;tag=b1\r\n";
    t += "To: <sip:bob@example.com>\r\n";
    t += "Call-ID: leg-b@192.0.2.1\r\n";
    t += "CSeq: 3 INVITE\r\n";
    t += "Contact: <sip:b2bua@192.0.2.1:5060>\r\n";
    t += "Content-Length: 0\r\n\r\n";
    return t;
}

// A response to outgoing_invite() with the given status line, To and `extra` header lines.
std::string response(std::string_view status_line, std::string_view to, std::string_view extra) {
    std::string t = "SIP/2.0 " + std::string(status_line) + "\r\n";
    t += "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-b2bua1\r\n";
    t += "Record-Route: <sip:q1.example.com;lr>, <sip:q2.example.com;lr>\r\n";
    t += "From: \"Alice\" <sip:alice@example.com>;tag=b1\r\n";
    t += "To: " + std::string(to) + "\r\n";
    t += "Call-ID: leg-b@192.0.2.1\r\n";
    t += "CSeq: 3 INVITE\r\n";
    t += std::string(extra);
    t += "Content-Length: 0\r\n\r\n";
    return t;
}

constexpr std::string_view kBobTagged = "<sip:bob@example.com>;tag=t9";
constexpr std::string_view kBobContact = "Contact: <sip:bob@192.0.2.20:5062>\r\n";

// A request inside a dialog, as the peer sends it.
std::string in_dialog(std::string_view method, std::uint32_t cseq, std::string_view extra = {}) {
    std::string t = std::string(method) + " sip:b2bua@192.0.2.1:5060 SIP/2.0\r\n";
    t += "Via: SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bK-peer" + std::to_string(cseq) + "\r\n";
    t += "Max-Forwards: 70\r\n";
    t += "From: <sip:bob@example.com>;tag=t9\r\n";
    t += "To: \"Alice\" <sip:alice@example.com>;tag=b1\r\n";
    t += "Call-ID: leg-b@192.0.2.1\r\n";
    t += "CSeq: " + std::to_string(cseq) + " " + std::string(method) + "\r\n";
    t += std::string(extra);
    t += "Content-Length: 0\r\n\r\n";
    return t;
}

Dialog sample_dialog() {
    Dialog d;
    d.call_id = "leg-b@192.0.2.1";
    d.local_tag = "b1";
    d.remote_tag = "t9";
    d.local_uri = "\"Alice\" <sip:alice@example.com>";
    d.remote_uri = "<sip:bob@example.com>";
    d.remote_target = "sip:bob@192.0.2.20:5062";
    d.route_set = {"<sip:q2.example.com;lr>", "<sip:q1.example.com;lr>"};
    d.local_cseq = 3;
    d.early = false;
    return d;
}

RequestParts parts() {
    RequestParts p;
    p.via = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-inside1";
    return p;
}

// The URIs of every Route element, in order across fields and comma lists.
Strings route_uris(const Message& m) {
    Strings out;
    auto routes = m.addresses(HeaderId::Route);
    EXPECT_TRUE(routes.has_value());
    if (!routes) return out;
    for (const auto& r : *routes)
        out.emplace_back(r.uri.raw);
    return out;
}

}  // namespace

// ---- UAS side ----

TEST(UasDialog, TakesTagsAndCallIdFromTheRequest) {
    const Message req = parse(incoming_invite());
    const Dialog d = uas_dialog(req, "ours1");
    EXPECT_EQ(d.call_id, "call-1@192.0.2.10");
    EXPECT_EQ(d.local_tag, "ours1");
    EXPECT_EQ(d.remote_tag, "a1");
}

TEST(UasDialog, UrisKeepTheDisplayNameAndDropTagAndParameters) {
    const Message req = parse(incoming_invite());
    const Dialog d = uas_dialog(req, "ours1");
    EXPECT_EQ(d.local_uri, "\"Bob\" <sip:bob@example.com>");       // from To
    EXPECT_EQ(d.remote_uri, "\"Alice\" <sip:alice@example.com>");  // from From, tag and x-other gone
}

TEST(UasDialog, RemoteTargetIsTheContactUri) {
    const Message req = parse(incoming_invite());
    EXPECT_EQ(uas_dialog(req, "ours1").remote_target, "sip:alice@192.0.2.10:5060;transport=udp");
}

TEST(UasDialog, RemoteTargetIsTheFromUriWithoutContact) {
    std::string text = incoming_invite();
    const std::string contact = "Contact: <sip:alice@192.0.2.10:5060;transport=udp>\r\n";
    text.erase(text.find(contact), contact.size());
    const Message req = parse(text);
    ASSERT_FALSE(req.has(HeaderId::Contact));
    EXPECT_EQ(uas_dialog(req, "ours1").remote_target, "sip:alice@example.com");
}

TEST(UasDialog, RouteSetIsTheRecordRouteInOrderAcrossFields) {
    const Message req = parse(incoming_invite());
    EXPECT_EQ(uas_dialog(req, "ours1").route_set,
              (Strings{"<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>", "<sip:p0.example.com;lr>"}));
}

TEST(UasDialog, RemembersTheRemoteCSeqAndStartsEarly) {
    const Message req = parse(incoming_invite());
    const Dialog d = uas_dialog(req, "ours1");
    EXPECT_EQ(d.remote_cseq, 7u);
    EXPECT_EQ(d.local_cseq, 0u);
    EXPECT_TRUE(d.early);
}

// ---- UAC side ----

TEST(UacDialog, TakesTagsUrisAndCSeqFromRequestAndResponse) {
    const Message req = parse(outgoing_invite());
    const Message resp = parse(response("200 OK", kBobTagged, kBobContact));
    const auto d = uac_dialog(req, resp);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->call_id, "leg-b@192.0.2.1");
    EXPECT_EQ(d->local_tag, "b1");
    EXPECT_EQ(d->remote_tag, "t9");
    EXPECT_EQ(d->local_uri, "\"Alice\" <sip:alice@example.com>");
    EXPECT_EQ(d->remote_uri, "<sip:bob@example.com>");
    EXPECT_EQ(d->local_cseq, 3u);
    EXPECT_EQ(d->remote_cseq, 0u);
}

TEST(UacDialog, RouteSetIsTheRecordRouteReversed) {
    const Message req = parse(outgoing_invite());
    const Message resp = parse(response("200 OK", kBobTagged, kBobContact));
    const auto d = uac_dialog(req, resp);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->route_set, (Strings{"<sip:q2.example.com;lr>", "<sip:q1.example.com;lr>"}));
}

TEST(UacDialog, RemoteTargetIsTheResponseContact) {
    const Message req = parse(outgoing_invite());
    const Message resp = parse(response("200 OK", kBobTagged, kBobContact));
    const auto d = uac_dialog(req, resp);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->remote_target, "sip:bob@192.0.2.20:5062");
}

TEST(UacDialog, RemoteTargetFallsBackToTheRequestUriWithoutContact) {
    const Message req = parse(outgoing_invite());
    const Message resp = parse(response("180 Ringing", kBobTagged, {}));
    const auto d = uac_dialog(req, resp);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->remote_target, "sip:bob@192.0.2.20:5062");
    EXPECT_FALSE(resp.has(HeaderId::Contact));
}

TEST(UacDialog, ProvisionalResponseMakesAnEarlyDialog) {
    const Message req = parse(outgoing_invite());
    for (std::string_view line : {"180 Ringing", "183 Session Progress"}) {
        const Message resp = parse(response(line, kBobTagged, kBobContact));
        const auto d = uac_dialog(req, resp);
        ASSERT_TRUE(d) << line;
        EXPECT_TRUE(d->early) << line;
    }
}

TEST(UacDialog, TwoHundredMakesAConfirmedDialog) {
    const Message req = parse(outgoing_invite());
    const Message resp = parse(response("200 OK", kBobTagged, kBobContact));
    const auto d = uac_dialog(req, resp);
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->early);
}

TEST(UacDialog, NoDialogWithoutToTag) {
    const Message req = parse(outgoing_invite());
    const Message resp = parse(response("180 Ringing", "<sip:bob@example.com>", kBobContact));
    EXPECT_EQ(uac_dialog(req, resp), std::nullopt);
}

// ---- target refresh and remote CSeq ----

TEST(RefreshTarget, MovesTheRemoteTargetToTheNewContact) {
    Dialog d = sample_dialog();
    const Message reinvite = parse(in_dialog("INVITE", 10, "Contact: <sip:bob@198.51.100.7:5070>\r\n"));
    refresh_target(d, reinvite);
    EXPECT_EQ(d.remote_target, "sip:bob@198.51.100.7:5070");
}

TEST(RefreshTarget, KeepsTheRemoteTargetWhenTheMessageHasNoContact) {
    Dialog d = sample_dialog();
    const Message update = parse(in_dialog("UPDATE", 10));
    refresh_target(d, update);
    EXPECT_EQ(d.remote_target, "sip:bob@192.0.2.20:5062");
}

TEST(AcceptRemoteCSeq, FirstRequestSetsTheRemoteCSeq) {
    Dialog d = sample_dialog();  // remote_cseq 0: none yet
    EXPECT_TRUE(accept_remote_cseq(d, parse(in_dialog("BYE", 42))));
    EXPECT_EQ(d.remote_cseq, 42u);
}

TEST(AcceptRemoteCSeq, HigherCSeqIsAcceptedAndRemembered) {
    Dialog d = sample_dialog();
    d.remote_cseq = 7;
    EXPECT_TRUE(accept_remote_cseq(d, parse(in_dialog("INFO", 8))));
    EXPECT_EQ(d.remote_cseq, 8u);
}

TEST(AcceptRemoteCSeq, LowerCSeqIsRefusedAndNotRemembered) {
    Dialog d = sample_dialog();
    d.remote_cseq = 7;
    EXPECT_FALSE(accept_remote_cseq(d, parse(in_dialog("BYE", 6))));
    EXPECT_EQ(d.remote_cseq, 7u);
}

TEST(AcceptRemoteCSeq, AckAndCancelAreNotChecked) {
    Dialog d = sample_dialog();
    d.remote_cseq = 7;
    EXPECT_TRUE(accept_remote_cseq(d, parse(in_dialog("ACK", 2))));
    EXPECT_TRUE(accept_remote_cseq(d, parse(in_dialog("CANCEL", 2))));
    EXPECT_EQ(d.remote_cseq, 7u);
}

// ---- requests inside the dialog ----

TEST(BuildRequest, ParsesBackWithRequestUriTheRemoteTarget) {
    const Message m = parse(build_request(sample_dialog(), "BYE", 4, parts()));
    ASSERT_TRUE(m.is_request());
    EXPECT_EQ(m.method(), "BYE");
    EXPECT_EQ(m.request_uri().raw, "sip:bob@192.0.2.20:5062");
}

TEST(BuildRequest, RouteHeaderCarriesTheRouteSetInOrder) {
    const Message m = parse(build_request(sample_dialog(), "BYE", 4, parts()));
    EXPECT_EQ(route_uris(m), (Strings{"sip:q2.example.com;lr", "sip:q1.example.com;lr"}));
}

TEST(BuildRequest, NoRouteHeaderWithAnEmptyRouteSet) {
    Dialog d = sample_dialog();
    d.route_set.clear();
    const Message m = parse(build_request(d, "BYE", 4, parts()));
    EXPECT_FALSE(m.has(HeaderId::Route));
}

TEST(BuildRequest, FromAndToCarryTheDialogUrisAndTags) {
    const Message m = parse(build_request(sample_dialog(), "BYE", 4, parts()));
    EXPECT_EQ(m.from().display(), "Alice");
    EXPECT_EQ(m.from().uri.raw, "sip:alice@example.com");
    EXPECT_EQ(m.from().tag, "b1");
    EXPECT_EQ(m.to().uri.raw, "sip:bob@example.com");
    EXPECT_EQ(m.to().tag, "t9");
}

TEST(BuildRequest, CallIdCSeqViaAndMaxForwards) {
    RequestParts p = parts();
    p.max_forwards = 69;
    const Message m = parse(build_request(sample_dialog(), "INFO", 12, p));
    EXPECT_EQ(m.call_id(), "leg-b@192.0.2.1");
    EXPECT_EQ(m.cseq().number, 12u);
    EXPECT_EQ(m.cseq().method, "INFO");
    EXPECT_EQ(m.top_via().branch, "z9hG4bK-inside1");
    EXPECT_EQ(m.max_forwards(), 69);
}

TEST(BuildRequest, ContactOnlyWhenGiven) {
    const Message without = parse(build_request(sample_dialog(), "BYE", 4, parts()));
    EXPECT_FALSE(without.has(HeaderId::Contact));

    RequestParts p = parts();
    p.contact = "<sip:b2bua@192.0.2.1:5060>";
    const Message with = parse(build_request(sample_dialog(), "INVITE", 4, p));
    ASSERT_EQ(with.contacts().contacts.size(), 1u);
    EXPECT_EQ(with.contacts().contacts.front().uri.raw, "sip:b2bua@192.0.2.1:5060");
}

TEST(BuildRequest, ExtraHeadersAreAddedAsGiven) {
    RequestParts p = parts();
    p.headers = {{"Reason", "Q.850;cause=16"}, {"X-Leg", "b"}};
    const Message m = parse(build_request(sample_dialog(), "BYE", 4, p));
    EXPECT_EQ(m.header(HeaderId::Reason), "Q.850;cause=16");
    ASSERT_NE(m.find("X-Leg"), nullptr);
    EXPECT_EQ(m.find("X-Leg")->value, "b");
}

TEST(BuildRequest, BodyWithContentTypeAndExactContentLength) {
    RequestParts p = parts();
    p.contact = "<sip:b2bua@192.0.2.1:5060>";
    p.content_type = "application/sdp";
    p.body = std::string(kSdp);
    const std::string bytes = build_request(sample_dialog(), "INVITE", 4, p);
    // A stream parse insists on Content-Length and would take too few or too many bytes otherwise.
    sw::sip::ParseOptions stream;
    stream.stream = true;
    auto m = Message::parse(bytes, stream);
    ASSERT_TRUE(m.has_value()) << bytes;
    EXPECT_EQ(m->header(HeaderId::ContentType), "application/sdp");
    EXPECT_EQ(m->header(HeaderId::ContentLength), std::to_string(kSdp.size()));
    EXPECT_EQ(m->body(), kSdp);
    EXPECT_TRUE(bytes.ends_with("\r\n\r\n" + std::string(kSdp)));
}

TEST(BuildRequest, NoBodyMeansContentLengthZeroAndNoContentType) {
    const std::string bytes = build_request(sample_dialog(), "BYE", 4, parts());
    const Message m = parse(bytes);
    EXPECT_EQ(m.header(HeaderId::ContentLength), "0");
    EXPECT_FALSE(m.has(HeaderId::ContentType));
    EXPECT_TRUE(m.body().empty());
    EXPECT_TRUE(bytes.ends_with("\r\n\r\n"));
}

// ---- next hop ----

TEST(NextHopUri, IsTheFirstRouteUri) {
    EXPECT_EQ(next_hop_uri(sample_dialog()), "sip:q2.example.com;lr");
}

TEST(NextHopUri, IsTheRemoteTargetWithoutRouteSet) {
    Dialog d = sample_dialog();
    d.route_set.clear();
    EXPECT_EQ(next_hop_uri(d), "sip:bob@192.0.2.20:5062");
}
