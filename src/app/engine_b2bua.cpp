// The B2BUA of one worker: calls through SIP trunks. Every such call is two dialogs, one per side
// (RFC 3261 12; RFC 7092's "signalling B2BUA"): leg A is the side that called, leg B the side called,
// each with its own Call-ID, tags, CSeq and route set, so nothing of one side's topology (Via, Contact,
// Call-ID, internal addresses) reaches the other. SDP passes through unchanged (media anchoring is
// src/media's, later). Re-INVITE, UPDATE, INFO, MESSAGE and BYE are bridged; reliable provisional
// responses (RFC 3262) are handled on each side on its own. The trunk REGISTER clients run here too,
// on worker 0. Requests inside an established call and the call's own timers: engine_b2bua_dialog.cpp.
#include <asio/ip/address.hpp>
#include <cstdio>
#include <cstring>

#include "app/call_directory.hpp"
#include "app/engine.hpp"
#include "app/engine_internal.hpp"
#include "app/toll_setup.hpp"
#include "auth/digest_client.hpp"
#include "b2bua/call_legs.hpp"
#include "common/text.hpp"
#include "sip/builder.hpp"
#include "sip/validate.hpp"
#include "transaction/matching.hpp"
#include "transport/steering.hpp"

namespace sw::app {

using transaction::Event;
using transaction::EventKind;

namespace {
// Headers of a request that go on to the other leg with its body; everything else is the leg's own.
constexpr std::string_view kCarried[] = {
    "Content-Disposition", "Info-Package", "Event",    "Subscription-State",
    "Content-Encoding",    "Accept",       "Recv-Info"};
}  // namespace

void carry_headers(const sip::Message& m, dialog::RequestParts& p) {
    for (const auto& h : m.headers()) {
        for (std::string_view name : kCarried)
            if (sw::iequals(h.name, name)) p.headers.emplace_back(std::string(h.name), std::string(h.value));
    }
    if (!m.body().empty()) {
        p.body = std::string(m.body());
        p.content_type = std::string(m.header(sip::HeaderId::ContentType));
        if (p.content_type.empty()) p.content_type = "application/sdp";
    }
}

int best_failure(const std::vector<CallFork>& forks, std::size_t first, std::string& reason) {
    int best = 0;
    for (std::size_t i = first; i < forks.size(); ++i) {
        const CallFork& f = forks[i];
        if (f.status < 300) continue;
        const bool better = best == 0 || f.status == 486 || (f.status >= 600 && best != 486);
        if (better) {
            best = f.status;
            reason = f.reason;
        }
    }
    return best == 0 ? 480 : best;
}

void Engine::set_trunks(TrunkSet t) {
    trunks_ = std::move(t);
    // TLS trunks: our connections to them prove the trunk's host name in the provider's certificate.
    std::map<std::string, std::string> names;
    if (trunks_.trunks) {
        for (const auto& tr : *trunks_.trunks) {
            asio::error_code ec;
            const auto ip = asio::ip::make_address(tr.address, ec);
            if (tr.transport == transport::Protocol::Tls && !ec)
                names[transport::Transports::endpoint_key(ip, tr.effective_port())] = tr.host;
        }
    }
    transports_.set_tls_client(tls_client_, std::move(names));
    // On the worker's loop (at start: once it runs, when every worker is known and Call-IDs can be
    // chosen for worker 0).
    if (worker_ == 0) asio::post(io_, [this] { sync_registrations(); });
}

const b2bua::Trunk* Engine::trunk_for_source(const asio::ip::address& a) const {
    if (!trunks_.trunks) return nullptr;
    const auto v4 = a.is_v6() && a.to_v6().is_v4_mapped()
                        ? asio::ip::address(asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()))
                        : a;
    const std::string text = v4.to_string();
    for (const auto& t : *trunks_.trunks) {
        if (t.addresses.empty()) {
            if (!t.address.empty() && t.address == text) return &t;
            continue;
        }
        for (const auto& net : t.addresses)
            if (net.contains(text)) return &t;
    }
    return nullptr;
}

std::optional<transport::Peer> Engine::peer_for_trunk(const b2bua::Trunk& t) const {
    if (t.address.empty()) return std::nullopt;  // the host did not resolve
    asio::error_code ec;
    const auto address = asio::ip::make_address(t.address, ec);
    if (ec) return std::nullopt;
    const proxy::LocalAddress* local = local_address(t.transport, address.is_v6());
    if (local == nullptr) return std::nullopt;  // no listener of that transport and family to write in Via
    transport::Peer p;
    p.protocol = t.transport;
    p.address = address;
    p.port = t.effective_port();
    p.listener = local->udp_listener;
    // Streams: the connection open to the provider if any; else the transport opens one (TLS: verified).
    if (p.protocol != transport::Protocol::Udp)
        p.connection = transports_.find_connection(p.protocol, address, p.port);
    return p;
}

std::string Engine::call_contact(const transport::Peer& p) const {
    const proxy::LocalAddress* local = local_address(p.protocol, p.address.is_v6());
    if (local == nullptr) return {};
    std::string c = "<sip:" + local->hostport();
    if (p.protocol == transport::Protocol::Tcp) c += ";transport=tcp";
    if (p.protocol == transport::Protocol::Tls) c += ";transport=tls";
    return c + ">";
}

std::string Engine::new_call_id() {
    // Leg B's Call-ID must belong to this worker, like leg A's: its responses and requests are handed
    // here by Call-ID. A few tries at most (one in `workers` fits).
    for (;;) {
        std::string id = hex16(new_tag()) + hex16(new_tag());
        if (shard_of(id, shards_.size()) == worker_) return id;
    }
}

B2buaCall* Engine::find_call(Handle h) {
    if (h.slot >= calls_.size()) return nullptr;
    CallSlot& s = calls_[h.slot];
    return s.gen == h.gen ? s.call.get() : nullptr;
}

B2buaCall* Engine::new_call(Entry& e, sip::Message& msg, const transport::Peer& from, Handle& h) {
    std::uint32_t slot;
    if (!free_calls_.empty()) {
        slot = free_calls_.back();
        free_calls_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(calls_.size());
        calls_.emplace_back();
    }
    CallSlot& s = calls_[slot];
    s.call = std::make_unique<B2buaCall>();
    h = Handle{slot, s.gen};
    ++calls_live_;
    ++counters_.trunk_calls;
    B2buaCall& c = *s.call;
    e.role = Role::CallInvite;
    e.call = h;
    c.a_tx = e.fx.handle;
    c.a.dlg = dialog::uas_dialog(msg, hex16(e.to_tag));
    c.a.peer = from;
    c.a.contact = call_contact(from);
    c.a.established = true;
    c.a.key = hash_key(dialog_key_text(c.a.dlg.call_id, c.a.dlg.local_tag));
    calls_by_dialog_[c.a.key] = DialogRef{h, 0};
    c.a_reliable = b2bua::requires_100rel(msg);
    c.b_call_id = new_call_id();
    c.b_tag = hex16(new_tag());
    c.b.key = hash_key(dialog_key_text(c.b_call_id, c.b_tag));
    calls_by_dialog_[c.b.key] = DialogRef{h, 1};
    // Both Call-IDs stay with this worker until the call ends, whichever phone or worker a request reaches
    // (leg B's also hashes here; held too in case it loops back to us as a new request).
    hold_call(c.a.dlg.call_id, CallDirectory::kForever);
    hold_call(c.b_call_id, CallDirectory::kForever);
    c.a_invite.emplace(std::move(msg));
    return &c;
}

void Engine::free_call(Handle h) {
    B2buaCall* c = find_call(h);
    if (c == nullptr) return;
    for (std::uint64_t k : {c->a.key, c->b.key}) {
        auto it = calls_by_dialog_.find(k);
        if (it != calls_by_dialog_.end() && it->second.call == h) calls_by_dialog_.erase(it);
    }
    release_call(c->a.dlg.call_id);
    release_call(c->b_call_id);
    if (c->toll_ticket != 0 && services_.toll != nullptr)
        services_.toll->guard().ended(c->toll_ticket, unix_ms());
    if (!c->cdr.empty())
        cdr_end(c->cdr, c->cdr_result != 0 ? c->cdr_result : 500,
                c->cdr_reason.empty() ? "ended" : c->cdr_reason);
    CallSlot& s = calls_[h.slot];
    s.call.reset();
    ++s.gen;
    free_calls_.push_back(h.slot);
    --calls_live_;
}

void Engine::maybe_free_call(Handle h, B2buaCall& c) {
    if (!c.ended) return;
    for (const auto& f : c.forks)
        if (!f.done) return;
    free_call(h);
}

// ---- starting calls ----

void Engine::start_outbound_call(Entry& e, sip::Message& msg, const transport::Peer& from,
                                 const proxy::Decision& d) {
    const std::string number = b2bua::normalize_number(d.callee);
    std::vector<b2bua::Trunk> chosen;
    std::vector<b2bua::DialChoice> usable;
    outbound_routes(number, usable, chosen);
    if (usable.empty()) {
        answer(e, msg, 404);  // neither a user nor a number any route takes
        return;
    }
    // RFC 3261 8.2.2.3: as this call's UAS we judge Require; 100rel is ours to honour.
    if (auto req = msg.tokens(sip::HeaderId::Require); req) {
        std::string unsupported;
        for (std::string_view t : *req)
            if (!sw::iequals(t, "100rel")) unsupported.append(unsupported.empty() ? "" : ", ").append(t);
        if (!unsupported.empty()) {
            answer(e, msg, 420, {{"Unsupported", unsupported}});
            return;
        }
    }
    // Issue 9: SRTP policy and whether the relay carries the media, before anything is counted.
    const b2bua::Trunk& first = chosen.front();
    media::LegInfo leg_a = user_leg(from, d.caller, "caller");
    media::LegInfo leg_b;
    leg_b.secure = first.transport == transport::Protocol::Tls;
    leg_b.srtp = trunk_srtp_policy(first);
    leg_b.label = "trunk " + first.name;
    const auto anchored = anchor_wanted(e, msg, from, leg_a, leg_b);
    if (!anchored) return;
    // Issue 7 parts 4-5: calling rights, limits and the detector, judged on the best route's number.
    TollDecision toll;
    if (services_.toll != nullptr) {
        toll = judge_outbound(*services_.toll, d.caller, number, usable.front(), unix_ms());
        if (!toll.allowed) {
            refuse_outbound(e, msg, from, d, usable.front(), toll);
            return;
        }
    }
    Handle h;
    B2buaCall* c = new_call(e, msg, from, h);
    c->outbound = true;
    c->caller = d.caller;
    c->callee = number;
    c->toll_ticket = toll.ticket;
    c->toll_max_s = toll.max_duration_s;
    c->choices = std::move(usable);
    c->choice_trunks = std::move(chosen);
    c->forwards = d.forwards;  // forwarded here: the provider is told why (Diversion, History-Info)
    c->original_user = d.visited.empty() ? std::string() : d.visited.front();
    c->domain = d.domain;
    if (*anchored) anchor_call(h, *c, std::move(leg_a), std::move(leg_b));
    {
        const sip::Message& inv = *c->a_invite;
        storage::CdrCall rec{d.caller,
                             number,
                             d.callee,
                             storage::CdrDirection::Outbound,
                             c->choice_trunks.front().name,
                             source_text(from),
                             std::string(inv.header(sip::HeaderId::UserAgent)),
                             toll.verdict};
        c->cdr = cdr_start(std::move(rec));
    }
    spdlog::info("call {} -> {}: out through trunk {}", c->caller, number, c->choice_trunks.front().name);
    if (!try_next_route(h, *c)) {
        if (c->media_refusal) {
            refuse_media(h, *c, *c->media_refusal);
        } else {
            fail_call(h, *c, 503, "Service Unavailable (no trunk reachable)");
        }
    }
}

void Engine::start_inbound_call(Entry& e, sip::Message& msg, const transport::Peer& from,
                                const b2bua::Trunk& t) {
    // The DID is the Request-URI's number (tel:+49..., sip:+49...@us;user=phone); a provider that we
    // registered with calls our Contact and names the DID in To.
    std::string number = b2bua::number_of(msg.request_uri());
    std::string_view user =
        trunks_.dids && !number.empty() ? trunks_.dids->user_of(number) : std::string_view{};
    if (user.empty()) {
        const std::string to_number = b2bua::number_of(msg.to().uri);
        if (trunks_.dids && !to_number.empty()) user = trunks_.dids->user_of(to_number);
        if (!user.empty()) number = to_number;
    }
    if (user.empty()) {
        spdlog::info("INVITE {} from trunk {} ({}): 404, no such DID", msg.request_uri().raw, t.name,
                     from.address.to_string());
        answer(e, msg, 404);
        return;
    }
    if (services_.router == nullptr || !users_) {
        answer(e, msg, 480);
        return;
    }
    proxy::Decision d =
        services_.router->ring_user(std::string(user), *users_, forwards_.get(), services_.clock->now_s());
    if (d.kind == proxy::Decision::Kind::External) {
        // The DID's user forwards every call (or is away) to a number: out through a trunk again, as a
        // call of the user who forwards (whose rights and limits decide).
        spdlog::info("call from trunk {} to DID {}: forwarded out to {} as a call of {}", t.name, number,
                     d.callee, d.caller);
        for (const auto& hop : d.forwards)
            answer(e, msg, 181, {{"Call-Info", forwarding_info(hop, d.domain)}});
        start_outbound_call(e, msg, from, d);
        return;
    }
    if (d.kind != proxy::Decision::Kind::Forward || d.targets.empty()) {
        answer(e, msg, d.kind == proxy::Decision::Kind::Reply ? d.status : 480, {}, d.reason);
        return;
    }
    if (auto req = msg.tokens(sip::HeaderId::Require); req) {
        for (std::string_view tag : *req) {
            if (!sw::iequals(tag, "100rel")) {
                answer(e, msg, 420, {{"Unsupported", std::string(tag)}});
                return;
            }
        }
    }
    const std::string caller_number = b2bua::number_of(msg.from().uri);
    const std::string display(msg.from().display_name);
    // Issue 9: the trunk's SRTP policy on leg A; the user's contacts on leg B (SRTP only if all are on TLS).
    media::LegInfo leg_a = leg_info(from, trunk_srtp_policy(t), "trunk " + t.name);
    media::LegInfo leg_b = b_leg_info(d, srtp_policy_of(d.callee), "callee");
    const auto anchored = anchor_wanted(e, msg, from, leg_a, leg_b);
    if (!anchored) return;
    Handle h;
    B2buaCall* c = new_call(e, msg, from, h);
    if (*anchored) anchor_call(h, *c, std::move(leg_a), std::move(leg_b));
    c->outbound = false;
    c->trunk = t.name;
    c->caller = caller_number.empty() ? "anonymous" : caller_number;
    c->callee = d.callee;
    spdlog::info("call {} -> DID {} from trunk {}: rings {}", c->caller, number, t.name, d.callee);
    c->cdr = cdr_start(storage::CdrCall{c->caller,
                                        d.callee,
                                        number,
                                        storage::CdrDirection::Inbound,
                                        t.name,
                                        source_text(from),
                                        std::string(c->a_invite->header(sip::HeaderId::UserAgent)),
                                        {}});
    c->route = d;
    c->domain = d.domain;
    c->original_user = d.visited.empty() ? std::string() : d.visited.front();
    c->from_uri =
        (display.empty() ? std::string() : display + " ") + "<sip:" + c->caller + "@" + d.domain + ">";
    announce_local_forwards(*c, d.forwards);
    if (ring_targets(h, *c, d, c->from_uri)) arm_local_no_answer(h, *c);
}

dialog::RequestParts Engine::invite_parts(const transport::Peer& peer, const sip::Message& inv,
                                          bool offer_100rel) {
    // What every INVITE of leg B carries besides its dialog: our Via and Contact, what we allow and
    // support, the caller's body, and one hop less than it came with.
    const proxy::LocalAddress* out = local_address(peer.protocol, peer.address.is_v6());
    dialog::RequestParts p;
    p.via = via_value(peer.protocol, *out,
                      proxy::branch_id(new_tag(), transport::worker_mark(worker_), ++branch_counter_));
    p.contact = call_contact(peer);
    p.headers.emplace_back("Allow", std::string(kCallAllow));
    if (offer_100rel) p.headers.emplace_back("Supported", "100rel");
    p.headers.emplace_back("User-Agent", "sipwarden/0.1");
    carry_headers(inv, p);
    if (auto mf = inv.max_forwards(); mf && *mf > 0) p.max_forwards = std::min(*mf - 1, 70);
    return p;
}

bool Engine::try_next_route(Handle h, B2buaCall& c) {
    while (c.next_choice < c.choices.size()) {
        const std::size_t i = c.next_choice++;
        const b2bua::Trunk& t = c.choice_trunks[i];
        const auto peer = peer_for_trunk(t);
        if (!peer) {
            spdlog::warn("trunk {}: cannot reach {} over {} (not resolved, or no listener of that transport)",
                         t.name, t.host, transport::protocol_name(t.transport));
            continue;
        }
        const sip::Message& inv = *c.a_invite;
        const std::string& number = c.choices[i].number;
        // The caller ID the provider sees: the caller's DID, else the trunk's default, else the extension.
        std::string caller = c.caller;
        if (trunks_.dids) {
            if (auto did = trunks_.dids->number_of(c.caller); !did.empty()) {
                caller = std::string(did);
            } else if (!t.caller_id.empty()) {
                caller = t.caller_id;
            }
        } else if (!t.caller_id.empty()) {
            caller = t.caller_id;
        }
        bool privacy = false;
        for (std::string_view v : inv.values(sip::HeaderId::Privacy))
            privacy = privacy || v.find("id") != std::string_view::npos;
        dialog::Dialog pre;
        pre.call_id = c.b_call_id;
        pre.local_tag = c.b_tag;
        pre.local_uri = privacy ? std::string("\"Anonymous\" <sip:anonymous@anonymous.invalid>")
                                : b2bua::trunk_from(t, caller);
        pre.remote_uri = b2bua::trunk_to(t, number);
        pre.remote_target = b2bua::trunk_request_uri(t, number);
        CallFork f;
        f.peer = *peer;
        f.choice = i;
        f.cseq = ++c.b_cseq;
        // RFC 3262 3: we can PRACK a reliable provisional response, unless the provider mishandles it.
        dialog::RequestParts p = invite_parts(*peer, inv, !t.no_100rel);
        if (c.media) {
            c.media->set_leg(media::Side::B, leg_info(*peer, trunk_srtp_policy(t), "trunk " + t.name));
            if (!media_offer(h, c, p)) return false;
        }
        if (privacy) {
            p.headers.emplace_back("P-Asserted-Identity", b2bua::trunk_from(t, caller));
            p.headers.emplace_back("Privacy", "id");
        }
        if (!c.forwards.empty()) {
            // RFC 5806 Diversion (what providers read to let a forwarded caller's number through) and
            // RFC 7044 History-Info.
            p.headers.emplace_back("Diversion", proxy::diversion(c.forwards, c.domain));
            p.headers.emplace_back("History-Info",
                                   proxy::history_info(c.original_user, c.forwards, c.domain));
        }
        f.request = dialog::build_request(pre, "INVITE", f.cseq, p);
        c.trunk = t.name;
        c.forks.push_back(std::move(f));
        if (start_fork(h, c, c.forks.size() - 1)) return true;
        // Not sent: the next route, as for a trunk that cannot be reached.
    }
    return false;
}

bool Engine::start_fork(Handle h, B2buaCall& c, std::size_t i) {
    CallFork& f = c.forks[i];
    auto req = sip::Message::parse(f.request);
    if (!req) {
        spdlog::error("call {} -> {}: leg-B INVITE not sent: our own request does not parse", c.caller,
                      c.callee);
        f.done = true;
        f.status = 500;
        f.reason = "Server Internal Error (request not built)";
        return false;
    }
    Entry& ce = new_entry(transaction::Kind::ClientInvite, f.peer, f.request);
    ce.client = true;
    ce.role = Role::CallFork;
    ce.call = h;
    ce.branch = static_cast<std::uint32_t>(i);
    ce.key = hash_key(client_key_text(req->top_via().branch, "INVITE"));
    by_key_.emplace(ce.key, ce.fx.handle);
    f.tx = ce.fx.handle;
    ++counters_.transactions_created;
    ce.tx.on_event(Event{EventKind::Start, nullptr, {}, transaction::Timer::A});
    // Ringing without an answer for Timer C ends the fork (like the proxy's branches, RFC 3261 16.6).
    schedule(ce.fx.handle, kTimerC, ++ce.fx.timer_gen[kTimerC], config_.timer_c);
    // A trunk that says nothing at all (not even 100 Trying) for 8*T1 is taken for down: the call fails
    // over at once instead of after Timer B (64*T1).
    if (c.outbound)
        schedule(ce.fx.handle, kTimerNoAnswer, ++ce.fx.timer_gen[kTimerNoAnswer], config_.timers.t1 * 8);
    return true;
}

void Engine::on_fork_silent(Entry& ce) {
    B2buaCall* c = find_call(ce.call);
    if (c == nullptr || ce.branch >= c->forks.size()) return;
    CallFork& f = c->forks[ce.branch];
    if (f.done || f.provisional) return;
    f.cancel_wanted = true;  // a late provisional response gets a CANCEL (RFC 3261 9.1: not before one)
    spdlog::info("call {} -> {}: trunk {} does not answer", c->caller, c->callee,
                 c->choice_trunks[f.choice].name);
    on_fork_final(ce.call, *c, ce.branch, 408, "Request Timeout (trunk does not answer)");
}

void Engine::send_fork_cancel(CallFork& f) {
    if (f.cancel_sent || f.done) return;
    f.cancel_sent = true;
    auto req = sip::Message::parse(f.request);
    if (!req) return;
    Entry& ce = new_entry(transaction::Kind::ClientNonInvite, f.peer, proxy::build_cancel(*req));
    ce.client = true;
    ce.role = Role::CallAux;
    ce.key = hash_key(client_key_text(req->top_via().branch, "CANCEL"));
    by_key_.emplace(ce.key, ce.fx.handle);
    ++counters_.transactions_created;
    ce.tx.on_event(Event{EventKind::Start, nullptr, {}, transaction::Timer::A});
}

// ---- responses and failures of our client transactions ----

void Engine::on_fork_timer_c(Entry& ce) {
    B2buaCall* c = find_call(ce.call);
    if (c == nullptr || ce.branch >= c->forks.size()) return;
    CallFork& f = c->forks[ce.branch];
    if (f.done) return;
    // Rang for Timer C without an answer: cancel it; its 487 then counts as 408 (failover).
    f.timed_out = true;
    if (f.provisional) {
        send_fork_cancel(f);
    } else {
        on_fork_final(ce.call, *c, ce.branch, 408, {});
    }
}

void Engine::on_call_response(Entry& ce, const sip::Message& r) {
    switch (ce.role) {
        case Role::Register:
            on_register_response(ce.call.slot, r);
            return;
        case Role::CallRelayOut:
            on_relay_response(ce, r);
            return;
        case Role::CallFork: {
            ++ce.fx.timer_gen[kTimerNoAnswer];  // it answers
            B2buaCall* c = find_call(ce.call);
            if (c == nullptr) return;
            if (r.status() >= 200)
                ++ce.fx.timer_gen[kTimerC];
            else if (r.status() > 100)
                schedule(ce.fx.handle, kTimerC, ++ce.fx.timer_gen[kTimerC], config_.timer_c);
            on_fork_response(ce.call, *c, ce.branch, r);
            return;
        }
        default:
            return;  // PRACK, BYE, CANCEL: nothing to do with their answers
    }
}

void Engine::on_call_failure(Entry& ce, int status) {
    switch (ce.role) {
        case Role::Register:
            on_register_failure(ce.call.slot, status);
            return;
        case Role::CallRelayOut:
            if (Entry* se = find(ce.server); se != nullptr && !se->request.empty()) {
                if (auto req = sip::Message::parse(se->request)) answer(*se, *req, status);
                // No answer from the other side inside the dialog (RFC 5057 5.1): the call ends.
                if (B2buaCall* c = find_call(se->call); c != nullptr && status == 408) {
                    spdlog::info("call {} -> {}: no answer inside the dialog; ended", c->caller, c->callee);
                    if (c->cdr_reason.empty()) c->cdr_reason = "no answer inside the dialog";
                    (ce.branch == 0 ? c->a : c->b).confirmed = false;
                    hang_up(se->call, *c, -1);
                    c->ended = true;
                    maybe_free_call(se->call, *c);
                }
            }
            return;
        case Role::CallFork: {
            ++ce.fx.timer_gen[kTimerC];
            B2buaCall* c = find_call(ce.call);
            if (c == nullptr) return;
            on_fork_final(ce.call, *c, ce.branch, status, {});
            return;
        }
        default:
            return;
    }
}

void Engine::on_fork_response(Handle h, B2buaCall& c, std::size_t i, const sip::Message& r) {
    CallFork& f = c.forks[i];
    const int status = r.status();
    if (status == 100) return;
    auto req = sip::Message::parse(f.request);
    if (!req) return;
    if (status < 200) {
        f.provisional = true;
        if (f.cancel_wanted) {
            send_fork_cancel(f);
            return;
        }
        if (c.ended || c.winner) return;
        if (auto early = dialog::uac_dialog(*req, r);
            early && !c.b.confirmed && (!c.b.established || c.b.dlg.remote_tag != early->remote_tag)) {
            c.b.dlg = std::move(*early);
            c.b.peer = f.peer;
            c.b.established = true;
        }
        // RFC 3262 4: a reliable provisional response is acknowledged with PRACK in its early dialog,
        // once per RSeq (a retransmission carries the same number and gets no new PRACK).
        auto rseq = r.rseq();
        if (b2bua::requires_100rel(r) && rseq && *rseq && **rseq > f.rseq && c.b.established) {
            f.rseq = **rseq;
            dialog::RequestParts p;
            p.headers.emplace_back("RAck", std::to_string(f.rseq) + " " + std::to_string(f.cseq) + " INVITE");
            send_in_dialog(c, c.b, "PRACK", p, Role::CallAux, {}, 1);
        }
        relay_provisional(h, c, r);
        return;
    }
    if (status < 300) {
        if (c.winner && *c.winner == i) {
            // RFC 3261 13.2.2.4: a retransmitted 2xx means our ACK was lost: send it again.
            if (!c.b.ack.empty()) transports_.send(c.b.peer, c.b.ack);
            return;
        }
        auto d = dialog::uac_dialog(*req, r);
        if (!d) return;
        if (c.winner || c.ended || c.a_final_sent || f.done) {
            // A second answer (another contact, or after the caller gave up): ACK and end it at once.
            dialog::Dialog late = std::move(*d);
            dialog::RequestParts p;
            const proxy::LocalAddress* out = local_address(f.peer.protocol, f.peer.address.is_v6());
            p.via =
                via_value(f.peer.protocol, *out,
                          proxy::branch_id(new_tag(), transport::worker_mark(worker_), ++branch_counter_));
            transports_.send(f.peer, dialog::build_request(late, "ACK", f.cseq, p));
            dialog::RequestParts bye;
            bye.via =
                via_value(f.peer.protocol, *out,
                          proxy::branch_id(new_tag(), transport::worker_mark(worker_), ++branch_counter_));
            std::string bytes = dialog::build_request(late, "BYE", f.cseq + 1, bye);
            Entry& be = new_entry(transaction::Kind::ClientNonInvite, f.peer, bytes);
            be.client = true;
            be.role = Role::CallAux;
            if (auto bm = sip::Message::parse(bytes))
                be.key = hash_key(client_key_text(bm->top_via().branch, "BYE"));
            by_key_.emplace(be.key, be.fx.handle);
            be.tx.on_event(Event{EventKind::Start, nullptr, {}, transaction::Timer::A});
            f.done = true;
            maybe_free_call(h, c);
            return;
        }
        c.winner = i;
        f.done = true;
        f.status = status;
        // The early dialog's requests (PRACK) used CSeq numbers already: keep counting from there.
        const std::uint32_t used =
            c.b.established && c.b.dlg.remote_tag == d->remote_tag ? c.b.dlg.local_cseq : 0;
        c.b.dlg = std::move(*d);
        c.b.dlg.local_cseq = std::max(c.b.dlg.local_cseq, used);
        c.b.peer = f.peer;
        c.b.established = true;
        c.b.confirmed = true;
        dialog::RequestParts p;
        const proxy::LocalAddress* out = local_address(f.peer.protocol, f.peer.address.is_v6());
        p.via = via_value(f.peer.protocol, *out,
                          proxy::branch_id(new_tag(), transport::worker_mark(worker_), ++branch_counter_));
        if (c.a_invite->body().empty()) {
            // Late offer (RFC 3264 / RFC 3261 13.2.1): the offer is in this 2xx and the answer will be in
            // the caller's ACK, so our ACK on leg B waits for it.
            c.b.ack_wait = true;
            c.b.ack_cseq = f.cseq;
        } else {
            c.b.ack = dialog::build_request(c.b.dlg, "ACK", f.cseq, p);
            transports_.send(c.b.peer, c.b.ack);
        }
        for (std::size_t k = 0; k < c.forks.size(); ++k) {
            if (k == i || c.forks[k].done) continue;
            if (c.forks[k].provisional) {
                send_fork_cancel(c.forks[k]);
            } else {
                c.forks[k].cancel_wanted = true;
            }
        }
        // Leg A's 2xx: our tag, our Contact, the callee's SDP answer.
        const sip::Message& inv = *c.a_invite;
        sip::ResponseBuilder b(inv, status, r.reason());
        b.to_tag(c.a.dlg.local_tag);
        for (std::string_view rr : inv.values(sip::HeaderId::RecordRoute))
            b.header("Record-Route", rr);
        b.header("Contact", c.a.contact);
        b.header("Allow", kCallAllow);
        b.header("Server", "sipwarden/0.1");
        if (!r.body().empty()) {
            media::Refusal why;
            auto body = media_sdp(c, 1, r, true, why);
            if (!body) {
                // The callee's answer breaks a policy: it has its ACK, now its BYE; the caller a 488.
                refuse_media(h, c, why);
                return;
            }
            std::string_view ct = r.header(sip::HeaderId::ContentType);
            b.body(ct.empty() ? "application/sdp" : ct, *body);
        } else if (c.media && c.media->offer_pending() && c.media->offerer() == media::Side::A) {
            c.media->answered();  // RFC 3262: the answer came in a reliable 18x; the 2xx has none
        }
        std::string bytes = b.build();
        if (c.a_rel_unacked) {
            // RFC 3262 3: no final response before the PRACK of the reliable provisional before it.
            c.a_held_2xx = std::move(bytes);
            return;
        }
        send_a_2xx(h, c, std::move(bytes));
        return;
    }
    // 3xx-6xx (the client transaction has ACKed it).
    if ((status == 401 || status == 407) && c.outbound && !f.authenticated && !c.ended && !c.cancelled) {
        const b2bua::Trunk& t = c.choice_trunks[f.choice];
        if (!t.username.empty()) {
            // The provider asks who we are: the same INVITE again with the trunk's credentials.
            const std::string cnonce = hex16(new_tag());
            if (auto a = auth::answer_challenge(r, "INVITE", req->request_uri().raw, t.username, t.password,
                                                1, cnonce)) {
                CallFork next;
                next.peer = f.peer;
                next.choice = f.choice;
                next.authenticated = true;
                next.cseq = ++c.b_cseq;
                std::string bytes = f.request;
                // New branch, next CSeq, and the credentials (RFC 3261 22.2, 8.1.3.5).
                const std::string branch =
                    proxy::branch_id(new_tag(), transport::worker_mark(worker_), ++branch_counter_);
                const auto bpos = bytes.find(std::string(req->top_via().branch));
                if (bpos != std::string::npos) bytes.replace(bpos, req->top_via().branch.size(), branch);
                const auto cpos = bytes.find("\r\nCSeq: ");
                if (cpos != std::string::npos) {
                    const auto end = bytes.find("\r\n", cpos + 2);
                    bytes.replace(cpos, end - cpos, "\r\nCSeq: " + std::to_string(next.cseq) + " INVITE");
                }
                const auto hpos = bytes.find("\r\nContent-Length:");
                if (hpos != std::string::npos) bytes.insert(hpos + 2, a->header + ": " + a->value + "\r\n");
                next.request = std::move(bytes);
                c.forks.push_back(std::move(next));  // `f` is not valid from here on
                if (start_fork(h, c, c.forks.size() - 1)) {
                    c.forks[i].done = true;
                    c.forks[i].status = status;
                    return;
                }
                // Not sent: the challenge ends this fork like any other final answer (failover below).
            }
        }
    }
    // A fork cancelled because it rang for Timer C counts as not answered (failover), not as cancelled.
    const bool timed_out = c.forks[i].timed_out;
    on_fork_final(h, c, i, status == 487 && timed_out ? 408 : status, r.reason());
}

void Engine::on_fork_final(Handle h, B2buaCall& c, std::size_t i, int status, std::string_view reason) {
    CallFork& f = c.forks[i];
    if (f.done) return;
    f.done = true;
    f.status = status;
    f.reason = std::string(reason);
    if (c.ended) {
        maybe_free_call(h, c);
        return;
    }
    if (c.winner) return;
    if (c.outbound) {
        spdlog::info("call {} -> {}: trunk {} answered {}", c.caller, c.callee,
                     c.choice_trunks[f.choice].name, status);
        // Failover: the trunk is down or overloaded (5xx), or did not answer at all (408 without a
        // provisional response); a busy or rejected number (4xx, 6xx) would be the same on any trunk.
        // A 408 after ringing is the callee not answering (no other trunk would change that).
        const bool failover = (status >= 500 && status < 600) || (status == 408 && !f.provisional);
        if (failover && !c.cancelled && !c.a_final_sent) {
            // The early dialog with the failed trunk is gone; the next one starts afresh.
            c.b.established = false;
            c.b.dlg = dialog::Dialog{};
            if (try_next_route(h, c)) return;
        }
    }
    for (const auto& other : c.forks)
        if (!other.done) return;
    if (c.media_refusal) {  // the next route's offer broke a policy (its trunk's SRTP)
        refuse_media(h, c, *c.media_refusal);
        return;
    }
    if (c.route && forward_local(h, c)) return;
    std::string why;
    const int final_status = best_failure(c.forks, c.round, why);
    fail_call(h, c, final_status, why);
}

void Engine::relay_provisional(Handle, B2buaCall& c, const sip::Message& r) {
    send_a_provisional(c, r.status(), r.reason(), {}, &r);
}

void Engine::send_a_provisional(B2buaCall& c, int status, std::string_view reason, const Headers& extra,
                                const sip::Message* r) {
    if (c.a_final_sent) return;
    Entry* ae = find(c.a_tx);
    if (ae == nullptr) return;
    const sip::Message& inv = *c.a_invite;
    sip::ResponseBuilder b(inv, status, reason);
    b.to_tag(c.a.dlg.local_tag);
    for (std::string_view rr : inv.values(sip::HeaderId::RecordRoute))
        b.header("Record-Route", rr);
    b.header("Contact", c.a.contact);
    for (const auto& [name, value] : extra)
        b.header(name, value);
    if (c.a_reliable) {
        // RFC 3262 3: one reliable provisional response at a time; a later one waiting for the PRACK
        // of the first is dropped unless it carries a body (then it is the next one sent).
        if (c.a_rel_unacked) return;
        b.header("Require", "100rel");
        b.header("RSeq", std::to_string(++c.a_rseq));
    }
    if (r != nullptr && !r->body().empty()) {
        media::Refusal why;
        // Early media: the answer so far (the 2xx has the final one). One the relay refuses is dropped.
        if (auto body = media_sdp(c, 1, *r, false, why)) {
            std::string_view ct = r->header(sip::HeaderId::ContentType);
            b.body(ct.empty() ? "application/sdp" : ct, *body);
        }
    }
    std::string bytes = b.build();
    send_answer(*ae, status, bytes);
    if (c.a_reliable) {
        c.a_rel = std::move(bytes);
        c.a_rel_status = status;
        c.a_rel_unacked = true;
        c.a_rel_interval = config_.timers.t1;
        c.a_rel_elapsed = transaction::Duration{0};
        Handle h = ae->call;
        schedule(h, kCallTimer1xx, ++c.timer_gen[kCallTimer1xx], c.a_rel_interval);
    }
}

void Engine::send_a_2xx(Handle h, B2buaCall& c, std::string bytes) {
    Entry* ae = find(c.a_tx);
    if (ae == nullptr) return;
    spdlog::info("call {} -> {}: answered", c.caller, c.callee);
    cdr_answer(c.cdr);
    c.cdr_result = 200;
    // A call nobody hangs up (a phone that lost power, a provider that lost the BYE) ends after the
    // longest call allowed, so that neither the call nor what it costs runs on forever; an international
    // call also when the caller's minutes of the day are used up.
    auto longest = std::chrono::duration_cast<std::chrono::milliseconds>(config_.max_call_duration);
    if (c.toll_ticket != 0 && services_.toll != nullptr) {
        services_.toll->guard().answered(c.toll_ticket, unix_ms());
        if (c.toll_max_s >= 0 && std::chrono::seconds(c.toll_max_s) < longest) {
            longest = std::chrono::seconds(c.toll_max_s);
            c.toll_cut = true;
        }
    }
    schedule(h, kCallTimerMax, ++c.timer_gen[kCallTimerMax], longest);
    c.a_final_sent = true;
    c.a.confirmed = true;
    if (c.media) c.media->established();
    c.a.ok_tx = c.a_tx;
    c.a.ok_cseq = c.a_invite->cseq().number;
    send_answer(*ae, 200, bytes);
    c.a.ok = std::move(bytes);
    c.a.ok_interval = config_.timers.t1;
    c.a.ok_elapsed = transaction::Duration{0};
    if (c.a.peer.protocol == transport::Protocol::Udp) {
        schedule(h, kCallTimer2xxA, ++c.timer_gen[kCallTimer2xxA], c.a.ok_interval);
    } else {
        // Streams: no retransmission, but the ACK must still come (RFC 3261 13.3.1.4: 64*T1).
        c.a.ok_interval = config_.timers.timeout();
        schedule(h, kCallTimer2xxA, ++c.timer_gen[kCallTimer2xxA], c.a.ok_interval);
    }
}

void Engine::fail_call(Handle h, B2buaCall& c, int status, std::string_view reason) {
    if (c.cdr_reason.empty()) {
        c.cdr_result = c.a_final_sent && c.cdr_result == 200 ? 200 : status;
        c.cdr_reason = status == 487
                           ? "487 cancelled"
                           : std::to_string(status) + (reason.empty() ? "" : " ") + std::string(reason);
    }
    if (!c.a_final_sent) {
        c.a_final_sent = true;
        if (Entry* ae = find(c.a_tx)) answer(*ae, *c.a_invite, status, {}, reason);
    }
    if (c.winner) hang_up(h, c, -1);
    c.ended = true;
    for (auto& f : c.forks) {
        if (f.done) continue;
        if (f.provisional) {
            send_fork_cancel(f);
        } else {
            f.cancel_wanted = true;
        }
    }
    maybe_free_call(h, c);
}

void Engine::cancel_call(Handle h, B2buaCall& c) {
    // RFC 3261 9.2: the caller gave up: 487 for its INVITE, CANCEL for every fork still ringing.
    c.cancelled = true;
    spdlog::info("call {} -> {}: cancelled by the caller", c.caller, c.callee);
    fail_call(h, c, 487, {});
}

}  // namespace sw::app
