// UDP, TCP and TLS transports of one worker (RFC 3261 18). Stream framing by Content-Length, CRLF
// keep-alive pongs (RFC 5626 3.5.1), responses over the connection a request came on, and the limits that
// keep a hostile peer from holding the server: connections in all and per address, idle timeout, TLS
// handshake deadline, a deadline for a whole message to arrive, maximum message size.
//
// Threads: one Transports per worker, each on its own io_context; everything of one Transports runs on its
// worker's thread and the Receiver is called there. Workers share listening addresses with SO_REUSEPORT,
// so the kernel spreads datagrams and connections over them. A connection belongs to the worker that
// accepted it (its id carries the worker's index); send() on another worker posts the bytes there.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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
    std::uint8_t listener = 0;     // UDP: the listening socket it came in on (the same index on every worker)
};

// An address as text, exactly as asio's address::to_string() writes it, without its inet_ntop (an
// sprintf per octet): the engine writes the source of every request into its Via.
struct AddressText {
    char buf[64];
    std::uint8_t size = 0;
    std::string_view view() const { return {buf, size}; }
};
AddressText address_text(const asio::ip::address& address);
// The address a host text names, as asio::ip::make_address reads it (nullopt where it fails), with a
// quick path for dotted IPv4 (inet_pton costs ~280 instructions and a string copy; routing a call reads
// about 14 hosts).
std::optional<asio::ip::address> parse_address(std::string_view text);

// The worker that owns a stream connection.
inline std::uint8_t connection_worker(std::uint64_t connection) {
    return static_cast<std::uint8_t>(connection & 0xff);
}

class Receiver {
public:
    virtual ~Receiver() = default;
    // One whole message (a datagram, or one framed message of a stream). bytes live until return.
    virtual void on_message(const Peer& from, std::string_view bytes) = 0;
    // After a burst of on_message calls (one readiness of a socket): work the receiver gathered may go.
    virtual void end_of_burst() {}
};

struct Limits {
    std::size_t max_message_size = 64 * 1024;
    std::size_t max_connections = 4096;
    std::size_t max_connections_per_address = 64;
    std::chrono::milliseconds idle_timeout{std::chrono::minutes(10)};
    std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};  // TLS: slow handshakes are cut
    // From the first byte of a message to its last: a slow sender cannot hold a connection by trickling.
    std::chrono::milliseconds message_timeout{std::chrono::seconds(20)};
    // The DSCP SIP leaves with (IP_TOS / IPV6_TCLASS on every listener and connection); -1: unmarked.
    int dscp = -1;
};

// Connections open in all and per source address, shared by every worker's Transports, and which
// connection reaches a remote transport address. Its lock is taken when a connection opens or closes, and
// to find the connection of a request sent to a stream peer by address (an in-dialog request to a
// phone's Contact); never for answers or for requests to a registered flow.
class ConnectionBudget {
public:
    // Takes a slot for a connection from `address`, or false when a limit is reached.
    bool take(const asio::ip::address& address, const Limits& limits);
    void give_back(const asio::ip::address& address);
    std::size_t open() const;
    // The connection `p` names is open (bind) or closed (unbind).
    void bind(const Peer& p);
    void unbind(const Peer& p);
    // The open connection with that remote end, or 0.
    std::uint64_t find(Protocol protocol, const asio::ip::address& address, std::uint16_t port) const;

private:
    struct Remote {
        Protocol protocol;
        asio::ip::address address;
        std::uint16_t port;
        bool operator<(const Remote& o) const {
            if (protocol != o.protocol) return protocol < o.protocol;
            if (port != o.port) return port < o.port;
            return address < o.address;
        }
    };
    mutable std::mutex mutex_;
    std::size_t total_ = 0;
    std::map<asio::ip::address, std::size_t> per_address_;
    std::map<Remote, std::uint64_t> by_remote_;
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
    std::uint64_t slow_senders_closed = 0;
    std::uint64_t send_failures = 0;
    std::uint64_t connections_opened = 0;  // outgoing TCP and TLS connections

    TransportCounters& operator+=(const TransportCounters& o);
};

class Transports {
public:
    Transports(asio::io_context& io, Receiver& receiver, Limits limits, ConnectionBudget& budget,
               std::uint8_t worker = 0);
    ~Transports();
    Transports(const Transports&) = delete;
    Transports& operator=(const Transports&) = delete;

    // Checks that nobody else listens on the address (SO_REUSEPORT would otherwise let two servers
    // split the traffic silently). Returns the port to bind (the one given, or a free one for port 0).
    static sw::Result<std::uint16_t, std::string> claim(const ListenSpec& spec);
    // Binds and starts receiving; reuse_port: other workers bind the same address. UDP listeners must be
    // added in the same order on every worker (Peer::listener indexes them). The error names the address.
    sw::Result<bool, std::string> listen(const ListenSpec& spec, bool reuse_port = false);
    // Once every worker has bound its UDP sockets (in worker order): the kernel gives each response that
    // carries a worker's mark in its top Via branch to that worker's socket (transport/steering.hpp).
    // The error says why the kernel refused; the kernel's hash then picks, as without it.
    sw::Result<bool, std::string> steer_udp_responses(unsigned workers);
    // Every worker's Transports, indexed by worker: to reach connections owned by another worker.
    void set_siblings(std::vector<Transports*> all) { siblings_ = std::move(all); }
    // UDP: a datagram to the peer's address from the socket it came in on; streams: on the peer's
    // connection (posted to its worker; dropped if it is gone). Called on this worker's thread.
    void send(const Peer& to, std::string bytes);
    // The open connection (of any worker) whose remote end is this, or 0.
    std::uint64_t find_connection(Protocol protocol, const asio::ip::address& address,
                                  std::uint16_t port) const {
        return budget_.find(protocol, address, port);
    }
    // Stop accepting and receiving; close every connection.
    void stop();
    // The TLS context for connections accepted from now on; established ones keep theirs (SIGHUP reload).
    void set_tls_context(std::shared_ptr<asio::ssl::context> ctx) { tls_context_ = std::move(ctx); }
    // TLS connections we open (to trunks): the client context, and the name each address:port must
    // prove in its certificate (the trunk's host). A TLS send to an address without a name and without
    // an open connection fails: phones are reached only over the connections they opened.
    void set_tls_client(std::shared_ptr<asio::ssl::context> ctx, std::map<std::string, std::string> names) {
        tls_client_context_ = std::move(ctx);
        tls_names_ = std::move(names);
    }
    // "192.0.2.1:5061" / "[2001:db8::1]:5061": the key of tls_names.
    static std::string endpoint_key(const asio::ip::address& a, std::uint16_t port);

    const TransportCounters& counters() const { return counters_; }
    std::size_t open_connections() const { return connections_.size(); }
    asio::io_context& io() { return io_; }

private:
    struct UdpListener;
    struct TcpListener;
    struct Connection;
    friend struct Connection;

    void wait_udp(UdpListener& l);
    void drain_udp(UdpListener& l);
    void flush_udp(UdpListener& l);
    void watch_message_deadline(const std::shared_ptr<Connection>& c, bool message_completed);
    void accept_tcp(TcpListener& l, bool tls);
    void start_connection(std::shared_ptr<Connection> c);
    void read_connection(std::shared_ptr<Connection> c);
    void arm_idle(std::shared_ptr<Connection> c);
    // Closes the connection (and counts it) unless re-armed or cancelled within `after`.
    void arm_deadline(std::shared_ptr<Connection> c, std::chrono::milliseconds after, std::uint64_t& counter);
    void write_connection(std::shared_ptr<Connection> c, std::string bytes);
    void connect_tcp(const Peer& to, std::string bytes);
    void connect_tls(const Peer& to, std::string bytes, const std::string& server_name);
    void close_connection(std::uint64_t id);

    asio::io_context& io_;
    Receiver& receiver_;
    Limits limits_;
    TransportCounters counters_;
    std::vector<std::unique_ptr<UdpListener>> udp_;
    std::vector<std::unique_ptr<TcpListener>> tcp_;
    std::map<std::uint64_t, std::shared_ptr<Connection>> connections_;
    ConnectionBudget& budget_;
    std::uint8_t worker_;
    std::vector<Transports*> siblings_;
    std::shared_ptr<asio::ssl::context> tls_context_;
    std::shared_ptr<asio::ssl::context> tls_client_context_;
    std::map<std::string, std::string> tls_names_;
    std::uint64_t next_connection_ = 1;
    bool stopped_ = false;
};

}  // namespace sw::transport
