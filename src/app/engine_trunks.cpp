// The REGISTER clients of registering trunks, on worker 0: one b2bua::RegistrationClient per trunk (pure),
// run here with the worker's client transactions and timer queue; every change of state is reported
// through Services::trunk_status (the control loop writes it for `sipwarden trunk list`).
#include <cstdio>

#include "app/engine.hpp"
#include "app/engine_internal.hpp"
#include "transport/steering.hpp"

namespace sw::app {

using transaction::Event;
using transaction::EventKind;

// ---- trunk registrations (worker 0) ----

void Engine::sync_registrations() {
    std::vector<TrunkRegistration> next;
    if (trunks_.trunks) {
        for (const auto& t : *trunks_.trunks) {
            if (!t.register_with) continue;
            const std::string config = t.host + "|" + std::to_string(t.effective_port()) + "|" +
                                       std::string(transport::protocol_name(t.transport)) + "|" + t.username +
                                       "|" + t.password + "|" + t.from_domain + "|" +
                                       std::to_string(t.expires) + "|" + t.address;
            bool kept = false;
            for (auto& r : registrations_) {
                if (r.client && r.client->trunk().name == t.name && r.config == config) {
                    next.push_back(std::move(r));
                    kept = true;
                    break;
                }
            }
            if (kept) continue;
            TrunkRegistration r;
            r.config = config;
            std::string call_id;
            do {
                call_id = hex16(new_tag()) + hex16(new_tag());
            } while (shard_of(call_id, shards_.size()) != 0);
            r.client = std::make_unique<b2bua::RegistrationClient>(t, call_id, hex16(new_tag()));
            r.gen = 1;
            r.id = ++registration_ids_;
            next.push_back(std::move(r));
        }
    }
    registrations_ = std::move(next);
    // A new or changed client registers at once; timers of dropped ones find no generation to match.
    for (std::size_t i = 0; i < registrations_.size(); ++i) {
        auto& r = registrations_[i];
        ++r.gen;
        if (!r.in_flight && r.client->cseq() == 0) {
            send_register(i);
        } else {
            // Indexes may have moved: re-arm a refresh soon rather than lose the one pending.
            schedule(Handle{static_cast<std::uint32_t>(i), r.gen}, kRegisterTimer, 0,
                     std::chrono::seconds(1));
        }
    }
}

void Engine::send_register(std::size_t i) {
    TrunkRegistration& r = registrations_[i];
    const b2bua::Trunk& t = r.client->trunk();
    const auto peer = peer_for_trunk(t);
    const std::int64_t now = services_.clock != nullptr ? services_.clock->now_s() : 0;
    if (!peer) {
        const auto o = r.client->on_failure(
            t.address.empty() ? "host does not resolve" : "no listener for its transport", now);
        report(r);
        schedule(Handle{static_cast<std::uint32_t>(i), ++r.gen}, kRegisterTimer, 0, o.after);
        return;
    }
    const proxy::LocalAddress* out = local_address(peer->protocol, peer->address.is_v6());
    const std::string branch =
        proxy::branch_id(new_tag(), transport::worker_mark(worker_), ++branch_counter_);
    std::string contact = "<sip:" + (t.username.empty() ? std::string() : t.username + "@") + out->hostport();
    if (peer->protocol == transport::Protocol::Tcp) contact += ";transport=tcp";
    if (peer->protocol == transport::Protocol::Tls) contact += ";transport=tls";
    contact += ">";
    const std::string bytes =
        r.client->build(via_value(peer->protocol, *out, branch), contact, hex16(new_tag()));
    Entry& ce = new_entry(transaction::Kind::ClientNonInvite, *peer, bytes);
    ce.client = true;
    ce.role = Role::Register;
    ce.call = Handle{r.id, 0};
    ce.key = hash_key(client_key_text(branch, "REGISTER"));
    by_key_.emplace(ce.key, ce.fx.handle);
    r.in_flight = true;
    r.peer = *peer;
    ++counters_.trunk_registers;
    ++counters_.transactions_created;
    ce.tx.on_event(Event{EventKind::Start, nullptr, {}, transaction::Timer::A});
}

void Engine::report(const TrunkRegistration& r) {
    const auto& s = r.client->status();
    if (s.state == "failed") {
        spdlog::warn("trunk {}: registration failed: {}", s.name, s.detail);
    } else {
        spdlog::info("trunk {}: {} ({})", s.name, s.state, s.detail);
    }
    if (services_.trunk_status) services_.trunk_status(s);
}

void Engine::on_register_response(std::uint32_t id, const sip::Message& resp) {
    std::size_t i = 0;
    while (i < registrations_.size() && registrations_[i].id != id)
        ++i;
    if (i >= registrations_.size()) return;
    TrunkRegistration& r = registrations_[i];
    const std::string before = r.client->status().state + r.client->status().detail;
    const auto o = r.client->on_response(resp, services_.clock->now_s());
    if (o.next == b2bua::RegistrationClient::Next::Wait) return;
    r.in_flight = false;
    if (o.next == b2bua::RegistrationClient::Next::SendNow) {
        send_register(i);
        return;
    }
    if (r.client->status().state + r.client->status().detail != before ||
        o.next == b2bua::RegistrationClient::Next::Retry)
        report(r);
    else if (services_.trunk_status)
        services_.trunk_status(r.client->status());  // new expiry
    schedule(Handle{static_cast<std::uint32_t>(i), ++r.gen}, kRegisterTimer, 0, o.after);
}

void Engine::on_register_failure(std::uint32_t id, int status) {
    std::size_t i = 0;
    while (i < registrations_.size() && registrations_[i].id != id)
        ++i;
    if (i >= registrations_.size()) return;
    TrunkRegistration& r = registrations_[i];
    r.in_flight = false;
    const auto o = r.client->on_failure(status == 408 ? "timeout (no answer)" : "transport error",
                                        services_.clock->now_s());
    report(r);
    schedule(Handle{static_cast<std::uint32_t>(i), ++r.gen}, kRegisterTimer, 0, o.after);
}

void Engine::on_register_timer(std::size_t i) {
    if (i >= registrations_.size() || registrations_[i].in_flight || shutting_down_) return;
    send_register(i);
}

}  // namespace sw::app
