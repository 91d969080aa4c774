#include "transport/transports.hpp"

#include "common/dscp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include "sip/framing.hpp"
#include "transport/lean_tls.hpp"
#include "transport/steering.hpp"

namespace sw::transport {

std::optional<asio::ip::address> parse_address(std::string_view text) {
    bool dotted = !text.empty();
    for (const char c : text)
        dotted = dotted && ((c >= '0' && c <= '9') || c == '.');
    if (dotted) {
        // inet_pton's rules: four parts of 1-3 digits, each at most 255, no leading zero.
        asio::ip::address_v4::bytes_type bytes{};
        std::size_t part = 0, digits = 0;
        unsigned value = 0;
        for (std::size_t i = 0; i <= text.size(); ++i) {
            if (i == text.size() || text[i] == '.') {
                if (digits == 0 || value > 255 || part == 4) return std::nullopt;
                bytes[part++] = static_cast<unsigned char>(value);
                value = 0;
                digits = 0;
                continue;
            }
            if (digits == 1 && value == 0) return std::nullopt;  // a leading zero
            if (++digits > 3) return std::nullopt;
            value = value * 10 + static_cast<unsigned>(text[i] - '0');
        }
        if (part != 4) return std::nullopt;
        return asio::ip::address(asio::ip::address_v4(bytes));
    }
    asio::error_code ec;
    auto a = asio::ip::make_address(std::string(text), ec);
    if (ec) return std::nullopt;
    return a;
}

AddressText address_text(const asio::ip::address& address) {
    AddressText t;
    if (address.is_v4()) {
        const auto bytes = address.to_v4().to_bytes();
        char* p = t.buf;
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            if (i > 0) *p++ = '.';
            const unsigned v = bytes[i];
            if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
            if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
            *p++ = static_cast<char>('0' + v % 10);
        }
        t.size = static_cast<std::uint8_t>(p - t.buf);
        return t;
    }
    const std::string s = address.to_string();  // IPv6 (RFC 5952 and a scope id): rarer, asio's way
    t.size = static_cast<std::uint8_t>(std::min(s.size(), sizeof t.buf));
    std::memcpy(t.buf, s.data(), t.size);
    return t;
}

namespace {
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// Plain BSD socket addresses for the UDP fast path (recvfrom/sendto without Asio's operation objects).
socklen_t to_sockaddr(const asio::ip::address& a, std::uint16_t port, sockaddr_storage& ss) {
    std::memset(&ss, 0, sizeof ss);
    if (a.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        const auto bytes = a.to_v4().to_bytes();
        std::memcpy(&sin->sin_addr, bytes.data(), bytes.size());
        return sizeof(sockaddr_in);
    }
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    const auto v6 = a.to_v6();
    const auto bytes = v6.to_bytes();
    std::memcpy(&sin6->sin6_addr, bytes.data(), bytes.size());
    sin6->sin6_scope_id = v6.scope_id();
    return sizeof(sockaddr_in6);
}

bool from_sockaddr(const sockaddr_storage& ss, asio::ip::address& a, std::uint16_t& port) {
    if (ss.ss_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
        asio::ip::address_v4::bytes_type b;
        std::memcpy(b.data(), &sin->sin_addr, b.size());
        a = asio::ip::address_v4(b);
        port = ntohs(sin->sin_port);
        return true;
    }
    if (ss.ss_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        asio::ip::address_v6::bytes_type b;
        std::memcpy(b.data(), &sin6->sin6_addr, b.size());
        a = asio::ip::address_v6(b, sin6->sin6_scope_id);
        port = ntohs(sin6->sin6_port);
        return true;
    }
    return false;
}
}  // namespace

TransportCounters& TransportCounters::operator+=(const TransportCounters& o) {
    datagrams_in += o.datagrams_in;
    oversize_dropped += o.oversize_dropped;
    connections_accepted += o.connections_accepted;
    connections_refused += o.connections_refused;
    framing_errors += o.framing_errors;
    idle_closed += o.idle_closed;
    keepalive_pings += o.keepalive_pings;
    tls_handshake_failures += o.tls_handshake_failures;
    slow_senders_closed += o.slow_senders_closed;
    send_failures += o.send_failures;
    connections_opened += o.connections_opened;
    return *this;
}

bool ConnectionBudget::take(const asio::ip::address& address, const Limits& limits) {
    std::lock_guard lock(mutex_);
    auto& n = per_address_[address];
    if (total_ >= limits.max_connections || n >= limits.max_connections_per_address) {
        if (n == 0) per_address_.erase(address);
        return false;
    }
    ++n;
    ++total_;
    return true;
}

void ConnectionBudget::give_back(const asio::ip::address& address) {
    std::lock_guard lock(mutex_);
    auto it = per_address_.find(address);
    if (it == per_address_.end()) return;
    if (--it->second == 0) per_address_.erase(it);
    --total_;
}

void ConnectionBudget::bind(const Peer& p) {
    std::lock_guard lock(mutex_);
    by_remote_[Remote{p.protocol, p.address, p.port}] = p.connection;
}

void ConnectionBudget::unbind(const Peer& p) {
    std::lock_guard lock(mutex_);
    auto it = by_remote_.find(Remote{p.protocol, p.address, p.port});
    if (it != by_remote_.end() && it->second == p.connection) by_remote_.erase(it);
}

std::uint64_t ConnectionBudget::find(Protocol protocol, const asio::ip::address& address,
                                     std::uint16_t port) const {
    std::lock_guard lock(mutex_);
    auto it = by_remote_.find(Remote{protocol, address, port});
    return it == by_remote_.end() ? 0 : it->second;
}

std::size_t ConnectionBudget::open() const {
    std::lock_guard lock(mutex_);
    return total_;
}

// A UDP socket with room to receive a batch of datagrams in one recvmmsg and to send the answers of a
// burst in one sendmmsg: under load one system call serves many datagrams (system calls are the larger
// part of the cost of a small transaction, the more so in a virtual machine).
struct Transports::UdpListener {
    static constexpr std::size_t kBatch = 16;
    asio::ip::udp::socket socket;
    std::uint8_t index = 0;
    std::size_t slot = 0;      // bytes per receive slot: the largest message + 1 (to see oversize)
    std::vector<char> buffer;  // kBatch slots; pages are touched only as large datagrams use them
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iovs{};
    std::array<sockaddr_storage, kBatch> from{};
    struct Outgoing {
        sockaddr_storage to;
        socklen_t len;
        std::string bytes;
    };
    std::vector<Outgoing> out;  // answers waiting for the end of the burst
    bool flush_posted = false;
    bool draining = false;  // inside drain_udp: its end flushes, no post needed
    explicit UdpListener(asio::io_context& io) : socket(io) {}
};

struct Transports::TcpListener {
    asio::ip::tcp::acceptor acceptor;
    explicit TcpListener(asio::io_context& io) : acceptor(io) {}
};

struct Transports::Connection {
    using TlsStream = LeanTlsStream;  // not asio::ssl::stream: 4 record buffers per connection
    std::uint64_t id;
    asio::ip::tcp::socket socket;                 // plain TCP
    std::shared_ptr<asio::ssl::context> context;  // TLS: kept alive for this connection across reloads
    std::unique_ptr<TlsStream> tls;               // TLS: owns the socket
    asio::steady_timer idle;
    asio::steady_timer message_deadline;  // running while a message has begun but not ended
    bool message_deadline_armed = false;
    sip::StreamFramer framer;
    std::array<char, 4 * 1024> buffer{};  // what one read takes; the framer keeps a partial message
    std::deque<std::string> out;
    Peer peer;
    bool closing = false;
    bool connecting = false;  // an outgoing connection not yet established: writes wait in `out`
    Connection(std::uint64_t i, asio::ip::tcp::socket s, std::size_t max)
        : id(i),
          socket(std::move(s)),
          idle(socket.get_executor()),
          message_deadline(socket.get_executor()),
          framer(max) {}
    asio::ip::tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }
    // Runs f on whichever stream this connection reads and writes.
    template <typename F>
    void with_stream(F&& f) {
        if (tls) {
            f(*tls);
        } else {
            f(socket);
        }
    }
};

Transports::Transports(asio::io_context& io, Receiver& receiver, Limits limits, ConnectionBudget& budget,
                       std::uint8_t worker)
    : io_(io), receiver_(receiver), limits_(limits), budget_(budget), worker_(worker) {}

sw::Result<std::uint16_t, std::string> Transports::claim(const ListenSpec& spec) {
    asio::io_context io;
    asio::error_code ec;
    const auto addr = asio::ip::make_address(spec.host, ec);
    if (ec) return sw::unexpected(spec.text() + ": " + ec.message());
    if (spec.protocol == Protocol::Udp) {
        asio::ip::udp::socket probe(io);
        const asio::ip::udp::endpoint ep(addr, spec.port);
        probe.open(ep.protocol(), ec);
        if (!ec && addr.is_v6()) probe.set_option(asio::ip::v6_only(true), ec);
        if (!ec) probe.bind(ep, ec);
        if (ec) return sw::unexpected(spec.text() + ": " + ec.message());
        return probe.local_endpoint().port();
    }
    asio::ip::tcp::acceptor probe(io);
    const asio::ip::tcp::endpoint ep(addr, spec.port);
    probe.open(ep.protocol(), ec);
    if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && addr.is_v6()) probe.set_option(asio::ip::v6_only(true), ec);
    if (!ec) probe.bind(ep, ec);
    if (!ec) probe.listen(1, ec);  // a listener with SO_REUSEPORT elsewhere would make this fail
    if (ec) return sw::unexpected(spec.text() + ": " + ec.message());
    return probe.local_endpoint().port();
}

Transports::~Transports() {
    stop();
}

sw::Result<bool, std::string> Transports::steer_udp_responses(unsigned workers) {
    for (const auto& l : udp_) {
        std::string error;
        if (!attach_response_steering(l->socket.native_handle(), workers, error))
            return sw::unexpected(error);
    }
    return true;
}

sw::Result<bool, std::string> Transports::listen(const ListenSpec& spec, bool reuse_port) {
    asio::error_code ec;
    const auto addr = asio::ip::make_address(spec.host, ec);
    if (ec) return sw::unexpected(spec.text() + ": " + ec.message());
    if (spec.protocol == Protocol::Udp) {
        auto l = std::make_unique<UdpListener>(io_);
        const asio::ip::udp::endpoint ep(addr, spec.port);
        l->socket.open(ep.protocol(), ec);
        if (!ec && addr.is_v6()) l->socket.set_option(asio::ip::v6_only(true), ec);
        if (!ec && reuse_port) l->socket.set_option(ReusePort(true), ec);
        if (!ec) l->socket.bind(ep, ec);
        if (!ec) mark_dscp(l->socket.native_handle(), addr.is_v6(), limits_.dscp);
        if (!ec) l->socket.non_blocking(true, ec);
        if (!ec) {
            // Bursts of thousands of datagrams must not overflow the kernel's default ~200 KiB buffer
            // (the kernel caps this at net.core.rmem_max / wmem_max).
            asio::error_code ignored;
            l->socket.set_option(asio::socket_base::receive_buffer_size(4 * 1024 * 1024), ignored);
            l->socket.set_option(asio::socket_base::send_buffer_size(4 * 1024 * 1024), ignored);
        }
        if (ec) return sw::unexpected(spec.text() + ": " + ec.message());
        l->slot = limits_.max_message_size + 1;
        l->buffer.resize(l->slot * UdpListener::kBatch);
        l->index = static_cast<std::uint8_t>(udp_.size());
        wait_udp(*l);
        udp_.push_back(std::move(l));
        return true;
    }
    if (spec.protocol == Protocol::Tcp || spec.protocol == Protocol::Tls) {
        if (spec.protocol == Protocol::Tls && !tls_context_)
            return sw::unexpected(spec.text() + ": no TLS certificate");
        auto l = std::make_unique<TcpListener>(io_);
        const asio::ip::tcp::endpoint ep(addr, spec.port);
        l->acceptor.open(ep.protocol(), ec);
        if (!ec) l->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec && addr.is_v6()) l->acceptor.set_option(asio::ip::v6_only(true), ec);
        if (!ec && reuse_port) l->acceptor.set_option(ReusePort(true), ec);
        if (!ec) l->acceptor.bind(ep, ec);
        if (!ec) mark_dscp(l->acceptor.native_handle(), addr.is_v6(), limits_.dscp);
        if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) return sw::unexpected(spec.text() + ": " + ec.message());
        accept_tcp(*l, spec.protocol == Protocol::Tls);
        tcp_.push_back(std::move(l));
        return true;
    }
    return sw::unexpected(spec.text() + ": unknown protocol");
}

void Transports::wait_udp(UdpListener& l) {
    // Readiness, then recvfrom until the socket is empty: one wake-up serves a burst of datagrams, and no
    // Asio operation object is made per datagram.
    l.socket.async_wait(asio::socket_base::wait_read, [this, &l](const asio::error_code& ec) {
        if (ec == asio::error::operation_aborted || stopped_) return;
        drain_udp(l);
    });
}

void Transports::drain_udp(UdpListener& l) {
    const int fd = l.socket.native_handle();
    l.draining = true;
    bool empty = false;  // the socket has nothing left: wait for readiness instead of coming back
    for (int round = 0; round < 8 && !stopped_ && !empty; ++round) {
        for (std::size_t k = 0; k < UdpListener::kBatch; ++k) {
            l.iovs[k] = iovec{l.buffer.data() + k * l.slot, l.slot};
            l.msgs[k].msg_hdr = msghdr{};
            l.msgs[k].msg_hdr.msg_name = &l.from[k];
            l.msgs[k].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
            l.msgs[k].msg_hdr.msg_iov = &l.iovs[k];
            l.msgs[k].msg_hdr.msg_iovlen = 1;
            l.msgs[k].msg_len = 0;
        }
        const int n = ::recvmmsg(fd, l.msgs.data(), UdpListener::kBatch, MSG_DONTWAIT, nullptr);
        if (n < 0) {
            if (errno == EINTR) continue;
            empty = true;  // EAGAIN: empty; other errors (ICMP reports) are not ours to act on
            break;
        }
        for (int k = 0; k < n && !stopped_; ++k) {
            ++counters_.datagrams_in;
            const std::size_t len = l.msgs[k].msg_len;
            if ((l.msgs[k].msg_hdr.msg_flags & MSG_TRUNC) != 0 || len > limits_.max_message_size) {
                ++counters_.oversize_dropped;  // RFC 3261 18.1.1 says large requests use TCP
                continue;
            }
            Peer p;
            p.protocol = Protocol::Udp;
            p.listener = l.index;
            if (!from_sockaddr(l.from[k], p.address, p.port)) continue;
            receiver_.on_message(p, std::string_view(l.buffer.data() + k * l.slot, len));
        }
        // Fewer than asked for: the socket was empty a moment ago, so another recvmmsg would nearly always
        // fail with EAGAIN (a system call per wake-up). Waiting is safe without it: Asio's async_wait
        // re-arms the socket with EPOLL_CTL_MOD, which reports it at once if a datagram came in meanwhile.
        empty = static_cast<std::size_t>(n) < UdpListener::kBatch;
    }
    receiver_.end_of_burst();
    l.draining = false;
    flush_udp(l);
    if (stopped_) return;
    if (empty) {
        wait_udp(l);
        return;
    }
    // Still more to read: let the other work of this loop run first, then come back.
    asio::post(io_, [this, &l] {
        if (!stopped_) drain_udp(l);
    });
}

void Transports::flush_udp(UdpListener& l) {
    l.flush_posted = false;
    if (l.out.empty()) return;
    const int fd = l.socket.native_handle();
    std::array<mmsghdr, UdpListener::kBatch> msgs{};
    std::array<iovec, UdpListener::kBatch> iovs{};
    std::size_t done = 0;
    while (done < l.out.size()) {
        const std::size_t n = std::min(UdpListener::kBatch, l.out.size() - done);
        for (std::size_t k = 0; k < n; ++k) {
            auto& o = l.out[done + k];
            iovs[k] = iovec{o.bytes.data(), o.bytes.size()};
            msgs[k] = mmsghdr{};
            msgs[k].msg_hdr.msg_name = &o.to;
            msgs[k].msg_hdr.msg_namelen = o.len;
            msgs[k].msg_hdr.msg_iov = &iovs[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
        }
        const int sent = ::sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
        if (sent < 0) {
            if (errno == EINTR) continue;
            // Non-blocking: when the socket buffer is full the datagram is lost, as UDP may; the
            // transaction layer retransmits. Skip the one that failed and go on with the rest.
            ++counters_.send_failures;
            ++done;
            continue;
        }
        done += static_cast<std::size_t>(sent);
    }
    l.out.clear();
}

void Transports::accept_tcp(TcpListener& l, bool tls) {
    l.acceptor.async_accept([this, &l, tls](const asio::error_code& ec, asio::ip::tcp::socket s) {
        if (ec == asio::error::operation_aborted || stopped_) return;
        if (!ec) {
            asio::error_code ep_ec;
            const auto remote = s.remote_endpoint(ep_ec);
            if (ep_ec) {
                s.close(ep_ec);
            } else if (!budget_.take(remote.address(), limits_)) {
                ++counters_.connections_refused;
                s.close(ep_ec);
            } else {
                ++counters_.connections_accepted;
                const std::uint64_t id = (next_connection_++ << 8) | worker_;
                auto c = std::make_shared<Connection>(id, std::move(s), limits_.max_message_size);
                c->peer = Peer{tls ? Protocol::Tls : Protocol::Tcp, remote.address(), remote.port(), c->id};
                if (tls) {
                    c->context = tls_context_;
                    c->tls = std::make_unique<Connection::TlsStream>(std::move(c->socket), *c->context);
                }
                connections_[c->id] = c;
                budget_.bind(c->peer);
                start_connection(c);
            }
        }
        accept_tcp(l, tls);
    });
}

void Transports::start_connection(std::shared_ptr<Connection> c) {
    asio::error_code ec;
    c->lowest().set_option(asio::ip::tcp::no_delay(true), ec);
    if (!c->tls) {
        arm_idle(c);
        read_connection(c);
        return;
    }
    // A deadline for the handshake: a peer that connects and says nothing cannot hold the slot.
    arm_deadline(c, limits_.handshake_timeout, counters_.tls_handshake_failures);
    c->tls->async_handshake(asio::ssl::stream_base::server, [this, c](const asio::error_code& hs) {
        if (hs || stopped_) {
            ++counters_.tls_handshake_failures;
            close_connection(c->id);
            return;
        }
        arm_idle(c);
        read_connection(c);
    });
}

void Transports::arm_idle(std::shared_ptr<Connection> c) {
    arm_deadline(c, limits_.idle_timeout, counters_.idle_closed);
}

void Transports::arm_deadline(std::shared_ptr<Connection> c, std::chrono::milliseconds after,
                              std::uint64_t& counter) {
    // One timer per connection: re-arming replaces the previous deadline (its wait ends as aborted).
    c->idle.expires_after(after);
    c->idle.async_wait([this, &counter, weak = std::weak_ptr<Connection>(c)](const asio::error_code& ec) {
        if (ec) return;
        if (auto conn = weak.lock()) {
            ++counter;
            close_connection(conn->id);
        }
    });
}

void Transports::read_connection(std::shared_ptr<Connection> c) {
    c->with_stream([&](auto& stream) {
        stream.async_read_some(asio::buffer(c->buffer), [this, c](const asio::error_code& ec, std::size_t n) {
            if (ec || c->closing || stopped_) {
                close_connection(c->id);
                return;
            }
            arm_idle(c);
            c->framer.append(std::string_view(c->buffer.data(), n));
            bool completed = false;
            for (;;) {
                const auto f = c->framer.next();
                if (f.kind == sip::StreamFramer::Kind::NeedMore) break;
                if (f.kind == sip::StreamFramer::Kind::Ping) {
                    ++counters_.keepalive_pings;
                    write_connection(c, "\r\n");  // RFC 5626 3.5.1 pong
                    continue;
                }
                if (f.kind == sip::StreamFramer::Kind::Error) {
                    // The stream cannot be resynchronised: answer what we can, then close.
                    ++counters_.framing_errors;
                    write_connection(c, "SIP/2.0 " + std::to_string(f.status) + " " + std::string(f.reason) +
                                            "\r\nContent-Length: 0\r\n\r\n");
                    c->closing = true;
                    return;
                }
                completed = true;
                receiver_.on_message(c->peer, f.bytes);
                if (c->closing) return;
            }
            receiver_.end_of_burst();
            watch_message_deadline(c, completed);
            read_connection(c);
        });
    });
}

void Transports::watch_message_deadline(const std::shared_ptr<Connection>& c, bool message_completed) {
    if (c->framer.buffered() == 0) {
        if (c->message_deadline_armed) c->message_deadline.cancel();
        c->message_deadline_armed = false;
        return;
    }
    // A message has begun: it must end within message_timeout of its first byte (a new message that
    // begins right after a completed one gets a fresh deadline).
    if (c->message_deadline_armed && !message_completed) return;
    c->message_deadline_armed = true;
    c->message_deadline.expires_after(limits_.message_timeout);
    c->message_deadline.async_wait([this, weak = std::weak_ptr<Connection>(c)](const asio::error_code& ec) {
        if (ec) return;
        if (auto conn = weak.lock()) {
            ++counters_.slow_senders_closed;
            close_connection(conn->id);
        }
    });
}

void Transports::connect_tcp(const Peer& to, std::string bytes) {
    // RFC 3261 18.1.1 / 18.2.2: a TCP peer we have no connection to (a phone that listens on its
    // Contact's port) gets a new connection. It counts against the same limits as accepted ones.
    if (!budget_.take(to.address, limits_)) {
        ++counters_.connections_refused;
        return;
    }
    const std::uint64_t id = (next_connection_++ << 8) | worker_;
    auto c = std::make_shared<Connection>(id, asio::ip::tcp::socket(io_), limits_.max_message_size);
    c->peer = Peer{Protocol::Tcp, to.address, to.port, id};
    c->connecting = true;
    c->out.push_back(std::move(bytes));
    connections_[id] = c;
    budget_.bind(c->peer);  // requests sent meanwhile find it and queue behind the connect
    ++counters_.connections_opened;
    arm_deadline(c, limits_.handshake_timeout, counters_.send_failures);
    c->socket.async_connect(asio::ip::tcp::endpoint(to.address, to.port),
                            [this, c](const asio::error_code& ec) {
                                if (ec || stopped_ || c->closing) {
                                    ++counters_.send_failures;
                                    close_connection(c->id);
                                    return;
                                }
                                c->connecting = false;
                                // Ours (accepted ones inherit the listener's mark).
                                mark_dscp(c->socket.native_handle(), c->peer.address.is_v6(), limits_.dscp);
                                start_connection(c);
                                std::deque<std::string> queued;
                                queued.swap(c->out);
                                for (auto& b : queued)
                                    write_connection(c, std::move(b));
                            });
}

std::string Transports::endpoint_key(const asio::ip::address& a, std::uint16_t port) {
    return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(port);
}

void Transports::connect_tls(const Peer& to, std::string bytes, const std::string& server_name) {
    // A TLS trunk: our own connection, the provider's certificate verified for its host name (RFC 5922
    // 7.2), TLS 1.2 at least. Requests sent before the handshake ends wait in `out`.
    if (!tls_client_context_ || !budget_.take(to.address, limits_)) {
        ++counters_.send_failures;
        return;
    }
    const std::uint64_t id = (next_connection_++ << 8) | worker_;
    auto c = std::make_shared<Connection>(id, asio::ip::tcp::socket(io_), limits_.max_message_size);
    c->peer = Peer{Protocol::Tls, to.address, to.port, id};
    c->context = tls_client_context_;
    c->tls = std::make_unique<Connection::TlsStream>(asio::ip::tcp::socket(io_), *c->context);
    SSL* ssl = c->tls->native_handle();
    asio::error_code parse_ec;
    (void)asio::ip::make_address(server_name, parse_ec);
    if (!parse_ec) {  // an IP literal: the certificate must name that address
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name.c_str());
    } else {
        SSL_set_tlsext_host_name(ssl, server_name.c_str());  // SNI
        SSL_set1_host(ssl, server_name.c_str());
    }
    c->connecting = true;
    c->out.push_back(std::move(bytes));
    connections_[id] = c;
    budget_.bind(c->peer);
    ++counters_.connections_opened;
    arm_deadline(c, limits_.handshake_timeout, counters_.tls_handshake_failures);
    c->tls->next_layer().async_connect(
        asio::ip::tcp::endpoint(to.address, to.port), [this, c](const asio::error_code& ec) {
            if (ec || stopped_ || c->closing) {
                ++counters_.send_failures;
                close_connection(c->id);
                return;
            }
            asio::error_code opt;
            c->lowest().set_option(asio::ip::tcp::no_delay(true), opt);
            mark_dscp(c->lowest().native_handle(), c->peer.address.is_v6(), limits_.dscp);
            c->tls->async_handshake(asio::ssl::stream_base::client, [this, c](const asio::error_code& hs) {
                if (hs || stopped_ || c->closing) {
                    ++counters_.tls_handshake_failures;
                    close_connection(c->id);
                    return;
                }
                c->connecting = false;
                arm_idle(c);
                read_connection(c);
                std::deque<std::string> queued;
                queued.swap(c->out);
                for (auto& b : queued)
                    write_connection(c, std::move(b));
            });
        });
}

void Transports::write_connection(std::shared_ptr<Connection> c, std::string bytes) {
    const bool idle = c->out.empty();
    c->out.push_back(std::move(bytes));
    if (!idle || c->connecting) return;
    auto pump = std::make_shared<std::function<void()>>();
    *pump = [this, c, pump]() {
        c->with_stream([&](auto& stream) {
            asio::async_write(stream, asio::buffer(c->out.front()),
                              [this, c, pump](const asio::error_code& ec, std::size_t) {
                                  if (ec) {
                                      close_connection(c->id);
                                      *pump = nullptr;
                                      return;
                                  }
                                  c->out.pop_front();
                                  if (!c->out.empty()) {
                                      (*pump)();
                                  } else {
                                      if (c->closing) close_connection(c->id);
                                      *pump = nullptr;  // break the self-reference
                                  }
                              });
        });
    };
    (*pump)();
}

void Transports::close_connection(std::uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    auto c = it->second;
    connections_.erase(it);
    budget_.unbind(c->peer);
    budget_.give_back(c->peer.address);
    asio::error_code ec;
    c->idle.cancel();
    c->message_deadline.cancel();
    c->lowest().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    c->lowest().close(ec);
}

void Transports::send(const Peer& to, std::string bytes) {
    if (stopped_) return;
    if (to.protocol == Protocol::Udp) {
        if (to.listener >= udp_.size()) return;
        UdpListener& l = *udp_[to.listener];
        // Queued and sent with the other answers of this burst (flush_udp); outside a burst (a timer, a
        // hand-off, a storage completion) a flush is posted behind the work already queued.
        auto& o = l.out.emplace_back();
        o.len = to_sockaddr(to.address, to.port, o.to);
        o.bytes = std::move(bytes);
        if (!l.flush_posted && !l.draining) {
            l.flush_posted = true;
            asio::post(io_, [this, &l] {
                if (!stopped_) flush_udp(l);
            });
        }
        return;
    }
    if (to.connection == 0) {
        // A request for a stream peer without a known connection (an in-dialog request to a phone's
        // Contact): the connection that peer opened, if it is still open (RFC 3261 18.2.2 / RFC 5923 reuse).
        Peer via = to;
        via.connection = budget_.find(to.protocol, to.address, to.port);
        if (via.connection == 0) {
            if (to.protocol == Protocol::Tls) {
                auto name = tls_names_.find(endpoint_key(to.address, to.port));
                if (name == tls_names_.end()) {
                    ++counters_.send_failures;  // not a trunk: phones are reached over their own connections
                    return;
                }
                connect_tls(to, std::move(bytes), name->second);
                return;
            }
            connect_tcp(to, std::move(bytes));
            return;
        }
        send(via, std::move(bytes));
        return;
    }
    const std::uint8_t owner = connection_worker(to.connection);
    if (owner != worker_ && owner < siblings_.size() && siblings_[owner] != nullptr) {
        Transports* other = siblings_[owner];
        asio::post(other->io_,
                   [other, to, b = std::move(bytes)]() mutable { other->send(to, std::move(b)); });
        return;
    }
    auto it = connections_.find(to.connection);
    if (it == connections_.end()) return;  // the connection is gone; RFC 3261 18.2.2 would open a new one
    write_connection(it->second, std::move(bytes));
}

void Transports::stop() {
    if (stopped_) return;
    for (auto& l : udp_)
        flush_udp(*l);  // answers already made still go out
    stopped_ = true;
    asio::error_code ec;
    for (auto& l : udp_)
        l->socket.close(ec);
    for (auto& l : tcp_)
        l->acceptor.close(ec);
    std::vector<std::uint64_t> ids;
    for (auto& [id, c] : connections_)
        ids.push_back(id);
    for (auto id : ids)
        close_connection(id);
}

}  // namespace sw::transport
