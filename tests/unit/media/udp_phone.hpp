// Test helpers for the media layer: plain POSIX UDP sockets playing the phones, RTP/RTCP packets, and a
// random port range for the relay (other test runs on the machine bind loopback ports too).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "media/relay.hpp"

namespace sw::media::test {

using Bytes = std::vector<std::uint8_t>;

inline std::mt19937& rng() {
    static std::mt19937 g(std::random_device{}());
    return g;
}

// An even port in [30000, 60000 - span): the start of a range of `span` ports.
inline std::uint16_t random_base(unsigned span) {
    std::uniform_int_distribution<unsigned> d(30000 / 2, (60000 - span) / 2);
    return static_cast<std::uint16_t>(d(rng()) * 2);
}

// The start of a range of `span` ports of which every one can be bound right now on each of `ips`:
// other processes on the machine hold loopback ports too, sometimes in dense blocks.
inline std::uint16_t free_range(unsigned span, const std::vector<std::string>& ips = {"127.0.0.1"});

inline NetAddress addr(const std::string& ip, std::uint16_t port) {
    auto a = NetAddress::from(ip, port);
    return a ? *a : NetAddress{};
}

struct Datagram {
    Bytes data;
    NetAddress from;
    int tos = -1;  // the IPv4 TOS byte or the IPv6 traffic class it arrived with
    int ttl = -1;  // its TTL or hop limit
};

// One UDP socket of a phone.
class UdpSocket {
public:
    UdpSocket() = default;
    ~UdpSocket() { reset(); }
    UdpSocket(UdpSocket&& o) noexcept : fd_(std::exchange(o.fd_, -1)), local_(o.local_) {}
    UdpSocket& operator=(UdpSocket&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
            local_ = o.local_;
        }
        return *this;
    }

    // Binds ip:port (port 0: any). False if the address cannot be bound.
    bool bind(const std::string& ip, std::uint16_t port) {
        reset();
        const NetAddress where = addr(ip, port);
        if (where.empty()) return false;
        fd_ = ::socket(where.storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return false;
        int one = 1;
        if (where.is_v6()) {
            ::setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
            ::setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof one);
            ::setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
        } else {
            ::setsockopt(fd_, IPPROTO_IP, IP_RECVTOS, &one, sizeof one);
            ::setsockopt(fd_, IPPROTO_IP, IP_RECVTTL, &one, sizeof one);
        }
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&where.storage), where.length) != 0) {
            reset();
            return false;
        }
        local_.length = sizeof(local_.storage);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local_.storage), &local_.length);
        return true;
    }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    bool valid() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    const NetAddress& local() const { return local_; }
    std::uint16_t port() const { return local_.port(); }

    // What this socket's packets leave with: the TTL (hop limit) and the DS field.
    void mark(int ttl, int tos) const {
        const bool v6 = local_.is_v6();
        ::setsockopt(fd_, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, &ttl, sizeof ttl);
        ::setsockopt(fd_, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TCLASS : IP_TOS, &tos, sizeof tos);
    }
    bool send(const NetAddress& to, const Bytes& data) const {
        const ssize_t n = ::sendto(fd_, data.data(), data.size(), 0,
                                   reinterpret_cast<const sockaddr*>(&to.storage), to.length);
        return n == static_cast<ssize_t>(data.size());
    }
    // The next datagram, waiting at most timeout_ms for it.
    std::optional<Datagram> receive(int timeout_ms = 2000) const {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
        Datagram d;
        d.data.resize(4096);
        iovec io{d.data.data(), d.data.size()};
        alignas(cmsghdr) char control[64];
        msghdr m{};
        m.msg_name = &d.from.storage;
        m.msg_namelen = sizeof(d.from.storage);
        m.msg_iov = &io;
        m.msg_iovlen = 1;
        m.msg_control = control;
        m.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(fd_, &m, MSG_DONTWAIT);
        if (n < 0) return std::nullopt;
        d.from.length = m.msg_namelen;
        d.data.resize(static_cast<std::size_t>(n));
        for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) && c->cmsg_len >= CMSG_LEN(1))
                d.tos = *CMSG_DATA(c);
            int value = 0;
            if (c->cmsg_len >= CMSG_LEN(sizeof(int))) std::memcpy(&value, CMSG_DATA(c), sizeof value);
            if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) d.tos = value;
            if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) d.ttl = value;
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) d.ttl = value;
        }
        return d;
    }

private:
    int fd_ = -1;
    NetAddress local_;
};

inline std::uint16_t free_range(unsigned span, const std::vector<std::string>& ips) {
    std::uint16_t base = random_base(span);
    for (int attempt = 0; attempt < 100; ++attempt, base = random_base(span)) {
        std::vector<UdpSocket> held;
        bool all = true;
        for (unsigned p = base; all && p < base + span; ++p)
            for (const auto& ip : ips) {
                UdpSocket s;
                if (!s.bind(ip, static_cast<std::uint16_t>(p))) {
                    all = false;
                    break;
                }
                held.push_back(std::move(s));
            }
        if (all) return base;
    }
    return base;  // a crowded machine: the test will say which port it could not get
}

// A phone: RTP on an even port, RTCP on the next, outside [avoid_lo, avoid_hi] (the relay's range).
struct Phone {
    UdpSocket rtp, rtcp;
    std::string ip;

    bool bind(const std::string& at, std::uint16_t avoid_lo, std::uint16_t avoid_hi) {
        ip = at;
        for (int attempt = 0; attempt < 200; ++attempt) {
            const std::uint16_t p = random_base(2);
            if (p + 1 >= avoid_lo && p <= avoid_hi) continue;
            if (rtp.bind(ip, p) && rtcp.bind(ip, static_cast<std::uint16_t>(p + 1))) return true;
            rtp.reset();
            rtcp.reset();
        }
        return false;
    }
    NetAddress rtp_address() const { return rtp.local(); }
    NetAddress rtcp_address() const { return rtcp.local(); }
};

// An RTP packet: V=2, no padding/extension/CSRC, marker off, `pt`, then `payload_len` bytes of payload
// that depend on seq (so that two packets differ).
inline Bytes rtp_packet(std::uint16_t seq, std::uint32_t ssrc, std::uint8_t pt = 0,
                        std::size_t payload_len = 160) {
    Bytes p(12 + payload_len);
    p[0] = 0x80;
    p[1] = pt & 0x7f;
    p[2] = static_cast<std::uint8_t>(seq >> 8);
    p[3] = static_cast<std::uint8_t>(seq);
    const std::uint32_t ts = 160u * seq;
    for (int i = 0; i < 4; ++i) {
        p[4 + i] = static_cast<std::uint8_t>(ts >> (24 - 8 * i));
        p[8 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
    }
    for (std::size_t i = 0; i < payload_len; ++i)
        p[12 + i] = static_cast<std::uint8_t>(seq * 7 + i);
    return p;
}

inline std::uint16_t rtp_seq(const Bytes& p) {
    return p.size() >= 4 ? static_cast<std::uint16_t>((p[2] << 8) | p[3]) : 0;
}

// An RTCP sender report (PT 200) with no report blocks: 28 bytes.
inline Bytes rtcp_sender_report(std::uint32_t ssrc, std::uint8_t marker = 0) {
    Bytes p(28, 0);
    p[0] = 0x80;
    p[1] = 200;
    p[2] = 0;
    p[3] = 6;  // length in 32-bit words minus one
    for (int i = 0; i < 4; ++i)
        p[4 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
    p[27] = marker;  // in the sender's octet count: tells packets apart
    return p;
}

// Polls `pred` every 5 ms until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
}

// Protects (SRTP) a copy of `plain` with `s`: an empty result if protect failed.
inline Bytes protect_rtp(SrtpStream& s, const Bytes& plain) {
    std::vector<std::uint32_t> words((plain.size() + kMaxSrtpOverhead + 3) / 4);
    auto* buf = reinterpret_cast<std::uint8_t*>(words.data());
    std::copy(plain.begin(), plain.end(), buf);
    auto r = s.protect_rtp(buf, plain.size(), words.size() * 4);
    if (r.error) return {};
    return Bytes(buf, buf + r.length);
}
inline Bytes protect_rtcp(SrtpStream& s, const Bytes& plain) {
    std::vector<std::uint32_t> words((plain.size() + kMaxSrtpOverhead + 3) / 4);
    auto* buf = reinterpret_cast<std::uint8_t*>(words.data());
    std::copy(plain.begin(), plain.end(), buf);
    auto r = s.protect_rtcp(buf, plain.size(), words.size() * 4);
    if (r.error) return {};
    return Bytes(buf, buf + r.length);
}
// Unprotects a copy of `packet`: nullopt if SRTP refused it.
inline std::optional<Bytes> unprotect_rtp(SrtpStream& s, const Bytes& packet) {
    std::vector<std::uint32_t> words((packet.size() + 3) / 4 + 1);
    auto* buf = reinterpret_cast<std::uint8_t*>(words.data());
    std::copy(packet.begin(), packet.end(), buf);
    auto r = s.unprotect_rtp(buf, packet.size());
    if (r.error) return std::nullopt;
    return Bytes(buf, buf + r.length);
}
inline std::optional<Bytes> unprotect_rtcp(SrtpStream& s, const Bytes& packet) {
    std::vector<std::uint32_t> words((packet.size() + 3) / 4 + 1);
    auto* buf = reinterpret_cast<std::uint8_t*>(words.data());
    std::copy(packet.begin(), packet.end(), buf);
    auto r = s.unprotect_rtcp(buf, packet.size());
    if (r.error) return std::nullopt;
    return Bytes(buf, buf + r.length);
}

}  // namespace sw::media::test
