// The media relay's kernel path alone (the eBPF program on tc ingress): what moves to the kernel, when
// it comes back to the relay thread, IPv6, and two networks (phones in network namespaces).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "media/relay.hpp"
#include "media/srtp.hpp"
#include "relay_fixture.hpp"
#include "udp_phone.hpp"

using namespace sw::media;
using namespace sw::media::test;
using namespace std::chrono_literals;

namespace {

// The kernel path alone (instantiated only with it on).
class RelayKernelTest : public RelayTest {
protected:
    // What the kernel relayed so far (the relay counts it when it looks: stats() looks).
    std::uint64_t kernel_count(const Call& c) {
        stats(c, Side::A);
        stats(c, Side::B);
        return relay_->kernel_packets();
    }
    void across_two_networks(bool later);
    // One packet each way: both sides latched, both RTP directions handed to the kernel once their
    // sockets have been quiet for a moment.
    void exchange_first(const Call& c) {
        ASSERT_TRUE(a_.rtp.send(c.a_rtp, rtp_packet(1, 0xA0A0A0A0)));
        ASSERT_TRUE(b_.rtp.receive().has_value());
        ASSERT_TRUE(b_.rtp.send(c.b_rtp, rtp_packet(1, 0xB0B0B0B0)));
        ASSERT_TRUE(a_.rtp.receive().has_value());
        ASSERT_TRUE(wait_flows(2)) << relay_->kernel_flows() << " flows";
    }
    // Packets `first`..`last` each way, one A->B then one B->A: each arrives byte-identical from the
    // relay's socket on the receiving side.
    void both_ways(const Call& c, std::uint16_t first, std::uint16_t last, const char* what) {
        for (std::uint16_t seq = first; seq <= last; ++seq) {
            const Bytes p = rtp_packet(seq, 0xA0A0A0A0);
            ASSERT_TRUE(a_.rtp.send(c.a_rtp, p));
            auto got = b_.rtp.receive();
            ASSERT_TRUE(got.has_value()) << what << ": packet " << seq << " from A did not reach B";
            EXPECT_EQ(got->data, p);
            EXPECT_EQ(got->from, c.b_rtp);
            const Bytes q = rtp_packet(seq, 0xB0B0B0B0, 8);
            ASSERT_TRUE(b_.rtp.send(c.b_rtp, q));
            got = a_.rtp.receive();
            ASSERT_TRUE(got.has_value()) << what << ": packet " << seq << " from B did not reach A";
            EXPECT_EQ(got->data, q);
            EXPECT_EQ(got->from, c.a_rtp);
        }
    }
};

TEST_P(RelayKernelTest, ALatchedStreamIsRelayedByTheKernelAndTakenBackOnClose) {
    start();
    phones();
    const Call c = open_call();
    peers(c);
    EXPECT_EQ(relay_->kernel_flows(), 0u) << "no side has sent yet: nothing is latched";
    ASSERT_NO_FATAL_FAILURE(exchange_first(c));
    EXPECT_EQ(relay_->kernel_flows(), 2u);  // RTP both ways; the RTCP ports have seen nothing
    const std::uint64_t before = kernel_count(c);
    ASSERT_NO_FATAL_FAILURE(both_ways(c, 2, 51, "loopback"));
    const SideStats sa = stats(c, Side::A);
    const SideStats sb = stats(c, Side::B);
    EXPECT_EQ(kernel_count(c) - before, 100u) << "every packet after the first went by the kernel";
    EXPECT_EQ(sa.received, 51u);
    EXPECT_EQ(sa.relayed, 51u);
    EXPECT_EQ(sb.received, 51u);
    EXPECT_EQ(sb.relayed, 51u);

    relay_->close(c.id);
    EXPECT_EQ(relay_->kernel_flows(), 0u);
    // Nothing relays to B any more: the old port is closed, and no flow is left behind in the kernel.
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, rtp_packet(60, 0xA0A0A0A0)));
    EXPECT_FALSE(b_.rtp.receive(200).has_value());
}

TEST_P(RelayKernelTest, ANewSourcePortIsLatchedByTheThreadAndTheKernelFollows) {
    start();
    phones();
    const Call c = open_call();
    peers(c);
    ASSERT_NO_FATAL_FAILURE(exchange_first(c));
    Phone moved;  // A's NAT gave it another port on the same IP
    ASSERT_TRUE(moved.bind(kLoop, config_.port_min, config_.port_max));
    const Bytes p = rtp_packet(2, 0xA0A0A0A0);
    ASSERT_TRUE(moved.rtp.send(c.a_rtp, p));
    auto got = b_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, p);
    ASSERT_TRUE(wait_flows(2)) << "A->B was not given back to the kernel for the new port";
    const std::uint64_t before = kernel_count(c);
    for (std::uint16_t seq = 3; seq <= 12; ++seq) {
        const Bytes q = rtp_packet(seq, 0xB0B0B0B0);
        ASSERT_TRUE(b_.rtp.send(c.b_rtp, q));
        got = moved.rtp.receive();
        ASSERT_TRUE(got.has_value()) << "packet " << seq << " did not follow A to its new port";
        EXPECT_EQ(got->data, q);
        const Bytes r = rtp_packet(seq, 0xA0A0A0A0);
        ASSERT_TRUE(moved.rtp.send(c.a_rtp, r));
        got = b_.rtp.receive();
        ASSERT_TRUE(got.has_value());
        EXPECT_EQ(got->data, r);
    }
    EXPECT_EQ(kernel_count(c) - before, 20u);
    EXPECT_FALSE(a_.rtp.receive(100).has_value()) << "the old port still got packets";
    // The old port is a stranger now for the kernel: the thread takes it (same IP: it latches back).
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, rtp_packet(20, 0xA0A0A0A0)));
    ASSERT_TRUE(b_.rtp.receive().has_value());
    ASSERT_TRUE(b_.rtp.send(c.b_rtp, rtp_packet(20, 0xB0B0B0B0)));
    EXPECT_TRUE(a_.rtp.receive().has_value());
}

TEST_P(RelayKernelTest, SrtpTowardsASideTakesThatDirectionBackToTheThread) {
    start();
    phones();
    const Call c = open_call();
    peers(c);
    ASSERT_NO_FATAL_FAILURE(exchange_first(c));
    ASSERT_EQ(relay_->kernel_flows(), 2u);
    const SrtpKey key_r = generate_key(SrtpSuite::AesCm128HmacSha1_80);
    relay_->set_crypto(c.id, 0, Side::A, std::nullopt, key_r);  // the relay encrypts towards A
    EXPECT_EQ(relay_->kernel_flows(), 1u) << "B->A needs the relay's crypto now";
    auto a_in = SrtpStream::inbound(key_r);
    ASSERT_TRUE(a_in);
    const Bytes plain = rtp_packet(2, 0xB0B0B0B0);
    ASSERT_TRUE(b_.rtp.send(c.b_rtp, plain));
    auto got = a_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    auto clear = unprotect_rtp(*a_in, got->data);
    ASSERT_TRUE(clear.has_value()) << "A got a packet the relay did not encrypt";
    EXPECT_EQ(*clear, plain);
    const Bytes p = rtp_packet(2, 0xA0A0A0A0);  // A->B is still the kernel's
    const std::uint64_t before = kernel_count(c);
    ASSERT_TRUE(a_.rtp.send(c.a_rtp, p));
    got = b_.rtp.receive();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->data, p);
    EXPECT_EQ(kernel_count(c) - before, 1u);
}

TEST_P(RelayKernelTest, RelaysIpv6InTheKernel) {
    if (!has_ipv6_loopback()) GTEST_SKIP() << "no ::1 here";
    start(60, 1, 40, "::1");
    phones("::1");
    const Call c = open_call(1, true);
    peers(c);
    ASSERT_NO_FATAL_FAILURE(exchange_first(c));
    ASSERT_EQ(relay_->kernel_flows(), 2u);
    const std::uint64_t before = kernel_count(c);
    ASSERT_NO_FATAL_FAILURE(both_ways(c, 2, 11, "IPv6"));
    EXPECT_EQ(kernel_count(c) - before, 20u);
}

// A call between an IPv4 and an IPv6 phone: the relay's sockets translate; the kernel's program
// rewrites within one family only, so it is given no flow and the thread relays it all.
TEST_P(RelayKernelTest, AStreamBetweenFamiliesStaysWithTheThread) {
    if (!has_ipv6_loopback()) GTEST_SKIP() << "no ::1 here";
    start(60, 1, 40, "::1");
    ASSERT_TRUE(a_.bind(kLoop, config_.port_min, config_.port_max));
    ASSERT_TRUE(b_.bind("::1", config_.port_min, config_.port_max));
    const auto id = relay_->open(1);
    auto pa = relay_->ports(id, 0, Side::A, false);
    auto pb = relay_->ports(id, 0, Side::B, true);
    ASSERT_TRUE(pa && pb);
    const NetAddress to_a = addr(pa->address, pa->rtp_port), to_b = addr(pb->address, pb->rtp_port);
    relay_->set_peer(id, 0, Side::A, a_.rtp_address(), false, addr(kLoop, 5060));
    relay_->set_peer(id, 0, Side::B, b_.rtp_address(), false, addr("::1", 5060));
    for (std::uint16_t seq = 1; seq <= 10; ++seq) {
        const Bytes p = rtp_packet(seq, 0xA0A0A0A0);
        ASSERT_TRUE(a_.rtp.send(to_a, p));
        auto got = b_.rtp.receive();
        ASSERT_TRUE(got.has_value()) << "packet " << seq << " from A (IPv4) did not reach B (IPv6)";
        EXPECT_EQ(got->data, p);
        EXPECT_EQ(got->from, to_b);
        const Bytes q = rtp_packet(seq, 0xB0B0B0B0);
        ASSERT_TRUE(b_.rtp.send(to_b, q));
        got = a_.rtp.receive();
        ASSERT_TRUE(got.has_value()) << "packet " << seq << " from B (IPv6) did not reach A (IPv4)";
        EXPECT_EQ(got->data, q);
        if (seq == 1) std::this_thread::sleep_for(20ms);  // where the kernel would take over
    }
    EXPECT_EQ(relay_->kernel_flows(), 0u);
    relay_->close(id);
}

// Two phones in network namespaces of their own, each behind a veth pair: the relay's kernel path
// rewrites a packet arriving on one host interface and sends it out of the other (bpf_redirect_neigh),
// as it would between phones on two real networks.
class TwoNetworks {
public:
    // Network i (a /30 of 198.18.0.0/16 of this process's own, so that test processes running at once
    // do not share routes): the host's end .1 (k = 1), the phone's .2 (k = 2).
    std::string ip(int i, int k) const {
        const unsigned a = base_ + 4u * static_cast<unsigned>(i) + static_cast<unsigned>(k);
        return "198.18." + std::to_string(a >> 8) + "." + std::to_string(a & 255);
    }
    bool up(std::string& why) {
        const std::string id = std::to_string(::getpid() % 100000);
        ns_[0] = "swka" + id;
        ns_[1] = "swkb" + id;
        for (int i = 0; i < 2; ++i) {
            const std::string n = std::to_string(i + 1), ns = ns_[i];
            const std::string& host = host_[i] = "swh" + n + "_" + id;
            const std::string script =
                "ip netns add " + ns + " && ip link add " + host + " type veth peer name eth0 netns " + ns +
                " && ip addr add " + ip(i, 1) + "/30 dev " + host + " && ip link set " + host +
                " up && ip -n " + ns + " addr add " + ip(i, 2) + "/30 dev eth0 && ip -n " + ns +
                " link set eth0 up && ip -n " + ns + " link set lo up && ip -n " + ns +
                " route add default via " + ip(i, 1);
            made_[i] = true;
            if (std::system((script + " 2>/dev/null").c_str()) != 0) {
                why = "cannot make network namespaces and veth pairs here";
                return false;
            }
        }
        return true;
    }
    ~TwoNetworks() { down(); }
    // The veth pairs go at once (both ends), then the namespaces (the kernel cleans those up later).
    void down() {
        for (int i = 0; i < 2; ++i)
            if (made_[i])
                std::system(
                    ("ip link del " + host_[i] + " 2>/dev/null; ip netns del " + ns_[i] + " 2>/dev/null")
                        .c_str());
        made_[0] = made_[1] = false;
    }
    // Binds `phone` inside namespace i (a socket stays in the namespace it was made in).
    bool bind_in(int i, Phone& phone, const std::string& ip, std::uint16_t lo, std::uint16_t hi) {
        bool ok = false;
        std::thread t([&] {
            const int fd = ::open(("/run/netns/" + ns_[i]).c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) return;
            if (::setns(fd, CLONE_NEWNET) == 0) ok = phone.bind(ip, lo, hi);
            ::close(fd);
        });
        t.join();
        return ok;
    }

    unsigned host_index(int i) const { return if_nametoindex(host_[i].c_str()); }

private:
    std::string ns_[2], host_[2];
    unsigned base_ = static_cast<unsigned>(::getpid() % 8000) * 8;
    bool made_[2] = {false, false};
};

// The relay between the two networks; `later`: the networks appear after the relay started, so the
// program reaches their interfaces only through the relay's once-a-second look at the interfaces.
void RelayKernelTest::across_two_networks(bool later) {
    if (::getuid() != 0) GTEST_SKIP() << "network namespaces need root";
    TwoNetworks net;
    std::string why;
    config_ = RelayConfig{};
    config_.address4 = net.ip(0, 1);  // the host's address on network 1, reached from network 2 by route
    // Ports free on the loopback are free on the new address too (it is new); a wildcard socket would
    // show on both.
    config_.port_min = free_range(40, {kLoop});
    config_.port_max = static_cast<std::uint16_t>(config_.port_min + 39);
    config_.kernel = true;
    relay_ = std::make_unique<MediaRelay>(config_, [](std::uint64_t) {});
    // Whether the program is on both host ends of the veth pairs, once it has had up to 3 s for it.
    const auto on_hosts = [&](unsigned index0, unsigned index1, bool want) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        const auto both = [&] { return relay_->kernel_attached(index0) && relay_->kernel_attached(index1); };
        const auto none = [&] {
            return !relay_->kernel_attached(index0) && !relay_->kernel_attached(index1);
        };
        while (!(want ? both() : none()) && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return want ? both() : none();
    };
    if (later) {
        ASSERT_TRUE(relay_->start(why)) << why;
        ASSERT_TRUE(relay_->kernel_active()) << relay_->kernel_status();
    }
    if (!net.up(why)) GTEST_SKIP() << why;
    const unsigned host0 = net.host_index(0), host1 = net.host_index(1);
    ASSERT_NE(host0, 0u);
    ASSERT_NE(host1, 0u);
    if (later) {  // the host ends of the veth pairs appeared: attached within about a second
        ASSERT_TRUE(on_hosts(host0, host1, true));
    } else {
        ASSERT_TRUE(relay_->start(why)) << why;  // after the veths exist: attached to them too
        ASSERT_TRUE(relay_->kernel_active()) << relay_->kernel_status();
    }
    ASSERT_TRUE(net.bind_in(0, a_, net.ip(0, 2), config_.port_min, config_.port_max));
    ASSERT_TRUE(net.bind_in(1, b_, net.ip(1, 2), config_.port_min, config_.port_max));
    const Call c = open_call();
    peers(c);
    ASSERT_NO_FATAL_FAILURE(exchange_first(c));
    ASSERT_EQ(relay_->kernel_flows(), 2u);
    const std::uint64_t before = kernel_count(c);
    ASSERT_NO_FATAL_FAILURE(both_ways(c, 2, 21, "two networks"));
    EXPECT_EQ(kernel_count(c) - before, 40u);
    for (Phone* p : {&a_, &b_}) {  // the phones' sockets keep their namespaces alive
        p->rtp.reset();
        p->rtcp.reset();
    }
    if (later) {  // the networks go while the relay runs: their links are given back
        net.down();
        EXPECT_TRUE(on_hosts(host0, host1, false));
    }
    relay_.reset();
}

TEST_P(RelayKernelTest, RelaysBetweenTwoNetworksOutOfTheOtherInterface) {
    across_two_networks(false);
}

// A network that comes up while the relay runs (a VPN, a VLAN) gets the program too, and the links of
// interfaces that go away are given back.
TEST_P(RelayKernelTest, AttachesToInterfacesThatAppearWhileItRuns) {
    across_two_networks(true);
}

INSTANTIATE_TEST_SUITE_P(Kernel, RelayKernelTest, ::testing::Values(true));

}  // namespace
