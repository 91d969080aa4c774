// Forwarding of calls the B2BUA carries (anchored calls between users, inbound DID calls): to another
// user after busy / no answer / unavailable (a new round of forks), and to an outside number, which
// goes out through the trunks as a call of the user who forwards (that user's rights and dial plan).
#include "app/engine.hpp"
#include "app/engine_internal.hpp"
#include "app/toll_setup.hpp"

namespace sw::app {

void Engine::outbound_routes(const std::string& number, std::vector<b2bua::DialChoice>& usable,
                             std::vector<b2bua::Trunk>& chosen) const {
    if (number.empty() || !trunks_.plan) return;
    for (auto& ch : trunks_.plan->match(number)) {
        const b2bua::Trunk* t = nullptr;
        if (trunks_.trunks)
            for (const auto& cand : *trunks_.trunks)
                if (cand.name == ch.route.trunk) t = &cand;
        if (t == nullptr) continue;
        chosen.push_back(*t);
        usable.push_back(std::move(ch));
    }
}

void Engine::forward_call_out(Handle h, B2buaCall& c, const proxy::Decision& d) {
    const std::string number = b2bua::normalize_number(d.callee);
    std::vector<b2bua::Trunk> chosen;
    std::vector<b2bua::DialChoice> usable;
    outbound_routes(number, usable, chosen);
    if (usable.empty()) {
        spdlog::info("call {} -> {}: forwarded to {}, which no route takes: 404", c.caller, c.callee,
                     d.callee);
        fail_call(h, c, 404, "Not Found (forwarding target)");
        return;
    }
    // The user whose rule sends the call out makes the call: that user's rights, limits and detector.
    TollDecision toll;
    if (services_.toll != nullptr) {
        toll = judge_outbound(*services_.toll, d.caller, number, usable.front(), unix_ms());
        if (!toll.allowed) {
            spdlog::warn("call {} -> {}: forwarding by {} to {} refused (403): {}", c.caller, c.callee,
                         d.caller, number, toll.reason);
            c.cdr_result = 403;
            c.cdr_reason = "forwarding to " + number + " refused: " + toll.reason;
            fail_call(h, c, 403, "Forbidden (forwarding target not allowed)");
            return;
        }
    }
    if (!c.cdr.empty()) cdr_end(c.cdr, 181, "forwarded to " + number);
    c.outbound = true;
    c.local = false;
    c.route.reset();
    c.caller = d.caller;
    c.callee = number;
    c.toll_ticket = toll.ticket;
    c.toll_max_s = toll.max_duration_s;
    c.choices = std::move(usable);
    c.choice_trunks = std::move(chosen);
    c.next_choice = 0;
    c.round = c.forks.size();
    c.b.established = false;
    c.b.dlg = dialog::Dialog{};
    c.cdr = cdr_start(storage::CdrCall{
        d.caller, number, d.callee, storage::CdrDirection::Outbound, c.choice_trunks.front().name,
        source_text(c.a.peer), std::string(c.a_invite->header(sip::HeaderId::UserAgent)), toll.verdict});
    spdlog::info("call {} -> {}: forwarded out through trunk {} as a call of {}", c.a_invite->from().uri.raw,
                 number, c.choice_trunks.front().name, d.caller);
    if (!try_next_route(h, c)) {
        if (c.media_refusal) {
            refuse_media(h, c, *c.media_refusal);
        } else {
            fail_call(h, c, 503, "Service Unavailable (no trunk reachable)");
        }
    }
}

bool Engine::forward_local(Handle h, B2buaCall& c) {
    if (c.cancelled || c.a_final_sent || !c.route || !c.route->callee_rules || services_.router == nullptr)
        return false;
    // As the proxy decides (maybe_forward): the callee's answer over its contacts of this round.
    std::string why;
    const int status = best_failure(c.forks, c.round, why);
    const auto kind = pbx::kind_after(status, c.no_answer_fired);
    if (!kind || !c.route->callee_rules->get(*kind)) return false;
    proxy::Decision next =
        services_.router->retarget(*c.route, *kind, *users_, forwards_.get(), services_.clock->now_s());
    announce_local_forwards(c, next.forwards);
    if (next.kind == proxy::Decision::Kind::External) {
        forward_call_out(h, c, next);
        return true;
    }
    if (next.kind != proxy::Decision::Kind::Forward) {
        spdlog::info("call {} -> {}: forwarding ({}) ends with {}", c.caller, c.callee, pbx::kind_name(*kind),
                     next.status);
        fail_call(h, c, next.status, next.reason);
        return true;
    }
    spdlog::info("call {} -> {}: forwarded ({}) to {}", c.caller, c.callee, pbx::kind_name(*kind),
                 next.callee);
    c.callee = next.callee;
    // The early dialogs with the old callee's phones are over; the new callee's start afresh, with its own
    // SRTP policy on leg B.
    c.b.established = false;
    c.b.dlg = dialog::Dialog{};
    if (c.media) c.media->set_leg(media::Side::B, b_leg_info(next, srtp_policy_of(next.callee), "callee"));
    c.route = std::move(next);
    if (ring_targets(h, c, *c.route, c.from_uri)) arm_local_no_answer(h, c);
    return true;
}

}  // namespace sw::app
