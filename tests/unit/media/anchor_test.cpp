// MediaCall (the offer/answer anchoring) with a real MediaRelay; SDP written here.
#include "media/anchor.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/relay.hpp"
#include "media/srtp.hpp"
#include "sdp/sdp.hpp"
#include "udp_phone.hpp"

using namespace sw::media;
using namespace sw::media::test;
namespace sdp = sw::sdp;

namespace {

constexpr const char* kLoop = "127.0.0.1";
// What the relay names in SDP (advertise4): not the phones' 127.0.0.1, so a leaked address shows.
constexpr const char* kRelayName = "192.0.2.99";
const std::string kSuite80 = "AES_CM_128_HMAC_SHA1_80";
const std::string kSuite32 = "AES_CM_128_HMAC_SHA1_32";

// A whole SDP: session part from `ip`, then `body` (session attributes and m= sections).
std::string sdp_text(const std::string& body, const std::string& ip = kLoop, const std::string& version = "1",
                     const std::string& user = "alice") {
    return "v=0\r\n"
           "o=" +
           user + " 2890844526 " + version + " IN IP4 " + ip +
           "\r\n"
           "s=-\r\n"
           "c=IN IP4 " +
           ip +
           "\r\n"
           "t=0 0\r\n" +
           body;
}

std::string audio(unsigned port, const std::string& proto, const std::string& extra = {}) {
    return "m=audio " + std::to_string(port) + " " + proto +
           " 0 8\r\n"
           "a=rtpmap:0 PCMU/8000\r\n"
           "a=rtpmap:8 PCMA/8000\r\n" +
           extra;
}

std::string crypto_line(int tag, const std::string& suite, const std::string& key_params) {
    return "a=crypto:" + std::to_string(tag) + " " + suite + " " + key_params + "\r\n";
}

std::string new_key_params(SrtpSuite s = SrtpSuite::AesCm128HmacSha1_80) {
    return key_params_text(generate_key(s));
}

sdp::SessionDescription parsed(const std::string& text) {
    auto d = sdp::parse(text);
    if (!d) {
        ADD_FAILURE() << "unparsable SDP (" << d.error().reason << " line " << d.error().line << "):\n"
                      << text;
        return {};
    }
    return std::move(*d);
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\r\n" + text).find("\r\n" + line + "\r\n") != std::string::npos;
}

std::vector<std::string> attribute_names(const sdp::SessionDescription& d) {
    std::vector<std::string> out;
    for (const auto& a : d.attributes)
        out.push_back(a.name);
    for (const auto& m : d.media)
        for (const auto& a : m.attributes)
            out.push_back(a.name);
    return out;
}

LegInfo leg(bool secure, SrtpPolicy policy, const std::string& label) {
    LegInfo l;
    l.secure = secure;
    l.srtp = policy;
    l.signal_source = addr(kLoop, 5060);
    l.label = label;
    return l;
}

// The key of the one crypto line of m (with its tag and suite), for checks and for phones.
struct LineKey {
    int tag = 0;
    std::string suite;
    std::string key_params;
    std::optional<SrtpKey> key;
};
std::vector<LineKey> line_keys(const sdp::Media& m) {
    std::vector<LineKey> out;
    for (const auto& c : m.cryptos()) {
        LineKey k{c.tag, c.suite, c.key_params, std::nullopt};
        if (auto s = suite_from_name(c.suite)) k.key = parse_key_params(*s, c.key_params);
        out.push_back(k);
    }
    return out;
}

class AnchorTest : public ::testing::Test {
protected:
    void SetUp() override {
        config_.address4 = kLoop;
        config_.advertise4 = kRelayName;
        config_.port_min = free_range(40);
        config_.port_max = static_cast<std::uint16_t>(config_.port_min + 39);
        relay_ = std::make_unique<MediaRelay>(config_, [](std::uint64_t) {});
        std::string error;
        ASSERT_TRUE(relay_->start(error)) << error;
    }
    void TearDown() override { relay_.reset(); }

    std::unique_ptr<MediaCall> call(bool a_secure, bool b_secure, SrtpPolicy a_policy = SrtpPolicy::Preferred,
                                    SrtpPolicy b_policy = SrtpPolicy::Preferred,
                                    PlainCrypto plain = PlainCrypto::Strip) {
        auto c = std::make_unique<MediaCall>(*relay_, 7, plain);
        c->set_leg(Side::A, leg(a_secure, a_policy, "caller"));
        c->set_leg(Side::B, leg(b_secure, b_policy, "callee"));
        return c;
    }

    bool relay_port(unsigned port) const {
        return port >= config_.port_min && port + 1 <= config_.port_max && port % 2 == 0;
    }
    // The relay's port of stream 0 on `side` (bound at the offer).
    unsigned port_of(const MediaCall& c, Side side) {
        auto p = relay_->ports(c.session(), 0, side, false);
        return p ? p->rtp_port : 0;
    }

    RelayConfig config_;
    std::unique_ptr<MediaRelay> relay_;
};

const std::string kPlainOffer = sdp_text(
    "a=ice-ufrag:8hhY\r\n"
    "a=ice-pwd:asd88fgpdd777uzjYhagZg\r\n" +
    audio(4000, "RTP/AVP",
          "a=sendrecv\r\n"
          "a=rtcp:4001\r\n"
          "a=candidate:1 1 UDP 2130706431 127.0.0.1 4000 typ host\r\n"
          "a=candidate:1 2 UDP 2130706431 127.0.0.1 4001 typ host\r\n"
          "a=ice-options:trickle\r\n"
          "a=end-of-candidates\r\n"));

const std::string kPlainAnswer = sdp_text(
    "m=audio 5000 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=sendrecv\r\n"
    "a=rtcp:5001\r\n",
    kLoop, "7", "bob");

TEST_F(AnchorTest, PlainOfferGoesOnWithTheRelaysAddressAndNoIce) {
    auto c = call(false, false);
    auto out = c->offer(Side::A, kPlainOffer);
    ASSERT_TRUE(out.has_value()) << out.error().reason;
    const auto d = parsed(*out);
    EXPECT_EQ(d.origin.username, "sipwarden");
    EXPECT_EQ(d.origin.address, kRelayName);
    ASSERT_TRUE(d.connection.has_value());
    EXPECT_EQ(d.connection->address, kRelayName);
    ASSERT_EQ(d.media.size(), 1u);
    const sdp::Media& m = d.media[0];
    for (const auto& cn : m.connections)
        EXPECT_EQ(cn.address, kRelayName);
    EXPECT_TRUE(relay_port(m.port)) << m.port;
    EXPECT_EQ(m.port, port_of(*c, Side::B));
    EXPECT_EQ(m.proto, "RTP/AVP");
    EXPECT_EQ(m.formats, (std::vector<std::string>{"0", "8"}));
    EXPECT_EQ(m.rtpmaps().size(), 2u);
    EXPECT_TRUE(has_line(*out, "a=sendrecv"));
    for (const auto& name : attribute_names(d)) {
        EXPECT_NE(name, "rtcp");
        EXPECT_NE(name, "candidate");
        EXPECT_NE(name.rfind("ice-", 0), 0u) << name;
        EXPECT_NE(name, "end-of-candidates");
    }
    EXPECT_EQ(out->find("127.0.0.1"), std::string::npos) << "the caller's address leaked:\n" << *out;
    EXPECT_EQ(relay_->ports_in_use(), 4u);  // a pair on each side
    EXPECT_TRUE(c->offer_pending());
}

TEST_F(AnchorTest, PlainAnswerNamesTheOfferersRelayPort) {
    auto c = call(false, false);
    auto out = c->offer(Side::A, kPlainOffer);
    ASSERT_TRUE(out.has_value()) << out.error().reason;
    const unsigned b_port = parsed(*out).media.at(0).port;

    auto ans = c->answer(Side::B, kPlainAnswer);
    ASSERT_TRUE(ans.has_value()) << ans.error().reason;
    const auto d = parsed(*ans);
    ASSERT_EQ(d.media.size(), 1u);
    const sdp::Media& m = d.media[0];
    EXPECT_TRUE(relay_port(m.port)) << m.port;
    EXPECT_NE(m.port, b_port);
    EXPECT_EQ(m.port, port_of(*c, Side::A));
    EXPECT_EQ(m.proto, "RTP/AVP");
    EXPECT_EQ(m.formats, (std::vector<std::string>{"0"}));
    ASSERT_TRUE(d.connection.has_value());
    EXPECT_EQ(d.connection->address, kRelayName);
    EXPECT_EQ(d.origin.username, "sipwarden");
    EXPECT_FALSE(has_line(*ans, "a=rtcp:5001"));
    EXPECT_EQ(ans->find("127.0.0.1"), std::string::npos) << "the callee's address leaked:\n" << *ans;
    EXPECT_EQ(c->modes(), (std::vector<std::string>{"rtp"}));
    EXPECT_FALSE(c->offer_pending());
    EXPECT_FALSE(c->on_hold());
    EXPECT_EQ(relay_->ports_in_use(), 4u);
}

TEST_F(AnchorTest, BothSidesSecurePassTheCryptoLinesThrough) {
    auto c = call(true, true);
    const std::string key_a = new_key_params();
    const std::string line_a = crypto_line(1, kSuite80, key_a);
    auto out = c->offer(Side::A, sdp_text(audio(4000, "RTP/SAVP", line_a)));
    ASSERT_TRUE(out.has_value()) << out.error().reason;
    const auto d = parsed(*out);
    EXPECT_EQ(d.media.at(0).proto, "RTP/SAVP");
    EXPECT_NE(out->find(line_a), std::string::npos) << "crypto line not byte-identical:\n" << *out;
    EXPECT_EQ(line_keys(d.media.at(0)).size(), 1u);
    EXPECT_TRUE(relay_port(d.media.at(0).port));

    const std::string key_b = new_key_params();
    const std::string line_b = crypto_line(1, kSuite80, key_b);
    auto ans = c->answer(Side::B, sdp_text("m=audio 5000 RTP/SAVP 0\r\n" + line_b, kLoop, "1", "bob"));
    ASSERT_TRUE(ans.has_value()) << ans.error().reason;
    EXPECT_NE(ans->find(line_b), std::string::npos) << "B's crypto line not passed to A:\n" << *ans;
    EXPECT_EQ(ans->find(key_a), std::string::npos);
    EXPECT_EQ(parsed(*ans).media.at(0).proto, "RTP/SAVP");
    EXPECT_EQ(parsed(*ans).media.at(0).port, port_of(*c, Side::A));
    EXPECT_EQ(c->modes(), (std::vector<std::string>{"pass"}));
}

TEST_F(AnchorTest, PassThroughAnsweredWithoutCryptoIsTerminatedTowardsTheOfferer) {
    auto c = call(true, true);
    const std::string key_a = new_key_params();
    ASSERT_TRUE(c->offer(Side::A, sdp_text(audio(4000, "RTP/SAVP", crypto_line(1, kSuite80, key_a)))));
    // B (secure, preferred) answers the best it can: plain RTP.
    auto ans = c->answer(Side::B, sdp_text("m=audio 5000 RTP/AVP 0\r\n", kLoop, "1", "bob"));
    ASSERT_TRUE(ans.has_value()) << ans.error().reason;
    const auto m = parsed(*ans).media.at(0);
    EXPECT_EQ(m.proto, "RTP/SAVP");
    auto keys = line_keys(m);
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(keys[0].tag, 1);
    EXPECT_NE(keys[0].key_params, key_a);
    EXPECT_TRUE(keys[0].key.has_value());
    EXPECT_EQ(c->modes(), (std::vector<std::string>{"srtp->rtp"}));
}

TEST_F(AnchorTest, SrtpCallerToPlainCalleeIsTerminatedWithTheRelaysKey) {
    struct Case {
        int tag;
        std::string suite;
        SrtpSuite s;
    };
    for (const Case& k : {Case{1, kSuite80, SrtpSuite::AesCm128HmacSha1_80},
                          Case{3, kSuite32, SrtpSuite::AesCm128HmacSha1_32}}) {
        SCOPED_TRACE(k.suite);
        auto c = call(true, false);
        const std::string key_a = new_key_params(k.s);
        auto out = c->offer(Side::A, sdp_text(audio(4000, "RTP/SAVP", crypto_line(k.tag, k.suite, key_a))));
        ASSERT_TRUE(out.has_value()) << out.error().reason;
        const auto d = parsed(*out);
        EXPECT_EQ(d.media.at(0).proto, "RTP/AVP");
        EXPECT_EQ(out->find("a=crypto"), std::string::npos) << *out;
        EXPECT_EQ(out->find(key_a.substr(7)), std::string::npos) << "A's key went to plain B";

        auto ans = c->answer(Side::B, kPlainAnswer);
        ASSERT_TRUE(ans.has_value()) << ans.error().reason;
        const auto m = parsed(*ans).media.at(0);
        EXPECT_EQ(m.proto, "RTP/SAVP");
        auto keys = line_keys(m);
        ASSERT_EQ(keys.size(), 1u) << *ans;
        EXPECT_EQ(keys[0].tag, k.tag);
        EXPECT_EQ(keys[0].suite, k.suite);
        EXPECT_NE(keys[0].key_params, key_a) << "the relay must answer with its own key";
        EXPECT_TRUE(keys[0].key.has_value()) << keys[0].key_params;
        EXPECT_EQ(c->modes(), (std::vector<std::string>{"srtp->rtp"}));

        // The same answer again (early media, then the 2xx): the same key, the same version.
        auto again = c->answer(Side::B, kPlainAnswer);
        ASSERT_TRUE(again.has_value());
        EXPECT_EQ(*again, *ans);
    }
}

TEST_F(AnchorTest, PlainCallerToSrtpRequiredCalleeIsTerminatedOnTheCalleesSide) {
    auto c = call(false, true, SrtpPolicy::Preferred, SrtpPolicy::Required);
    auto out = c->offer(Side::A, kPlainOffer);
    ASSERT_TRUE(out.has_value()) << out.error().reason;
    const auto d = parsed(*out);
    EXPECT_EQ(d.media.at(0).proto, "RTP/SAVP");
    auto offered = line_keys(d.media.at(0));
    ASSERT_GE(offered.size(), 1u);
    EXPECT_EQ(offered[0].tag, 1);
    for (const auto& k : offered)
        EXPECT_TRUE(k.key.has_value()) << k.suite << " " << k.key_params;

    const std::string key_b = new_key_params();
    auto ans = c->answer(Side::B, sdp_text("m=audio 5000 RTP/SAVP 0\r\n" + crypto_line(1, kSuite80, key_b),
                                           kLoop, "1", "bob"));
    ASSERT_TRUE(ans.has_value()) << ans.error().reason;
    const auto m = parsed(*ans).media.at(0);
    EXPECT_EQ(m.proto, "RTP/AVP");
    EXPECT_EQ(ans->find("a=crypto"), std::string::npos) << *ans;
    EXPECT_EQ(m.port, port_of(*c, Side::A));
    EXPECT_EQ(c->modes(), (std::vector<std::string>{"rtp->srtp"}));
}

TEST_F(AnchorTest, SrtpRequiredCalleeAnsweringPlainIsRefused) {
    auto c = call(false, true, SrtpPolicy::Preferred, SrtpPolicy::Required);
    ASSERT_TRUE(c->offer(Side::A, kPlainOffer));
    auto ans = c->answer(Side::B, sdp_text("m=audio 5000 RTP/AVP 0\r\n", kLoop, "1", "bob"));
    ASSERT_FALSE(ans.has_value());
    EXPECT_EQ(ans.error().status, 488);
    EXPECT_NE(ans.error().reason.find("SRTP required"), std::string::npos) << ans.error().reason;
}

TEST_F(AnchorTest, SavpOverPlainSignallingIsRefused) {
    auto c = call(false, false);
    auto out =
        c->offer(Side::A, sdp_text(audio(4000, "RTP/SAVP", crypto_line(1, kSuite80, new_key_params()))));
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().status, 488);
    EXPECT_NE(out.error().reason.find("unencrypted signalling"), std::string::npos) << out.error().reason;
}

TEST_F(AnchorTest, BestEffortCryptoOverPlainSignallingIsStripped) {
    auto c = call(false, false, SrtpPolicy::Preferred, SrtpPolicy::Preferred, PlainCrypto::Strip);
    const std::string key_a = new_key_params();
    auto out = c->offer(Side::A, sdp_text(audio(4000, "RTP/AVP", crypto_line(1, kSuite80, key_a))));
    ASSERT_TRUE(out.has_value()) << out.error().reason;
    EXPECT_EQ(parsed(*out).media.at(0).proto, "RTP/AVP");
    EXPECT_EQ(out->find("a=crypto"), std::string::npos) << *out;
    auto ans = c->answer(Side::B, kPlainAnswer);
    ASSERT_TRUE(ans.has_value()) << ans.error().reason;
    EXPECT_EQ(ans->find("a=crypto"), std::string::npos) << *ans;
    EXPECT_EQ(c->modes(), (std::vector<std::string>{"rtp"}));
}

TEST_F(AnchorTest, BestEffortCryptoOverPlainSignallingIsRefusedWhenConfigured) {
    auto c = call(false, false, SrtpPolicy::Preferred, SrtpPolicy::Preferred, PlainCrypto::Refuse);
    auto out =
        c->offer(Side::A, sdp_text(audio(4000, "RTP/AVP", crypto_line(1, kSuite80, new_key_params()))));
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().status, 488);
    EXPECT_NE(out.error().reason.find("unencrypted signalling"), std::string::npos) << out.error().reason;
}

TEST_F(AnchorTest, CallerRequiringSrtpWithAPlainOfferIsRefused) {
    auto c = call(true, false, SrtpPolicy::Required, SrtpPolicy::Preferred);
    auto out = c->offer(Side::A, kPlainOffer);
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().status, 488);
    EXPECT_NE(out.error().reason.find("SRTP required"), std::string::npos) << out.error().reason;
    EXPECT_NE(out.error().reason.find("caller"), std::string::npos) << out.error().reason;
}

TEST_F(AnchorTest, CalleeRequiringSrtpWithoutTlsIsRefused) {
    auto c = call(true, false, SrtpPolicy::Preferred, SrtpPolicy::Required);
    auto out =
        c->offer(Side::A, sdp_text(audio(4000, "RTP/SAVP", crypto_line(1, kSuite80, new_key_params()))));
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().status, 488);
    EXPECT_NE(out.error().reason.find("SRTP required"), std::string::npos) << out.error().reason;
    EXPECT_NE(out.error().reason.find("callee"), std::string::npos) << out.error().reason;
}

TEST_F(AnchorTest, RejectedAndTcpStreamsAreOfferedWithPortZeroAndTakeNoPorts) {
    auto c = call(false, false);
    const std::string body = audio(4000, "RTP/AVP") +
                             "m=video 0 RTP/AVP 31\r\n"
                             "a=rtpmap:31 H261/90000\r\n"
                             "m=application 9 TCP/BFCP *\r\n"
                             "a=setup:actpass\r\n";
    auto out = c->offer(Side::A, sdp_text(body));
    ASSERT_TRUE(out.has_value()) << out.error().reason;
    const auto d = parsed(*out);
    ASSERT_EQ(d.media.size(), 3u);
    EXPECT_TRUE(relay_port(d.media[0].port));
    EXPECT_EQ(d.media[1].port, 0u);
    EXPECT_EQ(d.media[2].port, 0u);
    EXPECT_EQ(d.media[2].proto, "TCP/BFCP");
    EXPECT_EQ(relay_->ports_in_use(), 4u);                              // the audio stream's pairs only
    EXPECT_FALSE(relay_->stats(c->session(), 1, Side::A).has_value());  // no relay stream behind them
    EXPECT_FALSE(relay_->stats(c->session(), 2, Side::A).has_value());
    EXPECT_EQ(c->modes(), (std::vector<std::string>{"rtp", "off", "off"}));

    // B answers all three (even the TCP one): A is told 0 for the two the relay does not carry.
    const std::string answer_body =
        "m=audio 5000 RTP/AVP 0\r\n"
        "m=video 0 RTP/AVP 31\r\n"
        "m=application 9 TCP/BFCP *\r\n";
    auto ans = c->answer(Side::B, sdp_text(answer_body, kLoop, "1", "bob"));
    ASSERT_TRUE(ans.has_value()) << ans.error().reason;
    const auto a = parsed(*ans);
    ASSERT_EQ(a.media.size(), 3u);
    EXPECT_EQ(a.media[0].port, port_of(*c, Side::A));
    EXPECT_EQ(a.media[1].port, 0u);
    EXPECT_EQ(a.media[2].port, 0u);
}

// Found by fuzz_media: a stream the relay cannot carry, offered over TLS with a key, went on to a plain
// leg as rejected but with its crypto line (the offerer's key in clear on the other side).
TEST_F(AnchorTest, AStreamOfferedRejectedCarriesNoKeyToAPlainLeg) {
    auto c = call(true, false);
    const std::string body = audio(4000, "RTP/AVP") + "m=audio 4002 RTivP/SAVP 0\r\n" +  // unknown transport
                             crypto_line(1, kSuite80, new_key_params()) + "a=rtcp:4003\r\n" +
                             "m=video 0 RTP/SAVP 31\r\n" + crypto_line(1, kSuite80, new_key_params());
    auto out = c->offer(Side::A, sdp_text(body));
    ASSERT_TRUE(out.has_value()) << out.error().reason;
    EXPECT_EQ(out->find("a=crypto"), std::string::npos) << *out;
    EXPECT_EQ(out->find("a=rtcp:"), std::string::npos) << *out;
    const auto d = parsed(*out);
    ASSERT_EQ(d.media.size(), 3u);
    EXPECT_EQ(d.media[1].port, 0u);
    EXPECT_EQ(d.media[2].port, 0u);
}

// DTLS-SRTP passes through (its keys come from the handshake), but a crypto line beside it is the
// offerer's SDES key: it must not reach a leg on plain signalling (found by fuzz_media), nor come back
// in an answer to one; between two TLS legs it is dropped too (nothing uses it).
TEST_F(AnchorTest, CryptoLinesBesideDtlsNeverReachTheOtherLeg) {
    for (const bool secure : {false, true}) {
        auto c = call(secure, secure, SrtpPolicy::Preferred, SrtpPolicy::Preferred, PlainCrypto::Strip);
        const std::string extra =
            "a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n" + crypto_line(1, kSuite80, new_key_params());
        auto out = c->offer(Side::A, sdp_text(audio(4000, "UDP/TLS/RTP/SAVP", extra)));
        ASSERT_TRUE(out.has_value()) << out.error().reason;
        EXPECT_EQ(out->find("a=crypto"), std::string::npos) << *out;
        EXPECT_NE(out->find("a=fingerprint"), std::string::npos) << *out;  // DTLS itself passes
        auto ans = c->answer(Side::B, sdp_text(audio(5000, "UDP/TLS/RTP/SAVP", extra), kLoop, "1", "bob"));
        ASSERT_TRUE(ans.has_value()) << ans.error().reason;
        EXPECT_EQ(ans->find("a=crypto"), std::string::npos) << *ans;
    }
}

TEST_F(AnchorTest, VersionStaysForTheSameOfferAndGrowsOnAChange) {
    auto c = call(false, false);
    auto first = c->offer(Side::A, kPlainOffer);
    ASSERT_TRUE(first.has_value());
    ASSERT_TRUE(c->answer(Side::B, kPlainAnswer));
    auto second = c->offer(Side::A, kPlainOffer);  // a refresh re-INVITE with the same SDP
    ASSERT_TRUE(second.has_value());
    const auto v1 = parsed(*first).origin;
    const auto v2 = parsed(*second).origin;
    EXPECT_EQ(v2.session_id, v1.session_id);
    EXPECT_EQ(v2.session_version, v1.session_version);
    EXPECT_EQ(*second, *first);
    ASSERT_TRUE(c->answer(Side::B, kPlainAnswer));
    EXPECT_FALSE(c->on_hold());

    // Hold: A sends sendonly, B answers recvonly.
    std::string hold = kPlainOffer;
    hold.replace(hold.find("a=sendrecv"), 10, "a=sendonly");
    auto third = c->offer(Side::A, hold);
    ASSERT_TRUE(third.has_value());
    const auto v3 = parsed(*third).origin;
    EXPECT_EQ(v3.session_id, v1.session_id);
    EXPECT_EQ(std::stoull(v3.session_version), std::stoull(v1.session_version) + 1);
    EXPECT_TRUE(has_line(*third, "a=sendonly"));
    std::string held_answer = kPlainAnswer;
    held_answer.replace(held_answer.find("a=sendrecv"), 10, "a=recvonly");
    auto ans = c->answer(Side::B, held_answer);
    ASSERT_TRUE(ans.has_value());
    EXPECT_TRUE(c->on_hold());
    EXPECT_TRUE(has_line(*ans, "a=recvonly"));

    // Resumed.
    auto fourth = c->offer(Side::A, kPlainOffer);
    ASSERT_TRUE(fourth.has_value());
    EXPECT_EQ(std::stoull(parsed(*fourth).origin.session_version), std::stoull(v1.session_version) + 2);
    ASSERT_TRUE(c->answer(Side::B, kPlainAnswer));
    EXPECT_FALSE(c->on_hold());
}

TEST_F(AnchorTest, AnswerWithSendonlyPutsTheCallOnHold) {
    auto c = call(false, false);
    ASSERT_TRUE(c->offer(Side::A, kPlainOffer));
    std::string answer = kPlainAnswer;
    answer.replace(answer.find("a=sendrecv"), 10, "a=sendonly");
    auto ans = c->answer(Side::B, answer, false);  // early media
    ASSERT_TRUE(ans.has_value());
    EXPECT_TRUE(c->on_hold());
    EXPECT_TRUE(c->offer_pending());
    EXPECT_TRUE(has_line(*ans, "a=sendonly"));
    auto final_answer = c->answer(Side::B, answer, true);
    ASSERT_TRUE(final_answer.has_value());
    EXPECT_EQ(*final_answer, *ans);  // the same answer: the same o= version
    EXPECT_FALSE(c->offer_pending());
    EXPECT_TRUE(c->on_hold());
}

TEST_F(AnchorTest, SameOfferToAnSrtpCalleeKeepsItsKeysAndVersion) {
    auto c = call(false, true, SrtpPolicy::Preferred, SrtpPolicy::Required);
    auto first = c->offer(Side::A, kPlainOffer);
    ASSERT_TRUE(first.has_value()) << first.error().reason;
    const std::string key_b = new_key_params();
    const std::string answer =
        sdp_text("m=audio 5000 RTP/SAVP 0\r\n" + crypto_line(1, kSuite80, key_b), kLoop, "1", "bob");
    ASSERT_TRUE(c->answer(Side::B, answer));
    auto second = c->offer(Side::A, kPlainOffer);  // a refresh re-INVITE from A, nothing changed
    ASSERT_TRUE(second.has_value()) << second.error().reason;
    EXPECT_EQ(parsed(*second).origin.session_version, parsed(*first).origin.session_version);
    EXPECT_EQ(*second, *first) << "the re-offer to B changed:\n" << *first << "---\n" << *second;
    ASSERT_TRUE(c->answer(Side::B, answer));
    EXPECT_EQ(c->modes(), (std::vector<std::string>{"rtp->srtp"}));
}

TEST_F(AnchorTest, MalformedSdpIsRefused) {
    auto c = call(false, false);
    for (const std::string& bad : {std::string("this is not SDP"), std::string(),
                                   std::string("v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                                               "m=audio 4000 RTP/AVP 0\r\n"),  // no t=, no c=
                                   sdp_text("m=audio 99999 RTP/AVP 0\r\n")}) {
        auto out = c->offer(Side::A, bad);
        ASSERT_FALSE(out.has_value()) << bad;
        EXPECT_EQ(out.error().status, 488);
        EXPECT_FALSE(out.error().reason.empty());
    }
    EXPECT_EQ(relay_->ports_in_use(), 0u);
    ASSERT_TRUE(c->offer(Side::A, kPlainOffer));
    auto ans = c->answer(Side::B, "v=0\r\ngarbage\r\n");
    ASSERT_FALSE(ans.has_value());
    EXPECT_EQ(ans.error().status, 488);
}

TEST_F(AnchorTest, MoreThanSixteenStreamsAreRefused) {
    auto c = call(false, false);
    std::string body;
    for (int i = 0; i < 17; ++i)
        body += "m=audio " + std::to_string(4000 + 2 * i) + " RTP/AVP 0\r\n";
    auto out = c->offer(Side::A, sdp_text(body));
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().status, 488);
    EXPECT_EQ(relay_->ports_in_use(), 0u);
}

TEST_F(AnchorTest, DestroyingTheCallClosesItsRelaySession) {
    auto c = call(true, false);
    ASSERT_TRUE(
        c->offer(Side::A, sdp_text(audio(4000, "RTP/SAVP", crypto_line(1, kSuite80, new_key_params())))));
    ASSERT_TRUE(c->answer(Side::B, kPlainAnswer));
    c->established();
    EXPECT_EQ(relay_->sessions(), 1u);
    EXPECT_EQ(relay_->ports_in_use(), 4u);
    c.reset();
    EXPECT_EQ(relay_->sessions(), 0u);
    EXPECT_EQ(relay_->ports_in_use(), 0u);
}

TEST_F(AnchorTest, PolicyNamesRoundTrip) {
    for (auto p : {SrtpPolicy::Off, SrtpPolicy::Preferred, SrtpPolicy::Required})
        EXPECT_EQ(srtp_policy_from(srtp_policy_name(p)), p);
    EXPECT_FALSE(srtp_policy_from("Required").has_value());
    EXPECT_FALSE(srtp_policy_from("").has_value());
}

// Media through the relay with the keys the SDP carried: the anchor set the relay up the right way round.
class AnchorMediaTest : public AnchorTest {
protected:
    void SetUp() override {
        AnchorTest::SetUp();
        ASSERT_TRUE(pa_.bind(kLoop, config_.port_min, config_.port_max));
        ASSERT_TRUE(pb_.bind(kLoop, config_.port_min, config_.port_max));
    }
    Phone pa_, pb_;
};

TEST_F(AnchorMediaTest, SrtpCallerAndPlainCalleeTalk) {
    auto c = call(true, false);
    const SrtpKey key_a = generate_key(SrtpSuite::AesCm128HmacSha1_80);
    auto out = c->offer(Side::A, sdp_text(audio(pa_.rtp.port(), "RTP/SAVP",
                                                crypto_line(1, kSuite80, key_params_text(key_a)))));
    ASSERT_TRUE(out.has_value()) << out.error().reason;
    const unsigned relay_b = parsed(*out).media.at(0).port;
    auto ans = c->answer(
        Side::B, sdp_text("m=audio " + std::to_string(pb_.rtp.port()) + " RTP/AVP 0\r\n", kLoop, "1", "bob"));
    ASSERT_TRUE(ans.has_value()) << ans.error().reason;
    const auto m = parsed(*ans).media.at(0);
    const unsigned relay_a = m.port;
    auto keys = line_keys(m);
    ASSERT_EQ(keys.size(), 1u);
    ASSERT_TRUE(keys[0].key.has_value());
    c->established();

    auto a_out = SrtpStream::outbound(key_a);
    auto a_in = SrtpStream::inbound(*keys[0].key);
    const Bytes from_a = rtp_packet(1, 0xA0A0A0A0);
    ASSERT_TRUE(pa_.rtp.send(addr(kLoop, static_cast<std::uint16_t>(relay_a)), protect_rtp(*a_out, from_a)));
    auto got = pb_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, from_a);

    const Bytes from_b = rtp_packet(1, 0xB0B0B0B0);
    ASSERT_TRUE(pb_.rtp.send(addr(kLoop, static_cast<std::uint16_t>(relay_b)), from_b));
    got = pa_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    auto clear = unprotect_rtp(*a_in, got->data);
    ASSERT_TRUE(clear.has_value()) << "A cannot read the relay's SRTP with the key of the answer";
    EXPECT_EQ(*clear, from_b);
}

TEST_F(AnchorMediaTest, PlainCallerAndSrtpCalleeTalk) {
    auto c = call(false, true, SrtpPolicy::Preferred, SrtpPolicy::Required);
    auto out = c->offer(Side::A, sdp_text(audio(pa_.rtp.port(), "RTP/AVP")));
    ASSERT_TRUE(out.has_value()) << out.error().reason;
    const auto offer_m = parsed(*out).media.at(0);
    const unsigned relay_b = offer_m.port;
    auto offered = line_keys(offer_m);
    ASSERT_GE(offered.size(), 1u);
    ASSERT_TRUE(offered[0].key.has_value());
    const SrtpKey key_b = generate_key(SrtpSuite::AesCm128HmacSha1_80);
    auto ans = c->answer(Side::B, sdp_text("m=audio " + std::to_string(pb_.rtp.port()) + " RTP/SAVP 0\r\n" +
                                               crypto_line(offered[0].tag, kSuite80, key_params_text(key_b)),
                                           kLoop, "1", "bob"));
    ASSERT_TRUE(ans.has_value()) << ans.error().reason;
    const unsigned relay_a = parsed(*ans).media.at(0).port;

    auto b_out = SrtpStream::outbound(key_b);
    auto b_in = SrtpStream::inbound(*offered[0].key);
    const Bytes from_b = rtp_packet(1, 0xB0B0B0B0);
    ASSERT_TRUE(pb_.rtp.send(addr(kLoop, static_cast<std::uint16_t>(relay_b)), protect_rtp(*b_out, from_b)));
    auto got = pa_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, from_b);

    const Bytes from_a = rtp_packet(1, 0xA0A0A0A0);
    ASSERT_TRUE(pa_.rtp.send(addr(kLoop, static_cast<std::uint16_t>(relay_a)), from_a));
    got = pb_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    auto clear = unprotect_rtp(*b_in, got->data);
    ASSERT_TRUE(clear.has_value()) << "B cannot read the relay's SRTP with the key of the offer";
    EXPECT_EQ(*clear, from_a);
}

}  // namespace
