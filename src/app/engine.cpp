#include "app/engine.hpp"
#include "app/call_directory.hpp"

#include "app/engine_internal.hpp"

#include <spdlog/spdlog.h>
#include <array>
#include <charconv>
#include <cstring>
#include <random>
#include <utility>

#include "common/text.hpp"
#include "sip/builder.hpp"
#include "sip/validate.hpp"
#include "transaction/matching.hpp"

namespace sw::app {

using transaction::Event;
using transaction::EventKind;
using transaction::Timer;

namespace {
// Methods the core implements today; the Allow header of 200 and 405 lists them.
constexpr std::string_view kAllow =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, SUBSCRIBE, NOTIFY, REFER, INFO, UPDATE, PRACK";

// The 500 for a REGISTER whose bindings could not be written, made from the 200 that was ready (rare
// path: the request is gone by then): the same headers without the Contacts it did not get.
std::string storage_failure_from(std::string_view ok) {
    std::string out = "SIP/2.0 500 Server Internal Error (storage)\r\n";
    std::size_t pos = ok.find("\r\n") + 2;
    while (pos < ok.size()) {
        const std::size_t end = ok.find("\r\n", pos);
        if (end == std::string_view::npos) break;
        const std::string_view line = ok.substr(pos, end + 2 - pos);
        if (!line.starts_with("Contact:")) out.append(line);
        pos = end + 2;
        if (line == "\r\n") break;
    }
    return out;
}

// Call-ID, From tag and CSeq number: what an INVITE and the ACK of its non-2xx answer share.
std::string ack_key_text(const sip::Message& m) {
    std::string k("k|");
    k.append(m.call_id())
        .append("|")
        .append(m.from().tag)
        .append("|")
        .append(std::to_string(m.cseq().number));
    return k;
}

}  // namespace

std::string dialog_key_text(std::string_view call_id, std::string_view local_tag) {
    std::string k("d|");
    k.append(call_id).append("|").append(local_tag);
    return k;
}

// "udp:192.0.2.1:5060", "tls:[2001:db8::1]:40001": where a binding's REGISTER (or a call) came from.
std::string source_text(const transport::Peer& p) {
    std::string s(p.protocol == transport::Protocol::Udp   ? "udp:"
                  : p.protocol == transport::Protocol::Tcp ? "tcp:"
                                                           : "tls:");
    const transport::AddressText ip = transport::address_text(p.address);
    if (p.address.is_v6()) {
        s.append("[").append(ip.view()).append("]");
    } else {
        s.append(ip.view());
    }
    char port[8];
    const auto end = std::to_chars(port, port + sizeof port, p.port).ptr;
    return s.append(":").append(port, end);
}

EngineCounters& EngineCounters::operator+=(const EngineCounters& o) {
    requests += o.requests;
    responses_ignored += o.responses_ignored;
    malformed += o.malformed;
    retransmissions += o.retransmissions;
    transactions_created += o.transactions_created;
    stray_acks += o.stray_acks;
    handed_to_other_worker += o.handed_to_other_worker;
    registrations += o.registrations;
    auth_challenges += o.auth_challenges;
    proxied += o.proxied;
    branches += o.branches;
    stateless_forwards += o.stateless_forwards;
    loops += o.loops;
    trunk_calls += o.trunk_calls;
    trunk_registers += o.trunk_registers;
    dropped_banned += o.dropped_banned;
    dropped_flood += o.dropped_flood;
    retired_early += o.retired_early;
    dropped_scanner += o.dropped_scanner;
    rate_limited += o.rate_limited;
    return *this;
}

std::size_t shard_of(std::string_view call_id, std::size_t workers) {
    if (workers <= 1) return 0;
    // FNV-1a: cheap, and stable for the life of the process (std::hash would do too, but this one is
    // the same on every build, which keeps test expectations reproducible).
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : call_id) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return static_cast<std::size_t>(h % workers);
}

Engine::Engine(asio::io_context& io, EngineConfig config, transport::ConnectionBudget& budget,
               std::uint8_t worker)
    : io_(io),
      config_(std::move(config)),
      transports_(io, *this, config_.limits, budget, worker),
      worker_(worker),
      tick_(io),
      grace_timer_(io) {
    // Tens of thousands of transactions live at once under load (Timer J keeps each for 64*T1):
    // start with room for them instead of rehashing while the table grows.
    by_key_.reserve(1 << 16);
    merges_.reserve(1 << 16);
    retired_by_key_.reserve(1 << 17);
    std::random_device rd;
    tag_key_.k0 = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    tag_key_.k1 = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    sip_key_.k0 = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    sip_key_.k1 = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    shards_.push_back(this);
    make_limiters();
}

Engine::~Engine() = default;

sw::Result<bool, std::string> Engine::start(bool reuse_port) {
    for (const auto& spec : config_.listen) {
        auto ok = transports_.listen(spec, reuse_port);
        if (!ok) return ok;
        if (worker_ == 0) spdlog::info("listening on {}", spec.text());
    }
    return true;
}

void Engine::set_shards(std::vector<Engine*> shards) {
    shards_ = std::move(shards);
    outbox_.resize(shards_.size());
    std::vector<transport::Transports*> all;
    for (Engine* e : shards_)
        all.push_back(&e->transports_);
    transports_.set_siblings(std::move(all));
}

void Engine::shutdown(std::chrono::milliseconds grace) {
    if (shutting_down_) return;
    shutting_down_ = true;
    spdlog::debug("worker {} shutting down: {} transactions to finish (at most {} ms)", worker_,
                  by_key_.size(), grace.count());
    transports_.stop();
    grace_timer_.expires_after(grace);
    grace_timer_.async_wait([this](const asio::error_code& ec) {
        if (ec) return;
        io_.stop();
    });
    maybe_finish_shutdown();
}

void Engine::maybe_finish_shutdown() {
    if (shutting_down_ && by_key_.empty()) {
        grace_timer_.cancel();
        tick_.cancel();
        io_.stop();
    }
}

Engine::Entry* Engine::find(Handle h) {
    if (h.slot >= slots_.size()) return nullptr;
    Slot& s = slots_[h.slot];
    return s.gen == h.gen ? s.entry.get() : nullptr;
}

void Engine::retire(Entry& e, transaction::Duration timer_j) {
    const std::uint64_t seq = retired_base_ + retired_.size();
    retired_.push_back(Retired{e.key, Clock::now() + timer_j, e.tx.take_last_response(), e.fx.peer()});
    retired_bytes_ += retired_cost(retired_.back());
    retired_by_key_[e.key] = seq;
    terminated_.push_back(e.fx.handle);
    // Over the budget (a flood of requests from many sources, each under its rate): the oldest answers
    // go first. A retransmission that comes after its answer went is handled as a new request.
    if (retired_bytes_ <= config_.retired_budget_bytes) return;
    while (retired_bytes_ > config_.retired_budget_bytes && retired_.size() > 1) {
        pop_retired();
        ++counters_.retired_early;
    }
    const auto now = Clock::now();
    if (now - retired_warned_ >= std::chrono::minutes(1)) {
        retired_warned_ = now;
        spdlog::warn(
            "worker {}: answers kept for retransmissions reached {} KB; the oldest now go before "
            "Timer J ({} so far; answer_cache_mb)",
            worker_, config_.retired_budget_bytes / 1024, counters_.retired_early);
    }
}

std::size_t Engine::retired_cost(const Retired& r) {
    // The answer's bytes, the FIFO's element and the key's slot in the index, roughly.
    return r.response.capacity() + sizeof(Retired) + 32;
}

void Engine::pop_retired() {
    auto it = retired_by_key_.find(retired_.front().key);
    if (it != retired_by_key_.end() && it->second == retired_base_) retired_by_key_.erase(it);
    retired_bytes_ -= retired_cost(retired_.front());
    retired_.pop_front();
    ++retired_base_;
}

void Engine::sweep_retired() {
    if (!answered_order_.empty()) sweep_answered();
    if (retired_.empty()) return;
    const auto now = Clock::now();
    while (!retired_.empty() && retired_.front().until <= now)
        pop_retired();
}

void Engine::flush_terminated() {
    // Transactions report termination from inside on_event; they are erased once the stack has unwound.
    // Completed non-INVITE server transactions on UDP are retired first (see retire()).
    while (!terminated_.empty()) {
        const Handle h = terminated_.back();
        terminated_.pop_back();
        Entry* e = find(h);
        if (e == nullptr) continue;
        if (e->has_merge) {
            auto m = merges_.find(e->merge_key);
            if (m != merges_.end() && m->second == h) merges_.erase(m);
        }
        if (e->ack_key != 0) {
            auto a = invites_by_ack_key_.find(e->ack_key);
            if (a != invites_by_ack_key_.end() && a->second == h) invites_by_ack_key_.erase(a);
        }
        by_key_.erase(e->key);
        Slot& s = slots_[h.slot];
        s.entry.reset();
        ++s.gen;
        free_slots_.push_back(h.slot);
    }
    maybe_finish_shutdown();
}

namespace {
// Timers fire on a 4 ms grid: every timer due within one slot is run by one wake-up, and a new timer
// re-arms the worker's timer (a timerfd_settime) only when it falls in an earlier slot. SIP's timers
// count in units of T1 (500 ms) and tolerate a few ms; at 1,500 calls/s there are tens of thousands of
// timers a second (most of them cancelled, their heap entries still due), which took a wake-up and a
// re-arm each.
constexpr auto kTickGrain = std::chrono::milliseconds(4);

std::chrono::steady_clock::time_point tick_slot(std::chrono::steady_clock::time_point t) {
    const auto d = t.time_since_epoch();
    const auto grain = std::chrono::duration_cast<std::chrono::steady_clock::duration>(kTickGrain);
    return std::chrono::steady_clock::time_point(
        ((d + grain - std::chrono::steady_clock::duration(1)) / grain) * grain);
}
}  // namespace

void Engine::schedule(Handle h, std::size_t timer, std::uint32_t timer_gen, transaction::Duration after) {
    const auto at = Clock::now() + after;
    timers_.push(TimerItem{at, h, timer_gen, static_cast<std::uint8_t>(timer)});
    if (tick_slot(at) < tick_at_) arm_tick();
}

void Engine::arm_tick() {
    if (timers_.empty()) {
        tick_at_ = Clock::time_point::max();
        return;
    }
    tick_at_ = tick_slot(timers_.top().at);
    tick_.expires_at(tick_at_);
    tick_.async_wait([this](const asio::error_code& ec) {
        if (!ec) on_tick();
    });
}

void Engine::on_tick() {
    const auto now = Clock::now();
    while (!timers_.empty() && timers_.top().at <= now) {
        const TimerItem item = timers_.top();
        timers_.pop();
        if (item.timer == kRegisterTimer) {
            if (item.handle.slot < registrations_.size() &&
                registrations_[item.handle.slot].gen == item.handle.gen)
                on_register_timer(item.handle.slot);
            continue;
        }
        if (item.timer >= kCallTimer2xxA) {
            B2buaCall* c = find_call(item.handle);
            if (c != nullptr && c->timer_gen[item.timer] == item.timer_gen)
                on_call_timer(item.handle, item.timer);
            continue;
        }
        Entry* e = find(item.handle);
        if (e == nullptr || e->fx.timer_gen[item.timer] != item.timer_gen) continue;
        if (item.timer == kTimerC) {
            on_timer_c(item.handle);
            continue;
        }
        if (item.timer == kTimerNoAnswer) {
            on_no_answer(item.handle);
            continue;
        }
        e->tx.on_event(Event{EventKind::TimerFired, nullptr, {}, static_cast<Timer>(item.timer)});
    }
    tick_at_ = Clock::time_point::max();
    arm_tick();
    flush_terminated();
    sweep_retired();
}

std::uint64_t Engine::new_tag() {
    // RFC 3261 19.3: cryptographically random. A keyed hash of a counter: unique within the run, and
    // one tag seen tells nothing of the next (a mixer with a secret seed could be inverted from one).
    const std::uint64_t n = ++tag_counter_;
    char bytes[8];
    std::memcpy(bytes, &n, 8);
    return siphash24(tag_key_, std::string_view(bytes, 8));
}

std::uint64_t Engine::stateless_tag(std::uint64_t key) const {
    char bytes[9];
    bytes[0] = 's';  // 9 bytes: never the input of a new_tag()
    std::memcpy(bytes + 1, &key, 8);
    return siphash24(tag_key_, std::string_view(bytes, 9));
}

void Engine::on_message(const transport::Peer& from, std::string_view bytes) {
    if (config_.sip_trace) spdlog::info("recv from {}:{}\n{}", from.address.to_string(), from.port, bytes);
    bool exempt = false;
    if (!admit(from, bytes, exempt)) return;
    sip::ParseOptions opts;
    opts.max_message_size = config_.limits.max_message_size;
    opts.stream = from.protocol != transport::Protocol::Udp;
    auto msg = sip::Message::parse(bytes, opts);
    if (!msg) {
        ++counters_.malformed;
        spdlog::debug("malformed message from {}:{}: {} {}", from.address.to_string(), from.port,
                      msg.error().status, msg.error().reason);
        // Stateless answer, to the packet's source (the Via cannot be trusted).
        if (auto resp = sip::build_stateless_response(bytes, msg.error().status, msg.error().reason)) {
            transports_.send(from, std::move(*resp));
        }
        return;
    }
    if (msg->is_request()) ++counters_.requests;
    if (!screen(*msg, from, exempt)) return;
    // Responses go to the owner of their Call-ID too: the proxy's branches live with their request.
    // A REGISTER, and an OPTIONS ping for the server itself, are answered where they arrive: they keep
    // no state beyond their own server transaction (the location service, nonces and the shields are
    // shared by all workers), and their retransmissions come back the same way (the same UDP source
    // lands on the same SO_REUSEPORT socket; a connection belongs to one worker). That saves the
    // hand-off to the Call-ID's owner, and for TCP and TLS the hand-back of the answer.
    const std::size_t owner = owner_of(*msg);
    if (shards_[owner] != this) {
        ++counters_.handed_to_other_worker;
        outbox_[owner].push_back(Handoff{std::move(*msg), from});
        return;
    }
    handle_message(*msg, from);
    flush_terminated();
}

bool Engine::for_server(const sip::Message& msg) const {
    const sip::Uri& ruri = msg.request_uri();
    return ruri.is_sip() && !ruri.has_user && !msg.has(sip::HeaderId::Route) && services_.self != nullptr &&
           services_.self->is_local_host(ruri.host);
}

std::size_t Engine::owner_of(const sip::Message& msg) {
    if (shards_.size() <= 1 || answered_where_received(msg)) return worker_;
    const std::size_t hashed = shard_of(msg.call_id(), shards_.size());
    if (services_.calls == nullptr) return hashed;
    // A new request makes its call ours (the caller's next requests arrive here too); anything else of a
    // Call-ID nobody holds goes where hash(Call-ID) sends it (the B2BUA's own Call-IDs hash to their worker).
    const sip::Method m = msg.method_id();
    const bool first =
        msg.is_request() && !msg.to().has_tag && m != sip::Method::Ack && m != sip::Method::Cancel;
    const std::size_t owner =
        services_.calls->route(services_.calls->key(msg.call_id()), first ? worker_ : hashed);
    return owner < shards_.size() ? owner : hashed;
}

void Engine::hold_call(std::string_view call_id, std::uint32_t seconds) {
    if (services_.calls != nullptr && shards_.size() > 1)
        services_.calls->hold(services_.calls->key(call_id), worker_, seconds);
}

std::uint32_t Engine::timer_c_lease() const {
    return static_cast<std::uint32_t>(
               std::chrono::duration_cast<std::chrono::seconds>(config_.timer_c).count()) +
           CallDirectory::kLease;
}

void Engine::release_call(std::string_view call_id) {
    if (services_.calls != nullptr && shards_.size() > 1)
        services_.calls->release(services_.calls->key(call_id));
}

bool Engine::answered_where_received(const sip::Message& msg) const {
    if (!msg.is_request() || msg.to().has_tag) return false;
    const sip::Method method = msg.method_id();
    return method == sip::Method::Register || (method == sip::Method::Options && for_server(msg));
}

void Engine::handle_message(sip::Message& msg, const transport::Peer& from) {
    if (msg.is_response()) {
        handle_response(msg);
    } else {
        handle_request(msg, from);
    }
}

void Engine::end_of_burst() {
    sweep_retired();
    for (std::size_t i = 0; i < outbox_.size(); ++i) {
        if (outbox_[i].empty()) continue;
        Engine* other = shards_[i];
        asio::post(other->io_, [other, batch = std::move(outbox_[i])]() mutable {
            for (auto& h : batch)
                other->handle_message(h.message, h.from);
            other->flush_terminated();
        });
        outbox_[i].clear();
    }
}

void Engine::handle_request(sip::Message& msg, const transport::Peer& from) {
    // RFC 3261 18.2.1 / RFC 3581: note where the request really came from in the top Via.
    const transport::AddressText source_ip = transport::address_text(from.address);
    const sip::Via top = msg.top_via();
    if (top.host != source_ip.view() || top.has_rport) {
        const std::string via = sip::via_with_received(top, source_ip.view(), from.port);
        msg.pop_via();
        (void)msg.push_via(via);
    }
    // Where responses go (RFC 3261 18.2.2): the same connection for streams; for UDP the source address,
    // and the source port when rport was asked for, else the sent-by port.
    transport::Peer to = from;
    if (from.protocol == transport::Protocol::Udp && !top.has_rport) {
        to.port = static_cast<std::uint16_t>(top.port > 0 ? top.port : 5060);
    }

    const std::uint64_t key = hash_key(transaction::server_key(msg));
    auto it = by_key_.find(key);
    if (it != by_key_.end()) {
        // A retransmission, or the ACK of a non-2xx final response: the transaction absorbs it.
        if (msg.method_id() != sip::Method::Ack) ++counters_.retransmissions;
        if (Entry* found = find(it->second))
            found->tx.on_event(Event{EventKind::Request, &msg, {}, Timer::A});
        return;
    }
    if (auto r = retired_by_key_.find(key); r != retired_by_key_.end()) {
        // A retransmission of a request whose transaction is Completed (retired): resend the answer.
        const Retired& done = retired_[r->second - retired_base_];
        ++counters_.retransmissions;
        transports_.send(done.peer, done.response);
        return;
    }
    if (msg.to().has_tag && !calls_by_dialog_.empty()) {
        // A request inside a dialog of a B2BUA call (either leg; the ACK of our 2xx included).
        auto d = calls_by_dialog_.find(hash_key(dialog_key_text(msg.call_id(), msg.to().tag)));
        if (d != calls_by_dialog_.end()) {
            if (shutting_down_ && msg.method_id() != sip::Method::Ack && msg.method_id() != sip::Method::Bye)
                return;
            call_in_dialog(msg, to, d->second.call, d->second.leg);
            return;
        }
    }
    if (msg.method_id() == sip::Method::Ack) {
        // An ACK for our non-2xx that carries a branch of its own: the INVITE transaction it belongs to
        // is found by Call-ID, From tag and CSeq, and absorbs it (no more retransmissions of the answer).
        if (auto a = invites_by_ack_key_.find(hash_key(ack_key_text(msg))); a != invites_by_ack_key_.end()) {
            Entry* inv = find(a->second);
            if (inv != nullptr && inv->tx.state() == transaction::State::Completed) {
                inv->tx.on_event(Event{EventKind::Request, &msg, {}, Timer::A});
                return;
            }
        }
        // An ACK for a 2xx is a request of its own, sent end to end along the route set (RFC 3261 13.2.2.4):
        // forwarded without a transaction. Anything else is for nothing we know: no response to an ACK.
        if (services_.router != nullptr && msg.to().has_tag) {
            forward_ack(msg);
        } else {
            ++counters_.stray_acks;
        }
        return;
    }
    if (shutting_down_) return;

    // The proxy's routing decision comes first: a request that must authenticate is challenged without
    // a transaction (RFC 3261 22.3 allows it; nothing is kept for a client that has not proved who it
    // is, and a lost 407 is answered anew when the request is resent).
    const sip::Method method = msg.method_id();
    if (method == sip::Method::Register && services_.bans != nullptr && !exempt_source(from)) {
        // Per source and per user (whatever the source): registration floods and guessing runs stop here,
        // before a transaction or a digest is computed.
        const bool source_ok = register_source_->take(address_key(from.address),
                                                      std::chrono::duration_cast<std::chrono::milliseconds>(
                                                          std::chrono::steady_clock::now().time_since_epoch())
                                                          .count()) == security::RateVerdict::Allowed;
        if (!source_ok) {
            refuse_rate(msg, to, register_source_->retry_after_s());
            return;
        }
        if (!within_user_rate(*register_user_, sip::unescape(msg.to().uri.user))) {
            refuse_rate(msg, to, register_user_->retry_after_s());
            return;
        }
    }
    // A trunk's requests (by source address) are not authenticated: the provider does not know our users.
    const b2bua::Trunk* trunk = nullptr;
    if (trunks_.trunks && !trunks_.trunks->empty() && !msg.to().has_tag &&
        (method == sip::Method::Invite || method == sip::Method::Options))
        trunk = trunk_for_source(from.address);
    std::optional<proxy::Decision> routed;
    // RFC 3261 16.3 step 3: no hops left is answered 483 before anything else (below), except OPTIONS,
    // which the server answers itself when addressed to it.
    // A request for the server itself (no user part, no Route: OPTIONS pings, mostly) skips routing.
    if (services_.router != nullptr && users_ && method != sip::Method::Register &&
        method != sip::Method::Cancel && !for_server(msg) && trunk == nullptr &&
        (msg.max_forwards() != 0 || method == sip::Method::Options)) {
        const auto pre = proxy::preprocess_routes(msg, *services_.self);
        routed = services_.router->route(msg, pre, *users_, forwards_.get(), services_.clock->now_s(),
                                         aliases_.get());
        if (routed->kind == proxy::Decision::Kind::Reply && routed->status == 407) {
            bool stale = false;
            for (const auto& [name, value] : routed->headers)
                stale = stale || value.find("stale=true") != std::string::npos;
            if (msg.has(sip::HeaderId::ProxyAuthorization) && !stale)
                auth_failed(from, credential_user(msg, sip::HeaderId::ProxyAuthorization));
            ++counters_.auth_challenges;
            Headers h;
            for (auto& [name, value] : routed->headers)
                h.emplace_back(name, std::move(value));
            transports_.send(to, build_tagged_answer(msg, stateless_tag(key), 407, h, {}));
            return;
        }
        if (!routed->caller.empty() && !routed->in_dialog) {
            // An authenticated caller: its account may be locked (answered like a wrong password, so a
            // guesser learns nothing), bound to networks, and limited in how fast it calls.
            if (account_blocked(from, routed->caller)) {
                transports_.send(
                    to, build_tagged_answer(msg, stateless_tag(key), 407,
                                            challenge_headers("Proxy-Authenticate", false, msg), {}));
                return;
            }
            auth_succeeded(from, routed->caller);
            if (!user_network_allowed(from, routed->caller)) {
                spdlog::info("{} {} by {} from {}: 403, not from the user's networks", msg.method(),
                             msg.request_uri().raw, routed->caller, from.address.to_string());
                transports_.send(to, build_tagged_answer(msg, stateless_tag(key), 403, {},
                                                         "Forbidden (not from this network)"));
                return;
            }
            if (method == sip::Method::Invite && !exempt_source(from) &&
                !within_user_rate(*invite_user_, routed->caller)) {
                refuse_rate(msg, to, invite_user_->retry_after_s());
                return;
            }
        }
    }

    // A REGISTER without credentials (every phone's first, and sipp's every one) is challenged the same
    // way: no transaction, nothing kept for 32 s (a lost 401 is answered anew, with a fresh nonce, when
    // the REGISTER is resent). Anything that would be refused first (Max-Forwards 0, Require or
    // Proxy-Require to judge) takes the stateful path below.
    if (method == sip::Method::Register && !msg.has(sip::HeaderId::Authorization) &&
        services_.registrar != nullptr && services_.authenticator != nullptr && users_ &&
        msg.max_forwards() != 0 && !msg.has(sip::HeaderId::Require) &&
        !msg.has(sip::HeaderId::ProxyRequire)) {
        ++counters_.auth_challenges;
        transports_.send(to, build_tagged_answer(msg, stateless_tag(key), 401,
                                                 challenge_headers("WWW-Authenticate", false, msg), {}));
        return;
    }

    // An OPTIONS ping for the server itself (phones' and providers' keep-alives, and scanners' probes)
    // is answered the same way (RFC 3261 8.2.7, a stateless UAS): its answer is the same every time, so a
    // retransmission is answered anew, and a flood of them from many sources leaves nothing behind.
    if (method == sip::Method::Options && !msg.to().has_tag && for_server(msg) &&
        !msg.has(sip::HeaderId::Require) && !msg.has(sip::HeaderId::ProxyRequire)) {
        transports_.send(to, build_tagged_answer(msg, stateless_tag(key), 200, options_headers(), {}));
        return;
    }

    Entry& e = create(msg, to, key);
    if (msg.method_id() == sip::Method::Cancel) {
        // RFC 3261 9.2: 200 for the CANCEL, 487 for the INVITE it names; 481 when there is none. A proxied
        // INVITE (16.10): its pending branches are cancelled and their 487 goes upstream.
        auto target = by_key_.find(hash_key(transaction::cancel_target_key(msg)));
        Entry* inv_entry = target == by_key_.end() ? nullptr : find(target->second);
        if (inv_entry == nullptr || inv_entry->client ||
            inv_entry->tx.state() != transaction::State::Proceeding) {
            answer(e, msg, 481);
            return;
        }
        answer(e, msg, 200);
        if (inv_entry->role == Role::CallInvite) {
            if (B2buaCall* c = find_call(inv_entry->call)) cancel_call(inv_entry->call, *c);
            return;
        }
        if (inv_entry->proxy) {
            ProxyContext& ctx = *inv_entry->proxy;
            ctx.cancelled = true;
            ctx.responses.stop_waiting();
            cancel_pending(*inv_entry, ctx.branches.size());
            if (!ctx.responses.pending()) send_best(*inv_entry);
            return;
        }
        if (auto invite = sip::Message::parse(inv_entry->request)) answer(*inv_entry, *invite, 487);
        return;
    }

    // RFC 3261 16.3 step 5: a proxy judges only Proxy-Require; Require is for the UAS.
    const auto proxy_policy = sip::check_request_policy(msg, sip::kSupportedOptionTags, false);
    if (proxy_policy.status == 416) {
        answer(e, msg, 416);
        return;
    }
    if (proxy_policy.status == 420) {
        answer(e, msg, 420, {{"Unsupported", proxy_policy.unsupported}});
        return;
    }
    // RFC 3261 16.3 step 3 / 11: with no hops left only OPTIONS addressed to us is answered.
    if (msg.max_forwards() == 0 && msg.method_id() != sip::Method::Options) {
        answer(e, msg, 483);
        return;
    }
    if (trunk != nullptr) {
        if (method == sip::Method::Invite) {
            start_inbound_call(e, msg, from, *trunk);
        } else {
            answer(e, msg, 200, {{"Allow", std::string(kAllow)}});  // a provider's OPTIONS keep-alive
        }
        return;
    }
    if (routed && routed->kind == proxy::Decision::Kind::External) {
        if (method != sip::Method::Invite) {
            answer(e, msg, 404);  // forwarded to a number: only a call goes out through a trunk
            return;
        }
        // Forwarded to a number before anything rang: the caller hears of each step.
        for (const auto& hop : routed->forwards)
            answer(e, msg, 181, {{"Call-Info", forwarding_info(hop, routed->domain)}});
        start_outbound_call(e, msg, from, *routed);
        return;
    }
    if (method == sip::Method::Bye && routed && routed->in_dialog && !answered_.empty()) {
        if (auto done = answered_.find(hash_key(msg.call_id())); done != answered_.end()) {
            cdr_end(done->second.cdr, 200,
                    msg.from().tag == done->second.caller_tag ? "caller hung up" : "callee hung up");
            answered_.erase(done);
            release_call(msg.call_id());
        }
    }
    if (method == sip::Method::Invite && routed && routed->kind == proxy::Decision::Kind::Forward &&
        !routed->in_dialog && !routed->targets.empty()) {
        // Issue 9: a call between users whose media cannot flow directly goes through the B2BUA.
        media::LegInfo a = user_leg(from, routed->caller, "caller");
        media::LegInfo b = b_leg_info(*routed, srtp_policy_of(routed->callee), "callee");
        const auto anchored = anchor_wanted(e, msg, from, a, b);
        if (!anchored) return;
        if (*anchored && services_.media != nullptr) {
            start_local_call(e, msg, from, *routed, std::move(a), std::move(b));
            return;
        }
    }
    if (routed && routed->kind != proxy::Decision::Kind::Local) {
        proxy_request(e, msg, from, std::move(*routed));
        return;
    }
    answer_locally(e, msg, from);
}

void Engine::answer_locally(Entry& e, sip::Message& msg, const transport::Peer& from) {
    // Kept for a CANCEL of this INVITE, which gets its 487 built from it (a proxied INVITE needs none).
    if (msg.method_id() == sip::Method::Invite) e.request = msg.serialize();
    // RFC 3261 8.2.2.2: the same request arriving again by another path (a merged fork) gets 482.
    if (auto mk = transaction::merge_key(msg)) {
        const std::uint64_t mh = hash_key(*mk);
        auto [m, inserted] = merges_.emplace(mh, e.fx.handle);
        if (!inserted && m->second != e.fx.handle) {
            if (find(m->second) != nullptr) {
                answer(e, msg, 482);
                return;
            }
            m->second = e.fx.handle;  // the earlier one has ended
        }
        e.merge_key = mh;
        e.has_merge = true;
    }

    // RFC 3261 8.2.2.3: as the UAS, Require is ours to judge.
    const auto policy = sip::check_request_policy(msg, sip::kSupportedOptionTags);
    if (policy.status == 420) {
        answer(e, msg, 420, {{"Unsupported", policy.unsupported}});
        return;
    }
    switch (msg.method_id()) {
        case sip::Method::Options:
            answer(e, msg, 200, options_headers());
            return;
        case sip::Method::Register:
            if (services_.registrar != nullptr && services_.authenticator != nullptr && users_) {
                handle_register(e, msg, from);
                return;
            }
            answer(e, msg, 405, {{"Allow", std::string(kAllow)}});
            return;
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

Engine::Headers Engine::options_headers() {
    // Joined once: every keep-alive ping is answered with it.
    static const std::string supported = [] {
        std::string joined;
        for (std::string_view tag : sip::kSupportedOptionTags)
            joined.append(joined.empty() ? "" : ", ").append(tag);
        return joined;
    }();
    return {{"Allow", std::string(kAllow)}, {"Accept", "application/sdp"}, {"Supported", supported}};
}

Engine::Entry& Engine::create(sip::Message& msg, const transport::Peer& to, std::uint64_t key) {
    ++counters_.transactions_created;
    const bool invite = msg.method_id() == sip::Method::Invite;
    Entry& e =
        new_entry(invite ? transaction::Kind::ServerInvite : transaction::Kind::ServerNonInvite, to, {});
    if (invite) {
        e.ack_key = hash_key(ack_key_text(msg));
        invites_by_ack_key_[e.ack_key] = e.fx.handle;
    }
    e.to_tag = new_tag();
    e.key = key;
    by_key_.emplace(key, e.fx.handle);
    e.tx.on_event(Event{EventKind::Start, &msg, {}, Timer::A});
    return e;
}

Engine::Entry& Engine::new_entry(transaction::Kind kind, const transport::Peer& peer,
                                 std::string request_bytes) {
    const bool reliable = peer.protocol != transport::Protocol::Udp;
    std::uint32_t slot;
    if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    }
    Slot& s = slots_[slot];
    s.entry = std::make_unique<Entry>(*this, peer, kind, reliable, config_.timers, std::move(request_bytes));
    Entry& e = *s.entry;
    e.fx.handle = Handle{slot, s.gen};
    return e;
}

std::string Engine::build_answer(const Entry& e, const sip::Message& req, int status, const Headers& extra,
                                 std::string_view reason) {
    return build_tagged_answer(req, e.to_tag, status, extra, reason);
}

std::string Engine::build_tagged_answer(const sip::Message& req, std::uint64_t to_tag, int status,
                                        const Headers& extra, std::string_view reason) {
    sip::ResponseBuilder b(req, status, reason);
    char tag[16];
    sw::hex16(to_tag, tag);
    b.to_tag(std::string_view(tag, 16));
    for (const auto& [name, value] : extra)
        b.header(name, value);
    b.header("Server", "sipwarden/0.1");
    return b.build();
}

void Engine::send_answer(Entry& e, int status, std::string_view bytes) {
    Event ev{EventKind::TuResponse, nullptr, bytes, Timer::A};
    ev.status = status;
    e.tx.on_event(ev);
    if (e.fx.retire_after.count() > 0) retire(e, std::exchange(e.fx.retire_after, transaction::Duration{0}));
}

void Engine::answer(Entry& e, const sip::Message& req, int status, const Headers& extra,
                    std::string_view reason) {
    send_answer(e, status, build_answer(e, req, status, extra, reason));
}

Engine::Headers Engine::challenge_headers(std::string_view name, bool stale, const sip::Message& req) const {
    Headers h;
    for (auto& c : services_.authenticator->challenges(stale, req.header(sip::HeaderId::UserAgent)))
        h.emplace_back(name, std::move(c));
    return h;
}

void Engine::handle_register(Entry& e, const sip::Message& req, const transport::Peer& from) {
    // RFC 3261 22 / RFC 7616: who is it? Unknown user, disabled user and wrong password get the same
    // fresh challenge, so the answer does not tell which (no extension enumeration).
    const auto v = services_.authenticator->verify(req, false, *users_);
    if (v.verdict == auth::Verdict::Rejected && req.has(sip::HeaderId::Authorization))
        auth_failed(from, credential_user(req, sip::HeaderId::Authorization));
    // A locked account is answered like a wrong password (the guesser cannot tell), except to the
    // addresses its phones registered from before the lock.
    if (v.verdict != auth::Verdict::Ok || account_blocked(from, v.user)) {
        ++counters_.auth_challenges;
        answer(e, req, 401, challenge_headers("WWW-Authenticate", v.verdict == auth::Verdict::Stale, req));
        return;
    }
    auth_succeeded(from, v.user);
    if (!user_network_allowed(from, v.user)) {
        spdlog::info("REGISTER of {} from {}: 403, not from the user's networks", v.user,
                     from.address.to_string());
        answer(e, req, 403, {}, "Forbidden (not from this network)");
        return;
    }
    if (tls_required_of(v.user) && from.protocol != transport::Protocol::Tls) {
        spdlog::info("REGISTER of {} from {} over {}: 403, the user must use TLS", v.user,
                     from.address.to_string(), transport::protocol_name(from.protocol));
        answer(e, req, 403, {{"Reason", reason_header(403, "TLS required for this user")}},
               "Forbidden (TLS required)");
        return;
    }
    const std::int64_t now = services_.clock->now_s();
    // The binding is written to disk before the phone is told it is registered (group commit), except
    // a refresh that changes only its expiry (RegisterOutcome::deferrable). It is
    // submitted while the AOR is still locked, so the writer sees one AOR's changes in memory's order.
    bool submitted = false;
    auto outcome = services_.registrar->handle(
        req, v.user, registrar::RegisterSource{source_text(from), from.connection}, now,
        [&](registrar::RegisterOutcome& o) {
            if (o.changes.empty() || services_.writer == nullptr) return;
            // A refresh that only moves the expiry of a binding already on disk: answered now, written
            // with the next commit (within a second), unless the writer says it must wait (BindingWriter).
            if (o.deferrable && services_.writer->submit_deferred(o.changes)) return;
            Headers h;
            for (auto& [name, value] : o.headers)
                h.emplace_back(name, std::move(value));
            std::string ok = build_answer(e, req, 200, h, {});
            services_.writer->submit(std::move(o.changes),
                                     [this, handle = e.fx.handle, ok = std::move(ok)](bool written) mutable {
                                         bool first = false;
                                         {
                                             std::lock_guard lock(stored_mutex_);
                                             first = stored_.empty();
                                             stored_.push_back(StoredAnswer{handle, written, std::move(ok)});
                                         }
                                         if (first) asio::post(io_, [this] { answer_stored(); });
                                     });
            submitted = true;
        });
    if (outcome.status == 200) ++counters_.registrations;
    if (submitted) return;
    Headers h;
    for (auto& [name, value] : outcome.headers)
        h.emplace_back(name, std::move(value));
    answer(e, req, outcome.status, h, outcome.reason);
}

void Engine::answer_stored() {
    {
        std::lock_guard lock(stored_mutex_);
        stored_taken_.swap(stored_);
    }
    for (auto& a : stored_taken_) {
        Entry* entry = find(a.handle);
        if (entry == nullptr) continue;
        if (a.written) {
            send_answer(*entry, 200, a.ok);
        } else {
            send_answer(*entry, 500, storage_failure_from(a.ok));
        }
    }
    stored_taken_.clear();
    flush_terminated();
}

}  // namespace sw::app
