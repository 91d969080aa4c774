// The Engine's private types, shared by engine.cpp (server side, the server's own answers, REGISTER)
// and engine_proxy.cpp (the stateful proxy: branches, client transactions, response context).
#pragma once

#include <spdlog/spdlog.h>
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/engine.hpp"
#include "proxy/forward.hpp"
#include "proxy/response_selection.hpp"
#include "proxy/router.hpp"

namespace sw::app {

// Index of Timer C in Fx::timer_gen, after the transaction timers A..M, and of the no-answer
// forwarding timer of a proxied INVITE (on its server transaction).
inline constexpr std::size_t kTimerC = 12;
inline constexpr std::size_t kTimerNoAnswer = 13;

// Effects of one transaction, carried out with the worker's sockets and its timer queue.
class Engine::Fx : public transaction::Effects {
public:
    Fx(Engine& e, transport::Peer peer) : engine_(e), peer_(peer) {}
    void send(std::string_view bytes) override {
        if (engine_.config_.sip_trace)
            spdlog::info("send to {}:{}\n{}", peer_.address.to_string(), peer_.port, bytes);
        engine_.transports_.send(peer_, std::string(bytes));
    }
    void start_timer(transaction::Timer t, transaction::Duration after) override {
        if (t == transaction::Timer::J && peer_.protocol == transport::Protocol::Udp) {
            retire_after = after;  // the engine retires the transaction once on_event returns
            return;
        }
        engine_.schedule(handle, static_cast<std::size_t>(t), ++timer_gen[static_cast<std::size_t>(t)],
                         after);
    }
    void stop_timer(transaction::Timer t) override { ++timer_gen[static_cast<std::size_t>(t)]; }
    // Client transactions (proxy branches): responses go to the response context.
    void pass_response(const sip::Message& response) override {
        engine_.on_branch_response(handle, response);
    }
    void pass_ack(const sip::Message&) override {}  // 2xx ACKs are forwarded statelessly by the proxy
    void timed_out() override { engine_.on_branch_failed(handle, 408); }
    void transport_error() override { engine_.on_branch_failed(handle, 503); }
    void terminated() override { engine_.terminated_.push_back(handle); }

    Handle handle;
    std::array<std::uint32_t, 14> timer_gen{};  // A..M, Timer C, no-answer
    transaction::Duration retire_after{0};
    const transport::Peer& peer() const { return peer_; }

private:
    Engine& engine_;
    transport::Peer peer_;
};

// One branch of a proxied request (RFC 3261 16.6): its client transaction and what it has heard.
struct ProxyBranch {
    proxy::Target target;
    Engine::Handle client{};     // its client transaction (once started)
    std::string request;         // as sent, for its CANCEL
    std::string final_response;  // its final response as it goes upstream (Via popped)
    transport::Peer peer;
    bool provisional = false;    // a provisional response arrived: it may be cancelled (9.1)
    bool cancel_wanted = false;  // cancel as soon as a provisional arrives
    bool cancel_sent = false;
    bool timed_out = false;  // cancelled by Timer C: its 487 counts as 408 Request Timeout
};

// The response context of a proxied request (RFC 3261 16.7), owned by its server transaction.
struct ProxyContext {
    ProxyContext(sip::Message req, proxy::Decision d, bool invite, bool serial)
        : request(std::move(req)), decision(std::move(d)), responses(invite, serial) {}
    sip::Message request;  // after route preprocessing
    proxy::Decision decision;
    proxy::ResponseContext responses;
    std::vector<ProxyBranch> branches;
    std::uint64_t loop = 0;        // loop-detection hash (branch prefix)
    transport::Peer from;          // where the request came from (the Record-Route of the inbound side)
    bool cancelled = false;        // a CANCEL came from upstream
    bool no_answer_fired = false;  // the callee rang too long: its branches are being cancelled to forward
    std::string original_user;     // the user first called (History-Info's first entry)
    std::vector<proxy::ForwardHop> forwards;  // every forwarding step so far
};

struct Engine::Entry {
    Fx fx;
    transaction::Transaction tx;
    std::uint64_t key = 0;        // hash of its matching key (by_key_)
    std::uint64_t merge_key = 0;  // hash of its merged-request key (merges_), when has_merge
    bool has_merge = false;
    std::string request;        // server INVITE: as received, with received/rport added (CANCEL -> 487)
    std::uint64_t ack_key = 0;  // server INVITE: hash of Call-ID, From tag and CSeq (invites_by_ack_key_)
    std::uint64_t to_tag = 0;   // printed as 16 hex digits
    std::unique_ptr<ProxyContext> proxy;  // server transaction of a proxied request
    Handle server{};                      // client transaction: the server transaction it serves
    std::uint32_t branch = 0;             // client transaction: its branch in that context
    bool client = false;
    Entry(Engine& engine, transport::Peer peer, transaction::Kind kind, bool reliable,
          const transaction::TimerConfig& timers, std::string request_bytes = {})
        : fx(engine, peer), tx(kind, std::move(request_bytes), reliable, timers, fx) {}
};

}  // namespace sw::app
