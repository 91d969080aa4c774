// The RelayTest fixture, shared by relay_test.cpp (both paths) and relay_kernel_test.cpp (the kernel
// path alone): a MediaRelay on loopback and two phones of plain POSIX sockets.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "media/relay.hpp"
#include "udp_phone.hpp"

namespace sw::media::test {

constexpr const char* kLoop = "127.0.0.1";

// The relay's addresses of one stream, on both sides.
struct Call {
    MediaRelay::SessionId id = 0;
    RelayPorts a, b;
    NetAddress a_rtp, a_rtcp, b_rtp, b_rtcp;
};

class RelayTest : public ::testing::TestWithParam<bool> {
protected:
    void TearDown() override { relay_.reset(); }

    // Whether this host has ::1 to bind (the IPv6 cases skip without it).
    static bool has_ipv6_loopback() {
        UdpSocket probe;
        return probe.bind("::1", 0);
    }

    // A started relay on 127.0.0.1 (and `v6` if given) with `span` ports at a random place.
    void start(int timeout_s = 60, unsigned threads = 1, unsigned span = 40, std::string v6 = {}) {
        config_ = RelayConfig{};
        config_.address4 = kLoop;
        config_.address6 = std::move(v6);
        config_.port_min =
            free_range(span, config_.address6.empty() ? std::vector<std::string>{kLoop}
                                                      : std::vector<std::string>{kLoop, config_.address6});
        config_.port_max = static_cast<std::uint16_t>(config_.port_min + span - 1);
        config_.threads = threads;
        config_.timeout_s = timeout_s;
        config_.hold_timeout_s = 3600;
        config_.kernel = GetParam();
        relay_ = std::make_unique<MediaRelay>(config_, [this](std::uint64_t owner) {
            std::lock_guard lock(mutex_);
            timed_out_.push_back(owner);
            cv_.notify_all();
        });
        std::string error;
        ASSERT_TRUE(relay_->start(error)) << error;
        if (GetParam() && !relay_->kernel_active()) {
            // Needs CAP_BPF and CAP_NET_ADMIN and Linux 6.6+ (tcx). SW_REQUIRE_KERNEL_PATH=1 makes a
            // refusal a failure (set it where the host is known to allow it).
            const char* required = std::getenv("SW_REQUIRE_KERNEL_PATH");
            ASSERT_FALSE(required && std::string(required) == "1")
                << "kernel path refused: " << relay_->kernel_status();
            GTEST_SKIP() << "no kernel path here: " << relay_->kernel_status();
        }
    }

    // Relayed media leaves marked for the network's quality of service (DSCP 46, Expedited Forwarding, by
    // default) and with this host's TTL, whatever the phone sent with: in user space through the relay
    // sockets' options, in the kernel path by rewriting the header (and its IPv4 checksum, or the
    // packet would not arrive at all).
    void marks_media(const std::string& ip) {
        const bool v6 = ip != kLoop;
        int host_ttl = 64;  // what a fresh socket of this host sends with
        {
            UdpSocket probe;
            ASSERT_TRUE(probe.bind(ip, 0));
            socklen_t len = sizeof host_ttl;
            ::getsockopt(probe.fd(), v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL,
                         &host_ttl, &len);
        }
        start(60, 1, 40, v6 ? ip : std::string{});
        phones(ip);
        const Call c = open_call(1, v6);
        peers(c);
        a_.rtp.mark(7, 0x20);  // TTL 7, DSCP 8 (CS1): neither may survive the relay
        b_.rtp.mark(7, 0x20);
        const auto one_way = [&](const Phone& from, const NetAddress& to, Phone& at, std::uint16_t seq,
                                 std::uint32_t ssrc) {
            const Bytes p = rtp_packet(seq, ssrc);
            ASSERT_TRUE(from.rtp.send(to, p));
            auto got = at.rtp.receive();
            ASSERT_TRUE(got.has_value()) << "packet " << seq << " did not arrive";
            EXPECT_EQ(got->data, p);
            EXPECT_EQ(got->tos, 46 << 2) << "packet " << seq;
            EXPECT_EQ(got->ttl, host_ttl) << "packet " << seq;
        };
        for (std::uint16_t seq = 1; seq <= 12; ++seq) {
            ASSERT_NO_FATAL_FAILURE(one_way(a_, c.a_rtp, b_, seq, 0xA0A0A0A0));
            ASSERT_NO_FATAL_FAILURE(one_way(b_, c.b_rtp, a_, seq, 0xB0B0B0B0));
            if (seq == 1 && GetParam()) {  // both sides latched: the kernel takes over
                ASSERT_TRUE(wait_flows(2)) << relay_->kernel_flows() << " flows";
            }
        }
        stats(c, Side::A);
        stats(c, Side::B);
        if (GetParam()) {
            EXPECT_GE(relay_->kernel_packets(), 20u);  // the later packets were the kernel's
        }
    }

    // Up to 2 s for the kernel path to hold `n` flows.
    bool wait_flows(std::size_t n) {
        for (int i = 0; i < 400 && relay_->kernel_flows() != n; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return relay_->kernel_flows() == n;
    }

    // Two phones on `ip`, outside the relay's range.
    void phones(const std::string& ip = kLoop) {
        ASSERT_TRUE(a_.bind(ip, config_.port_min, config_.port_max));
        ASSERT_TRUE(b_.bind(ip, config_.port_min, config_.port_max));
    }

    Call open_call(std::uint64_t owner = 1, bool v6 = false) {
        Call c;
        c.id = relay_->open(owner);
        auto a = relay_->ports(c.id, 0, Side::A, v6);
        auto b = relay_->ports(c.id, 0, Side::B, v6);
        EXPECT_TRUE(a && b);
        if (!a || !b) return c;
        c.a = *a;
        c.b = *b;
        c.a_rtp = addr(a->address, a->rtp_port);
        c.a_rtcp = addr(a->address, static_cast<std::uint16_t>(a->rtp_port + 1));
        c.b_rtp = addr(b->address, b->rtp_port);
        c.b_rtcp = addr(b->address, static_cast<std::uint16_t>(b->rtp_port + 1));
        return c;
    }

    // Both phones as the SDP of each side names them, signalling from the phones' IP.
    void peers(const Call& c, bool mux = false) {
        relay_->set_peer(c.id, 0, Side::A, a_.rtp_address(), mux, addr(a_.ip, 5060));
        relay_->set_peer(c.id, 0, Side::B, b_.rtp_address(), mux, addr(b_.ip, 5060));
    }

    SideStats stats(const Call& c, Side side) {
        auto s = relay_->stats(c.id, 0, side);
        EXPECT_TRUE(s.has_value());
        return s ? *s : SideStats{};
    }

    bool timed_out(std::uint64_t owner) {
        std::lock_guard lock(mutex_);
        return std::find(timed_out_.begin(), timed_out_.end(), owner) != timed_out_.end();
    }
    bool wait_timed_out(std::uint64_t owner, std::chrono::milliseconds limit) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, limit, [&] {
            return std::find(timed_out_.begin(), timed_out_.end(), owner) != timed_out_.end();
        });
    }

    RelayConfig config_;
    Phone a_, b_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::uint64_t> timed_out_;
    std::unique_ptr<MediaRelay> relay_;  // last: stopped before what its handler uses goes away
};

}  // namespace sw::media::test
