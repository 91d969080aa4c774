// The media relay's CPU per relayed packet: an in-process MediaRelay, and for each call two phone sockets
// (A and B, plain UDP on 127.0.0.1) that send one audio stream each way through it. A generator sends
// 172-byte RTP packets (PT 0, 160 samples each) at a total rate over all calls and both directions,
// paced by a timer and sent with sendmmsg; a receiver takes them with recvmmsg and keeps them, and after
// the run every packet is checked (SRTP authentication where the receiving phone has SRTP, header and
// payload). The figure is the relay threads' CPU time over the run divided by the packets relayed.
//   build/bench/media_load [--mode rtp|srtp-pass|srtp-term|srtp-rtp|all] [--calls N] [--pps P]
//                          [--seconds S] [--suite NAME] [--relay-threads T] [--max-loss PCT] [--quick] [-v]
//                          [--generator-threads G] [--tick-ms MS] [--pin]
// --pps is the total into the relay; with --calls = pps / 100 each stream has a phone's 50 packets/s.
// Modes: rtp (plain), srtp-pass (both phones SRTP with end-to-end keys, the relay passes it untouched),
// srtp-term (both legs SRTP with the relay's own keys: it decrypts and re-encrypts every packet),
// srtp-rtp (phone A SRTP, phone B plain: the relay decrypts one way and encrypts the other).
// SRTP packets are protected before the run and checked after it, so the generator and the receiver cost
// only their system calls while the relay is measured. Exit status 1 if a check fails: a packet that does
// not authenticate or is not what was sent, a duplicate, relay drops, or more loss than --max-loss.
// --quick: 2 seconds, 20 calls at 2,000 packets/s, each of the four modes in turn, loss up to 5 % (CI);
// figures from it mean nothing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "media/relay.hpp"
#include "media/srtp.hpp"

namespace {

using sw::media::MediaRelay;
using sw::media::NetAddress;
using sw::media::RelayConfig;
using sw::media::Side;
using sw::media::SrtpKey;
using sw::media::SrtpStream;
using sw::media::SrtpSuite;

enum class Mode { Rtp, SrtpPass, SrtpTerm, SrtpRtp };

constexpr Mode kModes[] = {Mode::Rtp, Mode::SrtpPass, Mode::SrtpTerm, Mode::SrtpRtp};

const char* mode_name(Mode m) {
    switch (m) {
        case Mode::Rtp:
            return "rtp";
        case Mode::SrtpPass:
            return "srtp-pass";
        case Mode::SrtpTerm:
            return "srtp-term";
        case Mode::SrtpRtp:
            return "srtp-rtp";
    }
    return "";
}

struct Options {
    unsigned calls = 200;
    double pps = 50000;  // packets per second into the relay, all calls and both directions together
    double seconds = 10;
    std::vector<Mode> modes{Mode::Rtp};
    SrtpSuite suite = SrtpSuite::AesCm128HmacSha1_80;
    unsigned relay_threads = 1;
    unsigned generator_threads = 1;
    double max_loss = 1.0;  // percent
    int tick_ms = 10;
    bool verbose = false;
    bool pin = false;     // the relay threads on the last CPUs, the tool's own threads on the others
    bool kernel = false;  // the relay's kernel path (eBPF): needs root
};

constexpr std::size_t kRtpLength = 172;  // 12-byte header + 160 bytes of G.711 (20 ms)
constexpr std::size_t kHeader = 12;
constexpr std::size_t kSlot = 192;  // room for 172 bytes and the largest SRTP tag (16); a multiple of 4
constexpr std::uint32_t kTimestampStep = 160;
constexpr int kMaxBatch = 64;

std::uint8_t pattern(std::uint32_t ssrc, std::size_t k, std::size_t i) {
    return static_cast<std::uint8_t>(ssrc * 131u + static_cast<std::uint32_t>(k) * 7u + i);
}

std::uint32_t get32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void put32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

double monotonic_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// 1234567 -> "1,234,567".
std::string grouped(double value) {
    const long long v = std::llround(value);
    std::string digits = std::to_string(v < 0 ? -v : v);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return v < 0 ? "-" + out : out;
}

// Three significant digits: 526315 -> 526000.
double round3(double v) {
    if (v <= 0) return v;
    const double scale = std::pow(10.0, std::floor(std::log10(v)) - 2);
    return std::round(v / scale) * scale;
}

// One direction of one call: the sending phone's socket, through the relay, to the receiving phone's.
struct Stream {
    unsigned call = 0;
    int send_fd = -1;
    std::uint32_t ssrc = 0;
    std::uint16_t seq0 = 0;
    std::uint32_t ts0 = 0;
    double phase = 0;       // this stream's k-th packet is due at (k + phase) / rate seconds
    std::size_t count = 0;  // packets planned
    std::size_t wire = 0;   // bytes per packet as sent (172, or 172 + the SRTP tag)
    std::size_t first = 0;  // index of its first packet in the generator's arena
    std::size_t sent = 0;   // generator
    std::optional<SrtpKey> send_key, receive_key;
};

struct Phones {
    std::vector<int> fds;
    ~Phones() {
        for (int fd : fds)
            ::close(fd);
    }
};

int phone_socket(const NetAddress& relay_port, NetAddress& self, std::string& error) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return -1;
    }
    const int buffer = 1 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    auto any = NetAddress::from("127.0.0.1", 0);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&any->storage), any->length) != 0 ||
        ::connect(fd, reinterpret_cast<const sockaddr*>(&relay_port.storage), relay_port.length) != 0) {
        error = std::string("bind/connect: ") + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    self.length = sizeof(sockaddr_storage);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&self.storage), &self.length);
    return fd;
}

// Packets as the receiver got them, checked after the run.
struct Received {
    std::unique_ptr<std::uint8_t[]> data;
    std::vector<std::uint32_t> stream;
    std::vector<std::uint16_t> length;  // 0xffff: truncated (longer than a slot)
    std::size_t capacity = 0;
    std::atomic<std::size_t> count{0};
    std::size_t overflow = 0;
    double cpu = 0;
};

void receive_loop(const std::vector<int>& fds, Received& r, const std::atomic<bool>& stop) {
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (std::size_t s = 0; s < fds.size(); ++s) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<std::uint32_t>(s);
        ::epoll_ctl(ep, EPOLL_CTL_ADD, fds[s], &ev);
    }
    mmsghdr msgs[kMaxBatch];
    iovec iov[kMaxBatch];
    static std::uint8_t scratch[kMaxBatch][kSlot];  // when the arena is full (only on duplicates)
    epoll_event events[256];
    std::size_t at = 0;
    while (!stop.load(std::memory_order_relaxed)) {
        const int n = ::epoll_wait(ep, events, 256, 5);
        for (int e = 0; e < n; ++e) {
            const std::uint32_t s = events[e].data.u32;
            for (;;) {
                const bool room = at + kMaxBatch <= r.capacity;
                for (int i = 0; i < kMaxBatch; ++i) {
                    std::uint8_t* slot = room ? r.data.get() + (at + i) * kSlot : scratch[i];
                    iov[i] = iovec{slot, kSlot};
                    std::memset(&msgs[i], 0, sizeof(mmsghdr));
                    msgs[i].msg_hdr.msg_iov = &iov[i];
                    msgs[i].msg_hdr.msg_iovlen = 1;
                }
                const int got = ::recvmmsg(fds[s], msgs, kMaxBatch, MSG_DONTWAIT, nullptr);
                if (got <= 0) break;
                if (!room) {
                    r.overflow += static_cast<std::size_t>(got);
                } else {
                    for (int i = 0; i < got; ++i) {
                        r.stream[at + i] = s;
                        r.length[at + i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
                                               ? 0xffff
                                               : static_cast<std::uint16_t>(msgs[i].msg_len);
                    }
                    at += static_cast<std::size_t>(got);
                    r.count.store(at, std::memory_order_relaxed);
                }
                if (got < kMaxBatch) break;
            }
        }
    }
    ::close(ep);
    r.cpu = thread_cpu_seconds();
}

struct GeneratorResult {
    double cpu = 0;
    std::size_t errors = 0;  // sendmmsg failures other than a full buffer
};

// Sends the streams s with s % threads == index, paced by a timer every tick_ms: at each tick every
// stream sends what is due by then (usually one or two packets) with one sendmmsg.
void generate(std::vector<Stream>& streams, const std::uint8_t* arena, unsigned index, unsigned threads,
              double rate, double seconds, int tick_ms, double t0, GeneratorResult& result) {
    mmsghdr msgs[kMaxBatch];
    iovec iov[kMaxBatch];
    const long tick_ns = tick_ms * 1000000L;
    timespec next{};
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (bool last = false; !last;) {
        double t = monotonic_seconds() - t0;
        if (t >= seconds) {
            t = seconds;
            last = true;
        }
        for (std::size_t s = index; s < streams.size(); s += threads) {
            Stream& st = streams[s];
            const double x = t * rate - st.phase;
            const std::size_t due =
                x < 0 ? 0 : std::min(st.count, static_cast<std::size_t>(std::floor(x)) + 1);
            while (st.sent < due) {
                const int n = static_cast<int>(std::min<std::size_t>(kMaxBatch, due - st.sent));
                for (int i = 0; i < n; ++i) {
                    iov[i] =
                        iovec{const_cast<std::uint8_t*>(arena) + (st.first + st.sent + i) * kSlot, st.wire};
                    std::memset(&msgs[i], 0, sizeof(mmsghdr));
                    msgs[i].msg_hdr.msg_iov = &iov[i];
                    msgs[i].msg_hdr.msg_iovlen = 1;
                }
                const int r = ::sendmmsg(st.send_fd, msgs, static_cast<unsigned>(n), MSG_DONTWAIT);
                if (r <= 0) {
                    if (r < 0 && errno != EAGAIN && errno != ENOBUFS) ++result.errors;
                    break;  // the rest goes at the next tick
                }
                st.sent += static_cast<std::size_t>(r);
            }
        }
        if (last) break;
        next.tv_nsec += tick_ns;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            ++next.tv_sec;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
    }
    result.cpu = thread_cpu_seconds();
}

// A random free-looking range of `size` ports: below the ephemeral range (32768) when it fits, so that
// the phones' own sockets (and other programs' ephemeral ports) do not take the relay's ports.
std::pair<std::uint16_t, std::uint16_t> port_range(unsigned size) {
    std::mt19937 rng(std::random_device{}());
    const unsigned top = 20000 + size <= 32768 ? 32768 : 60000;
    std::uniform_int_distribution<unsigned> pick(20000, top - size);
    const unsigned lo = pick(rng) & ~1u;
    return {static_cast<std::uint16_t>(lo), static_cast<std::uint16_t>(lo + size - 1)};
}

// The last `relay` of this process's CPUs for the relay threads, the others for the tool's own threads.
bool split_cpus(unsigned relay, cpu_set_t& all, cpu_set_t& relay_cpus, cpu_set_t& tool_cpus) {
    CPU_ZERO(&all);
    CPU_ZERO(&relay_cpus);
    CPU_ZERO(&tool_cpus);
    if (sched_getaffinity(0, sizeof all, &all) != 0 || static_cast<unsigned>(CPU_COUNT(&all)) <= relay)
        return false;
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &all)) cpus.push_back(c);
    for (std::size_t i = 0; i < cpus.size(); ++i)
        CPU_SET(cpus[i], i + relay >= cpus.size() ? &relay_cpus : &tool_cpus);
    return true;
}

bool run(Mode mode, const Options& o) {
    const std::string label =
        std::string("media_load ") + mode_name(mode) +
        (mode == Mode::Rtp ? "" : std::string(" ") + std::string(sw::media::suite_name(o.suite)));
    auto fail = [&](const std::string& why) {
        std::printf("%s: FAILED: %s\n", label.c_str(), why.c_str());
        std::fflush(stdout);
        return false;
    };

    RelayConfig config;
    config.address4 = "127.0.0.1";
    const unsigned range = 4 * o.calls + 100;
    std::tie(config.port_min, config.port_max) = port_range(range);
    config.threads = o.relay_threads;
    config.kernel = o.kernel;
    MediaRelay relay(config, [](std::uint64_t) {});
    std::string error;
    // Threads inherit the creating thread's CPUs: the relay's are made on its CPUs, the rest after.
    cpu_set_t all, relay_cpus, tool_cpus;
    const bool pin = o.pin && split_cpus(o.relay_threads, all, relay_cpus, tool_cpus);
    if (o.pin && !pin) return fail("--pin needs more CPUs than relay threads");
    struct Restore {  // this thread's CPUs as they were, however the run ends
        bool on;
        cpu_set_t cpus;
        ~Restore() {
            if (on) pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus);
        }
    } restore{pin, all};
    if (pin) pthread_setaffinity_np(pthread_self(), sizeof relay_cpus, &relay_cpus);
    const bool started = relay.start(error);
    if (pin) pthread_setaffinity_np(pthread_self(), sizeof tool_cpus, &tool_cpus);
    if (!started) return fail("relay: " + error);

    // Calls: relay ports per side, the phones' sockets, the keys of the mode.
    const std::size_t stream_count = 2 * std::size_t{o.calls};
    const double rate = o.pps / static_cast<double>(stream_count);  // packets/s per stream
    std::vector<Stream> streams(stream_count);
    std::vector<int> receive_fds(stream_count);
    Phones phones;
    std::vector<MediaRelay::SessionId> sessions;
    auto key = [&] { return sw::media::generate_key(o.suite); };
    for (unsigned c = 0; c < o.calls; ++c) {
        const auto id = relay.open(c);
        sessions.push_back(id);
        auto pa = relay.ports(id, 0, Side::A, false);
        auto pb = relay.ports(id, 0, Side::B, false);
        if (!pa || !pb) return fail("no relay ports for call " + std::to_string(c));
        NetAddress a, b;
        const int fa = phone_socket(*NetAddress::from(pa->address, pa->rtp_port), a, error);
        if (fa >= 0) phones.fds.push_back(fa);
        const int fb = fa >= 0 ? phone_socket(*NetAddress::from(pb->address, pb->rtp_port), b, error) : -1;
        if (fb >= 0) phones.fds.push_back(fb);
        if (fa < 0 || fb < 0) return fail("phone sockets: " + error);
        relay.set_peer(id, 0, Side::A, a, false, a);
        relay.set_peer(id, 0, Side::B, b, false, b);

        Stream& ab = streams[2 * c];      // phone A to phone B
        Stream& ba = streams[2 * c + 1];  // phone B to phone A
        ab.send_fd = fa;
        receive_fds[2 * c] = fb;
        ba.send_fd = fb;
        receive_fds[2 * c + 1] = fa;
        switch (mode) {
            case Mode::Rtp:
                break;
            case Mode::SrtpPass:  // each phone's own key, end to end
                ab.send_key = ab.receive_key = key();
                ba.send_key = ba.receive_key = key();
                break;
            case Mode::SrtpTerm: {  // leg A: keys KA (from A), KA2 (to A); leg B: KB2 (from B), KB (to B)
                const SrtpKey ka = key(), ka2 = key(), kb = key(), kb2 = key();
                relay.set_crypto(id, 0, Side::A, ka, ka2);
                relay.set_crypto(id, 0, Side::B, kb2, kb);
                ab.send_key = ka;
                ab.receive_key = kb;
                ba.send_key = kb2;
                ba.receive_key = ka2;
                break;
            }
            case Mode::SrtpRtp: {  // leg A SRTP, leg B plain
                const SrtpKey ka = key(), ka2 = key();
                relay.set_crypto(id, 0, Side::A, ka, ka2);
                ab.send_key = ka;
                ba.receive_key = ka2;
                break;
            }
        }
    }

    // The packets, made (and protected by the sending phone) before the run.
    std::mt19937 rng(12345);
    std::size_t planned = 0;
    for (std::size_t s = 0; s < stream_count; ++s) {
        Stream& st = streams[s];
        st.call = static_cast<unsigned>(s / 2);
        st.ssrc = 0x5e000000u + static_cast<std::uint32_t>(s);
        st.seq0 = static_cast<std::uint16_t>(rng());
        st.ts0 = static_cast<std::uint32_t>(rng());
        st.phase = static_cast<double>(s) / static_cast<double>(stream_count);
        const double c = std::ceil(o.seconds * rate - st.phase);
        st.count = c > 0 ? static_cast<std::size_t>(c) : 0;
        st.first = planned;
        planned += st.count;
    }
    std::unique_ptr<std::uint8_t[]> arena(new std::uint8_t[planned * kSlot]);
    for (Stream& st : streams) {
        std::unique_ptr<SrtpStream> protect = st.send_key ? SrtpStream::outbound(*st.send_key) : nullptr;
        if (st.send_key && !protect) return fail("libsrtp refused an outbound key");
        st.wire = kRtpLength;
        for (std::size_t k = 0; k < st.count; ++k) {
            std::uint8_t* p = arena.get() + (st.first + k) * kSlot;
            p[0] = 0x80;  // version 2
            p[1] = 0;     // PT 0 (PCMU)
            const auto seq = static_cast<std::uint16_t>(st.seq0 + k);
            p[2] = static_cast<std::uint8_t>(seq >> 8);
            p[3] = static_cast<std::uint8_t>(seq);
            put32(p + 4, st.ts0 + static_cast<std::uint32_t>(k) * kTimestampStep);
            put32(p + 8, st.ssrc);
            for (std::size_t i = kHeader; i < kRtpLength; ++i)
                p[i] = pattern(st.ssrc, k, i);
            if (protect) {
                auto r = protect->protect_rtp(p, kRtpLength, kSlot);
                if (r.error) return fail("protect failed while making the packets");
                st.wire = r.length;
            }
        }
    }

    // The receiver keeps what arrives; room for every planned packet.
    Received got;
    got.capacity = planned + kMaxBatch;
    got.data.reset(new std::uint8_t[got.capacity * kSlot]);
    std::memset(got.data.get(), 0, got.capacity * kSlot);  // no page faults during the run
    got.stream.resize(got.capacity);
    got.length.resize(got.capacity);
    std::atomic<bool> stop_receiver{false};
    std::thread receiver([&] { receive_loop(receive_fds, got, stop_receiver); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));

    auto relay_totals = [&] {
        sw::media::SideStats total;
        for (auto id : sessions)
            for (Side side : {Side::A, Side::B}) {
                auto st = relay.stats(id, 0, side);
                if (!st) continue;
                total.received += st->received;
                total.relayed += st->relayed;
                total.srtp_failed += st->srtp_failed;
                total.foreign += st->foreign;
                total.no_destination += st->no_destination;
            }
        return total;
    };

    // The run.
    if (o.kernel && !relay.kernel_active()) return fail("no kernel path: " + relay.kernel_status());
    const double cpu0 = relay.cpu_seconds();
    const double process0 = process_cpu_seconds();
    const double t0 = monotonic_seconds();
    std::vector<GeneratorResult> gen(o.generator_threads);
    std::vector<std::thread> generators;
    for (unsigned g = 0; g < o.generator_threads; ++g)
        generators.emplace_back(generate, std::ref(streams), arena.get(), g, o.generator_threads, rate,
                                o.seconds, o.tick_ms, t0, std::ref(gen[g]));
    for (auto& t : generators)
        t.join();
    const double t_sent = monotonic_seconds() - t0;
    // Where the packets are when the last one is sent: still in the relay's sockets, or in the phones'.
    const std::size_t relayed_at_end = relay_totals().relayed, received_at_end = got.count.load();
    std::size_t sent = 0;
    for (const Stream& st : streams)
        sent += st.sent;
    // Until everything sent has arrived, or nothing more arrives for 300 ms.
    {
        std::size_t last = got.count.load();
        double quiet_since = monotonic_seconds();
        while (got.count.load() < sent) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            const std::size_t now = got.count.load();
            if (now != last) {
                last = now;
                quiet_since = monotonic_seconds();
            } else if (monotonic_seconds() - quiet_since > 0.3) {
                break;
            }
        }
    }
    const double cpu1 = relay.cpu_seconds();
    const double process1 = process_cpu_seconds();
    const double wall = monotonic_seconds() - t0;
    stop_receiver = true;
    receiver.join();

    const sw::media::SideStats total = relay_totals();
    relay.stop();

    // Checks: every packet authenticates (where the receiving phone has SRTP) and is what was sent.
    std::vector<std::unique_ptr<SrtpStream>> unprotect(stream_count);
    for (std::size_t s = 0; s < stream_count; ++s)
        if (streams[s].receive_key) {
            unprotect[s] = SrtpStream::inbound(*streams[s].receive_key);
            if (!unprotect[s]) return fail("libsrtp refused an inbound key");
        }
    std::vector<std::uint8_t> seen(planned, 0);
    std::size_t unique = 0, auth_failed = 0, wrong = 0, duplicates = 0, truncated = 0;
    const std::size_t received = got.count.load();
    for (std::size_t i = 0; i < received; ++i) {
        const std::uint32_t s = got.stream[i];
        const Stream& st = streams[s];
        std::uint8_t* p = got.data.get() + i * kSlot;
        std::size_t len = got.length[i];
        if (len == 0xffff) {
            ++truncated;
            continue;
        }
        if (unprotect[s]) {
            auto r = unprotect[s]->unprotect_rtp(p, len);
            if (r.error) {
                ++auth_failed;
                continue;
            }
            len = r.length;
        }
        if (len != kRtpLength || p[0] != 0x80 || p[1] != 0 || get32(p + 8) != st.ssrc) {
            ++wrong;
            continue;
        }
        const std::uint32_t dt = get32(p + 4) - st.ts0;
        const std::size_t k = dt / kTimestampStep;
        const std::uint16_t seq = static_cast<std::uint16_t>((p[2] << 8) | p[3]);
        bool ok = dt % kTimestampStep == 0 && k < st.count && seq == static_cast<std::uint16_t>(st.seq0 + k);
        for (std::size_t j = kHeader; ok && j < kRtpLength; ++j)
            ok = p[j] == pattern(st.ssrc, k, j);
        if (!ok) {
            ++wrong;
            continue;
        }
        if (seen[st.first + k]++) {
            ++duplicates;
            continue;
        }
        ++unique;
    }

    const std::size_t lost = sent > unique ? sent - unique : 0;
    const double lost_pct = sent ? 100.0 * static_cast<double>(lost) / static_cast<double>(sent) : 100.0;
    const double relay_cpu = cpu1 - cpu0;
    const double us = total.relayed ? relay_cpu * 1e6 / static_cast<double>(total.relayed) : 0;
    const double per_core = us > 0 ? 1e6 / us : 0;
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s: %u calls, %s packets/s, %s sent, %s received, %s lost (%.2f %%), relay %.2f us/packet "
                  "(%s packets/s per core, %s calls per core)",
                  label.c_str(), o.calls, grouped(static_cast<double>(sent) / t_sent).c_str(),
                  grouped(static_cast<double>(sent)).c_str(), grouped(static_cast<double>(unique)).c_str(),
                  grouped(static_cast<double>(lost)).c_str(), lost_pct, us, grouped(round3(per_core)).c_str(),
                  grouped(round3(per_core / 100.0)).c_str());
    std::printf("%s\n", line);
    if (o.verbose) {
        double gen_cpu = 0;
        std::size_t gen_errors = 0;
        for (const auto& g : gen) {
            gen_cpu += g.cpu;
            gen_errors += g.errors;
        }
        const auto behind = [](std::size_t a, std::size_t b) { return grouped(a > b ? double(a - b) : 0.0); };
        std::printf(
            "  %.1f packets/s per stream, %zu planned; sending took %.2f s, the rest arrived %.2f s later "
            "(at the last send %s packets were not relayed yet, %s not received yet); relay CPU %.3f s, "
            "received %s, relayed %s; generator CPU %.3f s (%.2f us/packet), receiver CPU %.3f s "
            "(%.2f us/packet); send errors %zu; the whole process %.2f us/packet (phones, relay and, with "
            "--kernel, the kernel's relaying, which runs in the senders' system calls)\n",
            rate, planned, t_sent, wall - t_sent, behind(sent, relayed_at_end).c_str(),
            behind(relayed_at_end, received_at_end).c_str(), relay_cpu,
            grouped(static_cast<double>(total.received)).c_str(),
            grouped(static_cast<double>(total.relayed)).c_str(), gen_cpu,
            sent ? gen_cpu * 1e6 / static_cast<double>(sent) : 0.0, got.cpu,
            received ? got.cpu * 1e6 / static_cast<double>(received) : 0.0, gen_errors,
            sent ? (process1 - process0) * 1e6 / static_cast<double>(sent) : 0.0);
    }
    std::fflush(stdout);

    std::string problems;
    auto problem = [&](std::size_t n, const char* what) {
        if (n == 0) return;
        if (!problems.empty()) problems += ", ";
        problems += grouped(static_cast<double>(n)) + " " + what;
    };
    problem(auth_failed, "did not authenticate at the receiving phone");
    problem(wrong, "were not what was sent");
    problem(duplicates, "duplicates");
    problem(truncated + got.overflow, "too long or too many");
    problem(total.srtp_failed, "failed SRTP in the relay");
    problem(total.foreign, "refused by the relay as foreign");
    problem(total.no_destination, "dropped by the relay with no destination");
    if (unique == 0) problems += problems.empty() ? "nothing arrived" : ", nothing arrived";
    if (lost_pct > o.max_loss) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%.2f %% lost, above %.2f %%", lost_pct, o.max_loss);
        problems += problems.empty() ? buf : std::string(", ") + buf;
    }
    if (!problems.empty()) return fail(problems);
    return true;
}

void raise_file_limit() {
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &r);
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"media_load: the media relay's CPU per relayed packet"};
    Options o;
    std::string mode = "rtp", suite = "AES_CM_128_HMAC_SHA1_80";
    bool quick = false;
    auto* calls = app.add_option("--calls", o.calls, "calls, one audio stream each way (default 200)")
                      ->check(CLI::Range(1u, 9000u));
    auto* pps = app.add_option("--pps", o.pps,
                               "packets per second into the relay, all calls and both "
                               "directions (default 50000)")
                    ->check(CLI::PositiveNumber);
    auto* seconds = app.add_option("--seconds", o.seconds, "length of the run (default 10)")
                        ->check(CLI::Range(0.1, 3600.0));
    auto* mode_opt =
        app.add_option("--mode", mode, "rtp, srtp-pass, srtp-term, srtp-rtp or all (default rtp)")
            ->check(CLI::IsMember({"rtp", "srtp-pass", "srtp-term", "srtp-rtp", "all"}));
    app.add_option("--suite", suite,
                   "AES_CM_128_HMAC_SHA1_80 (default), AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM")
        ->check(CLI::IsMember({"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM"}));
    app.add_option("--relay-threads", o.relay_threads, "relay threads (default 1)")
        ->check(CLI::Range(1u, 64u));
    app.add_option("--generator-threads", o.generator_threads, "sending threads (default 1)")
        ->check(CLI::Range(1u, 8u));
    auto* loss = app.add_option("--max-loss", o.max_loss, "most loss in percent that passes (default 1)")
                     ->check(CLI::Range(0.0, 100.0));
    app.add_option("--tick-ms", o.tick_ms, "the generator's timer in ms (default 10)")
        ->check(CLI::Range(1, 100));
    app.add_flag("--kernel", o.kernel, "relay in the kernel where the relay can (eBPF, needs root)");
    app.add_flag("--quick", quick, "2 s, 20 calls at 2,000 packets/s, all four modes, loss up to 5 % (CI)");
    app.add_flag("--pin", o.pin,
                 "the relay threads on the last CPUs, the generator and receiver on the others");
    app.add_flag("-v,--verbose", o.verbose, "a line of details per run (rates, the tool's own CPU)");
    CLI11_PARSE(app, argc, argv);

    if (quick) {  // what is not given on the command line
        if (calls->count() == 0) o.calls = 20;
        if (pps->count() == 0) o.pps = 2000;
        if (seconds->count() == 0) o.seconds = 2;
        if (loss->count() == 0) o.max_loss = 5;
        if (mode_opt->count() == 0) mode = "all";
    }
    o.suite = *sw::media::suite_from_name(suite);
    o.modes.clear();
    for (Mode m : kModes)
        if (mode == "all" || mode == mode_name(m)) o.modes.push_back(m);
    raise_file_limit();

    bool ok = true;
    for (Mode m : o.modes)
        ok = run(m, o) && ok;
    return ok ? 0 : 1;
}
