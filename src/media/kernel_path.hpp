// The relay's kernel path: an eBPF program on every interface's tc ingress (tcx) that relays the
// packets of latched, crypto-free stream directions in the kernel (src/media/bpf/relay.bpf.c). User
// space keeps one flow per relay socket and direction in its map; whatever the program does not
// recognise still reaches the relay thread. Needs CAP_BPF and CAP_NET_ADMIN and a kernel with tcx
// (6.6+); without them `open` says why and the relay stays in user space.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "media/relay.hpp"

namespace sw::media {

// Keep in step with relay.bpf.c.
struct FlowKey {
    std::uint8_t addr[16];
    std::uint16_t port;  // network order
    std::uint8_t family;
    std::uint8_t pad;
};

struct FlowValue {
    std::uint8_t peer_addr[16];
    std::uint8_t out_addr[16];
    std::uint8_t dst_addr[16];
    std::uint16_t peer_port, out_port, dst_port;  // network order
    std::uint8_t rtp_only;
    std::uint8_t tos;  // 0xff: the sender's
    std::uint8_t ttl;  // 0: the sender's
    std::uint8_t pad[3];
    std::uint32_t out_ifindex;
    std::uint64_t packets;
    std::uint64_t bytes;
    std::uint64_t last_ns;  // CLOCK_MONOTONIC
};

static_assert(sizeof(FlowValue) == 88 && offsetof(FlowValue, out_ifindex) == 60 &&
                  offsetof(FlowValue, packets) == 64,
              "FlowValue must match struct flow_value in relay.bpf.c");

// One direction of a stream: packets to `local` from `peer` go out as from `out` to `dst`.
struct Flow {
    NetAddress local, peer, out, dst;
    bool rtp_only = false;
    unsigned out_ifindex = 0;  // 0: `dst` is an address of this host
    int dscp = -1;             // the DSCP the packets leave with; -1: the sender's
};

struct FlowCounters {
    std::uint64_t packets = 0;
    std::uint64_t last_ns = 0;
};

class KernelPath {
public:
    // Loads the program and attaches it to the ingress of every interface. nullptr with `error` set
    // when this host does not allow it.
    static std::unique_ptr<KernelPath> open(std::string& error);
    ~KernelPath();
    KernelPath(const KernelPath&) = delete;
    KernelPath& operator=(const KernelPath&) = delete;

    bool put(const Flow& flow);  // add or replace (counters start again at 0)
    void remove(const NetAddress& local);
    // What the kernel relayed for `local` since the flow was put; false when there is no flow.
    bool counters(const NetAddress& local, FlowCounters& out) const;
    std::size_t interfaces() const { return attached_.load(std::memory_order_relaxed); }
    // Attaches the program to interfaces that appeared since (a VPN, a VLAN, a new network card)
    // and lets go of the links of interfaces that are gone. The relay calls it once a second; the
    // number of interfaces attached now.
    std::size_t refresh();
    bool attached(unsigned ifindex) const;
    std::size_t flows() const;  // walks the map: for tests and diagnostics
    // Where packets for `dst` leave: 0 when it is an address of this host, else the interface the
    // routing table picks; nullopt when neither can be told.
    static std::optional<unsigned> interface_for(const NetAddress& dst);

private:
    KernelPath() = default;
    std::uint8_t ttl4_ = 64, hops6_ = 64;  // what this host's sockets send with
    void* object_ = nullptr;               // bpf_object
    int map_fd_ = -1;
    int prog_fd_ = -1;
    struct Link {
        unsigned ifindex;
        int fd;
    };
    mutable std::mutex links_mutex_;
    std::vector<Link> links_;
    std::atomic<std::size_t> attached_{0};
    std::string refused_;  // why the first interface that refused the program did
};

}  // namespace sw::media
