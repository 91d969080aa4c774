// The media relay: UDP port pairs (RTP, RTCP) per stream and side of a call, packets relayed between the
// two sides with latching, optional SRTP termination per side, and a timeout for streams gone silent.
//
// Threads: every public function is thread-safe (SIP workers call them). A session lives on one relay
// thread (id % threads), which owns the packet path: epoll, recvmmsg, SRTP, sendmmsg. Control calls
// take that thread's mutex; the packet path takes it once per readiness batch. The timeout callback
// runs on the relay thread, with no lock held: it must only post work elsewhere.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "media/srtp.hpp"

namespace sw::media {

class KernelPath;

// A UDP address as the kernel takes it.
struct NetAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;

    static std::optional<NetAddress> from(std::string_view ip, std::uint16_t port);
    bool empty() const { return length == 0; }
    bool is_v6() const { return storage.ss_family == AF_INET6; }
    std::uint16_t port() const;
    std::string ip() const;
    bool same_ip(const NetAddress& o) const;
    bool operator==(const NetAddress& o) const;
};

enum class Side : std::uint8_t { A = 0, B = 1 };
constexpr Side other(Side s) {
    return s == Side::A ? Side::B : Side::A;
}

struct RelayConfig {
    std::string address4 = "127.0.0.1";  // where relay sockets are bound and what SDP names
    std::string address6;                // empty: no IPv6 relay
    std::string advertise4, advertise6;  // what SDP names when it is not the bound address (1:1 NAT)
    std::uint16_t port_min = 20000;      // RTP on even ports, RTCP on the next
    std::uint16_t port_max = 29999;
    unsigned threads = 1;
    int timeout_s = 60;         // no packet in either direction while media flows: the call is ended
    int hold_timeout_s = 7200;  // the same while a side is on hold (sendonly/inactive)
    // Relay latched, crypto-free directions in the kernel (eBPF on tc ingress, kernel_path.hpp) where
    // the host allows it; the relay threads keep everything else.
    bool kernel = false;
    // The DSCP media packets leave with (RFC 4594: 46, Expedited Forwarding, for telephony), on both
    // paths; -1: what the system gives (0, and in the kernel path the sender's own).
    int dscp = 46;
};

// What a side of a stream is told in SDP: the relay's address and RTP port on that side.
struct RelayPorts {
    std::string address;
    std::uint16_t rtp_port = 0;  // RTCP is rtp_port + 1
};

// Counters of one side of one stream (packets that arrived from that side).
struct SideStats {
    std::uint64_t received = 0;
    std::uint64_t relayed = 0;         // sent on to the other side
    std::uint64_t srtp_failed = 0;     // authentication or replay check failed (dropped)
    std::uint64_t foreign = 0;         // from an address the side is not latched to (dropped)
    std::uint64_t no_destination = 0;  // the other side's address is not known yet (dropped)
};

class MediaRelay {
public:
    using SessionId = std::uint64_t;
    using TimeoutHandler = std::function<void(std::uint64_t owner)>;

    MediaRelay(RelayConfig config, TimeoutHandler on_timeout);
    ~MediaRelay();
    MediaRelay(const MediaRelay&) = delete;
    MediaRelay& operator=(const MediaRelay&) = delete;

    // Starts the relay threads. False (with the reason) if the address cannot be used.
    bool start(std::string& error);
    void stop();
    const RelayConfig& config() const { return config_; }

    // A session for one call; `owner` is handed to the timeout handler.
    SessionId open(std::uint64_t owner);
    // Ports for stream `index` on `side` (bound on first use, kept for the session's life). nullopt: no
    // port free in the range, no relay address of that family, or an unknown session.
    std::optional<RelayPorts> ports(SessionId id, unsigned index, Side side, bool v6);
    // Where packets for `side` go until that side's own packets say otherwise (latching), from its SDP.
    // Packets from `side` are accepted from the SDP address's or the signalling source's IP (strict
    // latching: a stranger that guesses the port cannot take the stream over). `rtcp_mux`: the side
    // sends and wants RTCP on the RTP port.
    void set_peer(SessionId id, unsigned index, Side side, const NetAddress& rtp, bool rtcp_mux,
                  const NetAddress& signal_source);
    // SRTP for `side`: packets from it are decrypted with `from_side`, packets to it encrypted with
    // `to_side`; nullopt on both passes the packets through untouched.
    void set_crypto(SessionId id, unsigned index, Side side, std::optional<SrtpKey> from_side,
                    std::optional<SrtpKey> to_side);
    // Media flows (the call is answered): the timeout runs from now. `hold` picks the longer timeout.
    void arm(SessionId id, bool hold);
    // Closes every socket of the session; its ports go back to the pool.
    void close(SessionId id);

    std::optional<SideStats> stats(SessionId id, unsigned index, Side side) const;
    std::size_t sessions() const;
    std::size_t ports_in_use() const;
    // CPU time the relay threads have used so far (for bench/: CPU per packet).
    double cpu_seconds() const;
    // The kernel path: active (on how many interfaces), or why not (empty when not asked for).
    bool kernel_active() const { return kernel_ != nullptr; }
    const std::string& kernel_status() const { return kernel_status_; }
    // Packets the kernel path has relayed (every session, counted when the relay looks: about once a
    // second and on stats()).
    std::uint64_t kernel_packets() const { return kernel_packets_.load(std::memory_order_relaxed); }
    std::size_t kernel_flows() const;       // stream directions the kernel relays now
    std::size_t kernel_interfaces() const;  // interfaces the kernel path is attached to now
    bool kernel_attached(unsigned ifindex) const;

    struct Session;  // the relay threads' own (relay.cpp)

private:
    struct Thread;
    Thread& thread_of(SessionId id) const;
    std::optional<std::uint16_t> take_port_pair(bool v6, int fds[2]);
    void give_back(bool v6, std::uint16_t port);

    RelayConfig config_;
    TimeoutHandler on_timeout_;
    std::vector<std::unique_ptr<Thread>> threads_;
    std::atomic<std::uint64_t> next_id_{1};
    mutable std::mutex ports_mutex_;
    std::deque<std::uint16_t> free4_, free6_;
    std::size_t ports_used_ = 0;
    bool started_ = false;
    std::unique_ptr<KernelPath> kernel_;
    std::string kernel_status_;
    mutable std::atomic<std::uint64_t> kernel_packets_{0};
};

}  // namespace sw::media
