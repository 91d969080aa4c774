// UDP and TCP transports on one Asio io_context (RFC 3261 18). Stream framing by Content-Length,
// CRLF keep-alive pongs (RFC 5626 3.5.1), responses over the connection a request came on, and the
// limits that keep a hostile peer from holding the server: connections in all and per address, idle
// timeout, maximum message size.
//
// Thread: everything runs on the io_context's thread; the Receiver is called there.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "transport/listen_spec.hpp"

namespace sw::transport {

struct Peer {
    Protocol protocol = Protocol::Udp;
    asio::ip::address address;
    std::uint16_t port = 0;
    std::uint64_t connection = 0;  // stream transports: the connection to answer on; 0 for UDP
};

class Receiver {
public:
    virtual ~Receiver() = default;
    // One whole message (a datagram, or one framed message of a stream). bytes live until return.
    virtual void on_message(const Peer& from, std::string_view bytes) = 0;
};

struct Limits {
    std::size_t max_message_size = 64 * 1024;
    std::size_t max_connections = 4096;
    std::size_t max_connections_per_address = 64;
    std::chrono::milliseconds idle_timeout{std::chrono::minutes(10)};
    std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};  // TLS: slow handshakes are cut
};

struct TransportCounters {
    std::uint64_t datagrams_in = 0;
    std::uint64_t oversize_dropped = 0;
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_refused = 0;
    std::uint64_t framing_errors = 0;
    std::uint64_t idle_closed = 0;
    std::uint64_t keepalive_pings = 0;
    std::uint64_t tls_handshake_failures = 0;
};

class Transports {
public:
    Transports(asio::io_context& io, Receiver& receiver, Limits limits);
    ~Transports();
    Transports(const Transports&) = delete;
    Transports& operator=(const Transports&) = delete;

    // Binds and starts receiving. The error names the address and the reason.
    sw::Result<bool, std::string> listen(const ListenSpec& spec);
    // UDP: a datagram to the peer's address; streams: on the peer's connection (dropped if it is gone).
    void send(const Peer& to, std::string bytes);
    // Stop accepting and receiving; close every connection.
    void stop();
    // The TLS context for connections accepted from now on; established ones keep theirs (SIGHUP reload).
    void set_tls_context(std::shared_ptr<asio::ssl::context> ctx) { tls_context_ = std::move(ctx); }

    const TransportCounters& counters() const { return counters_; }
    std::size_t open_connections() const { return connections_.size(); }

private:
    struct UdpListener;
    struct TcpListener;
    struct Connection;
    friend struct Connection;

    void receive_udp(UdpListener& l);
    void accept_tcp(TcpListener& l, bool tls);
    void start_connection(std::shared_ptr<Connection> c);
    void read_connection(std::shared_ptr<Connection> c);
    void arm_idle(std::shared_ptr<Connection> c);
    // Closes the connection (and counts it) unless re-armed or cancelled within `after`.
    void arm_deadline(std::shared_ptr<Connection> c, std::chrono::milliseconds after, std::uint64_t& counter);
    void write_connection(std::shared_ptr<Connection> c, std::string bytes);
    void close_connection(std::uint64_t id);

    asio::io_context& io_;
    Receiver& receiver_;
    Limits limits_;
    TransportCounters counters_;
    std::vector<std::unique_ptr<UdpListener>> udp_;
    std::vector<std::unique_ptr<TcpListener>> tcp_;
    std::map<std::uint64_t, std::shared_ptr<Connection>> connections_;
    std::map<asio::ip::address, std::size_t> per_address_;
    std::shared_ptr<asio::ssl::context> tls_context_;
    std::uint64_t next_connection_ = 1;
    bool stopped_ = false;
};

}  // namespace sw::transport
