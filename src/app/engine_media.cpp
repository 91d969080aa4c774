// Media anchoring in the B2BUA (issue 9): which calls go through the relay, the SDP of every offer and
// answer that crosses the legs, the 488 of a call that breaks an SRTP policy, calls between users that
// the relay anchors, and the end of calls whose media went silent.
#include <asio/ip/address.hpp>

#include "app/engine.hpp"
#include "app/engine_internal.hpp"
#include "common/text.hpp"
#include "sdp/sdp.hpp"
#include "sip/builder.hpp"

namespace sw::app {

namespace {

bool is_sdp(const sip::Message& m) {
    if (m.body().empty()) return false;
    const std::string_view ct = m.header(sip::HeaderId::ContentType);
    return ct.empty() || sw::iequals(sw::trim(ct.substr(0, ct.find(';'))), "application/sdp");
}

bool is_private(const asio::ip::address& a) {
    if (a.is_v4()) {
        const auto b = a.to_v4().to_bytes();
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
               (b[0] == 100 && (b[1] & 0xc0) == 64);
    }
    const auto b = a.to_v6().to_bytes();
    return (b[0] & 0xfe) == 0xfc;  // RFC 4193 unique local
}

}  // namespace

media::SrtpPolicy Engine::srtp_policy_of(std::string_view user) const {
    if (users_ && !user.empty())
        if (const auth::UserRecord* u = users_->find(user); u != nullptr && !u->srtp.empty())
            if (auto p = media::srtp_policy_from(u->srtp)) return *p;
    return config_.media.user_srtp;
}

bool Engine::tls_required_of(std::string_view user) const {
    if (config_.media.tls_required) return true;
    if (!users_ || user.empty()) return false;
    const auth::UserRecord* u = users_->find(user);
    return u != nullptr && u->tls_required;
}

media::SrtpPolicy Engine::trunk_srtp_policy(const b2bua::Trunk& t) const {
    if (auto p = media::srtp_policy_from(t.srtp)) return *p;
    return config_.media.trunk_srtp;
}

media::LegInfo Engine::leg_info(const transport::Peer& p, media::SrtpPolicy policy, std::string label) const {
    media::LegInfo l;
    l.secure = p.protocol == transport::Protocol::Tls;
    l.srtp = policy;
    l.v6 = p.address.is_v6();
    if (auto a = media::NetAddress::from(p.address.to_string(), p.port)) l.signal_source = *a;
    l.label = std::move(label);
    return l;
}

media::LegInfo Engine::user_leg(const transport::Peer& p, std::string_view user, std::string label) const {
    media::LegInfo l = leg_info(p, srtp_policy_of(user), std::move(label));
    l.tls_required = tls_required_of(user);
    return l;
}

std::optional<bool> Engine::anchor_wanted(Entry& e, const sip::Message& inv, const transport::Peer& from,
                                          const media::LegInfo& a, const media::LegInfo& b) {
    using Anchor = MediaSettings::Anchor;
    // A user who must use TLS does not call over UDP or TCP (RFC 3261 26.2.2: SIPS end to end is theirs).
    if (a.tls_required && !a.secure) {
        spdlog::info("INVITE {} from {}: 488, the caller must use TLS", inv.request_uri().raw,
                     from.address.to_string());
        answer(e, inv, 488, {{"Reason", reason_header(488, "TLS required for the caller")}});
        return std::nullopt;
    }
    const Anchor mode = services_.media == nullptr ? Anchor::Never : config_.media.anchor;
    if (mode == Anchor::Always) return true;
    // What the direct path would need: SRTP on one side only, keys over a plain hop, a phone behind NAT.
    bool needed = false;
    std::string why;
    const bool required = a.srtp == media::SrtpPolicy::Required || b.srtp == media::SrtpPolicy::Required;
    if (is_sdp(inv)) {
        auto d = sdp::parse(inv.body());
        if (!d) {
            answer(e, inv, 488, {{"Reason", reason_header(488, "malformed SDP offer")}});
            return std::nullopt;
        }
        bool crypto = false;
        for (const auto& m : d->media) {
            crypto = crypto || m.attribute("crypto") != nullptr;
            const sdp::Connection* c = d->connection_for(m);
            if (m.port != 0 && c != nullptr && c->address != "0.0.0.0" && c->address != "::") {
                std::error_code ec;
                const auto ip = asio::ip::make_address(c->address, ec);
                // Behind NAT (Kamailio's nat_uac_test 8): a private media address the SIP does not come from.
                if (!ec && ip != from.address && is_private(ip))
                    needed = true, why = "the caller is behind NAT";
            }
        }
        const bool b_srtp = b.secure && b.srtp != media::SrtpPolicy::Off;
        if (crypto && !a.secure) needed = true, why = "SRTP keys over unencrypted signalling";
        // SRTP that cannot go end to end (a plain caller with an SRTP-capable callee is fine as it is).
        if (crypto && !b_srtp) needed = true, why = "SRTP on one side only";
    } else {
        // Late offer: the offer comes from B; SRTP on one side only is as likely.
        if (b.secure && !a.secure) needed = true, why = "SRTP keys would reach a plain hop";
    }
    if (required) needed = true, why = "an SRTP policy to enforce";
    if (!needed) return false;
    if (mode == Anchor::Never) {
        spdlog::info("INVITE {}: 488, media would need the relay ({}) and anchoring is off",
                     inv.request_uri().raw, why);
        answer(e, inv, 488, {{"Reason", reason_header(488, "media cannot flow directly: " + why)}});
        return std::nullopt;
    }
    return true;
}

std::uint64_t Engine::media_owner(Handle h) const {
    return (static_cast<std::uint64_t>(worker_) << 56) |
           (static_cast<std::uint64_t>(h.slot & 0xffffff) << 32) | h.gen;
}

void Engine::anchor_call(Handle h, B2buaCall& c, media::LegInfo a, media::LegInfo b) {
    if (services_.media == nullptr) return;
    c.media =
        std::make_unique<media::MediaCall>(*services_.media, media_owner(h), config_.media.plain_crypto);
    c.media->set_leg(media::Side::A, std::move(a));
    c.media->set_leg(media::Side::B, std::move(b));
}

std::optional<std::string> Engine::media_sdp(B2buaCall& c, std::uint32_t from_leg, const sip::Message& m,
                                             bool final, media::Refusal& why) {
    if (!c.media || !is_sdp(m)) return std::string(m.body());
    const media::Side from = from_leg == 0 ? media::Side::A : media::Side::B;
    // A body that comes while the other side's offer is open is the answer; anything else is an offer.
    const bool answer = c.media->offer_pending() && c.media->offerer() != from;
    auto r = answer ? c.media->answer(from, m.body(), final) : c.media->offer(from, m.body());
    if (!r) {
        why = r.error();
        return std::nullopt;
    }
    return std::move(*r);
}

bool Engine::media_offer(Handle, B2buaCall& c, dialog::RequestParts& p) {
    if (!c.media || !c.a_invite || !is_sdp(*c.a_invite)) return true;
    media::Refusal why;
    auto body = media_sdp(c, 0, *c.a_invite, false, why);
    if (!body) {
        // The caller answers it (refuse_media): this call may be freed then, which is the caller's to know.
        c.media_refusal = why;
        return false;
    }
    p.body = std::move(*body);
    return true;
}

void Engine::refuse_media(Handle h, B2buaCall& c, const media::Refusal& refusal) {
    const media::Refusal why = refusal;  // it may live in the call, which fail_call frees
    spdlog::warn("call {} -> {}: {} ({})", c.caller, c.callee, why.status, why.reason);
    if (!c.a_final_sent) {
        c.a_final_sent = true;
        if (Entry* ae = find(c.a_tx))
            answer(*ae, *c.a_invite, why.status, {{"Reason", reason_header(why.status, why.reason)}});
    }
    if (c.cdr_reason.empty()) {
        c.cdr_result = why.status;
        c.cdr_reason = std::to_string(why.status) + " " + why.reason;
    }
    fail_call(h, c, why.status, why.reason);
}

void Engine::on_media_timeout(std::uint64_t owner) {
    const Handle h{static_cast<std::uint32_t>((owner >> 32) & 0xffffff), static_cast<std::uint32_t>(owner)};
    B2buaCall* c = find_call(h);
    if (c == nullptr || c->ended || !c->media || media_owner(h) != owner) return;
    spdlog::info(
        "call {} -> {}: no media for {} s; ended", c->caller, c->callee,
        c->media->on_hold() ? services_.media->config().hold_timeout_s : services_.media->config().timeout_s);
    if (c->cdr_reason.empty()) c->cdr_reason = "media timeout";
    hang_up(h, *c, -1);
    c->ended = true;
    maybe_free_call(h, *c);
}

// ---- calls between users through the B2BUA ----

media::LegInfo Engine::b_leg_info(const proxy::Decision& d, media::SrtpPolicy policy,
                                  std::string label) const {
    media::LegInfo l;
    l.srtp = policy;
    l.label = std::move(label);
    bool first = true;
    for (const auto& t : d.targets) {
        const auto peer = peer_for(t.hop);
        if (!peer) continue;
        const media::LegInfo one = leg_info(*peer, policy, l.label);
        if (first) {
            l = one;
        } else {
            l.secure = l.secure && one.secure;
        }
        first = false;
    }
    // A callee that requires SRTP is rung on its TLS contacts only (ring_targets).
    if (policy == media::SrtpPolicy::Required)
        for (const auto& t : d.targets)
            if (auto peer = peer_for(t.hop); peer && peer->protocol == transport::Protocol::Tls)
                l.secure = true;
    return l;
}

void Engine::start_local_call(Entry& e, sip::Message& msg, const transport::Peer& from,
                              const proxy::Decision& d, media::LegInfo a, media::LegInfo b) {
    if (auto req = msg.tokens(sip::HeaderId::Require); req) {
        for (std::string_view tag : *req) {
            if (!sw::iequals(tag, "100rel")) {
                answer(e, msg, 420, {{"Unsupported", std::string(tag)}});
                return;
            }
        }
    }
    const std::string from_uri =
        msg.from().display_name.empty()
            ? "<" + std::string(msg.from().uri.raw) + ">"
            : std::string(msg.from().display_name) + " <" + std::string(msg.from().uri.raw) + ">";
    Handle h;
    B2buaCall* c = new_call(e, msg, from, h);
    c->outbound = false;
    c->local = true;
    anchor_call(h, *c, std::move(a), std::move(b));
    c->caller = d.caller.empty() ? std::string(msg.from().uri.user) : d.caller;
    c->callee = d.callee;
    c->cdr = cdr_start(storage::CdrCall{c->caller,
                                        d.callee,
                                        std::string(c->a_invite->request_uri().user),
                                        storage::CdrDirection::Internal,
                                        {},
                                        source_text(from),
                                        std::string(c->a_invite->header(sip::HeaderId::UserAgent)),
                                        {}});
    spdlog::info("call {} -> {}: media anchored", c->caller, d.callee);
    c->route = d;
    c->domain = d.domain;
    c->from_uri = from_uri;
    c->original_user = d.visited.empty() ? std::string() : d.visited.front();
    announce_local_forwards(*c, d.forwards);  // the unconditional steps the router took already
    if (!ring_targets(h, *c, d, from_uri)) return;
    arm_local_no_answer(h, *c);
}

void Engine::announce_local_forwards(B2buaCall& c, const std::vector<proxy::ForwardHop>& hops) {
    for (const auto& hop : hops) {
        // One 181 per step of a chain, as the proxy sends them.
        send_a_provisional(c, 181, {}, {{"Call-Info", forwarding_info(hop, c.domain)}}, nullptr);
        c.forwards.push_back(hop);
    }
}

void Engine::arm_local_no_answer(Handle h, B2buaCall& c) {
    c.no_answer_fired = false;
    if (!c.route || !c.route->callee_rules || !c.route->callee_rules->no_answer) return;
    schedule(h, kCallTimerNoAnswer, ++c.timer_gen[kCallTimerNoAnswer],
             std::chrono::seconds(c.route->callee_rules->no_answer->seconds));
}

bool Engine::ring_targets(Handle h, B2buaCall& c, const proxy::Decision& d, const std::string& from_uri) {
    const sip::Message& inv = *c.a_invite;
    dialog::Dialog pre;
    pre.call_id = c.b_call_id;
    pre.local_tag = c.b_tag;
    pre.local_uri = from_uri;
    pre.remote_uri = "<sip:" + d.callee + "@" + d.domain + ">";
    // A new round after forwarding: the same leg-B Call-ID and tag, the next CSeq, and only its own forks
    // are started and counted.
    c.round = c.forks.size();
    const std::uint32_t cseq = c.b_cseq + 1;
    for (const auto& target : d.targets) {
        CallFork f;
        const auto peer = peer_for(target.hop);
        if (!peer) continue;
        // A callee that must have SRTP (or TLS) is rung only where the keys can reach it: over TLS.
        const bool must_tls = (c.media && c.media->leg(media::Side::B).srtp == media::SrtpPolicy::Required) ||
                              tls_required_of(d.callee);
        if (must_tls && peer->protocol != transport::Protocol::Tls) continue;
        f.peer = *peer;
        dialog::Dialog fd = pre;
        fd.remote_target = target.request_uri;
        fd.route_set = target.routes;
        dialog::RequestParts p = invite_parts(*peer, inv, false);
        if (!c.forwards.empty()) {
            // RFC 7044 History-Info and RFC 5806 Diversion: why this phone rings (the proxy writes the same).
            p.headers.emplace_back("History-Info",
                                   proxy::history_info(c.original_user, c.forwards, d.domain));
            p.headers.emplace_back("Diversion", proxy::diversion(c.forwards, d.domain));
        }
        if (!media_offer(h, c, p)) {
            refuse_media(h, c, *c.media_refusal);  // frees the call: nothing of it is touched after this
            return false;
        }
        // Every contact of the extension rings at once (like the proxy's parallel forking), one CSeq for all.
        f.cseq = cseq;
        f.request = dialog::build_request(fd, "INVITE", f.cseq, p);
        c.forks.push_back(std::move(f));
    }
    c.b_cseq = cseq;
    if (c.forks.size() == c.round) {
        if (c.media && c.media->leg(media::Side::B).srtp == media::SrtpPolicy::Required) {
            refuse_media(
                h, c, media::Refusal{488, "SRTP required for the callee, which is not reachable over TLS"});
        } else {
            fail_call(h, c, 480, {});
        }
        return false;
    }
    bool started = false;
    for (std::size_t i = c.round; i < c.forks.size(); ++i)
        started = start_fork(h, c, i) || started;
    if (!started) {
        fail_call(h, c, 500, "Server Internal Error (request not built)");
        return false;
    }
    return true;
}

}  // namespace sw::app
