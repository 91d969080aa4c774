// The stateful proxy of one worker (RFC 3261 16): routing decisions come from proxy::Router, the
// response context from proxy::ResponseContext; this file runs them with the worker's transactions,
// timers and sockets. Everything of one proxied request (its server transaction, its branches' client
// transactions, their CANCELs and Timer C) lives on the worker that owns the Call-ID (the one its first
// request reached: CallDirectory).
#include <asio/ip/address.hpp>

#include "app/call_directory.hpp"
#include "app/engine.hpp"
#include "app/engine_internal.hpp"
#include "sip/builder.hpp"
#include "transaction/matching.hpp"
#include "transport/steering.hpp"

namespace sw::app {

using transaction::Event;
using transaction::EventKind;

namespace {
// Entry::branch of a client transaction that serves no branch (the CANCEL of a branch).
constexpr std::uint32_t kNoBranch = 0xffffffffu;
}  // namespace

std::string forwarding_info(const proxy::ForwardHop& hop, const std::string& domain) {
    // The new target, with who forwarded and why as generic parameters.
    return "<sip:" + hop.to + "@" + domain + ">;purpose=forwarding;forwarded-by=\"sip:" + hop.from + "@" +
           domain + "\";reason=" + std::string(pbx::diversion_reason(hop.kind));
}

const proxy::LocalAddress* Engine::local_address(transport::Protocol protocol, bool ipv6) const {
    if (services_.self == nullptr) return nullptr;
    for (const auto& a : services_.self->addresses)
        if (a.protocol == protocol && a.v6_family == ipv6) return &a;
    return nullptr;
}

std::optional<transport::Peer> Engine::peer_for(const proxy::NextHop& hop) const {
    const auto parsed = transport::parse_address(hop.host);
    if (!parsed) return std::nullopt;
    const asio::ip::address& address = *parsed;
    const proxy::LocalAddress* local = local_address(hop.protocol, address.is_v6());
    if (local == nullptr) return std::nullopt;  // we do not listen on that transport and family
    transport::Peer p;
    p.protocol = hop.protocol;
    p.address = address;
    p.port = hop.port;
    p.connection = hop.connection;
    // Streams: over the connection the peer opened when there is one (its registration flow, or the one
    // its Contact names: phones answer from the port they are connected by).
    if (hop.protocol != transport::Protocol::Udp && p.connection == 0) {
        p.connection = transports_.find_connection(hop.protocol, address, hop.port);
        // TCP: the transport opens a connection (connection 0). TLS client connections come with trunks.
        if (p.connection == 0 && hop.protocol == transport::Protocol::Tls) return std::nullopt;
    }
    p.listener = local->udp_listener;
    return p;
}

void Engine::proxy_request(Entry& e, sip::Message& msg, const transport::Peer& from, proxy::Decision d) {
    if (d.kind == proxy::Decision::Kind::Reply) {
        if (d.status == 403 || d.status == 482) {
            // Refusals an operator wants to see (relay attempts, forged identities or dialogs,
            // forwarding loops), once per request; 404/480 are ordinary.
            spdlog::info("{} {} from {} (From {}): {} {}", msg.method(), msg.request_uri().raw,
                         from.address.to_string(), msg.from().uri.raw, d.status,
                         d.reason.empty() ? std::string(sip::default_reason(d.status)) : d.reason);
        }
        if (!d.forwards.empty() && msg.method_id() == sip::Method::Invite) {
            // Forwarded before it failed (B forwards to C, who is offline): the caller learns both.
            for (const auto& hop : d.forwards)
                answer(e, msg, 181, {{"Call-Info", forwarding_info(hop, d.domain)}});
        }
        Headers h;
        for (auto& [name, value] : d.headers)
            h.emplace_back(name, std::move(value));
        answer(e, msg, d.status, h, d.reason);
        return;
    }
    if (msg.max_forwards() == 0) {
        answer(e, msg, 483);  // an OPTIONS with no hops left, for somebody else
        return;
    }
    // RFC 3261 16.3 step 4: our own branch prefix in a Via means this very request went through us before.
    const std::uint64_t loop = proxy::loop_hash(msg, sip_key_.k0, sip_key_.k1);
    if (proxy::looped(msg, loop)) {
        ++counters_.loops;
        answer(e, msg, 482);
        return;
    }
    ++counters_.proxied;
    const bool invite = msg.method_id() == sip::Method::Invite;
    const bool serial = services_.router->config().serial_forking && !d.in_dialog;
    proxy::Decision first = std::move(d);
    e.proxy = std::make_unique<ProxyContext>(std::move(msg), proxy::Decision{}, invite, serial);
    ProxyContext& ctx = *e.proxy;
    if (!first.in_dialog) {
        // RFC 3261 22.3: the credentials were for us; they go no further. Forwarding history from a phone
        // is not trusted: the server writes its own.
        ctx.request.remove_headers(sip::HeaderId::ProxyAuthorization);
        ctx.request.remove_headers(sip::HeaderId::HistoryInfo);
        ctx.request.remove_headers(sip::HeaderId::Diversion);
        ctx.original_user = first.visited.empty() ? std::string() : first.visited.front();
    }
    ctx.loop = loop;
    ctx.from = from;
    if (invite && !first.in_dialog) {
        ctx.cdr = cdr_start(storage::CdrCall{first.caller,
                                             first.callee,
                                             sip::unescape(ctx.request.request_uri().user),
                                             storage::CdrDirection::Internal,
                                             {},
                                             source_text(from),
                                             std::string(ctx.request.header(sip::HeaderId::UserAgent)),
                                             {}});
    }
    ring_forwarded(e, std::move(first));
}

void Engine::announce_forwards(Entry& server, const std::vector<proxy::ForwardHop>& hops) {
    ProxyContext& ctx = *server.proxy;
    for (const auto& hop : hops) {
        // One 181 per step of a chain, naming who forwarded the call and to whom.
        if (ctx.request.method_id() == sip::Method::Invite && !ctx.responses.final_sent()) {
            answer(server, ctx.request, 181, {{"Call-Info", forwarding_info(hop, ctx.decision.domain)}});
        }
        ctx.forwards.push_back(hop);
    }
}

void Engine::ring_forwarded(Entry& server, proxy::Decision d) {
    ProxyContext& ctx = *server.proxy;
    std::vector<proxy::Target> targets = std::move(d.targets);
    std::vector<proxy::ForwardHop> hops = std::move(d.forwards);
    ctx.decision = std::move(d);
    announce_forwards(server, hops);
    for (auto& t : targets) {
        ProxyBranch b;
        b.target = std::move(t);
        ctx.branches.push_back(std::move(b));
        ctx.responses.add_branch();
    }
    ctx.no_answer_fired = false;
    const auto& rules = ctx.decision.callee_rules;
    if (rules && rules->no_answer && ctx.request.method_id() == sip::Method::Invite) {
        schedule(server.fx.handle, kTimerNoAnswer, ++server.fx.timer_gen[kTimerNoAnswer],
                 std::chrono::seconds(rules->no_answer->seconds));
    }
    for (std::size_t i : ctx.responses.initial_branches())
        start_branch(server, i);
}

bool Engine::maybe_forward(Entry& server) {
    ProxyContext& ctx = *server.proxy;
    if (ctx.cancelled || !ctx.decision.callee_rules || services_.router == nullptr) return false;
    const auto best = ctx.responses.best();
    const int status = best ? ctx.responses.status(*best) : 408;
    const auto kind = pbx::kind_after(status, ctx.no_answer_fired);
    if (!kind || !ctx.decision.callee_rules->get(*kind)) return false;
    proxy::Decision next =
        services_.router->retarget(ctx.decision, *kind, *users_, forwards_.get(), services_.clock->now_s());
    ctx.responses.forget_finished();  // the old callee's answers are not the call's any more
    if (next.kind == proxy::Decision::Kind::External) {
        announce_forwards(server, next.forwards);
        forward_out(server, std::move(next));
        return true;
    }
    if (next.kind != proxy::Decision::Kind::Forward) {
        announce_forwards(server, next.forwards);
        ctx.responses.mark_final_sent();
        Headers h;
        for (auto& [name, value] : next.headers)
            h.emplace_back(name, std::move(value));
        answer(server, ctx.request, next.status, h, next.reason);
        return true;
    }
    ring_forwarded(server, std::move(next));
    return true;
}

void Engine::forward_out(Entry& server, proxy::Decision d) {
    ProxyContext& ctx = *server.proxy;
    // The proxy is done with this INVITE: from here the B2BUA answers it, as a call out through a trunk
    // of the user whose rule forwards it. Its record ends here; the call out gets its own (the user who
    // forwards made it, with that user's rights).
    ctx.responses.mark_final_sent();
    ++server.fx.timer_gen[kTimerNoAnswer];
    if (!ctx.cdr.empty()) cdr_end(ctx.cdr, 181, "forwarded to " + d.callee);
    d.forwards = ctx.forwards;  // every step, for the provider's Diversion
    spdlog::info("call to {}: forwarded out to {} as a call of {}", ctx.original_user, d.callee, d.caller);
    // The request as the proxy cleaned it (no credentials, no forwarding history of the phone's own).
    auto copy = sip::Message::parse(ctx.request.serialize());
    if (!copy) {
        answer(server, ctx.request, 500);
        return;
    }
    const transport::Peer from = ctx.from;
    start_outbound_call(server, *copy, from, d);
}

void Engine::on_no_answer(Handle h) {
    Entry* se = find(h);
    if (se != nullptr && se->client && se->role == Role::CallFork) {
        on_fork_silent(*se);
        return;
    }
    if (se == nullptr || !se->proxy) return;
    ProxyContext& ctx = *se->proxy;
    if (ctx.cancelled || ctx.responses.final_sent()) return;
    // The callee rang for its no-answer time: stop ringing it; once its branches have ended,
    // send_best forwards the call instead of answering.
    ctx.no_answer_fired = true;
    cancel_pending(*se, ctx.branches.size());
}

void Engine::start_branch(Entry& server, std::size_t i) {
    ProxyContext& ctx = *server.proxy;
    ProxyBranch& b = ctx.branches[i];
    const auto peer = peer_for(b.target.hop);
    if (!peer) {
        spdlog::debug("no way to reach {} ({})", b.target.request_uri, b.target.hop.host);
        apply_verdict(server, i, ctx.responses.on_failure(i, 503), 503, nullptr);
        return;
    }
    const proxy::LocalAddress& out = *local_address(peer->protocol, peer->address.is_v6());
    const std::string branch = proxy::branch_id(ctx.loop, transport::worker_mark(worker_), ++branch_counter_);
    proxy::BranchSpec spec;
    spec.request_uri = b.target.request_uri;
    spec.routes = b.target.routes;
    spec.via = via_value(peer->protocol, out, branch);
    if (ctx.decision.record_route) {
        // RFC 3261 16.6 step 4, RFC 5658: when the request leaves by another transport or address than
        // it came in by, two entries, so that each side's route set names the address it can reach.
        const std::string token =
            proxy::route_token(services_.router->config().route_key, ctx.request.call_id());
        spec.record_routes.push_back(out.record_route(token));
        const proxy::LocalAddress* in = local_address(ctx.from.protocol, ctx.from.address.is_v6());
        if (in != nullptr && in != &out) spec.record_routes.push_back(in->record_route(token));
    }
    // Inside a dialog nobody asserts anything; outside, the authenticated caller (or nothing, for Privacy:
    // id).
    if (!ctx.decision.in_dialog) spec.asserted_identity = ctx.decision.asserted_identity;
    if (!ctx.forwards.empty()) {
        // RFC 7044 History-Info and RFC 5806 Diversion: why the final callee's phone rings.
        spec.extra_headers.emplace_back(
            "History-Info", proxy::history_info(ctx.original_user, ctx.forwards, ctx.decision.domain));
        spec.extra_headers.emplace_back("Diversion", proxy::diversion(ctx.forwards, ctx.decision.domain));
    }
    b.request = proxy::build_branch_request(ctx.request, spec);
    b.peer = *peer;
    const bool invite = ctx.request.method_id() == sip::Method::Invite;
    Entry& ce = new_entry(invite ? transaction::Kind::ClientInvite : transaction::Kind::ClientNonInvite,
                          *peer, b.request);
    ce.client = true;
    ce.server = server.fx.handle;
    ce.branch = static_cast<std::uint32_t>(i);
    ce.key = hash_key(client_key_text(branch, ctx.request.method()));
    by_key_.emplace(ce.key, ce.fx.handle);
    b.client = ce.fx.handle;
    ++counters_.branches;
    ++counters_.transactions_created;
    ce.tx.on_event(Event{EventKind::Start, nullptr, {}, transaction::Timer::A});
    if (invite) {
        schedule(ce.fx.handle, kTimerC, ++ce.fx.timer_gen[kTimerC], config_.timer_c);
        hold_call(ctx.request.call_id(), timer_c_lease());
    }
}

void Engine::cancel_branch(Entry& server, std::size_t i) {
    ProxyContext& ctx = *server.proxy;
    ProxyBranch& b = ctx.branches[i];
    const auto state = ctx.responses.state(i);
    if (b.cancel_sent || state == proxy::ResponseContext::BranchState::Done ||
        state == proxy::ResponseContext::BranchState::Waiting ||
        ctx.request.method_id() != sip::Method::Invite) {
        return;
    }
    // RFC 3261 9.1: a CANCEL only after a provisional response; until then it waits. The branch counts
    // as ended by 487 at once, so that a caller's CANCEL is not held up by a phone that never answered
    // (its INVITE retransmissions run out with Timer B; a late provisional gets the CANCEL then).
    if (!b.provisional) {
        if (b.cancel_wanted) return;
        b.cancel_wanted = true;
        const int status = b.timed_out ? 408 : 487;  // Timer C on a silent branch: a timeout (16.8)
        apply_verdict(server, i, ctx.responses.on_failure(i, status), status, nullptr);
        return;
    }
    send_cancel(b);
}

void Engine::send_cancel(ProxyBranch& b) {
    if (b.cancel_sent) return;
    b.cancel_sent = true;
    auto req = sip::Message::parse(b.request);
    if (!req) return;
    Entry& ce = new_entry(transaction::Kind::ClientNonInvite, b.peer, proxy::build_cancel(*req));
    ce.client = true;
    ce.branch = kNoBranch;
    ce.key = hash_key(client_key_text(req->top_via().branch, "CANCEL"));
    by_key_.emplace(ce.key, ce.fx.handle);
    ++counters_.transactions_created;
    ce.tx.on_event(Event{EventKind::Start, nullptr, {}, transaction::Timer::A});
}

void Engine::cancel_pending(Entry& server, std::size_t except) {
    for (std::size_t i = 0; i < server.proxy->branches.size(); ++i)
        if (i != except) cancel_branch(server, i);
}

void Engine::on_branch_response(Handle client, const sip::Message& response) {
    Entry* ce = find(client);
    if (ce != nullptr && ce->client && ce->role != Role::Proxy) {
        on_call_response(*ce, response);
        return;
    }
    if (ce == nullptr || !ce->client || ce->branch == kNoBranch) return;
    const int status = response.status();
    Entry* se = find(ce->server);
    std::string upstream;
    if (status > 100 && se != nullptr && se->proxy && response_in_flight_ != nullptr) {
        // The response as the previous hop gets it: our Via popped. Client transactions pass responses
        // up only from handle_response, which lends the message it owns, so no copy is made (a 100
        // Trying goes no further and needs none).
        if (auto up = proxy::response_for_upstream(*response_in_flight_)) upstream = std::move(*up);
    }
    if (se == nullptr || !se->proxy) {
        // The server transaction has ended (Timer L, 64*T1 after the first 2xx went up): the caller
        // has long had its 2xx; a late retransmission is dropped.
        return;
    }
    ProxyContext& ctx = *se->proxy;
    const std::size_t i = ce->branch;
    ProxyBranch& b = ctx.branches[i];
    if (status < 200) {
        b.provisional = true;
        // RFC 3261 16.7 step 2: a provisional response restarts Timer C.
        if (status > 100 && ctx.request.method_id() == sip::Method::Invite) {
            schedule(client, kTimerC, ++ce->fx.timer_gen[kTimerC], config_.timer_c);
            hold_call(ctx.request.call_id(), timer_c_lease());
        }
        if (b.cancel_wanted) {
            b.cancel_wanted = false;
            b.provisional = true;
            send_cancel(b);
        }
    } else {
        ++ce->fx.timer_gen[kTimerC];  // a final response stops Timer C
        if (status == 487 && b.timed_out) {
            // RFC 3261 16.8: the branch was cancelled because nobody answered in time; the caller hears
            // 408 Request Timeout (made here), not that somebody terminated its request.
            apply_verdict(*se, i, ctx.responses.on_failure(i, 408), 408, nullptr);
            return;
        }
    }
    apply_verdict(*se, i, ctx.responses.on_response(i, status), status, &upstream);
}

void Engine::on_branch_failed(Handle client, int status) {
    Entry* ce = find(client);
    if (ce != nullptr && ce->client && ce->role != Role::Proxy) {
        on_call_failure(*ce, status);
        return;
    }
    if (ce == nullptr || !ce->client || ce->branch == kNoBranch) return;
    Entry* se = find(ce->server);
    if (se == nullptr || !se->proxy) return;
    ++ce->fx.timer_gen[kTimerC];
    apply_verdict(*se, ce->branch, se->proxy->responses.on_failure(ce->branch, status), status, nullptr);
}

void Engine::apply_verdict(Entry& server, std::size_t i, const proxy::ResponseContext::Verdict& v, int status,
                           std::string* upstream) {
    ProxyContext& ctx = *server.proxy;
    const bool have_bytes = upstream != nullptr && !upstream->empty();
    if (status >= 200 && have_bytes) ctx.branches[i].final_response = *upstream;
    if (v.forward_now && have_bytes) send_answer(server, status, *upstream);
    if (v.forward_now && status >= 200 && status < 300 && !ctx.answered && !ctx.cdr.empty()) {
        // Answered: the record ends with the BYE that passes through us (the call directory sends it here).
        ctx.answered = true;
        cdr_answer(ctx.cdr);
        const std::uint64_t key = hash_key(ctx.request.call_id());
        const auto until = Clock::now() + config_.max_call_duration;
        answered_[key] =
            AnsweredCall{std::exchange(ctx.cdr, std::string()), std::string(ctx.request.from().tag), until};
        answered_order_.emplace_back(until, key);
        // Its BYE may come from either phone, to whichever worker: the call stays here until then.
        hold_call(ctx.request.call_id(),
                  static_cast<std::uint32_t>(config_.max_call_duration.count()) + CallDirectory::kLease);
    }
    if (v.cancel_others) cancel_pending(server, i);
    if (v.start_branch) start_branch(server, *v.start_branch);
    if (v.final_ready) send_best(server);
}

void Engine::send_best(Entry& server) {
    ProxyContext& ctx = *server.proxy;
    if (ctx.responses.final_sent()) return;
    if (maybe_forward(server)) return;
    ctx.responses.mark_final_sent();
    const auto best = ctx.responses.best();
    int status = best ? ctx.responses.status(*best) : 408;
    if (!ctx.cdr.empty() && !ctx.answered) {
        const int recorded = ctx.cancelled && (status == 408 || status < 300) ? 487 : status;
        cdr_end(ctx.cdr, recorded, recorded == 487 ? "487 cancelled" : std::to_string(recorded));
    }
    const std::string* bytes = best ? &ctx.branches[*best].final_response : nullptr;
    // RFC 3261 16.10: a cancelled INVITE ends with 487 even when a branch only timed out.
    if (ctx.cancelled && (status == 408 || bytes == nullptr || bytes->empty())) status = 487;
    const int up = proxy::upstream_status(status);
    if (up != status || bytes == nullptr || bytes->empty()) {
        answer(server, ctx.request, up);
        return;
    }
    send_answer(server, status, *bytes);
}

void Engine::on_timer_c(Handle client) {
    Entry* ce = find(client);
    if (ce != nullptr && ce->client && ce->role == Role::CallFork) {
        on_fork_timer_c(*ce);
        return;
    }
    if (ce == nullptr || !ce->client || ce->branch == kNoBranch) return;
    Entry* se = find(ce->server);
    if (se == nullptr || !se->proxy) return;
    // RFC 3261 16.8: Timer C fired on a branch that rang without an answer: CANCEL it (its 487 or
    // whatever it answers ends it); a branch that never answered ends by Timer B on its own.
    se->proxy->branches[ce->branch].timed_out = true;
    cancel_branch(*se, ce->branch);
}

void Engine::handle_response(sip::Message& msg) {
    if (auto ck = transaction::client_key(msg)) {
        auto it = by_key_.find(hash_key(*ck));
        if (it != by_key_.end()) {
            Entry* ce = find(it->second);
            if (ce != nullptr && ce->client) {
                response_in_flight_ = &msg;
                ce->tx.on_event(Event{EventKind::Response, &msg, {}, transaction::Timer::A});
                response_in_flight_ = nullptr;
                return;
            }
        }
    }
    ++counters_.responses_ignored;
}

void Engine::forward_ack(sip::Message& ack) {
    const auto pre = proxy::preprocess_routes(ack, *services_.self);
    if (pre.own_routes_removed == 0) {
        ++counters_.stray_acks;
        return;
    }
    proxy::Decision d = services_.router->route(ack, pre, *users_, forwards_.get(), services_.clock->now_s());
    if (d.kind != proxy::Decision::Kind::Forward || d.targets.empty()) {
        ++counters_.stray_acks;
        return;
    }
    const auto peer = peer_for(d.targets.front().hop);
    if (!peer) {
        ++counters_.stray_acks;
        return;
    }
    // RFC 3261 16.11: stateless forwarding, with a branch that is the same for a retransmitted ACK.
    const std::uint64_t h = sw::siphash24(sip_key_, ack.top_via().branch);
    proxy::BranchSpec spec;
    spec.request_uri = d.targets.front().request_uri;
    spec.via = via_value(
        peer->protocol, *local_address(peer->protocol, peer->address.is_v6()),
        proxy::branch_id(proxy::loop_hash(ack, sip_key_.k0, sip_key_.k1), transport::kNoMark, h & 0xffffff));
    transports_.send(*peer, proxy::build_branch_request(ack, spec));
    ++counters_.stateless_forwards;
}

}  // namespace sw::app
