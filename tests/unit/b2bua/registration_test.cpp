// The REGISTER client of a registering trunk: what it sends, how it answers challenges, when it refreshes
// and how it backs off (RFC 3261 10.2).
#include "b2bua/registration.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/digest.hpp"
#include "b2bua/trunk.hpp"
#include "sip/headers.hpp"
#include "sip/message.hpp"

using sw::b2bua::registration_backoff;
using sw::b2bua::RegistrationClient;
using sw::b2bua::Trunk;
using sw::sip::HeaderId;
using sw::sip::Message;
using Next = RegistrationClient::Next;
using std::chrono::seconds;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::string_view kVia = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-reg;rport";
constexpr std::string_view kContact = "<sip:4930123@192.0.2.1:5060>";
constexpr std::string_view kCallId = "reg-call-1@192.0.2.1";
constexpr std::string_view kTag = "0123456789abcdef";

Message parse(std::string_view text) {
    auto m = Message::parse(text);
    EXPECT_TRUE(m.has_value()) << (m ? std::string_view{} : m.error().reason) << "\n" << text;
    return std::move(m).value();
}

Trunk trunk() {
    Trunk t;
    t.name = "provider";
    t.host = "sip.provider.test";
    t.username = "4930123";
    t.password = "s3cret";
    t.register_with = true;
    t.expires = 600;
    return t;
}

RegistrationClient client(Trunk t = trunk()) {
    return RegistrationClient(std::move(t), std::string(kCallId), std::string(kTag));
}

Message build(RegistrationClient& c, std::string_view cnonce = "cn-1") {
    return parse(c.build(std::string(kVia), std::string(kContact), cnonce));
}

// A response to the client's last REGISTER with `extra` header lines (CRLF included).
Message response(const RegistrationClient& c, std::string_view status_line, std::string_view extra = {}) {
    std::string t = "SIP/2.0 " + std::string(status_line) + "\r\n";
    t += "Via: " + std::string(kVia) + "=5060\r\n";
    t += "From: <sip:4930123@sip.provider.test>;tag=" + std::string(kTag) + "\r\n";
    t += "To: <sip:4930123@sip.provider.test>;tag=prov1\r\n";
    t += "Call-ID: " + std::string(kCallId) + "\r\n";
    t += "CSeq: " + std::to_string(c.cseq()) + " REGISTER\r\n";
    t += std::string(extra);
    t += "Content-Length: 0\r\n\r\n";
    return parse(t);
}

constexpr std::string_view kChallenge =
    "WWW-Authenticate: Digest realm=\"sip.provider.test\", nonce=\"n-1\", qop=\"auth\", algorithm=MD5\r\n";
constexpr std::string_view kStaleChallenge =
    "WWW-Authenticate: Digest realm=\"sip.provider.test\", nonce=\"n-2\", qop=\"auth\", algorithm=MD5, "
    "stale=true\r\n";

// The client after a first REGISTER answered with 401: its next build() carries credentials.
RegistrationClient challenged() {
    RegistrationClient c = client();
    build(c);
    EXPECT_EQ(c.on_response(response(c, "401 Unauthorized", kChallenge), kNow).next, Next::SendNow);
    return c;
}

// The parameters of a message's Authorization, parsed.
std::optional<sw::sip::AuthParams> authorization(const Message& m) {
    auto all = m.auth(HeaderId::Authorization);
    if (!all || all->size() != 1) return std::nullopt;
    return all->front();
}

}  // namespace

// ---- the REGISTER ----

TEST(RegistrationClient, FirstRegisterAddressesTheProviderDomain) {
    RegistrationClient c = client();
    const Message m = build(c);
    EXPECT_EQ(m.method(), "REGISTER");
    EXPECT_EQ(m.request_uri().raw, "sip:sip.provider.test");
}

TEST(RegistrationClient, RequestUriIsTheFromDomainWhenSet) {
    Trunk t = trunk();
    t.from_domain = "voip.example.test";
    RegistrationClient c = client(t);
    const Message m = build(c);
    EXPECT_EQ(m.request_uri().raw, "sip:voip.example.test");
    EXPECT_EQ(m.from().uri.raw, "sip:4930123@voip.example.test");
    EXPECT_EQ(m.to().uri.raw, "sip:4930123@voip.example.test");
}

TEST(RegistrationClient, FromAndToAreTheAccountWithOurTagInFromOnly) {
    RegistrationClient c = client();
    const Message m = build(c);
    EXPECT_EQ(m.from().uri.raw, "sip:4930123@sip.provider.test");
    EXPECT_EQ(m.from().tag, kTag);
    EXPECT_EQ(m.to().uri.raw, "sip:4930123@sip.provider.test");
    EXPECT_FALSE(m.to().has_tag);
}

TEST(RegistrationClient, CallIdStaysAndCSeqIncreasesAcrossRequests) {
    RegistrationClient c = client();
    const Message first = build(c);
    const Message second = build(c);
    EXPECT_EQ(first.call_id(), kCallId);
    EXPECT_EQ(second.call_id(), kCallId);
    EXPECT_EQ(second.from().tag, first.from().tag);
    EXPECT_EQ(first.cseq().number, 1u);
    EXPECT_EQ(second.cseq().number, 2u);
    EXPECT_EQ(first.cseq().method, "REGISTER");
    EXPECT_EQ(c.cseq(), 2u);
}

TEST(RegistrationClient, ContactViaAndExpiresAreAsGiven) {
    RegistrationClient c = client();
    const Message m = build(c);
    ASSERT_EQ(m.contacts().contacts.size(), 1u);
    EXPECT_EQ(m.contacts().contacts.front().uri.raw, "sip:4930123@192.0.2.1:5060");
    EXPECT_EQ(m.top_via().branch, "z9hG4bK-reg");
    auto e = m.expires();
    ASSERT_TRUE(e && *e);
    EXPECT_EQ(**e, 600u);
}

TEST(RegistrationClient, WithoutUsernameTheAddressOfRecordIsTheDomain) {
    Trunk t = trunk();
    t.username.clear();
    RegistrationClient c = client(t);
    const Message m = build(c);
    EXPECT_EQ(m.from().uri.raw, "sip:sip.provider.test");
    EXPECT_EQ(m.to().uri.raw, "sip:sip.provider.test");
}

TEST(RegistrationClient, FirstRegisterHasNoCredentials) {
    RegistrationClient c = client();
    const Message m = build(c);
    EXPECT_FALSE(m.has(HeaderId::Authorization));
    EXPECT_FALSE(m.has(HeaderId::ProxyAuthorization));
    EXPECT_EQ(c.status().state, "registering");
    EXPECT_EQ(c.status().name, "provider");
}

// ---- challenges ----

TEST(RegistrationClient, UnauthorizedAsksToSendAgainAtOnce) {
    RegistrationClient c = client();
    build(c);
    const auto o = c.on_response(response(c, "401 Unauthorized", kChallenge), kNow);
    EXPECT_EQ(o.next, Next::SendNow);
    EXPECT_EQ(o.after, seconds(0));
}

TEST(RegistrationClient, RegisterAfterUnauthorizedCarriesAValidAuthorization) {
    RegistrationClient c = challenged();
    const Message m = build(c, "cn-2");
    EXPECT_EQ(m.cseq().number, 2u);
    const auto a = authorization(m);
    ASSERT_TRUE(a) << m.serialize();
    EXPECT_EQ(a->get("username"), "4930123");
    EXPECT_EQ(a->get("realm"), "sip.provider.test");
    EXPECT_EQ(a->get("nonce"), "n-1");
    EXPECT_EQ(a->get("uri"), "sip:sip.provider.test");
    EXPECT_EQ(a->get("nc"), "00000001");
    EXPECT_EQ(a->get("cnonce"), "cn-2");
    using sw::auth::Algorithm;
    const std::string ha1 = sw::auth::compute_ha1(Algorithm::Md5, "4930123", "sip.provider.test", "s3cret");
    EXPECT_EQ(a->get("response"), sw::auth::compute_response(Algorithm::Md5, ha1, "n-1", "00000001", "cn-2",
                                                             "auth", "REGISTER", "sip:sip.provider.test"));
}

TEST(RegistrationClient, ProxyChallengeIsAnsweredWithProxyAuthorization) {
    RegistrationClient c = client();
    build(c);
    const auto o = c.on_response(
        response(c, "407 Proxy Authentication Required",
                 "Proxy-Authenticate: Digest realm=\"sip.provider.test\", nonce=\"n-1\", qop=\"auth\"\r\n"),
        kNow);
    EXPECT_EQ(o.next, Next::SendNow);
    const Message m = build(c);
    EXPECT_TRUE(m.has(HeaderId::ProxyAuthorization));
    EXPECT_FALSE(m.has(HeaderId::Authorization));
}

TEST(RegistrationClient, UnauthorizedAgainAfterCredentialsFails) {
    RegistrationClient c = challenged();
    build(c);
    const auto o = c.on_response(response(c, "401 Unauthorized", kChallenge), kNow + 1);
    EXPECT_EQ(o.next, Next::Retry);
    EXPECT_EQ(o.after, seconds(5));
    EXPECT_EQ(c.status().state, "failed");
    EXPECT_NE(c.status().detail.find("credentials refused"), std::string::npos) << c.status().detail;
    EXPECT_EQ(c.status().updated_at, kNow + 1);
}

TEST(RegistrationClient, RegisterAfterRefusedCredentialsHasNone) {
    RegistrationClient c = challenged();
    build(c);
    c.on_response(response(c, "401 Unauthorized", kChallenge), kNow);
    EXPECT_FALSE(build(c).has(HeaderId::Authorization));
}

TEST(RegistrationClient, StaleNonceAfterCredentialsAsksToSendAgainAtOnce) {
    RegistrationClient c = challenged();
    build(c);
    const auto o = c.on_response(response(c, "401 Unauthorized", kStaleChallenge), kNow);
    EXPECT_EQ(o.next, Next::SendNow);
    EXPECT_NE(c.status().state, "failed");
}

TEST(RegistrationClient, RegisterAfterStaleNonceAnswersTheNewNonce) {
    RegistrationClient c = challenged();
    build(c);
    c.on_response(response(c, "401 Unauthorized", kStaleChallenge), kNow);
    const Message m = build(c);  // the AuthParams below view into it
    const auto a = authorization(m);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->get("nonce"), "n-2");
    EXPECT_EQ(a->get("nc"), "00000001");  // a fresh nonce counts from 1 again
}

TEST(RegistrationClient, UnauthorizedWithoutUsernameFails) {
    Trunk t = trunk();
    t.username.clear();
    RegistrationClient c = client(t);
    build(c);
    const auto o = c.on_response(response(c, "401 Unauthorized", kChallenge), kNow);
    EXPECT_EQ(o.next, Next::Retry);
    EXPECT_EQ(c.status().state, "failed");
    EXPECT_NE(c.status().detail.find("no credentials"), std::string::npos) << c.status().detail;
}

TEST(RegistrationClient, UnauthorizedWithOnlyAuthIntFails) {
    RegistrationClient c = client();
    build(c);
    const auto o = c.on_response(
        response(c, "401 Unauthorized",
                 "WWW-Authenticate: Digest realm=\"sip.provider.test\", nonce=\"n-1\", qop=\"auth-int\"\r\n"),
        kNow);
    EXPECT_EQ(o.next, Next::Retry);
    EXPECT_EQ(c.status().state, "failed");
}

// ---- success ----

TEST(RegistrationClient, OkWithContactExpiresRefreshesAtHalfTheLifetime) {
    RegistrationClient c = challenged();
    build(c);
    const auto o = c.on_response(
        response(c, "200 OK", "Contact: <sip:4930123@192.0.2.1:5060>;expires=120\r\nExpires: 3600\r\n"),
        kNow);
    EXPECT_EQ(o.next, Next::Refresh);
    EXPECT_EQ(o.after, seconds(60));
}

TEST(RegistrationClient, OkMarksRegisteredUntilTheGrantedLifetime) {
    RegistrationClient c = challenged();
    build(c);
    c.on_response(response(c, "200 OK", "Contact: <sip:4930123@192.0.2.1:5060>;expires=120\r\n"), kNow);
    EXPECT_EQ(c.status().state, "registered");
    EXPECT_EQ(c.status().expires_at, kNow + 120);
    EXPECT_EQ(c.status().updated_at, kNow);
}

TEST(RegistrationClient, OkWithoutContactExpiresUsesTheExpiresHeader) {
    RegistrationClient c = client();
    build(c);
    const auto o = c.on_response(
        response(c, "200 OK", "Contact: <sip:4930123@192.0.2.1:5060>\r\nExpires: 300\r\n"), kNow);
    EXPECT_EQ(o.next, Next::Refresh);
    EXPECT_EQ(o.after, seconds(150));
    EXPECT_EQ(c.status().expires_at, kNow + 300);
}

TEST(RegistrationClient, ProvisionalResponseWaits) {
    RegistrationClient c = client();
    build(c);
    const auto o = c.on_response(response(c, "100 Trying"), kNow);
    EXPECT_EQ(o.next, Next::Wait);
    EXPECT_EQ(c.status().state, "registering");
}

// ---- failures and back-off ----

TEST(RegistrationClient, ForbiddenFailsWithTheStatusInTheDetail) {
    RegistrationClient c = client();
    build(c);
    const auto o = c.on_response(response(c, "403 Forbidden"), kNow);
    EXPECT_EQ(o.next, Next::Retry);
    EXPECT_EQ(o.after, seconds(5));
    EXPECT_EQ(c.status().state, "failed");
    EXPECT_NE(c.status().detail.find("403"), std::string::npos) << c.status().detail;
    EXPECT_EQ(c.status().expires_at, 0);
}

TEST(RegistrationClient, RepeatedFailuresDoubleTheBackOff) {
    RegistrationClient c = client();
    for (int expected : {5, 10, 20, 40}) {
        build(c);
        EXPECT_EQ(c.on_response(response(c, "403 Forbidden"), kNow).after, seconds(expected));
    }
}

TEST(RegistrationClient, BackOffDoublesFromFiveSecondsUpTo300) {
    EXPECT_EQ(registration_backoff(1), seconds(5));
    EXPECT_EQ(registration_backoff(2), seconds(10));
    EXPECT_EQ(registration_backoff(3), seconds(20));
    EXPECT_EQ(registration_backoff(4), seconds(40));
    EXPECT_EQ(registration_backoff(5), seconds(80));
    EXPECT_EQ(registration_backoff(6), seconds(160));
    EXPECT_EQ(registration_backoff(7), seconds(300));
    EXPECT_EQ(registration_backoff(8), seconds(300));
    EXPECT_EQ(registration_backoff(1000), seconds(300));
}

TEST(RegistrationClient, IntervalTooBriefSendsAgainWithMinExpires) {
    RegistrationClient c = client();
    build(c);
    const auto o = c.on_response(response(c, "423 Interval Too Brief", "Min-Expires: 1800\r\n"), kNow);
    EXPECT_EQ(o.next, Next::SendNow);
    auto e = build(c).expires();
    ASSERT_TRUE(e && *e);
    EXPECT_EQ(**e, 1800u);
}

TEST(RegistrationClient, IntervalTooBriefWithoutALargerMinExpiresFails) {
    RegistrationClient c = client();
    build(c);
    const auto o = c.on_response(response(c, "423 Interval Too Brief", "Min-Expires: 300\r\n"), kNow);
    EXPECT_EQ(o.next, Next::Retry);
    EXPECT_EQ(c.status().state, "failed");
}

TEST(RegistrationClient, TransportFailureFailsWithTheReason) {
    RegistrationClient c = client();
    build(c);
    const auto o = c.on_failure("timeout", kNow);
    EXPECT_EQ(o.next, Next::Retry);
    EXPECT_EQ(o.after, seconds(5));
    EXPECT_EQ(c.status().state, "failed");
    EXPECT_EQ(c.status().detail, "timeout");
}

TEST(RegistrationClient, SuccessResetsTheBackOff) {
    RegistrationClient c = client();
    build(c);
    c.on_failure("timeout", kNow);
    build(c);
    EXPECT_EQ(c.on_response(response(c, "403 Forbidden"), kNow).after, seconds(10));
    build(c);
    EXPECT_EQ(c.on_response(response(c, "200 OK", "Expires: 600\r\n"), kNow).next, Next::Refresh);
    build(c);
    EXPECT_EQ(c.on_failure("timeout", kNow).after, seconds(5));
}
