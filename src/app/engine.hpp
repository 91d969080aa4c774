// The running server: transports -> parser -> transaction layer -> the core that answers requests
// addressed to the server itself. One io_context and one thread for now (see docs/architecture.md for
// the planned worker shards by Call-ID).
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sip/message.hpp"
#include "transaction/timers.hpp"
#include "transaction/transaction.hpp"
#include "transport/transports.hpp"

namespace sw::app {

struct EngineConfig {
    std::vector<transport::ListenSpec> listen;
    std::vector<std::string> domains;
    transport::Limits limits;
    transaction::TimerConfig timers;
    bool sip_trace = false;
};

struct EngineCounters {
    std::uint64_t requests = 0;
    std::uint64_t responses_ignored = 0;
    std::uint64_t malformed = 0;
    std::uint64_t retransmissions = 0;
    std::uint64_t transactions_created = 0;
    std::uint64_t stray_acks = 0;
};

class Engine : public transport::Receiver {
public:
    Engine(asio::io_context& io, EngineConfig config);
    ~Engine() override;

    // Binds every listener; the error names the one that failed.
    sw::Result<bool, std::string> start();
    void set_tls_context(std::shared_ptr<asio::ssl::context> ctx) { transports_.set_tls_context(std::move(ctx)); }
    const transport::TransportCounters& transport_counters() const { return transports_.counters(); }
    // Stops receiving; the io_context keeps running until live transactions end or `grace` passes.
    void shutdown(std::chrono::milliseconds grace);

    void on_message(const transport::Peer& from, std::string_view bytes) override;

    std::size_t live_transactions() const { return transactions_.size(); }
    const EngineCounters& counters() const { return counters_; }

private:
    struct Entry;
    class Fx;
    friend class Fx;

    void handle_request(sip::Message& msg, const transport::Peer& from);
    Entry& create(sip::Message& msg, const transport::Peer& to, const std::string& key);
    using Headers = std::vector<std::pair<std::string_view, std::string>>;
    // The transaction user's answer to a request (RFC 3261 8.2 as a UAS for the server itself).
    void answer(Entry& e, const sip::Message& req, int status, const Headers& extra = {});
    void erase_later(const std::string& key);
    void maybe_finish_shutdown();
    std::string new_tag();

    asio::io_context& io_;
    EngineConfig config_;
    transport::Transports transports_;
    std::unordered_map<std::string, std::unique_ptr<Entry>> transactions_;
    std::unordered_map<std::string, std::string> merges_;  // merge key -> transaction key
    EngineCounters counters_;
    std::uint64_t tag_counter_ = 0;
    std::uint64_t tag_seed_ = 0;
    bool shutting_down_ = false;
    asio::steady_timer grace_timer_;
};

}  // namespace sw::app
