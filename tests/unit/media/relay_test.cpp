// MediaRelay over real loopback UDP sockets: plain POSIX sockets play the two phones.
#include "media/relay.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "media/srtp.hpp"
#include "relay_fixture.hpp"
#include "udp_phone.hpp"

using namespace sw::media;
using namespace sw::media::test;
using namespace std::chrono_literals;

namespace {

TEST_P(RelayTest, PortsAreEvenPairsInRangeStableAndCounted) {
    start();
    const auto id = relay_->open(1);
    EXPECT_EQ(relay_->sessions(), 1u);
    auto a = relay_->ports(id, 0, Side::A, false);
    auto b = relay_->ports(id, 0, Side::B, false);
    ASSERT_TRUE(a.has_value());
    ASSERT_TRUE(b.has_value());
    for (const RelayPorts* p : {&*a, &*b}) {
        EXPECT_EQ(p->address, kLoop);
        EXPECT_EQ(p->rtp_port % 2, 0);
        EXPECT_GE(p->rtp_port, config_.port_min);
        EXPECT_LE(p->rtp_port + 1, config_.port_max);  // the RTCP port (+1) is in the range too
    }
    EXPECT_NE(a->rtp_port, b->rtp_port);
    EXPECT_EQ(relay_->ports_in_use(), 4u);

    // Asked again: the same ports, nothing more taken.
    auto a2 = relay_->ports(id, 0, Side::A, false);
    auto b2 = relay_->ports(id, 0, Side::B, false);
    ASSERT_TRUE(a2 && b2);
    EXPECT_EQ(a2->rtp_port, a->rtp_port);
    EXPECT_EQ(b2->rtp_port, b->rtp_port);
    EXPECT_EQ(relay_->ports_in_use(), 4u);

    // A second stream gets a pair of its own.
    auto v = relay_->ports(id, 1, Side::A, false);
    ASSERT_TRUE(v.has_value());
    EXPECT_NE(v->rtp_port, a->rtp_port);
    EXPECT_NE(v->rtp_port, b->rtp_port);
    EXPECT_EQ(relay_->ports_in_use(), 6u);

    // The ports are really bound, RTP and RTCP.
    const std::vector<std::uint16_t> taken = {a->rtp_port, static_cast<std::uint16_t>(a->rtp_port + 1),
                                              b->rtp_port, static_cast<std::uint16_t>(b->rtp_port + 1),
                                              v->rtp_port, static_cast<std::uint16_t>(v->rtp_port + 1)};
    for (std::uint16_t p : taken) {
        UdpSocket s;
        EXPECT_FALSE(s.bind(kLoop, p)) << "port " << p << " should be the relay's";
    }

    relay_->close(id);
    EXPECT_EQ(relay_->ports_in_use(), 0u);
    EXPECT_EQ(relay_->sessions(), 0u);
    for (std::uint16_t p : taken) {
        UdpSocket s;
        EXPECT_TRUE(s.bind(kLoop, p)) << "port " << p << " should be free again";
    }
    // A closed session has no ports and no stats.
    EXPECT_FALSE(relay_->ports(id, 0, Side::A, false).has_value());
    EXPECT_FALSE(relay_->stats(id, 0, Side::A).has_value());
}

TEST_P(RelayTest, NoPortsWithoutAnAddressOfTheFamilyOrForAnUnknownSession) {
    start();
    const auto id = relay_->open(1);
    EXPECT_FALSE(relay_->ports(id, 0, Side::A, true).has_value());  // no address6 configured
    EXPECT_FALSE(relay_->ports(id + 1000, 0, Side::A, false).has_value());
    EXPECT_EQ(relay_->ports_in_use(), 0u);
}

TEST_P(RelayTest, PortPoolRunsOutAndRefills) {
    start(60, 1, 40);  // 20 pairs at most
    const auto id = relay_->open(1);
    unsigned got = 0;
    std::optional<RelayPorts> p;
    for (unsigned i = 0; i < 17; ++i) {  // 17 streams: the most one session takes
        p = relay_->ports(id, i, Side::A, false);
        if (!p) break;
        ++got;
    }
    const auto id2 = relay_->open(2);
    for (unsigned i = 0; i < 17 && p; ++i) {
        p = relay_->ports(id2, i, Side::A, false);
        if (p) ++got;
    }
    EXPECT_FALSE(p.has_value()) << "a full range must refuse";
    EXPECT_LE(got, 20u);
    EXPECT_GT(got, 10u);  // a few ports may be held by somebody else on this machine, not half
    EXPECT_EQ(relay_->ports_in_use(), 2u * got);
    relay_->close(id);
    relay_->close(id2);
    EXPECT_EQ(relay_->ports_in_use(), 0u);
    const auto id3 = relay_->open(3);
    EXPECT_TRUE(relay_->ports(id3, 0, Side::A, false).has_value());
}

TEST_P(RelayTest, RelaysRtpBothWaysByteIdentical) {
    start();
    phones();
    const Call c = open_call();
    peers(c);
    for (std::uint16_t seq = 1; seq <= 5; ++seq) {
        const Bytes p = rtp_packet(seq, 0xA0A0A0A0);
        ASSERT_EQ(p.size(), 172u);
        ASSERT_TRUE(a_.rtp.send(c.a_rtp, p));
        auto got = b_.rtp.receive();
        ASSERT_TRUE(got.has_value()) << "packet " << seq << " from A did not reach B";
        EXPECT_EQ(got->data, p);
        EXPECT_EQ(got->from, c.b_rtp);  // from the relay's port on B's side
    }
    for (std::uint16_t seq = 1; seq <= 3; ++seq) {
        const Bytes p = rtp_packet(seq, 0xB0B0B0B0, 8);
        ASSERT_TRUE(b_.rtp.send(c.b_rtp, p));
        auto got = a_.rtp.receive();
        ASSERT_TRUE(got.has_value()) << "packet " << seq << " from B did not reach A";
        EXPECT_EQ(got->data, p);
        EXPECT_EQ(got->from, c.a_rtp);
    }
    const SideStats sa = stats(c, Side::A);
    const SideStats sb = stats(c, Side::B);
    EXPECT_EQ(sa.received, 5u);
    EXPECT_EQ(sa.relayed, 5u);
    EXPECT_EQ(sb.received, 3u);
    EXPECT_EQ(sb.relayed, 3u);
    EXPECT_EQ(sa.foreign + sa.no_destination + sa.srtp_failed, 0u);
    EXPECT_EQ(sb.foreign + sb.no_destination + sb.srtp_failed, 0u);
}

TEST_P(RelayTest, RelaysRtcpOnTheNextPorts) {
    start();
    phones();
    const Call c = open_call();
    peers(c);
    const Bytes sr_a = rtcp_sender_report(0xA0A0A0A0, 1);
    ASSERT_TRUE(a_.rtcp.send(c.a_rtcp, sr_a));
    auto got = b_.rtcp.receive();
    ASSERT_TRUE(got.has_value()) << "RTCP from A did not reach B's RTCP port";
    EXPECT_EQ(got->data, sr_a);
    EXPECT_EQ(got->from, c.b_rtcp);

    const Bytes sr_b = rtcp_sender_report(0xB0B0B0B0, 2);
    ASSERT_TRUE(b_.rtcp.send(c.b_rtcp, sr_b));
    got = a_.rtcp.receive();
    ASSERT_TRUE(got.has_value()) << "RTCP from B did not reach A's RTCP port";
    EXPECT_EQ(got->data, sr_b);
    EXPECT_EQ(got->from, c.a_rtcp);

    // Nothing went to the RTP ports.
    EXPECT_FALSE(a_.rtp.receive(100).has_value());
    EXPECT_FALSE(b_.rtp.receive(100).has_value());
    EXPECT_EQ(stats(c, Side::A).relayed, 1u);
    EXPECT_EQ(stats(c, Side::B).relayed, 1u);
}

TEST_P(RelayTest, LatchesToTheSourceThePacketsComeFrom) {
    start();
    phones();
    Phone sdp_only;  // what A's SDP names; A really sends from a_ (a NAT rewrote its port)
    ASSERT_TRUE(sdp_only.bind(kLoop, config_.port_min, config_.port_max));
    const Call c = open_call();
    relay_->set_peer(c.id, 0, Side::A, sdp_only.rtp_address(), false, addr(kLoop, 5060));
    relay_->set_peer(c.id, 0, Side::B, b_.rtp_address(), false, addr(kLoop, 5060));

    // Before A has sent anything, its packets go where its SDP says.
    const Bytes early = rtp_packet(1, 0xB0B0B0B0);
    ASSERT_TRUE(b_.rtp.send(c.b_rtp, early));
    auto got = sdp_only.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, early);

    // One packet from A's real socket...
    const Bytes from_a = rtp_packet(1, 0xA0A0A0A0);
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, from_a));
    got = b_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, from_a);

    // ...and B's packets follow it there.
    for (std::uint16_t seq = 2; seq <= 4; ++seq) {
        const Bytes p = rtp_packet(seq, 0xB0B0B0B0);
        ASSERT_TRUE(b_.rtp.send(c.b_rtp, p));
        got = a_.rtp.receive();
        ASSERT_TRUE(got.has_value()) << "packet " << seq << " was not sent to A's latched address";
        EXPECT_EQ(got->data, p);
        EXPECT_EQ(got->from, c.a_rtp);
    }
    EXPECT_FALSE(sdp_only.rtp.receive(100).has_value());
}

TEST_P(RelayTest, StrictLatchingDropsAStrangerOnAnotherIp) {
    start();
    phones();
    UdpSocket stranger;
    if (!stranger.bind("127.0.0.2", 0)) GTEST_SKIP() << "127.0.0.2 cannot be bound here";
    const Call c = open_call();
    peers(c);  // A: SDP and signalling from 127.0.0.1

    for (std::uint16_t seq = 1; seq <= 3; ++seq)
        ASSERT_TRUE(stranger.send(c.a_rtp, rtp_packet(seq, 0xBADBAD00)));
    ASSERT_TRUE(eventually([&] { return stats(c, Side::A).foreign == 3; }))
        << "foreign = " << stats(c, Side::A).foreign;
    EXPECT_FALSE(b_.rtp.receive(200).has_value()) << "a stranger's packet reached B";
    EXPECT_EQ(stats(c, Side::A).relayed, 0u);

    // The stranger did not take A's place: B's packets still go to A, not to it.
    const Bytes from_b = rtp_packet(1, 0xB0B0B0B0);
    ASSERT_TRUE(b_.rtp.send(c.b_rtp, from_b));
    auto got = a_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, from_b);
    EXPECT_FALSE(stranger.receive(100).has_value());

    // A itself still gets through.
    const Bytes from_a = rtp_packet(1, 0xA0A0A0A0);
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, from_a));
    got = b_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, from_a);
    const SideStats sa = stats(c, Side::A);
    EXPECT_EQ(sa.received, 4u);
    EXPECT_EQ(sa.foreign, 3u);
    EXPECT_EQ(sa.relayed, 1u);
}

TEST_P(RelayTest, PacketsFromTheSignallingIpAreAccepted) {
    start();
    phones();
    UdpSocket behind_nat;  // A's media comes from the IP its SIP comes from, not the one in its SDP
    if (!behind_nat.bind("127.0.0.2", 0)) GTEST_SKIP() << "127.0.0.2 cannot be bound here";
    const Call c = open_call();
    relay_->set_peer(c.id, 0, Side::A, a_.rtp_address(), false, addr("127.0.0.2", 5060));
    relay_->set_peer(c.id, 0, Side::B, b_.rtp_address(), false, addr(kLoop, 5060));
    const Bytes p = rtp_packet(1, 0xA0A0A0A0);
    ASSERT_TRUE(behind_nat.send(c.a_rtp, p));
    auto got = b_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, p);
    // Latched: B's answer goes to the signalling-IP socket.
    const Bytes q = rtp_packet(1, 0xB0B0B0B0);
    ASSERT_TRUE(b_.rtp.send(c.b_rtp, q));
    got = behind_nat.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, q);
    EXPECT_EQ(stats(c, Side::A).foreign, 0u);
}

TEST_P(RelayTest, RtcpOnTheRtpPortIsRelayedAsRtcp) {
    start();
    phones();
    const Call c = open_call();
    peers(c);  // neither side said a=rtcp-mux
    const Bytes sr = rtcp_sender_report(0xA0A0A0A0, 7);
    ASSERT_EQ(sr[1], 200);
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, sr));  // RTCP multiplexed on A's RTP port
    auto got = b_.rtcp.receive();
    ASSERT_TRUE(got.has_value()) << "RTCP sent on the RTP port did not reach B's RTCP port";
    EXPECT_EQ(got->data, sr);
    EXPECT_EQ(got->from, c.b_rtcp);

    // A muxes: RTCP towards A goes to its RTP port from now on.
    const Bytes sr_b = rtcp_sender_report(0xB0B0B0B0, 8);
    ASSERT_TRUE(b_.rtcp.send(c.b_rtcp, sr_b));
    got = a_.rtp.receive();
    ASSERT_TRUE(got.has_value()) << "RTCP for a muxing side should go to its RTP port";
    EXPECT_EQ(got->data, sr_b);
    EXPECT_EQ(got->from, c.a_rtp);

    // RTP on the same port is still RTP.
    const Bytes p = rtp_packet(1, 0xA0A0A0A0);
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, p));
    got = b_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, p);
    EXPECT_FALSE(a_.rtcp.receive(100).has_value());
    EXPECT_FALSE(b_.rtcp.receive(100).has_value());
}

TEST_P(RelayTest, RtcpMuxFromSdpSendsRtcpOnTheRtpPort) {
    start();
    phones();
    const Call c = open_call();
    relay_->set_peer(c.id, 0, Side::A, a_.rtp_address(), true, addr(kLoop, 5060));  // a=rtcp-mux
    relay_->set_peer(c.id, 0, Side::B, b_.rtp_address(), false, addr(kLoop, 5060));
    const Bytes sr = rtcp_sender_report(0xB0B0B0B0, 3);
    ASSERT_TRUE(b_.rtcp.send(c.b_rtcp, sr));
    auto got = a_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, sr);
    EXPECT_EQ(got->from, c.a_rtp);
}

TEST_P(RelayTest, PacketsWithNoDestinationAreCounted) {
    start();
    phones();
    const Call c = open_call();
    relay_->set_peer(c.id, 0, Side::A, a_.rtp_address(), false, addr(kLoop, 5060));  // B unknown
    for (std::uint16_t seq = 1; seq <= 3; ++seq)
        ASSERT_TRUE(a_.rtp.send(c.a_rtp, rtp_packet(seq, 0xA0A0A0A0)));
    ASSERT_TRUE(eventually([&] { return stats(c, Side::A).no_destination == 3; }))
        << "no_destination = " << stats(c, Side::A).no_destination;
    const SideStats sa = stats(c, Side::A);
    EXPECT_EQ(sa.received, 3u);
    EXPECT_EQ(sa.relayed, 0u);
    EXPECT_FALSE(b_.rtp.receive(100).has_value());

    // Once B is known, the same stream flows.
    relay_->set_peer(c.id, 0, Side::B, b_.rtp_address(), false, addr(kLoop, 5060));
    const Bytes p = rtp_packet(4, 0xA0A0A0A0);
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, p));
    auto got = b_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, p);
}

TEST_P(RelayTest, SrtpTerminatedOnSideA) {
    start();
    phones();
    const Call c = open_call();
    peers(c);
    const SrtpKey key_a = generate_key(SrtpSuite::AesCm128HmacSha1_80);  // A's own key
    const SrtpKey key_r = generate_key(SrtpSuite::AesCm128HmacSha1_80);  // the relay's key towards A
    relay_->set_crypto(c.id, 0, Side::A, key_a, key_r);
    auto a_out = SrtpStream::outbound(key_a);
    auto a_in = SrtpStream::inbound(key_r);
    ASSERT_TRUE(a_out && a_in);

    for (std::uint16_t seq = 1; seq <= 3; ++seq) {
        const Bytes plain = rtp_packet(seq, 0xA0A0A0A0);
        const Bytes srtp = protect_rtp(*a_out, plain);
        ASSERT_EQ(srtp.size(), plain.size() + 10);
        ASSERT_TRUE(a_.rtp.send(c.a_rtp, srtp));
        auto got = b_.rtp.receive();
        ASSERT_TRUE(got.has_value()) << "SRTP packet " << seq << " from A did not reach B";
        EXPECT_EQ(got->data, plain) << "B must get the plain RTP";
    }
    for (std::uint16_t seq = 1; seq <= 3; ++seq) {
        const Bytes plain = rtp_packet(seq, 0xB0B0B0B0);
        ASSERT_TRUE(b_.rtp.send(c.b_rtp, plain));
        auto got = a_.rtp.receive();
        ASSERT_TRUE(got.has_value()) << "RTP packet " << seq << " from B did not reach A";
        EXPECT_NE(got->data, plain) << "A must get SRTP";
        EXPECT_EQ(got->data.size(), plain.size() + 10);
        auto clear = unprotect_rtp(*a_in, got->data);
        ASSERT_TRUE(clear.has_value()) << "A cannot unprotect with the relay's key";
        EXPECT_EQ(*clear, plain);
    }
    EXPECT_EQ(stats(c, Side::A).srtp_failed, 0u);
    EXPECT_EQ(stats(c, Side::A).relayed, 3u);
    EXPECT_EQ(stats(c, Side::B).relayed, 3u);
}

TEST_P(RelayTest, SrtcpTerminatedOnSideA) {
    start();
    phones();
    const Call c = open_call();
    peers(c);
    const SrtpKey key_a = generate_key(SrtpSuite::AesCm128HmacSha1_80);
    const SrtpKey key_r = generate_key(SrtpSuite::AesCm128HmacSha1_80);
    relay_->set_crypto(c.id, 0, Side::A, key_a, key_r);
    auto a_out = SrtpStream::outbound(key_a);
    auto a_in = SrtpStream::inbound(key_r);
    ASSERT_TRUE(a_out && a_in);

    const Bytes sr = rtcp_sender_report(0xA0A0A0A0, 1);
    const Bytes srtcp = protect_rtcp(*a_out, sr);
    ASSERT_FALSE(srtcp.empty());
    ASSERT_TRUE(a_.rtcp.send(c.a_rtcp, srtcp));
    auto got = b_.rtcp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, sr);

    const Bytes sr_b = rtcp_sender_report(0xB0B0B0B0, 2);
    ASSERT_TRUE(b_.rtcp.send(c.b_rtcp, sr_b));
    got = a_.rtcp.receive();
    ASSERT_TRUE(got.has_value());
    auto clear = unprotect_rtcp(*a_in, got->data);
    ASSERT_TRUE(clear.has_value());
    EXPECT_EQ(*clear, sr_b);
}

TEST_P(RelayTest, SrtpTamperedAndReplayedPacketsAreDropped) {
    start();
    phones();
    const Call c = open_call();
    peers(c);
    const SrtpKey key_a = generate_key(SrtpSuite::AesCm128HmacSha1_80);
    relay_->set_crypto(c.id, 0, Side::A, key_a, generate_key(SrtpSuite::AesCm128HmacSha1_80));
    auto a_out = SrtpStream::outbound(key_a);
    ASSERT_TRUE(a_out);

    const Bytes p1 = rtp_packet(1, 0xA0A0A0A0);
    const Bytes s1 = protect_rtp(*a_out, p1);
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, s1));
    auto got = b_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, p1);

    Bytes s2 = protect_rtp(*a_out, rtp_packet(2, 0xA0A0A0A0));
    s2[40] ^= 0x01;  // one bit of the payload
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, s2));
    ASSERT_TRUE(eventually([&] { return stats(c, Side::A).srtp_failed == 1; }))
        << "tampered packet not refused";

    ASSERT_TRUE(a_.rtp.send(c.a_rtp, s1));  // replayed
    ASSERT_TRUE(eventually([&] { return stats(c, Side::A).srtp_failed == 2; }))
        << "replayed packet not refused";
    EXPECT_FALSE(b_.rtp.receive(200).has_value()) << "a tampered or replayed packet reached B";

    // A packet made with a wrong key is refused too.
    auto stranger_key = SrtpStream::outbound(generate_key(SrtpSuite::AesCm128HmacSha1_80));
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, protect_rtp(*stranger_key, rtp_packet(5, 0xA0A0A0A0))));
    ASSERT_TRUE(eventually([&] { return stats(c, Side::A).srtp_failed == 3; }));

    // The stream goes on.
    const Bytes p3 = rtp_packet(3, 0xA0A0A0A0);
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, protect_rtp(*a_out, p3)));
    got = b_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, p3);
    const SideStats sa = stats(c, Side::A);
    EXPECT_EQ(sa.received, 5u);
    EXPECT_EQ(sa.relayed, 2u);
    EXPECT_EQ(sa.srtp_failed, 3u);
}

TEST_P(RelayTest, TimeoutReportsASilentArmedSession) {
    start(1);
    const auto silent = relay_->open(42);
    ASSERT_TRUE(relay_->ports(silent, 0, Side::A, false).has_value());
    const auto unarmed = relay_->open(43);  // the call was never answered
    const auto held = relay_->open(44);     // on hold: the long timeout
    relay_->arm(silent, false);
    relay_->arm(held, true);
    EXPECT_TRUE(wait_timed_out(42, 3500ms)) << "no timeout for a silent session within 3.5 s";
    // A little longer than the 1 s timeout again: the others are still not reported, 42 only once.
    EXPECT_FALSE(wait_timed_out(43, 1500ms));
    EXPECT_FALSE(timed_out(44));
    std::lock_guard lock(mutex_);
    EXPECT_EQ(std::count(timed_out_.begin(), timed_out_.end(), 42u), 1);
    (void)unarmed;
}

TEST_P(RelayTest, NoTimeoutWhilePacketsFlow) {
    start(1);
    phones();
    const auto id = relay_->open(42);
    auto p = relay_->ports(id, 0, Side::A, false);
    ASSERT_TRUE(p.has_value());
    const NetAddress relay_a = addr(p->address, p->rtp_port);
    relay_->arm(id, false);
    const auto end = std::chrono::steady_clock::now() + 2500ms;
    std::uint16_t seq = 0;
    while (std::chrono::steady_clock::now() < end) {
        ASSERT_TRUE(a_.rtp.send(relay_a, rtp_packet(++seq, 0xA0A0A0A0)));
        std::this_thread::sleep_for(200ms);  // pacing the stream, not a wait for a result
    }
    EXPECT_FALSE(timed_out(42)) << "timed out while a packet came every 200 ms";
    auto st = relay_->stats(id, 0, Side::A);
    ASSERT_TRUE(st.has_value());
    EXPECT_GE(st->received, 10u);
    // The stream stops: now the timeout comes.
    EXPECT_TRUE(wait_timed_out(42, 3500ms));
}

TEST_P(RelayTest, ManySessionsOnTwoThreadsAllRelayAndCloseClean) {
    start(60, 2, 100);
    phones();
    std::vector<Call> calls;
    for (std::uint64_t i = 0; i < 10; ++i) {
        calls.push_back(open_call(100 + i));
        peers(calls.back());
    }
    EXPECT_EQ(relay_->sessions(), 10u);
    EXPECT_EQ(relay_->ports_in_use(), 40u);
    std::set<std::uint16_t> seen;
    for (const Call& c : calls) {
        EXPECT_TRUE(seen.insert(c.a.rtp_port).second);
        EXPECT_TRUE(seen.insert(c.b.rtp_port).second);
    }
    // Every session relays (sessions sit on both threads).
    for (std::size_t i = 0; i < calls.size(); ++i) {
        const Bytes p = rtp_packet(static_cast<std::uint16_t>(i + 1), 0xA0A0A0A0);
        ASSERT_TRUE(a_.rtp.send(calls[i].a_rtp, p));
        auto got = b_.rtp.receive();
        ASSERT_TRUE(got.has_value()) << "session " << i;
        EXPECT_EQ(got->data, p);
        EXPECT_EQ(got->from, calls[i].b_rtp);
    }
    for (const Call& c : calls)
        relay_->close(c.id);
    EXPECT_EQ(relay_->ports_in_use(), 0u);
    EXPECT_EQ(relay_->sessions(), 0u);
    relay_->close(calls.front().id);  // twice: harmless
    EXPECT_EQ(relay_->ports_in_use(), 0u);
}

TEST_P(RelayTest, RelaysOverIpv6Loopback) {
    if (!has_ipv6_loopback()) GTEST_SKIP() << "no ::1 here";
    start(60, 1, 40, "::1");
    phones("::1");
    const Call c = open_call(1, true);
    EXPECT_EQ(c.a.address, "::1");
    peers(c);
    const Bytes p = rtp_packet(1, 0xA0A0A0A0);
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, p));
    auto got = b_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, p);
    EXPECT_EQ(got->from, c.b_rtp);
    const Bytes q = rtp_packet(1, 0xB0B0B0B0);
    ASSERT_TRUE(b_.rtp.send(c.b_rtp, q));
    got = a_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, q);
    relay_->close(c.id);
    EXPECT_EQ(relay_->ports_in_use(), 0u);
}

TEST_P(RelayTest, MarksMediaWithTheConfiguredDscpAndTheHostsTtl) {
    marks_media(kLoop);
}

TEST_P(RelayTest, MarksIpv6MediaWithTheConfiguredDscpAndTheHostsHopLimit) {
    if (!has_ipv6_loopback()) GTEST_SKIP() << "no ::1 here";
    marks_media("::1");
}

TEST_P(RelayTest, ABurstOnOneSocketIsAllRelayedInOrder) {
    // More packets waiting on one socket than one recvmmsg takes (32): nothing is left behind.
    start();
    phones();
    const Call c = open_call();
    peers(c);
    constexpr std::uint16_t kCount = 120;  // within the phone's default receive buffer
    for (std::uint16_t seq = 1; seq <= kCount; ++seq)
        ASSERT_TRUE(a_.rtp.send(c.a_rtp, rtp_packet(seq, 0xA0A0A0A0)));
    for (std::uint16_t seq = 1; seq <= kCount; ++seq) {
        auto got = b_.rtp.receive();
        ASSERT_TRUE(got.has_value()) << "packet " << seq << " of " << kCount;
        EXPECT_EQ(got->data, rtp_packet(seq, 0xA0A0A0A0));
    }
    EXPECT_EQ(stats(c, Side::A).relayed, kCount);
}

TEST_P(RelayTest, ADatagramTooLargeForTheBufferIsDroppedNotCut) {
    start();
    phones();
    const Call c = open_call();
    peers(c);
    Bytes big = rtp_packet(1, 0xA0A0A0A0);
    big.resize(2048 - kMaxSrtpOverhead + 100, 0x55);
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, big));
    const Bytes p = rtp_packet(2, 0xA0A0A0A0);
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, p));
    auto got = b_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, p);  // the next packet, not a cut copy of the large one
    EXPECT_FALSE(b_.rtp.receive(200).has_value());
    EXPECT_EQ(stats(c, Side::A).relayed, 1u);
}

TEST(RelayNetAddress, ParsesComparesAndPrints) {
    auto a = NetAddress::from("127.0.0.1", 4000);
    ASSERT_TRUE(a.has_value());
    EXPECT_FALSE(a->is_v6());
    EXPECT_EQ(a->port(), 4000);
    EXPECT_EQ(a->ip(), "127.0.0.1");
    auto b = NetAddress::from("[::1]", 4000);
    ASSERT_TRUE(b.has_value());
    EXPECT_TRUE(b->is_v6());
    EXPECT_EQ(b->ip(), "::1");
    EXPECT_FALSE(*a == *b);
    EXPECT_TRUE(a->same_ip(*NetAddress::from("127.0.0.1", 5000)));
    EXPECT_FALSE(*a == *NetAddress::from("127.0.0.1", 5000));
    EXPECT_FALSE(NetAddress::from("example.com", 1).has_value());
    EXPECT_TRUE(NetAddress{}.empty());
}

INSTANTIATE_TEST_SUITE_P(UserSpace, RelayTest, ::testing::Values(false));
INSTANTIATE_TEST_SUITE_P(Kernel, RelayTest, ::testing::Values(true));

}  // namespace
