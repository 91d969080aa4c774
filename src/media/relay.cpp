#include "media/relay.hpp"

#include "media/kernel_path.hpp"

#include "common/dscp.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <random>
#include <unordered_map>

namespace sw::media {

// ---- addresses ----

std::optional<NetAddress> NetAddress::from(std::string_view ip, std::uint16_t port) {
    NetAddress a;
    std::string text(ip);
    if (!text.empty() && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        a.length = sizeof(sockaddr_in);
        return a;
    }
    a.storage = {};
    if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        a.length = sizeof(sockaddr_in6);
        return a;
    }
    return std::nullopt;
}

std::uint16_t NetAddress::port() const {
    if (storage.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
    if (storage.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
    return 0;
}

std::string NetAddress::ip() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (storage.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
    else if (storage.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf, sizeof buf);
    return buf;
}

bool NetAddress::same_ip(const NetAddress& o) const {
    if (storage.ss_family != o.storage.ss_family) return false;
    if (storage.ss_family == AF_INET)
        return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr ==
               reinterpret_cast<const sockaddr_in*>(&o.storage)->sin_addr.s_addr;
    if (storage.ss_family == AF_INET6)
        return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr,
                           &reinterpret_cast<const sockaddr_in6*>(&o.storage)->sin6_addr, 16) == 0;
    return false;
}

bool NetAddress::operator==(const NetAddress& o) const {
    return same_ip(o) && port() == o.port();
}

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

constexpr int kBatch = 32;
constexpr std::size_t kBufferSize = 2048;  // a datagram of up to 2048 - kMaxSrtpOverhead bytes

bool is_rtcp_packet(const std::uint8_t* p, std::size_t len) {
    // RFC 5761 4: on a multiplexed port, RTCP packet types 192-223 cannot be RTP payload types.
    return len >= 2 && p[1] >= 192 && p[1] <= 223;
}

int bind_udp(const NetAddress& where, int dscp) {
    const int fd = ::socket(where.storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (where.is_v6()) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    mark_dscp(fd, where.is_v6(), dscp);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&where.storage), where.length) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

// ---- the state of sessions, owned by their thread ----

namespace {
struct Socket {
    int fd = -1;
    MediaRelay::Session* session = nullptr;
    unsigned stream = 0;
    Side side = Side::A;
    bool rtcp = false;
    bool dead = false;  // closed; the thread frees it after its current batch
};

struct SideState {
    std::unique_ptr<Socket> rtp, rtcp;
    std::uint16_t port = 0;
    bool v6 = false;
    NetAddress dest_rtp, dest_rtcp;  // where packets for this side go
    bool mux = false;
    NetAddress sdp_ip, signal_ip;  // packets from this side are accepted from these IPs
    std::unique_ptr<SrtpStream> decrypt, encrypt;
    std::optional<SrtpKey> decrypt_key, encrypt_key;  // what they were made with
    SideStats stats;
    // The kernel path, per socket (0 RTP, 1 RTCP): latched by a packet (not only named in SDP), the
    // flow the kernel has for the socket, and how many of its packets are already in `stats`.
    bool latched[2] = {false, false};
    std::optional<Flow> flow[2];
    std::uint64_t kernel_seen[2] = {0, 0};
    std::int64_t rx_ms[2] = {0, 0};  // the thread's last packet on the socket

    bool accepts(const NetAddress& src) const {
        if (sdp_ip.empty() && signal_ip.empty()) return true;
        return (!sdp_ip.empty() && src.same_ip(sdp_ip)) || (!signal_ip.empty() && src.same_ip(signal_ip));
    }
};

struct Stream {
    SideState side[2];
};
}  // namespace

struct MediaRelay::Session {
    SessionId id = 0;
    std::uint64_t owner = 0;
    std::vector<Stream> streams;
    std::int64_t last_ms = 0;
    bool armed = false;
    bool hold = false;
    bool reported = false;
    bool kernel_pending = false;  // a flow waits for its socket to go quiet (Thread::pending)
};

struct MediaRelay::Thread {
    std::mutex mutex;
    int epfd = -1;
    std::thread thread;
    std::atomic<bool> stopping{false};
    std::unordered_map<SessionId, std::unique_ptr<Session>> sessions;
    std::vector<std::unique_ptr<Socket>> graveyard;
    std::vector<SessionId> pending;  // sessions with a flow to give the kernel once quiet

    void bury(std::unique_ptr<Socket>& s) {
        if (!s) return;
        ::epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, nullptr);
        ::close(s->fd);
        s->dead = true;
        graveyard.push_back(std::move(s));
    }
};

namespace {

// A relay socket as the kernel sees it: the bound address, the side's port (+1 for RTCP).
NetAddress local_of(const RelayConfig& c, const SideState& st, int k) {
    auto a = NetAddress::from(st.v6 ? c.address6 : c.address4, static_cast<std::uint16_t>(st.port + k));
    return a ? *a : NetAddress{};
}

bool same_flow(const std::optional<Flow>& a, const std::optional<Flow>& b) {
    if (!a || !b) return !a && !b;
    return a->local == b->local && a->peer == b->peer && a->out == b->out && a->dst == b->dst &&
           a->rtp_only == b->rtp_only && a->out_ifindex == b->out_ifindex && a->dscp == b->dscp;
}

// Moves what the kernel relayed for socket k of side `x` into its counters and the session's clock.
void fold(KernelPath& kp, MediaRelay::Session& s, SideState& x, int k, std::atomic<std::uint64_t>& total) {
    FlowCounters fc;
    if (!x.flow[k] || !kp.counters(x.flow[k]->local, fc) || fc.packets <= x.kernel_seen[k]) return;
    const std::uint64_t d = fc.packets - x.kernel_seen[k];
    x.kernel_seen[k] = fc.packets;
    x.stats.received += d;
    x.stats.relayed += d;
    total.fetch_add(d, std::memory_order_relaxed);
    s.last_ms = std::max(s.last_ms, static_cast<std::int64_t>(fc.last_ns / 1000000));  // both monotonic
}

void drop_flows(KernelPath* kp, MediaRelay::Session& s, SideState& x, std::atomic<std::uint64_t>& total) {
    if (!kp) return;
    for (int k = 0; k < 2; ++k) {
        if (!x.flow[k]) continue;
        fold(*kp, s, x, k, total);
        kp->remove(x.flow[k]->local);
        x.flow[k].reset();
        x.kernel_seen[k] = 0;
    }
}

// Gives the kernel the directions of stream `index` it can relay alone: the sending side latched by
// its own packets, the other side's destination known, no SRTP to undo or apply (pass-through is
// fine), and for the RTP socket only RTP (RTCP on a multiplexed port stays with the thread, which
// learns the multiplexing from it). Every other direction is taken back from the kernel.
// A direction moves from the thread to the kernel only when its socket has been quiet for
// kQuietMs: packets still queued in the socket would otherwise arrive after newer ones the kernel
// relays at once (reordered). Taking a direction back, or changing only where the kernel sends it,
// happens at once.
constexpr std::int64_t kQuietMs = 5;

void sync_stream(KernelPath* kp, const RelayConfig& c, MediaRelay::Session& s, unsigned index,
                 std::atomic<std::uint64_t>& total, std::vector<MediaRelay::SessionId>& pending,
                 std::int64_t now) {
    if (!kp || index >= s.streams.size()) return;
    Stream& st = s.streams[index];
    for (int xi = 0; xi < 2; ++xi) {
        SideState& x = st.side[xi];
        SideState& y = st.side[1 - xi];
        for (int k = 0; k < 2; ++k) {
            std::optional<Flow> want;
            const NetAddress& from = k == 1 ? x.dest_rtcp : x.dest_rtp;
            const int via = k == 1 && !y.mux ? 1 : 0;
            const NetAddress& to = via == 1 ? y.dest_rtcp : y.dest_rtp;
            if (x.rtp && y.rtp && x.v6 == y.v6 && !x.decrypt && !y.encrypt && x.latched[k] && !from.empty() &&
                from.is_v6() == x.v6 && !to.empty() && to.port() != 0 && to.is_v6() == y.v6) {
                auto out = KernelPath::interface_for(to);
                Flow f{local_of(c, x, k), from, local_of(c, y, via), to, k == 0, out.value_or(0), c.dscp};
                if (out && !f.local.empty() && !f.out.empty()) want = f;
            }
            if (same_flow(want, x.flow[k])) continue;
            const bool switches = want && (!x.flow[k] || !(x.flow[k]->peer == want->peer) ||
                                           !(x.flow[k]->local == want->local));
            if (switches && now - x.rx_ms[k] < kQuietMs) {
                if (x.flow[k]) {  // the thread has the direction until then
                    fold(*kp, s, x, k, total);
                    kp->remove(x.flow[k]->local);
                    x.flow[k].reset();
                    x.kernel_seen[k] = 0;
                }
                if (!s.kernel_pending) pending.push_back(s.id);
                s.kernel_pending = true;
                continue;
            }
            if (x.flow[k]) {
                fold(*kp, s, x, k, total);
                if (!want || !(x.flow[k]->local == want->local)) kp->remove(x.flow[k]->local);
            }
            if (want && !kp->put(*want)) want.reset();  // the map is full: the thread relays it
            x.flow[k] = want;
            x.kernel_seen[k] = 0;
        }
    }
}

struct Batch {
    std::uint8_t data[kBatch][kBufferSize];
    iovec iov[kBatch];
    sockaddr_storage from[kBatch];
    mmsghdr in[kBatch];
    iovec out_iov[2][kBatch];
    mmsghdr out[2][kBatch];
};

// What drain needs of the kernel path: when a latch (or a side's RTCP multiplexing) changes, the
// stream's flows are brought up to date before the packet that changed it is sent on, so that
// whatever the far end sends after it meets the new flows.
struct KernelSync {
    KernelPath* path;
    const RelayConfig& config;
    std::atomic<std::uint64_t>& total;
    std::vector<MediaRelay::SessionId>& pending;
};

// Relays what is waiting on `s`: from its side to the other, through SRTP where a side has it.
void drain(Socket& s, Batch& b, std::int64_t now, const KernelSync& ks) {
    Stream& st = s.session->streams[s.stream];
    SideState& x = st.side[static_cast<int>(s.side)];
    SideState& y = st.side[static_cast<int>(other(s.side))];
    for (int round = 0; round < 8; ++round) {
        for (int i = 0; i < kBatch; ++i) {
            b.iov[i] = iovec{b.data[i], kBufferSize - kMaxSrtpOverhead};
            std::memset(&b.in[i], 0, sizeof(mmsghdr));
            b.in[i].msg_hdr.msg_iov = &b.iov[i];
            b.in[i].msg_hdr.msg_iovlen = 1;
            b.in[i].msg_hdr.msg_name = &b.from[i];
            b.in[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        }
        const int n = ::recvmmsg(s.fd, b.in, kBatch, MSG_DONTWAIT, nullptr);
        if (n <= 0) return;
        bool changed = false;
        int count[2] = {0, 0};  // 0: out through y's RTP socket, 1: through its RTCP socket
        bool valid = false;
        for (int i = 0; i < n; ++i) {
            std::uint8_t* p = b.data[i];
            std::size_t len = b.in[i].msg_len;
            if (b.in[i].msg_hdr.msg_flags & MSG_TRUNC) continue;
            NetAddress src;
            std::memcpy(&src.storage, &b.from[i], sizeof(sockaddr_storage));
            src.length = b.in[i].msg_hdr.msg_namelen;
            ++x.stats.received;
            x.rx_ms[s.rtcp ? 1 : 0] = now;
            // Latching (with the IPs the side may send from): answers go where its packets come from,
            // but only once a packet has passed the SRTP check (a forged one cannot move the stream).
            NetAddress& latched = s.rtcp ? x.dest_rtcp : x.dest_rtp;
            const bool moved = !(latched == src);
            if (moved && !x.accepts(src)) {
                ++x.stats.foreign;
                continue;
            }
            const bool rtcp = s.rtcp || is_rtcp_packet(p, len);
            if (x.decrypt) {
                auto r = rtcp ? x.decrypt->unprotect_rtcp(p, len) : x.decrypt->unprotect_rtp(p, len);
                if (r.error) {
                    ++x.stats.srtp_failed;
                    continue;
                }
                len = r.length;
            }
            if (moved) latched = src;
            if (moved || !x.latched[s.rtcp ? 1 : 0]) changed = true;
            x.latched[s.rtcp ? 1 : 0] = true;
            if (!s.rtcp && rtcp && !x.mux) {
                x.mux = true;
                changed = true;
            }
            valid = true;
            if (y.encrypt) {
                auto r = rtcp ? y.encrypt->protect_rtcp(p, len, kBufferSize)
                              : y.encrypt->protect_rtp(p, len, kBufferSize);
                if (r.error) continue;
                len = r.length;
            }
            const int via = rtcp && !y.mux ? 1 : 0;
            const NetAddress& dest = via == 1 ? y.dest_rtcp : y.dest_rtp;
            const Socket* out = via == 1 ? y.rtcp.get() : y.rtp.get();
            if (dest.empty() || dest.port() == 0 || out == nullptr) {
                ++x.stats.no_destination;
                continue;
            }
            const int k = count[via]++;
            b.out_iov[via][k] = iovec{p, len};
            std::memset(&b.out[via][k], 0, sizeof(mmsghdr));
            b.out[via][k].msg_hdr.msg_iov = &b.out_iov[via][k];
            b.out[via][k].msg_hdr.msg_iovlen = 1;
            b.out[via][k].msg_hdr.msg_name = const_cast<sockaddr_storage*>(&dest.storage);
            b.out[via][k].msg_hdr.msg_namelen = dest.length;
        }
        if (valid) s.session->last_ms = now;
        if (changed) sync_stream(ks.path, ks.config, *s.session, s.stream, ks.total, ks.pending, now);
        for (int via = 0; via < 2; ++via) {
            if (count[via] == 0) continue;
            const Socket* out = via == 1 ? y.rtcp.get() : y.rtp.get();
            int sent = 0;
            while (sent < count[via]) {
                const int r = ::sendmmsg(out->fd, b.out[via] + sent, count[via] - sent, MSG_DONTWAIT);
                if (r <= 0) break;  // a full socket buffer drops the rest, as the network would
                sent += r;
            }
            x.stats.relayed += static_cast<std::uint64_t>(sent);  // what the kernel took
        }
        if (n < kBatch) return;
    }
}

}  // namespace

// ---- the relay ----

MediaRelay::MediaRelay(RelayConfig config, TimeoutHandler on_timeout)
    : config_(std::move(config)), on_timeout_(std::move(on_timeout)) {
    if (config_.threads == 0) config_.threads = 1;
    std::vector<std::uint16_t> ports;
    const unsigned lo = config_.port_min + (config_.port_min & 1u);
    for (unsigned p = lo; p + 1 <= config_.port_max; p += 2)
        ports.push_back(static_cast<std::uint16_t>(p));
    // Random order: the next call's ports cannot be guessed from this one's (RTP injection).
    std::shuffle(ports.begin(), ports.end(), std::mt19937(std::random_device{}()));
    free4_.assign(ports.begin(), ports.end());
    free6_.assign(ports.begin(), ports.end());
    for (unsigned i = 0; i < config_.threads; ++i)
        threads_.push_back(std::make_unique<Thread>());
}

MediaRelay::~MediaRelay() {
    stop();
}

bool MediaRelay::start(std::string& error) {
    if (started_) return true;
    if (!config_.address4.empty() && !NetAddress::from(config_.address4, 0)) {
        error = "media address " + config_.address4 + " is not an IPv4 address";
        return false;
    }
    if (!config_.address6.empty()) {
        auto a = NetAddress::from(config_.address6, 0);
        if (!a || !a->is_v6()) {
            error = "media address " + config_.address6 + " is not an IPv6 address";
            return false;
        }
    }
    if (config_.dscp < -1 || config_.dscp > 63) {
        error = "media DSCP: need 0-63 (or -1: unmarked)";
        return false;
    }
    if (config_.port_min < 1024 || config_.port_max <= config_.port_min) {
        error = "media ports: need 1024 <= port_min < port_max";
        return false;
    }
    if (config_.kernel) {
        std::string why;
        kernel_ = KernelPath::open(why);
        kernel_status_ = kernel_ ? "on " + std::to_string(kernel_->interfaces()) + " interfaces" : why;
    }
    for (auto& t : threads_) {
        t->epfd = ::epoll_create1(EPOLL_CLOEXEC);
        if (t->epfd < 0) {
            error = "epoll_create1 failed";
            return false;
        }
    }
    for (std::size_t i = 0; i < threads_.size(); ++i) {
        Thread* t = threads_[i].get();
        t->thread = std::thread([this, t, i] {
            const std::string name = "sw-media-" + std::to_string(i);
            pthread_setname_np(pthread_self(), name.c_str());
            auto batch = std::make_unique<Batch>();
            epoll_event events[64];
            std::int64_t next_check = now_ms() + 1000;
            std::int64_t next_refresh = next_check;
            std::vector<std::uint64_t> timed_out;
            while (!t->stopping.load(std::memory_order_relaxed)) {
                const int n = ::epoll_wait(t->epfd, events, 64, t->pending.empty() ? 250 : int(kQuietMs));
                const std::int64_t now = now_ms();
                // Interfaces that came or went: the first thread looks once a second, with no lock
                // held (it asks the kernel for the list).
                if (kernel_ && i == 0 && now >= next_refresh) {
                    next_refresh = now + 1000;
                    kernel_->refresh();
                }
                {
                    std::lock_guard lock(t->mutex);
                    for (int k = 0; k < n; ++k) {
                        auto* s = static_cast<Socket*>(events[k].data.ptr);
                        if (!s->dead)
                            drain(*s, *batch, now,
                                  KernelSync{kernel_.get(), config_, kernel_packets_, t->pending});
                    }
                    if (!t->pending.empty()) {  // flows waiting for their sockets to go quiet
                        std::vector<SessionId> waiting;
                        waiting.swap(t->pending);
                        for (SessionId id : waiting) {
                            auto it = t->sessions.find(id);
                            if (it == t->sessions.end()) continue;
                            it->second->kernel_pending = false;
                            for (unsigned index = 0; index < it->second->streams.size(); ++index)
                                sync_stream(kernel_.get(), config_, *it->second, index, kernel_packets_,
                                            t->pending, now);
                        }
                    }
                    t->graveyard.clear();
                    if (now >= next_check) {
                        next_check = now + 1000;
                        if (kernel_)
                            for (auto& [id, sess] : t->sessions)
                                for (auto& st : sess->streams)
                                    for (auto& side : st.side)
                                        for (int k = 0; k < 2; ++k)
                                            fold(*kernel_, *sess, side, k, kernel_packets_);
                        for (auto& [id, sess] : t->sessions) {
                            if (!sess->armed || sess->reported) continue;
                            const std::int64_t limit =
                                1000LL * (sess->hold ? config_.hold_timeout_s : config_.timeout_s);
                            if (limit > 0 && now - sess->last_ms > limit) {
                                sess->reported = true;
                                timed_out.push_back(sess->owner);
                            }
                        }
                    }
                }
                for (std::uint64_t owner : timed_out)
                    if (on_timeout_) on_timeout_(owner);
                timed_out.clear();
            }
        });
    }
    started_ = true;
    return true;
}

void MediaRelay::stop() {
    for (auto& t : threads_)
        t->stopping = true;
    for (auto& t : threads_)
        if (t->thread.joinable()) t->thread.join();
    for (auto& t : threads_) {
        std::lock_guard lock(t->mutex);
        for (auto& [id, s] : t->sessions)
            for (auto& st : s->streams)
                for (auto& side : st.side) {
                    drop_flows(kernel_.get(), *s, side, kernel_packets_);
                    t->bury(side.rtp);
                    t->bury(side.rtcp);
                }
        t->sessions.clear();
        t->graveyard.clear();
        if (t->epfd >= 0) ::close(t->epfd);
        t->epfd = -1;
    }
    kernel_.reset();
    started_ = false;
}

MediaRelay::Thread& MediaRelay::thread_of(SessionId id) const {
    return *threads_[id % threads_.size()];
}

MediaRelay::SessionId MediaRelay::open(std::uint64_t owner) {
    const SessionId id = next_id_.fetch_add(1, std::memory_order_relaxed);
    Thread& t = thread_of(id);
    auto s = std::make_unique<Session>();
    s->id = id;
    s->owner = owner;
    s->last_ms = now_ms();
    std::lock_guard lock(t.mutex);
    t.sessions.emplace(id, std::move(s));
    return id;
}

std::optional<std::uint16_t> MediaRelay::take_port_pair(bool v6, int fds[2]) {
    const std::string& ip = v6 ? config_.address6 : config_.address4;
    if (ip.empty()) return std::nullopt;
    std::lock_guard lock(ports_mutex_);
    auto& pool = v6 ? free6_ : free4_;
    for (int attempt = 0; attempt < 64 && !pool.empty(); ++attempt) {
        const std::uint16_t port = pool.front();
        pool.pop_front();
        auto a = NetAddress::from(ip, port);
        auto b = NetAddress::from(ip, static_cast<std::uint16_t>(port + 1));
        if (!a || !b) return std::nullopt;
        fds[0] = bind_udp(*a, config_.dscp);
        fds[1] = fds[0] >= 0 ? bind_udp(*b, config_.dscp) : -1;
        if (fds[0] >= 0 && fds[1] >= 0) {
            ++ports_used_;
            return port;
        }
        if (fds[0] >= 0) ::close(fds[0]);
        pool.push_back(port);  // taken by somebody else: try it again much later
    }
    return std::nullopt;
}

void MediaRelay::give_back(bool v6, std::uint16_t port) {
    std::lock_guard lock(ports_mutex_);
    // At the end of the queue: a late packet of this call cannot reach the next call on the same port.
    (v6 ? free6_ : free4_).push_back(port);
    --ports_used_;
}

std::optional<RelayPorts> MediaRelay::ports(SessionId id, unsigned index, Side side, bool v6) {
    if (index > 16) return std::nullopt;  // more streams than any call has: hostile SDP
    Thread& t = thread_of(id);
    std::lock_guard lock(t.mutex);
    auto it = t.sessions.find(id);
    if (it == t.sessions.end()) return std::nullopt;
    Session& s = *it->second;
    if (s.streams.size() <= index) s.streams.resize(index + 1);
    SideState& st = s.streams[index].side[static_cast<int>(side)];
    const std::string& named = v6 ? (config_.advertise6.empty() ? config_.address6 : config_.advertise6)
                                  : (config_.advertise4.empty() ? config_.address4 : config_.advertise4);
    if (st.rtp && st.v6 == v6) return RelayPorts{named, st.port};
    if (st.rtp) {  // the side moved to the other family (a re-INVITE): new ports
        drop_flows(kernel_.get(), s, st, kernel_packets_);
        st.latched[0] = st.latched[1] = false;
        t.bury(st.rtp);
        t.bury(st.rtcp);
        give_back(st.v6, st.port);
    }
    int fds[2] = {-1, -1};
    auto port = take_port_pair(v6, fds);
    if (!port) return std::nullopt;
    st.port = *port;
    st.v6 = v6;
    for (int k = 0; k < 2; ++k) {
        auto sock = std::make_unique<Socket>();
        sock->fd = fds[k];
        sock->session = &s;
        sock->stream = index;
        sock->side = side;
        sock->rtcp = k == 1;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = sock.get();
        ::epoll_ctl(t.epfd, EPOLL_CTL_ADD, sock->fd, &ev);
        (k == 0 ? st.rtp : st.rtcp) = std::move(sock);
    }
    return RelayPorts{named, *port};
}

void MediaRelay::set_peer(SessionId id, unsigned index, Side side, const NetAddress& rtp, bool rtcp_mux,
                          const NetAddress& signal_source) {
    Thread& t = thread_of(id);
    std::lock_guard lock(t.mutex);
    auto it = t.sessions.find(id);
    if (it == t.sessions.end() || it->second->streams.size() <= index) return;
    SideState& st = it->second->streams[index].side[static_cast<int>(side)];
    // A new address in SDP (a re-INVITE, a move): send there until the side's packets say otherwise.
    // 0.0.0.0 (RFC 3264 8.4 hold, old style) or port 0: nowhere to send until the side sends itself.
    const bool nowhere = rtp.empty() || rtp.port() == 0 || rtp.ip() == "0.0.0.0" || rtp.ip() == "::";
    st.dest_rtp = nowhere ? NetAddress{} : rtp;
    st.dest_rtcp = st.dest_rtp;
    if (!nowhere && !rtcp_mux) {
        if (auto a = NetAddress::from(rtp.ip(), static_cast<std::uint16_t>(rtp.port() + 1)))
            st.dest_rtcp = *a;
    }
    st.mux = rtcp_mux;
    st.sdp_ip = nowhere ? NetAddress{} : rtp;
    st.signal_ip = signal_source;
    st.latched[0] = st.latched[1] = false;  // the kernel waits for the side's packets again
    sync_stream(kernel_.get(), config_, *it->second, index, kernel_packets_, t.pending, now_ms());
}

void MediaRelay::set_crypto(SessionId id, unsigned index, Side side, std::optional<SrtpKey> from_side,
                            std::optional<SrtpKey> to_side) {
    Thread& t = thread_of(id);
    std::lock_guard lock(t.mutex);
    auto it = t.sessions.find(id);
    if (it == t.sessions.end() || it->second->streams.size() <= index) return;
    SideState& st = it->second->streams[index].side[static_cast<int>(side)];
    // Each context is made again only for a new key of its own: an outbound context made afresh with the
    // same key would start its packet index over, and after a rollover reuse keystream (RFC 3711 9.1).
    if (st.decrypt_key != from_side) {
        st.decrypt = from_side ? SrtpStream::inbound(*from_side) : nullptr;
        st.decrypt_key = from_side;
    }
    if (st.encrypt_key != to_side) {
        st.encrypt = to_side ? SrtpStream::outbound(*to_side) : nullptr;
        st.encrypt_key = to_side;
    }
    sync_stream(kernel_.get(), config_, *it->second, index, kernel_packets_, t.pending, now_ms());
}

void MediaRelay::arm(SessionId id, bool hold) {
    Thread& t = thread_of(id);
    std::lock_guard lock(t.mutex);
    auto it = t.sessions.find(id);
    if (it == t.sessions.end()) return;
    Session& s = *it->second;
    if (!s.armed || s.hold != hold) s.last_ms = now_ms();
    s.armed = true;
    s.hold = hold;
}

void MediaRelay::close(SessionId id) {
    Thread& t = thread_of(id);
    std::lock_guard lock(t.mutex);
    auto it = t.sessions.find(id);
    if (it == t.sessions.end()) return;
    for (auto& st : it->second->streams)
        for (auto& side : st.side) {
            if (!side.rtp) continue;
            drop_flows(kernel_.get(), *it->second, side, kernel_packets_);
            t.bury(side.rtp);
            t.bury(side.rtcp);
            give_back(side.v6, side.port);
        }
    t.sessions.erase(it);
}

std::optional<SideStats> MediaRelay::stats(SessionId id, unsigned index, Side side) const {
    Thread& t = thread_of(id);
    std::lock_guard lock(t.mutex);
    auto it = t.sessions.find(id);
    if (it == t.sessions.end() || it->second->streams.size() <= index) return std::nullopt;
    SideState& st = it->second->streams[index].side[static_cast<int>(side)];
    if (kernel_)
        for (int k = 0; k < 2; ++k)
            fold(*kernel_, *it->second, st, k, kernel_packets_);
    return st.stats;
}

std::size_t MediaRelay::sessions() const {
    std::size_t n = 0;
    for (const auto& t : threads_) {
        std::lock_guard lock(t->mutex);
        n += t->sessions.size();
    }
    return n;
}

double MediaRelay::cpu_seconds() const {
    double total = 0;
    for (const auto& t : threads_) {
        if (!t->thread.joinable()) continue;
        clockid_t cid;
        timespec ts{};
        if (pthread_getcpuclockid(const_cast<std::thread&>(t->thread).native_handle(), &cid) == 0 &&
            clock_gettime(cid, &ts) == 0)
            total += static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    }
    return total;
}

std::size_t MediaRelay::kernel_interfaces() const {
    return kernel_ ? kernel_->interfaces() : 0;
}

bool MediaRelay::kernel_attached(unsigned ifindex) const {
    return kernel_ && kernel_->attached(ifindex);
}

std::size_t MediaRelay::kernel_flows() const {
    return kernel_ ? kernel_->flows() : 0;
}

std::size_t MediaRelay::ports_in_use() const {
    std::lock_guard lock(ports_mutex_);
    return ports_used_ * 2;
}

}  // namespace sw::media
