// The client side of digest authentication: answering a provider's 401 / 407 (RFC 3261 22.2, RFC 2617,
// RFC 7616).
#include "auth/digest_client.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "auth/digest.hpp"
#include "sip/headers.hpp"
#include "sip/message.hpp"

using sw::auth::Algorithm;
using sw::auth::answer_challenge;
using sw::auth::ClientAuthorization;
using sw::auth::compute_ha1;
using sw::auth::compute_response;
using sw::sip::Message;

namespace {

constexpr std::string_view kUser = "4930123";
constexpr std::string_view kPassword = "s3cret";
constexpr std::string_view kRealm = "sip.provider.test";
constexpr std::string_view kNonce = "a7f3c2e1d09b";
constexpr std::string_view kUri = "sip:sip.provider.test";
constexpr std::string_view kCnonce = "0badc0de";

Message parse(std::string_view text) {
    auto m = Message::parse(text);
    EXPECT_TRUE(m.has_value()) << (m ? std::string_view{} : m.error().reason) << "\n" << text;
    return std::move(m).value();
}

// A 401 / 407 to a REGISTER with `challenges`: whole header lines, CRLF included.
Message challenge(std::string_view status_line, std::string_view challenges) {
    std::string t = "SIP/2.0 " + std::string(status_line) + "\r\n";
    t += "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-reg1;rport=5060\r\n";
    t += "From: <sip:4930123@sip.provider.test>;tag=f1\r\n";
    t += "To: <sip:4930123@sip.provider.test>;tag=p1\r\n";
    t += "Call-ID: reg-1@192.0.2.1\r\n";
    t += "CSeq: 1 REGISTER\r\n";
    t += std::string(challenges);
    t += "Content-Length: 0\r\n\r\n";
    return parse(t);
}

std::string www(std::string_view params) {
    return "WWW-Authenticate: Digest " + std::string(params) + "\r\n";
}

const std::string kMd5Auth =
    www("realm=\"sip.provider.test\", nonce=\"a7f3c2e1d09b\", qop=\"auth\", algorithm=MD5");

std::optional<ClientAuthorization> answer(const Message& m, std::string_view user = kUser) {
    return answer_challenge(m, "REGISTER", kUri, user, kPassword, 1, kCnonce);
}

// The value of one parameter of the Authorization value (unquoted), nullopt when absent.
std::optional<std::string> param(const ClientAuthorization& a, std::string_view name) {
    auto parsed = sw::sip::parse_auth(a.value);
    EXPECT_TRUE(parsed.has_value()) << a.value;
    if (!parsed) return std::nullopt;
    EXPECT_EQ(parsed->scheme, "Digest");
    return parsed->get(name);
}

std::string expected_response(Algorithm alg, std::string_view nc, std::string_view cnonce,
                              std::string_view qop) {
    return compute_response(alg, compute_ha1(alg, kUser, kRealm, kPassword), kNonce, nc, cnonce, qop,
                            "REGISTER", kUri);
}

}  // namespace

TEST(DigestClient, AnswersA401WithAuthorization) {
    const auto a = answer(challenge("401 Unauthorized", kMd5Auth));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->header, "Authorization");
    EXPECT_EQ(a->realm, kRealm);
    EXPECT_EQ(param(*a, "username"), kUser);
    EXPECT_EQ(param(*a, "realm"), kRealm);
    EXPECT_EQ(param(*a, "nonce"), kNonce);
    EXPECT_EQ(param(*a, "uri"), kUri);
}

TEST(DigestClient, AnswersA407WithProxyAuthorization) {
    const auto a = answer(challenge(
        "407 Proxy Authentication Required",
        "Proxy-Authenticate: Digest realm=\"sip.provider.test\", nonce=\"a7f3c2e1d09b\", qop=\"auth\"\r\n"));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->header, "Proxy-Authorization");
    EXPECT_EQ(param(*a, "response"), expected_response(Algorithm::Md5, "00000001", kCnonce, "auth"));
}

TEST(DigestClient, A407AnswersOnlyProxyAuthenticate) {
    // A WWW-Authenticate in a 407 is not the proxy's challenge.
    EXPECT_EQ(answer(challenge("407 Proxy Authentication Required", kMd5Auth)), std::nullopt);
}

TEST(DigestClient, ResponseIsTheDigestOfTheChallengeWithQopAuth) {
    const auto a = answer(challenge("401 Unauthorized", kMd5Auth));
    ASSERT_TRUE(a);
    EXPECT_EQ(param(*a, "response"), expected_response(Algorithm::Md5, "00000001", kCnonce, "auth"));
    EXPECT_EQ(param(*a, "qop"), "auth");
    EXPECT_EQ(param(*a, "nc"), "00000001");
    EXPECT_EQ(param(*a, "cnonce"), kCnonce);
    EXPECT_EQ(param(*a, "algorithm"), "MD5");
}

TEST(DigestClient, NonceCountIsWrittenAsEightHexDigits) {
    const Message m = challenge("401 Unauthorized", kMd5Auth);
    const auto a = answer_challenge(m, "REGISTER", kUri, kUser, kPassword, 0x1a, kCnonce);
    ASSERT_TRUE(a);
    EXPECT_EQ(param(*a, "nc"), "0000001a");
    EXPECT_EQ(param(*a, "response"), expected_response(Algorithm::Md5, "0000001a", kCnonce, "auth"));
}

TEST(DigestClient, MatchesTheRfc2617Section35Example) {
    // RFC 2617 3.5: HTTP, but the arithmetic of SIP digest is the same.
    const Message m =
        challenge("401 Unauthorized", www("realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
                                          "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                                          "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
    const auto a = answer_challenge(m, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", 1, "0a4f113b");
    ASSERT_TRUE(a);
    EXPECT_EQ(param(*a, "response"), "6629fae49393a05397450978507c4ef1");
    EXPECT_EQ(param(*a, "qop"), "auth");
}

TEST(DigestClient, PrefersSha256OverMd5OfferedFirst) {
    const auto a = answer(challenge(
        "401 Unauthorized",
        kMd5Auth +
            www("realm=\"sip.provider.test\", nonce=\"a7f3c2e1d09b\", qop=\"auth\", algorithm=SHA-256")));
    ASSERT_TRUE(a);
    EXPECT_EQ(param(*a, "algorithm"), "SHA-256");
    EXPECT_EQ(param(*a, "response"), expected_response(Algorithm::Sha256, "00000001", kCnonce, "auth"));
}

TEST(DigestClient, PrefersSha256OverMd5OfferedAfterIt) {
    const auto a = answer(challenge(
        "401 Unauthorized",
        www("realm=\"sip.provider.test\", nonce=\"a7f3c2e1d09b\", qop=\"auth\", algorithm=SHA-256") +
            kMd5Auth));
    ASSERT_TRUE(a);
    EXPECT_EQ(param(*a, "algorithm"), "SHA-256");
    EXPECT_EQ(param(*a, "response"), expected_response(Algorithm::Sha256, "00000001", kCnonce, "auth"));
}

TEST(DigestClient, WithoutQopTheAnswerHasNoQopNcOrCnonce) {
    const auto a =
        answer(challenge("401 Unauthorized", www("realm=\"sip.provider.test\", nonce=\"a7f3c2e1d09b\"")));
    ASSERT_TRUE(a);
    EXPECT_EQ(param(*a, "qop"), std::nullopt);
    EXPECT_EQ(param(*a, "nc"), std::nullopt);
    EXPECT_EQ(param(*a, "cnonce"), std::nullopt);
    // RFC 2069 form: H(HA1:nonce:HA2).
    EXPECT_EQ(param(*a, "response"), expected_response(Algorithm::Md5, "", "", ""));
}

TEST(DigestClient, AbsentAlgorithmMeansMd5AndIsNotWrittenBack) {
    const auto a = answer(challenge(
        "401 Unauthorized", www("realm=\"sip.provider.test\", nonce=\"a7f3c2e1d09b\", qop=\"auth\"")));
    ASSERT_TRUE(a);
    EXPECT_EQ(param(*a, "algorithm"), std::nullopt);
    EXPECT_EQ(param(*a, "response"), expected_response(Algorithm::Md5, "00000001", kCnonce, "auth"));
}

TEST(DigestClient, OnlyAuthIntOfferedGivesNothing) {
    EXPECT_EQ(answer(challenge("401 Unauthorized",
                               www("realm=\"sip.provider.test\", nonce=\"a7f3c2e1d09b\", qop=\"auth-int\""))),
              std::nullopt);
}

TEST(DigestClient, SessAndUnknownAlgorithmsGiveNothing) {
    EXPECT_EQ(
        answer(challenge("401 Unauthorized",
                         www("realm=\"sip.provider.test\", nonce=\"a7f3c2e1d09b\", algorithm=MD5-sess"))),
        std::nullopt);
    EXPECT_EQ(answer(challenge("401 Unauthorized",
                               www("realm=\"sip.provider.test\", nonce=\"a7f3c2e1d09b\", algorithm=SHA-1"))),
              std::nullopt);
}

TEST(DigestClient, NoChallengeGivesNothing) {
    EXPECT_EQ(answer(challenge("401 Unauthorized", {})), std::nullopt);
}

TEST(DigestClient, OpaqueIsEchoed) {
    const auto a = answer(challenge(
        "401 Unauthorized",
        www("realm=\"sip.provider.test\", nonce=\"a7f3c2e1d09b\", qop=\"auth\", opaque=\"op-42/x\"")));
    ASSERT_TRUE(a);
    EXPECT_EQ(param(*a, "opaque"), "op-42/x");
}

TEST(DigestClient, NoOpaqueWhenTheChallengeHasNone) {
    const auto a = answer(challenge("401 Unauthorized", kMd5Auth));
    ASSERT_TRUE(a);
    EXPECT_EQ(param(*a, "opaque"), std::nullopt);
}

TEST(DigestClient, UserWithDoubleQuoteAndBackslashIsEscaped) {
    const std::string user = "al\"i\\ce";
    const auto a = answer(challenge("401 Unauthorized", kMd5Auth), user);
    ASSERT_TRUE(a);
    EXPECT_NE(a->value.find(R"(username="al\"i\\ce")"), std::string::npos) << a->value;
    EXPECT_EQ(param(*a, "username"), user);
    // The digest is over the user name itself, not its quoted form.
    EXPECT_EQ(param(*a, "response"),
              compute_response(Algorithm::Md5, compute_ha1(Algorithm::Md5, user, kRealm, kPassword), kNonce,
                               "00000001", kCnonce, "auth", "REGISTER", kUri));
}
