#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "auth/authenticator.hpp"
#include "auth/digest.hpp"
#include "fakes.hpp"

using namespace sw::auth;
using sw::auth::test::FakeClock;
using sw::auth::test::FakeRandom;
using sw::sip::Message;

namespace {

constexpr std::string_view kRealm = "sip.example.com";
constexpr std::string_view kPassword = "Correct Horse 42";
constexpr std::string_view kRuri = "sip:sip.example.com";

UserRecord user(std::string name, bool enabled = true, bool md5_allowed = true) {
    UserRecord u;
    u.name = name;
    u.enabled = enabled;
    u.md5_allowed = md5_allowed;
    u.ha1_md5 = compute_ha1(Algorithm::Md5, name, kRealm, kPassword);
    u.ha1_sha256 = compute_ha1(Algorithm::Sha256, name, kRealm, kPassword);
    u.ha1_sha512_256 = compute_ha1(Algorithm::Sha512_256, name, kRealm, kPassword);
    return u;
}

// The parameters a client puts in its Authorization header; the response is computed from them.
struct Creds {
    std::string username = "alice";
    std::string realm = std::string(kRealm);
    std::string nonce;
    std::string uri = std::string(kRuri);
    std::optional<Algorithm> algorithm = Algorithm::Sha256;  // nullopt: no algorithm parameter (MD5)
    std::string qop = "auth";
    std::string nc = "00000001";
    std::string cnonce = "0a4f113b";
    std::string password = std::string(kPassword);
    std::string method = "REGISTER";
    std::optional<std::string> response;  // set: sent instead of the computed one

    std::string header() const {
        const Algorithm a = algorithm.value_or(Algorithm::Md5);
        const std::string r = response.value_or(compute_response(a, compute_ha1(a, username, realm, password),
                                                                 nonce, nc, cnonce, qop, method, uri));
        std::string h = "Digest username=\"" + username + "\", realm=\"" + realm + "\", nonce=\"" + nonce +
                        "\", uri=\"" + uri + "\", response=\"" + r + "\"";
        if (algorithm) h += ", algorithm=" + std::string(algorithm_name(*algorithm));
        if (!qop.empty()) h += ", qop=" + qop;
        if (!nc.empty()) h += ", nc=" + nc;
        if (!cnonce.empty()) h += ", cnonce=\"" + cnonce + "\"";
        return h;
    }
};

std::optional<Message> request(std::string_view auth_lines, std::string_view method = "REGISTER",
                               std::string_view ruri = kRuri) {
    std::string text = std::string(method) + " " + std::string(ruri) + " SIP/2.0\r\n" +
                       "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
                       "Max-Forwards: 70\r\n"
                       "From: <sip:alice@sip.example.com>;tag=1928301774\r\n"
                       "To: <sip:alice@sip.example.com>\r\n"
                       "Call-ID: a84b4c76e66710@192.0.2.10\r\n"
                       "CSeq: 2 " +
                       std::string(method) +
                       "\r\n"
                       "Contact: <sip:alice@192.0.2.10>\r\n" +
                       std::string(auth_lines) + "Content-Length: 0\r\n\r\n";
    auto m = Message::parse(text);
    if (!m) {
        ADD_FAILURE() << "does not parse: " << m.error().reason << "\n" << text;
        return std::nullopt;
    }
    return std::optional<Message>(std::move(*m));
}

std::optional<Message> with_authorization(const Creds& c) {
    return request("Authorization: " + c.header() + "\r\n", c.method);
}

struct AuthenticatorTest : ::testing::Test {
    FakeClock clock;
    FakeRandom random;
    NonceFactory nonces{std::string(32, 's'), std::chrono::seconds(300), clock, random};
    NonceCounter counter;
    Authenticator auth{std::string(kRealm), DigestPolicy{}, nonces, counter, clock};
    UserDirectory users{{user("alice"), user("bob", true, false), user("carol", false), user("201")}};

    Creds creds() {
        Creds c;
        c.nonce = nonces.make(kRealm);
        return c;
    }
    Verdict verdict(const Creds& c, const Authenticator& a) {
        auto m = with_authorization(c);
        return m ? a.verify(*m, false, users).verdict : Verdict::Ok;  // a parse failure was reported already
    }
    Verdict verdict(const Creds& c) { return verdict(c, auth); }
};

}  // namespace

TEST_F(AuthenticatorTest, ChallengesStrongestFirstSharingOneNonce) {
    const auto cs = auth.challenges(false);
    ASSERT_EQ(cs.size(), 3u);
    const char* algorithms[] = {"SHA-256", "SHA-512-256", "MD5"};
    std::string nonce;
    for (std::size_t i = 0; i < cs.size(); ++i) {
        auto p = sw::sip::parse_auth(cs[i]);
        ASSERT_TRUE(p.has_value()) << cs[i];
        EXPECT_EQ(p->scheme, "Digest");
        EXPECT_EQ(p->get("realm"), "sip.example.com");
        EXPECT_EQ(p->get("algorithm"), algorithms[i]);
        EXPECT_EQ(p->get("qop"), "auth");
        EXPECT_EQ(p->get("stale"), std::nullopt);
        ASSERT_TRUE(p->get("nonce").has_value());
        if (i == 0) nonce = *p->get("nonce");
        EXPECT_EQ(p->get("nonce"), nonce);
    }
    EXPECT_EQ(nonces.check(nonce, kRealm), NonceCheck::Valid);
    EXPECT_EQ(cs[0],
              "Digest realm=\"sip.example.com\", nonce=\"" + nonce + "\", algorithm=SHA-256, qop=\"auth\"");
}

TEST_F(AuthenticatorTest, StaleChallengesSayStale) {
    const auto cs = auth.challenges(true);
    ASSERT_EQ(cs.size(), 3u);
    for (const auto& c : cs) {
        auto p = sw::sip::parse_auth(c);
        ASSERT_TRUE(p.has_value());
        EXPECT_EQ(p->get("stale"), "true");
    }
}

TEST_F(AuthenticatorTest, NoMd5ChallengeWhenPolicyForbidsIt) {
    Authenticator strict(
        std::string(kRealm),
        [] {
            DigestPolicy p;
            p.allow_md5 = false;
            return p;
        }(),
        nonces, counter, clock);
    const auto cs = strict.challenges(false);
    ASSERT_EQ(cs.size(), 2u);
    EXPECT_NE(cs[0].find("algorithm=SHA-256,"), std::string::npos);
    EXPECT_NE(cs[1].find("algorithm=SHA-512-256,"), std::string::npos);
}

TEST_F(AuthenticatorTest, RealmIsQuotedInChallenges) {
    Authenticator odd(R"(a "quoted" \realm)", DigestPolicy{}, nonces, counter, clock);
    const auto cs = odd.challenges(false);
    ASSERT_FALSE(cs.empty());
    EXPECT_EQ(cs[0].rfind(R"(Digest realm="a \"quoted\" \\realm", nonce=")", 0), 0u) << cs[0];
    auto p = sw::sip::parse_auth(cs[0]);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->get("realm"), R"(a "quoted" \realm)");
}

TEST_F(AuthenticatorTest, CorrectResponsesForEveryAlgorithm) {
    for (Algorithm a : {Algorithm::Sha256, Algorithm::Sha512_256, Algorithm::Md5}) {
        Creds c = creds();
        c.algorithm = a;
        auto m = with_authorization(c);
        ASSERT_TRUE(m);
        const VerifyResult r = auth.verify(*m, false, users);
        EXPECT_EQ(r.verdict, Verdict::Ok) << algorithm_name(a);
        EXPECT_EQ(r.user, "alice");
        EXPECT_EQ(r.algorithm, a);
    }
}

TEST_F(AuthenticatorTest, AbsentAlgorithmMeansMd5) {
    Creds c = creds();
    c.algorithm = std::nullopt;
    auto m = with_authorization(c);
    ASSERT_TRUE(m);
    const VerifyResult r = auth.verify(*m, false, users);
    EXPECT_EQ(r.verdict, Verdict::Ok);
    EXPECT_EQ(r.algorithm, Algorithm::Md5);
}

TEST_F(AuthenticatorTest, ExtensionUserAndInvite) {
    Creds c = creds();
    c.username = "201";
    c.method = "INVITE";
    EXPECT_EQ(verdict(c), Verdict::Ok);
    // The digest covers the method: credentials computed for INVITE do not fit a REGISTER.
    c.nc = "00000002";
    auto m = request("Authorization: " + c.header() + "\r\n", "REGISTER");
    ASSERT_TRUE(m);
    EXPECT_EQ(auth.verify(*m, false, users).verdict, Verdict::Rejected);
}

TEST_F(AuthenticatorTest, WrongPasswordUnknownUserAndDisabledUserLookTheSame) {
    Creds wrong = creds();
    wrong.password = "Correct Horse 43";
    Creds unknown = creds();
    unknown.username = "mallory";
    Creds disabled = creds();
    disabled.username = "carol";
    for (const Creds* c : {&wrong, &unknown, &disabled}) {
        auto m = with_authorization(*c);
        ASSERT_TRUE(m);
        const VerifyResult r = auth.verify(*m, false, users);
        EXPECT_EQ(r.verdict, Verdict::Rejected) << c->username;
        EXPECT_EQ(r.user, c->username);  // the claimed name, for the log
        EXPECT_EQ(r.algorithm, Algorithm::Sha256);
    }
}

TEST_F(AuthenticatorTest, ReplayedNonceCountIsRejected) {
    Creds c = creds();
    EXPECT_EQ(verdict(c), Verdict::Ok);
    EXPECT_EQ(verdict(c), Verdict::Rejected);  // the same request again
    c.nc = "00000002";
    EXPECT_EQ(verdict(c), Verdict::Ok);
    c.nc = "00000001";
    EXPECT_EQ(verdict(c), Verdict::Rejected);
    c.nc = "0000000A";  // hex, either case
    EXPECT_EQ(verdict(c), Verdict::Ok);
    c.nc = "0000000a";
    EXPECT_EQ(verdict(c), Verdict::Rejected);
}

TEST_F(AuthenticatorTest, WrongResponseDoesNotUseUpTheNonceCount) {
    Creds c = creds();
    c.nc = "00000005";
    c.response = std::string(64, '0');
    EXPECT_EQ(verdict(c), Verdict::Rejected);
    c.response.reset();
    EXPECT_EQ(verdict(c), Verdict::Ok);
}

TEST_F(AuthenticatorTest, StaleNonceWithCorrectResponseIsStale) {
    Creds c = creds();
    clock.advance(301);
    EXPECT_EQ(verdict(c), Verdict::Stale);
    c.password = "wrong password!";
    EXPECT_EQ(verdict(c), Verdict::Rejected);  // stale only when the credentials are otherwise right
    c = creds();
    c.username = "mallory";
    clock.advance(301);
    EXPECT_EQ(verdict(c), Verdict::Rejected);
}

TEST_F(AuthenticatorTest, PolicyLifetimeShorterThanTheFactorys) {
    Authenticator brief(
        std::string(kRealm),
        [] {
            DigestPolicy p;
            p.nonce_lifetime = std::chrono::seconds(60);
            return p;
        }(),
        nonces, counter, clock);
    Creds c = creds();
    clock.advance(60);
    EXPECT_EQ(verdict(c, brief), Verdict::Ok);
    clock.advance(1);
    c.nc = "00000002";
    EXPECT_EQ(verdict(c, brief), Verdict::Stale);
}

TEST_F(AuthenticatorTest, InvalidNoncesAreRejected) {
    Creds c = creds();
    c.nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    EXPECT_EQ(verdict(c), Verdict::Rejected);
    c.nonce = nonces.make("other.realm");
    EXPECT_EQ(verdict(c), Verdict::Rejected);
    c.nonce = "";
    EXPECT_EQ(verdict(c), Verdict::Rejected);
}

TEST_F(AuthenticatorTest, Md5RefusedWhenUserOrPolicyForbidsIt) {
    Creds c = creds();
    c.username = "bob";
    c.algorithm = Algorithm::Md5;
    EXPECT_EQ(verdict(c), Verdict::Rejected);
    c.algorithm = Algorithm::Sha256;
    EXPECT_EQ(verdict(c), Verdict::Ok);

    Authenticator strict(
        std::string(kRealm),
        [] {
            DigestPolicy p;
            p.allow_md5 = false;
            return p;
        }(),
        nonces, counter, clock);
    Creds a = creds();
    a.algorithm = Algorithm::Md5;
    EXPECT_EQ(verdict(a, strict), Verdict::Rejected);
    a.algorithm = std::nullopt;
    EXPECT_EQ(verdict(a, strict), Verdict::Rejected);
    a.algorithm = Algorithm::Sha512_256;
    EXPECT_EQ(verdict(a, strict), Verdict::Ok);
}

TEST_F(AuthenticatorTest, UserWithoutAStoredHa1IsRejected) {
    UserRecord u = user("dave");
    u.ha1_sha512_256.clear();
    UserDirectory dir({u});
    Creds c = creds();
    c.username = "dave";
    c.algorithm = Algorithm::Sha512_256;
    auto m = with_authorization(c);
    ASSERT_TRUE(m);
    EXPECT_EQ(auth.verify(*m, false, dir).verdict, Verdict::Rejected);
}

TEST_F(AuthenticatorTest, MissingOrForeignCredentialsAreNoCredentials) {
    auto none = request("");
    ASSERT_TRUE(none);
    EXPECT_EQ(auth.verify(*none, false, users).verdict, Verdict::NoCredentials);

    Creds other = creds();
    other.realm = "other.example.com";
    EXPECT_EQ(verdict(other), Verdict::NoCredentials);

    auto basic = request("Authorization: Basic YWxpY2U6cGFzc3dvcmQ=\r\n");
    ASSERT_TRUE(basic);
    EXPECT_EQ(auth.verify(*basic, false, users).verdict, Verdict::NoCredentials);
}

TEST_F(AuthenticatorTest, ProxyAuthorizationIsSeparate) {
    Creds c = creds();
    auto m = request("Proxy-Authorization: " + c.header() + "\r\n");
    ASSERT_TRUE(m);
    EXPECT_EQ(auth.verify(*m, false, users).verdict, Verdict::NoCredentials);
    EXPECT_EQ(auth.verify(*m, true, users).verdict, Verdict::Ok);
    auto plain = with_authorization(creds());
    ASSERT_TRUE(plain);
    EXPECT_EQ(auth.verify(*plain, true, users).verdict, Verdict::NoCredentials);
}

TEST_F(AuthenticatorTest, PicksTheCredentialsForOurRealm) {
    Creds theirs = creds();
    theirs.realm = "upstream.example.net";
    Creds ours = creds();
    auto m = request("Authorization: " + theirs.header() + "\r\nAuthorization: " + ours.header() + "\r\n");
    ASSERT_TRUE(m);
    EXPECT_EQ(auth.verify(*m, false, users).verdict, Verdict::Ok);
}

TEST_F(AuthenticatorTest, UriMustBeTheRequestUri) {
    Creds c = creds();
    c.uri = "sip:elsewhere.example.com";
    EXPECT_EQ(verdict(c), Verdict::Rejected);
    c.uri = "sip:SIP.example.com";  // equal as URIs, but the digest covers the text
    EXPECT_EQ(verdict(c), Verdict::Rejected);
}

TEST_F(AuthenticatorTest, IncompleteOrUnsupportedParametersAreRejected) {
    Creds c = creds();
    c.qop = "";
    EXPECT_EQ(verdict(c), Verdict::Rejected);  // RFC 2069 style: we always ask for qop
    c = creds();
    c.qop = "auth-int";
    EXPECT_EQ(verdict(c), Verdict::Rejected);
    c = creds();
    c.nc = "";
    EXPECT_EQ(verdict(c), Verdict::Rejected);
    c = creds();
    c.nc = "1";
    EXPECT_EQ(verdict(c), Verdict::Rejected);
    c = creds();
    c.nc = "0000000g";
    EXPECT_EQ(verdict(c), Verdict::Rejected);
    c = creds();
    c.cnonce = "";
    EXPECT_EQ(verdict(c), Verdict::Rejected);

    for (std::string_view algorithm : {"MD5-sess", "SHA-256-sess", "SHA-1", "\"\""}) {
        c = creds();
        c.algorithm = std::nullopt;
        auto m = request("Authorization: " + c.header() + ", algorithm=" + std::string(algorithm) + "\r\n");
        ASSERT_TRUE(m);
        EXPECT_EQ(auth.verify(*m, false, users).verdict, Verdict::Rejected) << algorithm;
    }

    c = creds();
    auto hashed = request("Authorization: " + c.header() + ", userhash=true\r\n");
    ASSERT_TRUE(hashed);
    EXPECT_EQ(auth.verify(*hashed, false, users).verdict, Verdict::Rejected);

    auto bare = request("Authorization: Digest realm=\"sip.example.com\"\r\n");
    ASSERT_TRUE(bare);
    EXPECT_EQ(auth.verify(*bare, false, users).verdict, Verdict::Rejected);
}

TEST_F(AuthenticatorTest, UppercaseResponseHexIsAccepted) {
    Creds c = creds();
    const Algorithm a = *c.algorithm;
    std::string r = compute_response(a, compute_ha1(a, c.username, c.realm, c.password), c.nonce, c.nc,
                                     c.cnonce, c.qop, c.method, c.uri);
    for (char& ch : r)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    c.response = r;
    EXPECT_EQ(verdict(c), Verdict::Ok);
}

TEST_F(AuthenticatorTest, FullCounterAsksForAFreshNonce) {
    NonceCounter full(0);
    Authenticator a(std::string(kRealm), DigestPolicy{}, nonces, full, clock);
    EXPECT_EQ(verdict(creds(), a), Verdict::Stale);
}

TEST(UserDirectory, FindsExactNamesFirstRecordWins) {
    UserRecord first = user("alice");
    first.display_name = "first";
    UserRecord second = user("alice");
    second.display_name = "second";
    UserDirectory dir({user("zed"), first, user("201"), second});
    EXPECT_EQ(dir.size(), 3u);
    ASSERT_NE(dir.find("alice"), nullptr);
    EXPECT_EQ(dir.find("alice")->display_name, "first");
    EXPECT_NE(dir.find("201"), nullptr);
    EXPECT_NE(dir.find("zed"), nullptr);
    EXPECT_EQ(dir.find("Alice"), nullptr);
    EXPECT_EQ(dir.find(""), nullptr);
    EXPECT_EQ(dir.find("alic"), nullptr);
    EXPECT_EQ(UserDirectory({}).find("alice"), nullptr);
}

// sipp (3.6) puts the server's address in the digest uri instead of the Request-URI: accepted only when
// the address is one of the server's own hosts.
TEST(AuthenticatorOwnHosts, DigestUriNamingTheServerIsAccepted) {
    sw::auth::test::FakeClock clock;
    sw::auth::test::FakeRandom random;
    sw::auth::NonceFactory nonces(std::string(32, 'k'), std::chrono::seconds(300), clock, random);
    sw::auth::NonceCounter counter;
    sw::auth::DigestPolicy policy;
    policy.own_hosts = {"127.0.0.1"};
    sw::auth::Authenticator a("example.com", policy, nonces, counter, clock);
    sw::auth::UserRecord u;
    u.name = "201";
    u.ha1_sha256 =
        sw::auth::compute_ha1(sw::auth::Algorithm::Sha256, "201", "example.com", "Str0ng-Passw0rd-x");
    u.ha1_md5 = sw::auth::compute_ha1(sw::auth::Algorithm::Md5, "201", "example.com", "Str0ng-Passw0rd-x");
    u.ha1_sha512_256 =
        sw::auth::compute_ha1(sw::auth::Algorithm::Sha512_256, "201", "example.com", "Str0ng-Passw0rd-x");
    sw::auth::UserDirectory users({u});
    const std::string nonce = nonces.make("example.com");
    auto request_with_uri = [&](const std::string& uri, const std::string& nc) {
        const std::string resp = sw::auth::compute_response(sw::auth::Algorithm::Sha256, u.ha1_sha256, nonce,
                                                            nc, "c1", "auth", "REGISTER", uri);
        std::string text =
            "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
            "From: <sip:201@example.com>;tag=1\r\nTo: <sip:201@example.com>\r\nCall-ID: c@h\r\n"
            "CSeq: 2 REGISTER\r\nMax-Forwards: 70\r\nAuthorization: Digest username=\"201\", "
            "realm=\"example.com\", nonce=\"" +
            nonce + "\", uri=\"" + uri + "\", response=\"" + resp +
            "\", algorithm=SHA-256, qop=auth, nc=" + nc + ", cnonce=\"c1\"\r\nContent-Length: 0\r\n\r\n";
        return sw::sip::Message::parse(text);
    };
    auto own = request_with_uri("sip:127.0.0.1:5060", "00000001");
    ASSERT_TRUE(own);
    EXPECT_EQ(a.verify(*own, false, users).verdict, sw::auth::Verdict::Ok);
    auto other = request_with_uri("sip:192.0.2.9:5060", "00000002");
    ASSERT_TRUE(other);
    EXPECT_EQ(a.verify(*other, false, users).verdict, sw::auth::Verdict::Rejected);
}
