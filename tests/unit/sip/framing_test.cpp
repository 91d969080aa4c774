#include <gtest/gtest.h>

#include "sip/framing.hpp"
#include "sip/message.hpp"

using sw::sip::StreamFramer;
using Kind = StreamFramer::Kind;

namespace {
const std::string kMsg =
    "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:x@b>;tag=1\r\n"
    "To: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 MESSAGE\r\nl: 5\r\n\r\nhello";
}

TEST(Framer, SplitsBackToBackMessagesAcrossArbitraryChunks) {
    const std::string stream = kMsg + kMsg + "\r\n" + kMsg;
    for (std::size_t chunk : {1u, 3u, 7u, 64u, 4096u}) {
        StreamFramer f;
        int messages = 0;
        for (std::size_t i = 0; i < stream.size(); i += chunk) {
            f.append(std::string_view(stream).substr(i, chunk));
            for (;;) {
                auto fr = f.next();
                if (fr.kind == Kind::NeedMore) break;
                ASSERT_EQ(fr.kind, Kind::Message) << "chunk " << chunk;
                EXPECT_EQ(fr.bytes, kMsg);
                auto m = sw::sip::Message::parse(fr.bytes, {65536, true});
                ASSERT_TRUE(m.has_value());
                EXPECT_EQ(m->body(), "hello");
                ++messages;
            }
        }
        EXPECT_EQ(messages, 3) << "chunk " << chunk;
        EXPECT_EQ(f.buffered(), 0u);
    }
}

TEST(Framer, KeepAlivePingIsReported) {
    StreamFramer f;
    f.append("\r\n\r\n");
    EXPECT_EQ(f.next().kind, Kind::Ping);
    EXPECT_EQ(f.next().kind, Kind::NeedMore);
    f.append("\r\n");  // a lone CRLF (pong) waits: it may be the start of a ping
    EXPECT_EQ(f.next().kind, Kind::NeedMore);
    f.append(kMsg);
    auto fr = f.next();
    EXPECT_EQ(fr.kind, Kind::Message);
    EXPECT_EQ(fr.bytes, kMsg);
}

TEST(Framer, MissingContentLengthIsAnError) {
    StreamFramer f;
    f.append("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n");
    auto fr = f.next();
    EXPECT_EQ(fr.kind, Kind::Error);
    EXPECT_EQ(fr.status, 400);
    EXPECT_EQ(fr.reason, "Bad Request - Missing Content-Length");
    f.append(kMsg);
    EXPECT_EQ(f.next().kind, Kind::Error);  // no resynchronisation after a framing error
}

TEST(Framer, OversizeRefusedBeforeReadingWhole) {
    StreamFramer f(1024);
    // Content-Length announces more than the limit: refused as soon as the headers are in.
    f.append("INVITE sip:a@b SIP/2.0\r\nContent-Length: 100000\r\n\r\nxx");
    auto fr = f.next();
    EXPECT_EQ(fr.kind, Kind::Error);
    EXPECT_EQ(fr.status, 513);

    StreamFramer g(1024);
    // An endless header block: refused once it passes the limit, without waiting for its end.
    std::string header = "INVITE sip:a@b SIP/2.0\r\n";
    while (header.size() < 1100)
        header += "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    g.append(header);
    EXPECT_EQ(g.next().status, 513);
}

TEST(Framer, MultipleOrBadContentLength) {
    StreamFramer a;
    a.append("X sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab");
    EXPECT_EQ(a.next().reason, "Bad Request - Multiple Content-Length headers");
    StreamFramer b;
    b.append("X sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n");
    EXPECT_EQ(b.next().reason, "Bad Request - Invalid Content-Length");
}
