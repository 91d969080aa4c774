#include "app/engine.hpp"

#include <random>
#include <spdlog/spdlog.h>

#include "sip/builder.hpp"
#include "sip/validate.hpp"
#include "transaction/matching.hpp"

namespace sw::app {

using transaction::Event;
using transaction::EventKind;
using transaction::Timer;

namespace {
// Methods the core implements today; the Allow header of 200 and 405 lists them.
constexpr std::string_view kAllow = "INVITE, ACK, CANCEL, BYE, OPTIONS";
}  // namespace

// Effects of one transaction, carried out with the engine's sockets and Asio timers.
class Engine::Fx : public transaction::Effects {
public:
    Fx(Engine& e, std::string key, transport::Peer peer) : engine_(e), key_(std::move(key)), peer_(peer) {}
    ~Fx() override {
        for (auto& [t, timer] : timers_) timer->cancel();
    }
    void send(std::string_view bytes) override {
        if (engine_.config_.sip_trace) spdlog::info("send to {}:{}\n{}", peer_.address.to_string(), peer_.port, bytes);
        engine_.transports_.send(peer_, std::string(bytes));
    }
    void start_timer(Timer t, transaction::Duration after) override;
    void stop_timer(Timer t) override {
        auto it = timers_.find(t);
        if (it != timers_.end()) it->second->cancel();
    }
    void pass_response(const sip::Message&) override {}  // no client transactions yet
    void pass_ack(const sip::Message&) override {}        // 2xx ACKs reach the dialog layer later
    void timed_out() override { spdlog::debug("transaction {} timed out", key_); }
    void transport_error() override { spdlog::debug("transaction {} transport error", key_); }
    void terminated() override { engine_.erase_later(key_); }

private:
    Engine& engine_;
    std::string key_;
    transport::Peer peer_;
    std::map<Timer, std::unique_ptr<asio::steady_timer>> timers_;
};

struct Engine::Entry {
    std::unique_ptr<Fx> fx;
    transaction::Transaction tx;
    std::string request;  // as received, with received/rport added: to answer it later (CANCEL -> 487)
    std::string to_tag;
    std::string merge_key;
    Entry(std::unique_ptr<Fx> f, transaction::Kind kind, std::string request_bytes, bool reliable,
          const transaction::TimerConfig& timers)
        : fx(std::move(f)), tx(kind, std::move(request_bytes), reliable, timers, *fx) {}
};

void Engine::Fx::start_timer(Timer t, transaction::Duration after) {
    auto& timer = timers_[t];
    if (!timer) timer = std::make_unique<asio::steady_timer>(engine_.io_);
    timer->expires_after(after);
    timer->async_wait([&engine = engine_, key = key_, t](const asio::error_code& ec) {
        if (ec) return;
        auto it = engine.transactions_.find(key);
        if (it == engine.transactions_.end()) return;
        it->second->tx.on_event(Event{EventKind::TimerFired, nullptr, {}, t});
    });
}

Engine::Engine(asio::io_context& io, EngineConfig config)
    : io_(io), config_(std::move(config)), transports_(io, *this, config_.limits), grace_timer_(io) {
    std::random_device rd;
    tag_seed_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

Engine::~Engine() = default;

sw::Result<bool, std::string> Engine::start() {
    for (const auto& spec : config_.listen) {
        auto ok = transports_.listen(spec);
        if (!ok) return ok;
        spdlog::info("listening on {}", spec.text());
    }
    return true;
}

void Engine::shutdown(std::chrono::milliseconds grace) {
    if (shutting_down_) return;
    shutting_down_ = true;
    spdlog::info("shutting down: {} transactions to finish (at most {} ms)", transactions_.size(), grace.count());
    transports_.stop();
    grace_timer_.expires_after(grace);
    grace_timer_.async_wait([this](const asio::error_code& ec) {
        if (ec) return;
        transactions_.clear();
        io_.stop();
    });
    maybe_finish_shutdown();
}

void Engine::maybe_finish_shutdown() {
    if (shutting_down_ && transactions_.empty()) {
        grace_timer_.cancel();
        io_.stop();
    }
}

void Engine::erase_later(const std::string& key) {
    // Called from inside the transaction: erase once the call stack has unwound.
    asio::post(io_, [this, key] {
        auto it = transactions_.find(key);
        if (it == transactions_.end()) return;
        if (!it->second->merge_key.empty()) merges_.erase(it->second->merge_key);
        transactions_.erase(it);
        maybe_finish_shutdown();
    });
}

std::string Engine::new_tag() {
    // Unique per server run and unpredictable across runs (RFC 3261 19.3 wants 32 bits of randomness).
    std::uint64_t x = tag_seed_ + 0x9e3779b97f4a7c15ULL * ++tag_counter_;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
    return buf;
}

void Engine::on_message(const transport::Peer& from, std::string_view bytes) {
    if (config_.sip_trace) spdlog::info("recv from {}:{}\n{}", from.address.to_string(), from.port, bytes);
    sip::ParseOptions opts;
    opts.max_message_size = config_.limits.max_message_size;
    opts.stream = from.protocol != transport::Protocol::Udp;
    auto msg = sip::Message::parse(bytes, opts);
    if (!msg) {
        ++counters_.malformed;
        spdlog::debug("malformed message from {}:{}: {} {}", from.address.to_string(), from.port, msg.error().status,
                      msg.error().reason);
        // Stateless answer, to the packet's source (the Via cannot be trusted).
        if (auto resp = sip::build_stateless_response(bytes, msg.error().status, msg.error().reason)) {
            transports_.send(from, std::move(*resp));
        }
        return;
    }
    if (msg->is_response()) {
        ++counters_.responses_ignored;  // no client transactions until the proxy exists
        return;
    }
    ++counters_.requests;
    handle_request(*msg, from);
}

void Engine::handle_request(sip::Message& msg, const transport::Peer& from) {
    // RFC 3261 18.2.1 / RFC 3581: note where the request really came from in the top Via.
    const std::string source_ip = from.address.to_string();
    const sip::Via top = msg.top_via();
    if (top.host != source_ip || top.has_rport) {
        const std::string via = sip::via_with_received(top, source_ip, from.port);
        msg.pop_via();
        (void)msg.push_via(via);
    }
    // Where responses go (RFC 3261 18.2.2): the same connection for streams; for UDP the source address,
    // and the source port when rport was asked for, else the sent-by port.
    transport::Peer to = from;
    if (from.protocol == transport::Protocol::Udp && !top.has_rport) {
        to.port = static_cast<std::uint16_t>(top.port > 0 ? top.port : 5060);
    }

    const std::string key = transaction::server_key(msg);
    auto it = transactions_.find(key);
    if (it != transactions_.end()) {
        // A retransmission, or the ACK of a non-2xx final response: the transaction absorbs it.
        if (msg.method_id() != sip::Method::Ack) ++counters_.retransmissions;
        it->second->tx.on_event(Event{EventKind::Request, &msg, {}, Timer::A});
        return;
    }
    if (msg.method_id() == sip::Method::Ack) {
        ++counters_.stray_acks;  // an ACK for a 2xx, or for nothing we know: no response to an ACK
        return;
    }
    if (shutting_down_) return;

    Entry& e = create(msg, to, key);
    // RFC 3261 8.2.2.2: the same request arriving again by another path (a merged fork) gets 482.
    if (auto mk = transaction::merge_key(msg)) {
        auto [m, inserted] = merges_.emplace(*mk, key);
        if (!inserted && m->second != key) {
            answer(e, msg, 482);
            return;
        }
        e.merge_key = *mk;
    }

    if (msg.method_id() == sip::Method::Cancel) {
        // RFC 3261 9.2: 200 for the CANCEL, 487 for the INVITE it names; 481 when there is none.
        auto target = transactions_.find(transaction::cancel_target_key(msg));
        if (target == transactions_.end() || target->second->tx.state() != transaction::State::Proceeding) {
            answer(e, msg, 481);
            return;
        }
        answer(e, msg, 200);
        Entry& inv_entry = *target->second;
        if (auto invite = sip::Message::parse(inv_entry.request)) answer(inv_entry, *invite, 487);
        return;
    }

    const auto policy = sip::check_request_policy(msg, sip::kSupportedOptionTags);
    if (policy.status == 416) {
        answer(e, msg, 416);
        return;
    }
    if (policy.status == 420) {
        answer(e, msg, 420, {{"Unsupported", policy.unsupported}});
        return;
    }
    // RFC 3261 16.3 step 3 / 11: with no hops left only OPTIONS addressed to us is answered.
    if (msg.max_forwards() == 0 && msg.method_id() != sip::Method::Options) {
        answer(e, msg, 483);
        return;
    }
    switch (msg.method_id()) {
        case sip::Method::Options: {
            std::string supported;
            for (std::string_view tag : sip::kSupportedOptionTags) supported.append(supported.empty() ? "" : ", ").append(tag);
            answer(e, msg, 200, {{"Allow", std::string(kAllow)}, {"Accept", "application/sdp"}, {"Supported", supported}});
            return;
        }
        case sip::Method::Invite:
            answer(e, msg, 480);  // nobody to route to until the registrar and proxy exist
            return;
        case sip::Method::Bye:
            answer(e, msg, 481);  // no dialogs yet
            return;
        default:
            answer(e, msg, 405, {{"Allow", std::string(kAllow)}});
            return;
    }
}

Engine::Entry& Engine::create(sip::Message& msg, const transport::Peer& to, const std::string& key) {
    ++counters_.transactions_created;
    const bool invite = msg.method_id() == sip::Method::Invite;
    const bool reliable = to.protocol != transport::Protocol::Udp;
    auto fx = std::make_unique<Fx>(*this, key, to);
    std::string request = msg.serialize();
    auto entry = std::make_unique<Entry>(std::move(fx),
                                         invite ? transaction::Kind::ServerInvite : transaction::Kind::ServerNonInvite,
                                         request, reliable, config_.timers);
    entry->request = std::move(request);
    entry->to_tag = new_tag();
    Entry& e = *entry;
    transactions_[key] = std::move(entry);
    e.tx.on_event(Event{EventKind::Start, &msg, {}, Timer::A});
    return e;
}

void Engine::answer(Entry& e, const sip::Message& req, int status, const Headers& extra) {
    sip::ResponseBuilder b(req, status);
    b.to_tag(e.to_tag);
    for (const auto& [name, value] : extra) b.header(name, value);
    b.header("Server", "sipwarden/0.1");
    std::string bytes = b.build();
    auto resp = sip::Message::parse(bytes);
    if (!resp) return;  // our own response always parses; never send what we could not read back
    e.tx.on_event(Event{EventKind::TuResponse, &*resp, bytes, Timer::A});
}

}  // namespace sw::app
