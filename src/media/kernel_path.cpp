#include "media/kernel_path.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

// The program, compiled by clang at build time (CMakeLists.txt), linked in as bytes.
#define SW_STR2(x) #x
#define SW_STR(x) SW_STR2(x)
asm(".section .rodata\n"
    ".balign 8\n"
    ".global sw_relay_bpf_begin\n"
    "sw_relay_bpf_begin:\n"
    ".incbin \"" SW_STR(SW_RELAY_BPF_OBJECT) "\"\n"
    ".global sw_relay_bpf_end\n"
    "sw_relay_bpf_end:\n"
    ".previous\n");
extern "C" const char sw_relay_bpf_begin[];
extern "C" const char sw_relay_bpf_end[];

namespace sw::media {

namespace {

constexpr int kTcxIngress = 46;  // BPF_TCX_INGRESS (Linux 6.6); Debian 12's headers predate it

// libbpf's own messages only with SW_BPF_DEBUG set; otherwise the reason reaches the log once,
// through `error`.
int print(enum libbpf_print_level level, const char* format, va_list args) {
    if (level == LIBBPF_DEBUG || !std::getenv("SW_BPF_DEBUG")) return 0;
    return std::vfprintf(stderr, format, args);
}

void fill(const NetAddress& a, std::uint8_t addr[16], std::uint16_t* port) {
    std::memset(addr, 0, 16);
    if (a.is_v6()) {
        const auto* s = reinterpret_cast<const sockaddr_in6*>(&a.storage);
        std::memcpy(addr, &s->sin6_addr, 16);
        if (port) *port = s->sin6_port;
    } else {
        const auto* s = reinterpret_cast<const sockaddr_in*>(&a.storage);
        std::memcpy(addr, &s->sin_addr, 4);
        if (port) *port = s->sin_port;
    }
}

FlowKey key_of(const NetAddress& local) {
    FlowKey k{};
    fill(local, k.addr, &k.port);
    k.family = local.is_v6() ? 6 : 4;
    return k;
}

}  // namespace

std::unique_ptr<KernelPath> KernelPath::open(std::string& error) {
    libbpf_set_print(print);
    std::unique_ptr<KernelPath> p(new KernelPath());
    const auto size = static_cast<std::size_t>(sw_relay_bpf_end - sw_relay_bpf_begin);
    bpf_object_open_opts opts{};
    opts.sz = sizeof opts;
    opts.object_name = "sw_relay";
    auto* obj = bpf_object__open_mem(sw_relay_bpf_begin, size, &opts);
    if (!obj || libbpf_get_error(obj)) {
        error = std::string("the kernel relay program cannot be opened (") + std::to_string(size) + " bytes)";
        return nullptr;
    }
    p->object_ = obj;
    if (const int rc = bpf_object__load(obj); rc != 0) {
        error = std::string("the kernel refused the relay program: ") + std::strerror(-rc);
        return nullptr;
    }
    auto* prog = bpf_object__find_program_by_name(obj, "sw_relay");
    auto* map = bpf_object__find_map_by_name(obj, "sw_relay_flows");
    if (!prog || !map) {
        error = "the kernel relay program is incomplete";
        return nullptr;
    }
    p->map_fd_ = bpf_map__fd(map);
    p->prog_fd_ = bpf_program__fd(prog);
    // The TTL and hop limit a fresh socket sends with (net.ipv4.ip_default_ttl, the global IPv6 hop
    // limit): what the relay's own sockets use, so both paths send alike (a per-route or per-interface
    // hop limit, or a sysctl changed after start, is not followed).
    for (const int family : {AF_INET, AF_INET6}) {
        const int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        int value = 0;
        socklen_t len = sizeof value;
        const bool v6 = family == AF_INET6;
        if (::getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, &value, &len) ==
                0 &&
            value > 0 && value < 256)
            (v6 ? p->hops6_ : p->ttl4_) = static_cast<std::uint8_t>(value);
        ::close(fd);
    }
    if (p->refresh() == 0) {
        // The usual reasons: no tcx before Linux 6.6, or no CAP_BPF / CAP_NET_ADMIN.
        error = p->refused_.empty() ? "no network interface" : p->refused_;
        return nullptr;
    }
    error.clear();
    return p;
}

std::size_t KernelPath::refresh() {
    struct if_nameindex* names = if_nameindex();
    if (!names) return links_.size();
    std::vector<unsigned> present;
    for (auto* n = names; n->if_index != 0; ++n)
        present.push_back(n->if_index);
    if_freenameindex(names);
    std::lock_guard lock(links_mutex_);
    // Gone: the kernel detached the link with the device; the descriptor is ours to close.
    std::erase_if(links_, [&](const Link& l) {
        if (std::find(present.begin(), present.end(), l.ifindex) != present.end()) return false;
        ::close(l.fd);
        return true;
    });
    for (unsigned index : present) {
        if (std::any_of(links_.begin(), links_.end(), [&](const Link& l) { return l.ifindex == index; }))
            continue;
        const int link = bpf_link_create(prog_fd_, static_cast<int>(index),
                                         static_cast<bpf_attach_type>(kTcxIngress), nullptr);
        if (link >= 0) {
            links_.push_back(Link{index, link});
        } else if (refused_.empty()) {
            char name[IF_NAMESIZE] = {};
            refused_ = std::string("tcx ingress on ") + (if_indextoname(index, name) ? name : "?") + ": " +
                       std::strerror(errno);
        }
    }
    attached_.store(links_.size(), std::memory_order_relaxed);
    return links_.size();
}

bool KernelPath::attached(unsigned ifindex) const {
    std::lock_guard lock(links_mutex_);
    return std::any_of(links_.begin(), links_.end(), [&](const Link& l) { return l.ifindex == ifindex; });
}

KernelPath::~KernelPath() {
    for (const Link& l : links_)
        ::close(l.fd);  // a tcx link detaches when its last descriptor goes, also if we crash
    if (object_) bpf_object__close(static_cast<bpf_object*>(object_));
}

bool KernelPath::put(const Flow& f) {
    const FlowKey key = key_of(f.local);
    FlowValue v{};
    fill(f.peer, v.peer_addr, &v.peer_port);
    fill(f.out, v.out_addr, &v.out_port);
    fill(f.dst, v.dst_addr, &v.dst_port);
    v.rtp_only = f.rtp_only ? 1 : 0;
    v.tos = f.dscp >= 0 ? static_cast<std::uint8_t>(f.dscp << 2) : 0xff;
    v.ttl = f.dst.is_v6() ? hops6_ : ttl4_;
    v.out_ifindex = f.out_ifindex;
    return bpf_map_update_elem(map_fd_, &key, &v, BPF_ANY) == 0;
}

void KernelPath::remove(const NetAddress& local) {
    const FlowKey key = key_of(local);
    bpf_map_delete_elem(map_fd_, &key);
}

bool KernelPath::counters(const NetAddress& local, FlowCounters& out) const {
    const FlowKey key = key_of(local);
    FlowValue v{};
    if (bpf_map_lookup_elem(map_fd_, &key, &v) != 0) return false;
    out.packets = v.packets;
    out.last_ns = v.last_ns;
    return true;
}

std::optional<unsigned> KernelPath::interface_for(const NetAddress& dst) {
    const int fd = ::socket(dst.storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    NetAddress any = dst;  // the same address, port 0: binds only where the address is ours
    if (dst.is_v6())
        reinterpret_cast<sockaddr_in6*>(&any.storage)->sin6_port = 0;
    else
        reinterpret_cast<sockaddr_in*>(&any.storage)->sin_port = 0;
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&any.storage), any.length) == 0) {
        ::close(fd);
        return 0u;
    }
    // Not ours: the source address the routing table picks for it names the interface.
    sockaddr_storage me{};
    socklen_t len = sizeof me;
    const bool routed = ::connect(fd, reinterpret_cast<const sockaddr*>(&dst.storage), dst.length) == 0 &&
                        ::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len) == 0;
    ::close(fd);
    if (!routed) return std::nullopt;
    NetAddress source;
    std::memcpy(&source.storage, &me, sizeof me);
    source.length = len;
    std::optional<unsigned> found;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return std::nullopt;
    for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != source.storage.ss_family) continue;
        NetAddress a;
        std::memcpy(&a.storage, i->ifa_addr,
                    a.storage.ss_family == AF_INET6 || i->ifa_addr->sa_family == AF_INET6
                        ? sizeof(sockaddr_in6)
                        : sizeof(sockaddr_in));
        a.length = source.length;
        if (a.same_ip(source)) {
            const unsigned index = if_nametoindex(i->ifa_name);
            if (index != 0) found = index;
        }
    }
    ::freeifaddrs(list);
    return found;
}

std::size_t KernelPath::flows() const {
    std::size_t n = 0;
    FlowKey key{}, next{};
    const void* at = nullptr;
    while (bpf_map_get_next_key(map_fd_, at, &next) == 0) {
        ++n;
        key = next;
        at = &key;
    }
    return n;
}

}  // namespace sw::media
