#include "transport/transports.hpp"

#include <deque>

#include "sip/framing.hpp"

namespace sw::transport {

struct Transports::UdpListener {
    asio::ip::udp::socket socket;
    asio::ip::udp::endpoint from;
    std::vector<char> buffer;
    explicit UdpListener(asio::io_context& io) : socket(io) {}
};

struct Transports::TcpListener {
    asio::ip::tcp::acceptor acceptor;
    explicit TcpListener(asio::io_context& io) : acceptor(io) {}
};

struct Transports::Connection {
    using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;
    std::uint64_t id;
    asio::ip::tcp::socket socket;                 // plain TCP
    std::shared_ptr<asio::ssl::context> context;  // TLS: kept alive for this connection across reloads
    std::unique_ptr<TlsStream> tls;               // TLS: owns the socket
    asio::steady_timer idle;
    sip::StreamFramer framer;
    std::array<char, 16 * 1024> buffer{};
    std::deque<std::string> out;
    Peer peer;
    bool closing = false;
    Connection(std::uint64_t i, asio::ip::tcp::socket s, std::size_t max)
        : id(i), socket(std::move(s)), idle(socket.get_executor()), framer(max) {}
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

Transports::Transports(asio::io_context& io, Receiver& receiver, Limits limits)
    : io_(io), receiver_(receiver), limits_(limits) {}

Transports::~Transports() { stop(); }

sw::Result<bool, std::string> Transports::listen(const ListenSpec& spec) {
    asio::error_code ec;
    const auto addr = asio::ip::make_address(spec.host, ec);
    if (ec) return sw::unexpected(spec.text() + ": " + ec.message());
    if (spec.protocol == Protocol::Udp) {
        auto l = std::make_unique<UdpListener>(io_);
        const asio::ip::udp::endpoint ep(addr, spec.port);
        l->socket.open(ep.protocol(), ec);
        if (!ec && addr.is_v6()) l->socket.set_option(asio::ip::v6_only(true), ec);
        if (!ec) l->socket.bind(ep, ec);
        if (ec) return sw::unexpected(spec.text() + ": " + ec.message());
        l->buffer.resize(limits_.max_message_size + 1);
        receive_udp(*l);
        udp_.push_back(std::move(l));
        return true;
    }
    if (spec.protocol == Protocol::Tcp || spec.protocol == Protocol::Tls) {
        if (spec.protocol == Protocol::Tls && !tls_context_) return sw::unexpected(spec.text() + ": no TLS certificate");
        auto l = std::make_unique<TcpListener>(io_);
        const asio::ip::tcp::endpoint ep(addr, spec.port);
        l->acceptor.open(ep.protocol(), ec);
        if (!ec) l->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec && addr.is_v6()) l->acceptor.set_option(asio::ip::v6_only(true), ec);
        if (!ec) l->acceptor.bind(ep, ec);
        if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) return sw::unexpected(spec.text() + ": " + ec.message());
        accept_tcp(*l, spec.protocol == Protocol::Tls);
        tcp_.push_back(std::move(l));
        return true;
    }
    return sw::unexpected(spec.text() + ": unknown protocol");
}

void Transports::receive_udp(UdpListener& l) {
    l.socket.async_receive_from(asio::buffer(l.buffer), l.from, [this, &l](const asio::error_code& ec, std::size_t n) {
        if (ec == asio::error::operation_aborted || stopped_) return;
        if (!ec) {
            ++counters_.datagrams_in;
            if (n > limits_.max_message_size) {
                ++counters_.oversize_dropped;  // RFC 3261 18.1.1 says large requests use TCP
            } else {
                Peer p{Protocol::Udp, l.from.address(), l.from.port(), 0};
                receiver_.on_message(p, std::string_view(l.buffer.data(), n));
            }
        }
        receive_udp(l);
    });
}

void Transports::accept_tcp(TcpListener& l, bool tls) {
    l.acceptor.async_accept([this, &l, tls](const asio::error_code& ec, asio::ip::tcp::socket s) {
        if (ec == asio::error::operation_aborted || stopped_) return;
        if (!ec) {
            asio::error_code ep_ec;
            const auto remote = s.remote_endpoint(ep_ec);
            if (ep_ec) {
                s.close(ep_ec);
            } else if (connections_.size() >= limits_.max_connections ||
                       per_address_[remote.address()] >= limits_.max_connections_per_address) {
                ++counters_.connections_refused;
                s.close(ep_ec);
            } else {
                ++counters_.connections_accepted;
                auto c = std::make_shared<Connection>(next_connection_++, std::move(s), limits_.max_message_size);
                c->peer = Peer{tls ? Protocol::Tls : Protocol::Tcp, remote.address(), remote.port(), c->id};
                if (tls) {
                    c->context = tls_context_;
                    c->tls = std::make_unique<Connection::TlsStream>(std::move(c->socket), *c->context);
                }
                ++per_address_[remote.address()];
                connections_[c->id] = c;
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

void Transports::arm_idle(std::shared_ptr<Connection> c) { arm_deadline(c, limits_.idle_timeout, counters_.idle_closed); }

void Transports::arm_deadline(std::shared_ptr<Connection> c, std::chrono::milliseconds after, std::uint64_t& counter) {
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
    c->with_stream([&](auto& stream) { stream.async_read_some(asio::buffer(c->buffer), [this, c](const asio::error_code& ec, std::size_t n) {
        if (ec || c->closing || stopped_) {
            close_connection(c->id);
            return;
        }
        arm_idle(c);
        c->framer.append(std::string_view(c->buffer.data(), n));
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
            receiver_.on_message(c->peer, f.bytes);
            if (c->closing) return;
        }
        read_connection(c);
    }); });
}

void Transports::write_connection(std::shared_ptr<Connection> c, std::string bytes) {
    const bool idle = c->out.empty();
    c->out.push_back(std::move(bytes));
    if (!idle) return;
    auto pump = std::make_shared<std::function<void()>>();
    *pump = [this, c, pump]() {
        c->with_stream([&](auto& stream) { asio::async_write(stream, asio::buffer(c->out.front()), [this, c, pump](const asio::error_code& ec, std::size_t) {
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
        }); });
    };
    (*pump)();
}

void Transports::close_connection(std::uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    auto c = it->second;
    connections_.erase(it);
    auto pa = per_address_.find(c->peer.address);
    if (pa != per_address_.end() && --pa->second == 0) per_address_.erase(pa);
    asio::error_code ec;
    c->idle.cancel();
    c->lowest().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    c->lowest().close(ec);
}

void Transports::send(const Peer& to, std::string bytes) {
    if (stopped_) return;
    if (to.protocol == Protocol::Udp) {
        for (auto& l : udp_) {
            asio::error_code ec;
            const auto local = l->socket.local_endpoint(ec);
            if (ec || local.address().is_v6() != to.address.is_v6()) continue;
            auto data = std::make_shared<std::string>(std::move(bytes));
            l->socket.async_send_to(asio::buffer(*data), asio::ip::udp::endpoint(to.address, to.port),
                                    [data](const asio::error_code&, std::size_t) {});
            return;
        }
        return;
    }
    auto it = connections_.find(to.connection);
    if (it == connections_.end()) return;  // the connection is gone; RFC 3261 18.2.2 would open a new one
    write_connection(it->second, std::move(bytes));
}

void Transports::stop() {
    if (stopped_) return;
    stopped_ = true;
    asio::error_code ec;
    for (auto& l : udp_) l->socket.close(ec);
    for (auto& l : tcp_) l->acceptor.close(ec);
    std::vector<std::uint64_t> ids;
    for (auto& [id, c] : connections_) ids.push_back(id);
    for (auto id : ids) close_connection(id);
}

}  // namespace sw::transport
