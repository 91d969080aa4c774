// The security shield on the path of a message (issue 7 parts 1-3): bans and deny networks dropped before
// parsing, token buckets per source for every packet and for REGISTER, per user for REGISTER and INVITE,
// scanners dropped and banned, password guessing banned, locked accounts answered like wrong passwords.
// The building blocks are src/security's; this file calls them where the engine handles a message.
#include <chrono>
#include <cstdio>
#include <utility>

#include "app/engine.hpp"
#include "app/engine_internal.hpp"
#include "app/toll_setup.hpp"
#include "security/scanner.hpp"
#include "sip/builder.hpp"

namespace sw::app {

security::AddressKey address_key(const asio::ip::address& a) {
    if (a.is_v4()) return security::AddressKey::from_v4(a.to_v4().to_bytes());
    const auto v6 = a.to_v6();
    if (v6.is_v4_mapped())
        return security::AddressKey::from_v4(asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes());
    return security::AddressKey::from_v6(v6.to_bytes());
}

namespace {
std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

void Engine::make_limiters() {
    const auto& s = config_.shield;
    auto key = [this](std::uint64_t salt) { return SipKey{sip_key_.k0 ^ salt, sip_key_.k1 + salt}; };
    per_source_ = std::make_unique<security::RateLimiter>(s.per_source, s.table_size, key(1));
    register_source_ = std::make_unique<security::RateLimiter>(s.register_per_source, s.table_size, key(2));
    // Replaced by the shared ones when set_services brings them.
    own_register_user_ =
        std::make_unique<security::SharedRateLimiter>(s.register_per_user, s.table_size, key(3));
    register_user_ = own_register_user_.get();
    own_invite_user_ = std::make_unique<security::SharedRateLimiter>(s.invite_per_user, s.table_size, key(4));
    invite_user_ = own_invite_user_.get();
}

std::int64_t Engine::now_s() const {
    return services_.clock != nullptr ? services_.clock->now_s() : 0;
}

bool Engine::admit(const transport::Peer& from, std::string_view bytes, bool& exempt) {
    exempt = false;
    if (services_.bans == nullptr) return true;
    const auto key = address_key(from.address);
    const auto verdict = services_.bans->check(key, now_s());
    if (verdict == security::Verdict::Exempt) {
        exempt = true;
        return true;
    }
    if (verdict != security::Verdict::Allowed) {
        ++counters_.dropped_banned;  // banned or in a deny network: not even parsed
        return false;
    }
    const auto r = per_source_->take(key, steady_ms());
    if (r == security::RateVerdict::Allowed) return true;
    ++counters_.dropped_flood;
    if (r == security::RateVerdict::Ban) {
        if (services_.bans->ban(key, now_s() + config_.shield.flood_ban_s, "flood", now_s()))
            spdlog::warn("{} banned for {} s: flood (over {} requests/s)", from.address.to_string(),
                         config_.shield.flood_ban_s, config_.shield.per_source.per_second);
    }
    // RFC 3261 21.5.4 / 20.33: over a stream, tell the client when to come back; over UDP, silence (an
    // answer to a spoofed source would make us the amplifier).
    if (from.protocol != transport::Protocol::Udp) {
        if (auto resp = sip::build_stateless_response(bytes, 503, "Service Unavailable (rate limit)")) {
            const auto at = resp->rfind("Content-Length:");
            if (at != std::string::npos)
                resp->insert(at, "Retry-After: " + std::to_string(per_source_->retry_after_s()) + "\r\n");
            transports_.send(from, std::move(*resp));
        }
    }
    return false;
}

bool Engine::screen(const sip::Message& msg, const transport::Peer& from, bool exempt) {
    if (services_.bans == nullptr || !msg.is_request()) return true;
    const std::string_view agent = msg.header(sip::HeaderId::UserAgent);
    if (!agent.empty() && security::is_scanner(agent, config_.shield.scanner_agents)) {
        // Scanners get nothing at all (not even a 4xx that would confirm a SIP server is here).
        ++counters_.dropped_scanner;
        if (!exempt && services_.bans->ban(address_key(from.address), now_s() + config_.shield.scanner_ban_s,
                                           "scanner", now_s())) {
            spdlog::warn("{} banned for {} s: scanner (User-Agent \"{}\")", from.address.to_string(),
                         config_.shield.scanner_ban_s, std::string(agent.substr(0, 60)));
        }
        return false;
    }
    return true;
}

bool Engine::exempt_source(const transport::Peer& from) const {
    return services_.bans == nullptr ||
           services_.bans->check(address_key(from.address), now_s()) == security::Verdict::Exempt;
}

void Engine::refuse_rate(const sip::Message& msg, const transport::Peer& to, std::uint32_t retry_after_s) {
    ++counters_.rate_limited;
    if (to.protocol == transport::Protocol::Udp) return;
    transports_.send(
        to, build_tagged_answer(msg, new_tag(), 503, {{"Retry-After", std::to_string(retry_after_s)}},
                                "Service Unavailable (rate limit)"));
}

bool Engine::within_user_rate(security::SharedRateLimiter& limiter, std::string_view user) {
    return user.empty() || limiter.take_name(user, steady_ms()) == security::RateVerdict::Allowed;
}

void Engine::auth_failed(const transport::Peer& from, std::string_view user) {
    if (services_.guard == nullptr || services_.bans == nullptr) return;
    const auto key = address_key(from.address);
    const auto f = services_.guard->on_failure(key, user, now_s());
    if (f.ban && services_.bans->ban(key, f.ban->until_s, "auth failures", now_s())) {
        spdlog::warn("{} banned for {} s: {} failed authentications (ban #{})", from.address.to_string(),
                     f.ban->seconds, services_.guard->config().max_failures, f.ban->repeat);
    }
    if (f.account_lock_started) {
        spdlog::error("ALERT: account {} locked until {}: failed authentications from {} or more addresses",
                      std::string(user), f.account_locked_until, services_.guard->config().account_addresses);
    }
}

void Engine::auth_succeeded(const transport::Peer& from, std::string_view user) {
    if (services_.guard != nullptr) services_.guard->on_success(address_key(from.address), user, now_s());
}

bool Engine::account_blocked(const transport::Peer& from, std::string_view user) const {
    if (services_.guard == nullptr) return false;
    return services_.guard->account_locked(user, address_key(from.address), now_s());
}

bool Engine::user_network_allowed(const transport::Peer& from, std::string_view user) const {
    return services_.bans == nullptr || services_.bans->user_allowed(user, address_key(from.address));
}

// ---- the toll-fraud guard (judged in start_outbound_call, engine_b2bua.cpp) ----

void Engine::refuse_outbound(Entry& e, const sip::Message& msg, const transport::Peer& from,
                             const proxy::Decision& d, const b2bua::DialChoice& first,
                             const TollDecision& toll) {
    // Logged once per attempt (a phone retransmitting the INVITE reaches the transaction, not this).
    spdlog::warn("call {} -> {} refused (403): {} [from {}]", d.caller, first.number, toll.reason,
                 source_text(from));
    storage::CdrCall rec{d.caller,
                         b2bua::normalize_number(d.callee),  // as for the calls that go out
                         d.callee,
                         storage::CdrDirection::Outbound,
                         first.route.trunk,
                         source_text(from),
                         std::string(msg.header(sip::HeaderId::UserAgent)),
                         toll.verdict};
    std::string id = cdr_start(std::move(rec));
    cdr_end(id, 403, toll.reason);
    answer(e, msg, 403, {{"Reason", reason_header(403, toll.reason)}});
}

std::string reason_header(int status, std::string_view text) {
    std::string t(text);
    for (char& ch : t)
        if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) ch = '\'';
    return "SIP ;cause=" + std::to_string(status) + " ;text=\"" + t + "\"";
}

std::string Engine::cdr_start(storage::CdrCall details) {
    if (services_.cdr == nullptr) return {};
    char id[48];
    std::snprintf(id, sizeof id, "%u-%llu-%08llx", static_cast<unsigned>(worker_),
                  static_cast<unsigned long long>(++cdr_counter_),
                  static_cast<unsigned long long>(new_tag() >> 32));
    const auto now = unix_ms();
    services_.cdr->submit(storage::CdrEvent::started(id, now, std::move(details)));
    return id;
}

void Engine::cdr_answer(const std::string& id) {
    if (services_.cdr == nullptr || id.empty()) return;
    const auto now = unix_ms();
    services_.cdr->submit(storage::CdrEvent::answered(id, now));
}

void Engine::cdr_end(std::string& id, int result, std::string reason) {
    if (services_.cdr == nullptr || id.empty()) return;
    const auto now = unix_ms();
    services_.cdr->submit(
        storage::CdrEvent::ended(std::exchange(id, std::string()), now, result, std::move(reason)));
}

void Engine::sweep_answered() {
    // A proxied call whose BYE never passed through us (both phones lost, or a route that skips us):
    // its record is closed when the longest call allowed is over, and the entry goes.
    const auto now = Clock::now();
    while (!answered_order_.empty() && answered_order_.front().first <= now) {
        const auto key = answered_order_.front().second;
        answered_order_.pop_front();
        auto it = answered_.find(key);
        if (it == answered_.end() || it->second.until > now) continue;
        cdr_end(it->second.cdr, 200, "no BYE seen");
        answered_.erase(it);
    }
}

std::string credential_user(const sip::Message& m, sip::HeaderId id) {
    auto all = m.auth(id);
    if (!all) return {};
    for (const auto& a : *all) {
        if (auto u = a.get("username")) return *u;
    }
    return {};
}

}  // namespace sw::app
