// The B2BUA inside an established call (engine_b2bua.cpp sets calls up): requests of either leg's dialog
// bridged to the other leg (re-INVITE, UPDATE, INFO, MESSAGE, PRACK, BYE), the answers to what was bridged,
// BYE on both sides when a call ends, and the call's timers (2xx retransmission, reliable provisional
// responses, the longest call).
#include "app/engine.hpp"
#include "app/engine_internal.hpp"
#include "b2bua/call_legs.hpp"
#include "sip/builder.hpp"
#include "sip/validate.hpp"
#include "transaction/matching.hpp"
#include "transport/steering.hpp"

namespace sw::app {

using transaction::Event;
using transaction::EventKind;

void Engine::send_in_dialog(B2buaCall&, CallLeg& leg, std::string_view method,
                            const dialog::RequestParts& parts, Role role, Handle server,
                            std::uint32_t leg_index) {
    const proxy::LocalAddress* out = local_address(leg.peer.protocol, leg.peer.address.is_v6());
    if (out == nullptr) return;
    dialog::RequestParts p = parts;
    const std::string branch =
        proxy::branch_id(new_tag(), transport::worker_mark(worker_), ++branch_counter_);
    p.via = via_value(leg.peer.protocol, *out, branch);
    const bool invite = method == "INVITE";
    if (invite || method == "UPDATE") p.contact = leg.contact;
    const std::string bytes = dialog::build_request(leg.dlg, method, ++leg.dlg.local_cseq, p);
    Entry& ce = new_entry(invite ? transaction::Kind::ClientInvite : transaction::Kind::ClientNonInvite,
                          leg.peer, bytes);
    ce.client = true;
    ce.role = role;
    ce.server = server;
    ce.branch = leg_index;
    ce.key = hash_key(client_key_text(branch, method));
    by_key_.emplace(ce.key, ce.fx.handle);
    ++counters_.transactions_created;
    ce.tx.on_event(Event{EventKind::Start, nullptr, {}, transaction::Timer::A});
}

void Engine::hang_up(Handle, B2buaCall& c, int except_leg) {
    // BYE to every side that has a confirmed dialog with us, but the one that hung up.
    if (except_leg != 0 && c.a.confirmed) send_in_dialog(c, c.a, "BYE", {}, Role::CallAux, {}, 0);
    if (except_leg != 1 && c.b.confirmed) send_in_dialog(c, c.b, "BYE", {}, Role::CallAux, {}, 1);
    c.a.confirmed = false;
    c.b.confirmed = false;
    ++c.timer_gen[kCallTimer2xxA];
    ++c.timer_gen[kCallTimer2xxB];
    ++c.timer_gen[kCallTimer1xx];
}

// ---- requests inside a call's dialogs ----

void Engine::call_in_dialog(sip::Message& msg, const transport::Peer& to, Handle h, std::uint32_t leg_index) {
    B2buaCall* cp = find_call(h);
    if (cp == nullptr) return;
    B2buaCall& c = *cp;
    CallLeg& leg = leg_index == 0 ? c.a : c.b;
    CallLeg& other = leg_index == 0 ? c.b : c.a;
    const sip::Method method = msg.method_id();
    // Only the side a leg was set up with may speak in its dialog: the phone from its address, the
    // provider from the address we called or one of its trunk's addresses. Knowing a Call-ID and a tag
    // (seen on the wire) is not enough to hang up or re-route somebody else's call.
    const bool trunk_leg = (leg_index == 1) == c.outbound;
    bool allowed = to.address == leg.peer.address;
    if (!allowed && trunk_leg) {
        const b2bua::Trunk* t = trunk_for_source(to.address);
        allowed = t != nullptr && t->name == c.trunk;
    }
    if (!allowed) {
        if (method != sip::Method::Ack) {
            spdlog::info("{} in call {} -> {} from {}: 403, not that call's {}", msg.method(), c.caller,
                         c.callee, to.address.to_string(), trunk_leg ? "trunk" : "phone");
            transports_.send(to,
                             build_tagged_answer(msg, 0, 403, {}, "Forbidden (not a party of this call)"));
        }
        return;
    }
    if (method == sip::Method::Ack) {
        // The ACK of our 2xx on this leg: stop resending it; and when the other leg's ACK waited for this
        // one's answer (late offer), send it now with that answer.
        if (!leg.ok.empty() && msg.cseq().number == leg.ok_cseq) {
            leg.ok.clear();
            ++c.timer_gen[leg_index == 0 ? kCallTimer2xxA : kCallTimer2xxB];
            if (other.ack_wait && other.confirmed) {
                other.ack_wait = false;
                const proxy::LocalAddress* out =
                    local_address(other.peer.protocol, other.peer.address.is_v6());
                dialog::RequestParts p;
                carry_headers(msg, p);
                media::Refusal why;
                if (!p.body.empty()) {
                    auto body = media_sdp(c, leg_index, msg, true, why);
                    if (body)
                        p.body = std::move(*body);
                    else
                        p.body.clear(), spdlog::warn("call {} -> {}: ACK answer refused: {}", c.caller,
                                                     c.callee, why.reason);
                }
                p.via = via_value(
                    other.peer.protocol, *out,
                    proxy::branch_id(new_tag(), transport::worker_mark(worker_), ++branch_counter_));
                std::string ack = dialog::build_request(other.dlg, "ACK", other.ack_cseq, p);
                transports_.send(other.peer, ack);
                if (&other == &c.b && other.ack_cseq == c.b.ack_cseq && c.b.ack.empty())
                    c.b.ack = std::move(ack);
            }
        }
        return;
    }
    const std::uint64_t key = hash_key(transaction::server_key(msg));
    Entry& e = create(msg, to, key);
    e.to_tag = 0;
    if (!dialog::accept_remote_cseq(leg.dlg, msg)) {
        answer(e, msg, 500, {}, "Server Internal Error (CSeq out of order)");
        return;
    }
    auto reply = [&](int status, const Headers& extra = {}, std::string_view reason = {}) {
        sip::ResponseBuilder b(msg, status, reason);
        for (const auto& [n, v] : extra)
            b.header(n, v);
        b.header("Server", "sipwarden/0.1");
        send_answer(e, status, b.build());
    };
    switch (method) {
        case sip::Method::Prack: {
            // RFC 3262 3: the PRACK of our reliable provisional response (RAck: RSeq CSeq INVITE).
            auto rack = sip::parse_rack(msg.header(sip::HeaderId::RAck));
            if (leg_index != 0 || !c.a_rel_unacked || !rack || rack->rseq != c.a_rseq ||
                rack->cseq != c.a_invite->cseq().number) {
                reply(481, {}, "Call/Transaction Does Not Exist (no such provisional response)");
                return;
            }
            c.a_rel_unacked = false;
            ++c.timer_gen[kCallTimer1xx];
            reply(200);
            if (!c.a_held_2xx.empty()) send_a_2xx(h, c, std::exchange(c.a_held_2xx, std::string()));
            return;
        }
        case sip::Method::Bye: {
            reply(200);
            if (c.cdr_reason.empty()) c.cdr_reason = leg_index == 0 ? "caller hung up" : "callee hung up";
            spdlog::info("call {} -> {}: hung up by {}", c.caller, c.callee,
                         leg_index == 0 ? "the caller" : "the callee");
            leg.confirmed = false;
            if (!c.a_final_sent && leg_index == 1) {
                fail_call(h, c, 480, {});  // the callee ended an early dialog
                return;
            }
            if (leg_index == 0 && !c.winner) {
                fail_call(h, c, 487, {});
                return;
            }
            hang_up(h, c, static_cast<int>(leg_index));
            c.ended = true;
            maybe_free_call(h, c);
            return;
        }
        case sip::Method::Options:
            reply(200, {{"Allow", std::string(kCallAllow)}});
            return;
        case sip::Method::Invite:
        case sip::Method::Update:
        case sip::Method::Info:
        case sip::Method::Message:
        case sip::Method::Notify:
            break;
        default:
            reply(501);
            return;
    }
    // re-INVITE, UPDATE, INFO, MESSAGE, NOTIFY: the same request on the other leg; its answer comes back.
    const bool early_ok = method == sip::Method::Update || method == sip::Method::Info;
    if (!other.established || (!other.confirmed && !early_ok) || c.ended) {
        reply(method == sip::Method::Invite ? 491 : 481);
        return;
    }
    if (method == sip::Method::Invite || method == sip::Method::Update) dialog::refresh_target(leg.dlg, msg);
    e.role = Role::CallRelayIn;
    e.call = h;
    e.branch = leg_index;
    e.request = msg.serialize();
    dialog::RequestParts p;
    carry_headers(msg, p);
    if (!p.body.empty() && (method == sip::Method::Invite || method == sip::Method::Update)) {
        media::Refusal why;
        auto body = media_sdp(c, leg_index, msg, true, why);
        if (!body) {
            spdlog::warn("{} in call {} -> {}: {} ({})", msg.method(), c.caller, c.callee, why.status,
                         why.reason);
            reply(why.status, {{"Reason", reason_header(why.status, why.reason)}});
            return;
        }
        p.body = std::move(*body);
    }
    send_in_dialog(c, other, msg.method(), p, Role::CallRelayOut, e.fx.handle, leg_index == 0 ? 1 : 0);
}

void Engine::on_relay_response(Entry& ce, const sip::Message& r) {
    const int status = r.status();
    if (status < 200) return;
    Entry* se = find(ce.server);
    if (se == nullptr || se->request.empty()) return;
    B2buaCall* c = find_call(se->call);
    auto req = sip::Message::parse(se->request);
    if (!req) return;
    if (c == nullptr) {
        answer(*se, *req, status);
        return;
    }
    CallLeg& out_leg = ce.branch == 0 ? c->a : c->b;  // where the relayed request went
    CallLeg& in_leg = ce.branch == 0 ? c->b : c->a;   // where it came from
    const bool invite = req->method_id() == sip::Method::Invite;
    if (status < 300 && invite) {
        // Our ACK for the far side's 2xx of the re-INVITE: at once when the re-INVITE carried the offer;
        // for an offerless re-INVITE the 2xx has the offer and the answer comes in the other side's ACK,
        // which our ACK then carries.
        dialog::refresh_target(out_leg.dlg, r);
        if (req->body().empty()) {
            out_leg.ack_wait = true;
            out_leg.ack_cseq = out_leg.dlg.local_cseq;
        } else {
            const proxy::LocalAddress* out =
                local_address(out_leg.peer.protocol, out_leg.peer.address.is_v6());
            dialog::RequestParts p;
            p.via =
                via_value(out_leg.peer.protocol, *out,
                          proxy::branch_id(new_tag(), transport::worker_mark(worker_), ++branch_counter_));
            transports_.send(out_leg.peer,
                             dialog::build_request(out_leg.dlg, "ACK", out_leg.dlg.local_cseq, p));
        }
    }
    if (status < 300 && req->method_id() == sip::Method::Update) dialog::refresh_target(out_leg.dlg, r);
    sip::ResponseBuilder b(*req, status, r.reason());
    if (status < 300 && (invite || req->method_id() == sip::Method::Update))
        b.header("Contact", in_leg.contact);
    b.header("Server", "sipwarden/0.1");
    if (!r.body().empty()) {
        media::Refusal why;
        if (auto body = media_sdp(*c, ce.branch, r, true, why)) {
            std::string_view ct = r.header(sip::HeaderId::ContentType);
            b.body(ct.empty() ? "application/sdp" : ct, *body);
        } else {
            spdlog::warn("call {} -> {}: answer to a re-INVITE refused: {}", c->caller, c->callee,
                         why.reason);
        }
    } else if (status >= 300 && c->media && c->media->offer_pending()) {
        c->media->offer_rejected();  // RFC 3264 8: a refused re-offer leaves the session as it was
    }
    std::string bytes = b.build();
    send_answer(*se, status, bytes);
    if (status == 481 || status == 408) {
        // RFC 5057 5.1: the far side no longer has the dialog (or cannot be reached): the call is over for
        // both sides.
        spdlog::info("call {} -> {}: {} to an in-dialog {}; ended", c->caller, c->callee, status,
                     req->method());
        if (c->cdr_reason.empty()) c->cdr_reason = std::to_string(status) + " inside the dialog";
        out_leg.confirmed = false;
        hang_up(se->call, *c, -1);
        c->ended = true;
        maybe_free_call(se->call, *c);
        return;
    }
    if (status < 300 && invite) {
        const std::uint8_t timer = ce.branch == 0 ? kCallTimer2xxB : kCallTimer2xxA;
        in_leg.ok = std::move(bytes);
        in_leg.ok_tx = se->fx.handle;
        in_leg.ok_cseq = req->cseq().number;
        in_leg.ok_interval =
            in_leg.peer.protocol == transport::Protocol::Udp ? config_.timers.t1 : config_.timers.timeout();
        in_leg.ok_elapsed = transaction::Duration{0};
        schedule(se->call, timer, ++c->timer_gen[timer], in_leg.ok_interval);
    }
}

void Engine::on_call_timer(Handle h, std::uint8_t timer) {
    B2buaCall* cp = find_call(h);
    if (cp == nullptr) return;
    B2buaCall& c = *cp;
    const auto limit = config_.timers.timeout();  // 64*T1
    if (timer == kCallTimerMax) {
        spdlog::info("call {} -> {}: longest call duration reached; ended", c.caller, c.callee);
        if (c.cdr_reason.empty())
            c.cdr_reason = c.toll_cut ? "international minutes used up" : "max duration";
        hang_up(h, c, -1);
        c.ended = true;
        maybe_free_call(h, c);
        return;
    }
    if (timer == kCallTimerNoAnswer) {
        if (c.a_final_sent || c.winner || c.ended) return;
        // The callee rang for its no-answer time: stop ringing it; once its forks have ended the call is
        // forwarded (on_fork_final -> forward_local).
        spdlog::info("call {} -> {}: not answered in time", c.caller, c.callee);
        c.no_answer_fired = true;
        for (std::size_t i = c.round; i < c.forks.size(); ++i) {
            CallFork& f = c.forks[i];
            if (f.done) continue;
            if (f.provisional) {
                send_fork_cancel(f);
            } else {
                f.cancel_wanted = true;
            }
        }
        return;
    }
    if (timer == kCallTimer1xx) {
        if (!c.a_rel_unacked) return;
        c.a_rel_elapsed += c.a_rel_interval;
        if (c.a_rel_elapsed >= limit) {
            // RFC 3262 3: no PRACK in 64*T1: the INVITE is rejected with a 5xx.
            c.a_rel_unacked = false;
            c.a_held_2xx.clear();
            fail_call(h, c, 500, "Server Internal Error (no PRACK)");
            return;
        }
        if (c.a.peer.protocol == transport::Protocol::Udp) {
            if (Entry* ae = find(c.a_tx)) send_answer(*ae, c.a_rel_status, c.a_rel);
            c.a_rel_interval *= 2;
        } else {
            c.a_rel_interval = limit - c.a_rel_elapsed;
        }
        schedule(h, kCallTimer1xx, ++c.timer_gen[kCallTimer1xx], c.a_rel_interval);
        return;
    }
    CallLeg& leg = timer == kCallTimer2xxA ? c.a : c.b;
    if (leg.ok.empty()) return;
    leg.ok_elapsed += leg.ok_interval;
    if (leg.ok_elapsed >= limit) {
        // RFC 3261 13.3.1.4: no ACK for our 2xx in 64*T1: the dialog is ended with BYE, both sides.
        spdlog::info("call {} -> {}: no ACK for the 2xx; ended", c.caller, c.callee);
        if (c.cdr_reason.empty()) c.cdr_reason = "no ACK";
        leg.ok.clear();
        hang_up(h, c, -1);
        c.ended = true;
        maybe_free_call(h, c);
        return;
    }
    if (Entry* e = find(leg.ok_tx)) {
        send_answer(*e, 200, leg.ok);
    } else {
        transports_.send(leg.peer, leg.ok);
    }
    leg.ok_interval = std::min(leg.ok_interval * 2, config_.timers.t2);
    if (leg.peer.protocol != transport::Protocol::Udp) leg.ok_interval = limit - leg.ok_elapsed;
    schedule(h, timer, ++c.timer_gen[timer], leg.ok_interval);
}

}  // namespace sw::app
