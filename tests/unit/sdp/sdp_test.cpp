#include <gtest/gtest.h>

#include "sdp/sdp.hpp"

using namespace sw::sdp;

namespace {
const std::string kOffer =
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "b=AS:128\r\n"
    "t=0 0\r\n"
    "a=sendrecv\r\n"
    "m=audio 49170 RTP/SAVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n"
    "a=ptime:20\r\n"
    "m=video 51372/2 RTP/AVP 31\r\n"
    "c=IN IP6 2001:db8::20\r\n"
    "a=rtpmap:31 H261/90000\r\n"
    "a=recvonly\r\n";
}

TEST(Sdp, ParsesAndRoundTrips) {
    auto s = parse(kOffer);
    ASSERT_TRUE(s.has_value()) << s.error().reason << " line " << s.error().line;
    EXPECT_EQ(s->origin.username, "alice");
    EXPECT_EQ(s->origin.address, "192.0.2.10");
    EXPECT_EQ(s->connection->address, "192.0.2.10");
    ASSERT_EQ(s->media.size(), 2u);
    const Media& audio = s->media[0];
    EXPECT_EQ(audio.port, 49170u);
    EXPECT_EQ(audio.proto, "RTP/SAVP");
    EXPECT_EQ(audio.formats, (std::vector<std::string>{"0", "8", "101"}));
    auto maps = audio.rtpmaps();
    ASSERT_EQ(maps.size(), 3u);
    EXPECT_EQ(maps[2].encoding, "telephone-event");
    EXPECT_EQ(maps[2].clock_rate, 8000);
    EXPECT_EQ(audio.fmtp(101), "0-16");
    auto crypto = audio.cryptos();
    ASSERT_EQ(crypto.size(), 1u);
    EXPECT_EQ(crypto[0].suite, "AES_CM_128_HMAC_SHA1_80");
    EXPECT_EQ(crypto[0].inline_key(), "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
    EXPECT_EQ(s->direction(audio), Direction::SendRecv);  // from the session level
    const Media& video = s->media[1];
    EXPECT_EQ(video.port_count, 2u);
    EXPECT_EQ(s->direction(video), Direction::RecvOnly);
    EXPECT_EQ(s->connection_for(video)->address, "2001:db8::20");
    EXPECT_EQ(s->connection_for(audio)->address, "192.0.2.10");
    EXPECT_EQ(serialize(*s), kOffer);
}

TEST(Sdp, RewriteAddressAndPortForARelay) {
    auto s = parse(kOffer);
    ASSERT_TRUE(s.has_value());
    s->connection->address = "203.0.113.5";
    s->media[0].port = 30000;
    auto again = parse(serialize(*s));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->connection->address, "203.0.113.5");
    EXPECT_EQ(again->media[0].port, 30000u);
}

TEST(Sdp, Rejections) {
    auto reason = [](const std::string& text) {
        auto s = parse(text);
        return s ? std::string("ok") : std::string(s.error().reason);
    };
    const std::string head = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\n";
    EXPECT_EQ(reason(head), "ok");
    EXPECT_EQ(reason(head + "m=audio 99999 RTP/AVP 0\r\n"), "Invalid media port");
    EXPECT_EQ(reason(head + "m=audio 1 RTP/AVP\r\n"), "Invalid media");
    EXPECT_EQ(reason(head + "m =video 3227 RTP/AVP 31\r\n"), "Invalid line");
    EXPECT_EQ(reason(head + "q=what\r\n"), "Unknown line type");
    EXPECT_EQ(reason("o=- 1 1 IN IP4 h\r\n"), "Description must start with v=");
    EXPECT_EQ(reason("v=1\r\n"), "Invalid version");
    EXPECT_EQ(reason("v=0\r\no=- 1 1 IN IP4\r\n"), "Invalid origin");
    EXPECT_EQ(reason("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n"), "Missing t=");
    EXPECT_EQ(reason("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n"),
              "Media without connection address");
    EXPECT_EQ(reason(head + "\r\nm=audio 1 RTP/AVP 0\r\n"), "Empty line");
    EXPECT_EQ(reason(""), "Missing v=");
    auto err = parse(head + "a=\r\n");
    ASSERT_FALSE(err.has_value());
    EXPECT_EQ(err.error().line, 6u);
}

TEST(Sdp, CryptoAndRtpmapParsers) {
    EXPECT_FALSE(parse_crypto("1 AES_CM_128_HMAC_SHA1_80").has_value());
    EXPECT_FALSE(parse_crypto("x AES_CM_128_HMAC_SHA1_80 inline:abc").has_value());
    EXPECT_FALSE(parse_crypto("1 AES_CM_128_HMAC_SHA1_80 plain:abc").has_value());
    auto c = parse_crypto("2 AES_256_CM_HMAC_SHA1_32 inline:KEY;inline:KEY2 KDR=1 UNENCRYPTED_SRTCP");
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->inline_key(), "KEY");
    EXPECT_EQ(c->session_params, "KDR=1 UNENCRYPTED_SRTCP");
    auto r = parse_rtpmap("111 opus/48000/2");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->parameters, "2");
    EXPECT_FALSE(parse_rtpmap("128 x/8000").has_value());
    EXPECT_FALSE(parse_rtpmap("0 PCMU").has_value());
}
