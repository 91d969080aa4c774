// The Engine's private types, shared by engine.cpp (server side, the server's own answers, REGISTER)
// and engine_proxy.cpp (the stateful proxy: branches, client transactions, response context).
#pragma once

#include <spdlog/spdlog.h>
#include <array>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/engine.hpp"
#include "b2bua/dial_plan.hpp"
#include "b2bua/registration.hpp"
#include "b2bua/trunk.hpp"
#include "dialog/dialog.hpp"
#include "proxy/forward.hpp"
#include "proxy/response_selection.hpp"
#include "proxy/router.hpp"

namespace sw::app {

// Index of Timer C in Fx::timer_gen, after the transaction timers A..M and Trying, and of the no-answer
// forwarding timer of a proxied INVITE (on its server transaction).
inline constexpr std::size_t kTimerC = 13;
inline constexpr std::size_t kTimerNoAnswer = 14;
static_assert(kTimerC == static_cast<std::size_t>(transaction::Timer::Trying) + 1);
// Timers of B2BUA calls (TimerItem::handle names a call, not a transaction) and of trunk registrations
// (handle.slot: the registration's index).
inline constexpr std::uint8_t kCallTimer2xxA = 32;      // our 2xx to leg A, resent until its ACK (UDP)
inline constexpr std::uint8_t kCallTimer2xxB = 33;      // the same on leg B
inline constexpr std::uint8_t kCallTimer1xx = 34;       // our reliable provisional to leg A, until its PRACK
inline constexpr std::uint8_t kCallTimerMax = 35;       // the longest a call may last
inline constexpr std::uint8_t kCallTimerNoAnswer = 36;  // a local call's callee rang its no-answer time
inline constexpr std::uint8_t kRegisterTimer = 40;

// What a transaction serves, for dispatching what it reports.
enum class Role : std::uint8_t {
    Proxy,         // the stateful proxy (server transaction, branch, or a branch's CANCEL)
    CallInvite,    // server: the INVITE that started a B2BUA call (leg A)
    CallFork,      // client: an INVITE of leg B (Entry::branch: the fork)
    CallRelayIn,   // server: an in-dialog request of a call, relayed to the other leg
    CallRelayOut,  // client: that request on the other leg (Entry::server: the server transaction)
    CallAux,       // client: ACK-less requests of a call whose answer needs nothing (PRACK, BYE, CANCEL)
    Register,      // client: a trunk's REGISTER (Entry::branch: the registration)
};

// "udp:192.0.2.1:5060", "tls:[2001:db8::1]:40001".
std::string source_text(const transport::Peer& p);

// RFC 3326: `SIP ;cause=STATUS ;text="TEXT"`, the text made a safe quoted-string (no quotes, backslashes
// or control characters). Every refusal that says why (toll guard, media policy, TLS) uses it.
std::string reason_header(int status, std::string_view text);

// The key of a client transaction in by_key_ (hashed): its branch and method.
inline std::string client_key_text(std::string_view branch, std::string_view method) {
    std::string k("c|");
    k.append(branch).append("|").append(method);
    return k;
}

// 16 lowercase hex digits: our tags and B2BUA Call-IDs.
// Unix time in milliseconds (call records, the toll-fraud guard).
inline std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

inline std::string hex16(std::uint64_t v) {
    char t[17];
    std::snprintf(t, sizeof t, "%016llx", static_cast<unsigned long long>(v));
    return std::string(t, 16);
}

// The shield's key of an address (IPv4-mapped IPv6 as IPv4).
security::AddressKey address_key(const asio::ip::address& a);
// The username of the first credentials in Authorization / Proxy-Authorization, or empty.
std::string credential_user(const sip::Message& m, sip::HeaderId id);

// The key of a B2BUA dialog in calls_by_dialog_ (hashed): Call-ID and our tag on that leg.
std::string dialog_key_text(std::string_view call_id, std::string_view local_tag);

// "SIP/2.0/UDP host:port;branch=...;rport"
inline std::string via_value(transport::Protocol p, const proxy::LocalAddress& local,
                             std::string_view branch) {
    std::string v("SIP/2.0/");
    v.append(transport::protocol_name(p)).append(" ").append(local.hostport());
    return v.append(";branch=").append(branch).append(";rport");
}

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
    std::array<std::uint32_t, 15> timer_gen{};  // A..M, Trying, Timer C, no-answer
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
    std::string cdr;                          // an INVITE's call detail record
    bool answered = false;
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
    Handle call{};                        // B2BUA transactions: their call (or registration: unused)
    Role role = Role::Proxy;
    std::uint32_t branch = 0;  // client transaction: its branch in that context
    bool client = false;
    Entry(Engine& engine, transport::Peer peer, transaction::Kind kind, bool reliable,
          const transaction::TimerConfig& timers, std::string request_bytes = {})
        : fx(engine, peer), tx(kind, std::move(request_bytes), reliable, timers, fx) {}
};

// One side of a B2BUA call: our dialog with that side (we are its UAS on leg A, its UAC on leg B).
struct CallLeg {
    dialog::Dialog dlg;
    transport::Peer peer;      // where this leg's requests go (the address the leg's INVITE used)
    std::string contact;       // our Contact on this leg
    bool established = false;  // the dialog exists (early or confirmed)
    bool confirmed = false;
    std::uint64_t key = 0;  // its entry in calls_by_dialog_
    // Our 2xx to an INVITE of this leg, resent over UDP until the ACK (RFC 3261 13.3.1.4).
    Engine::Handle ok_tx{};
    std::string ok;
    std::uint32_t ok_cseq = 0;
    transaction::Duration ok_interval{0};
    transaction::Duration ok_elapsed{0};
    // Our ACK of the far end's 2xx, sent again when the 2xx is.
    std::string ack;
    // Late offer: our ACK for the far end's 2xx (CSeq ack_cseq) waits for the answer in the other side's ACK.
    bool ack_wait = false;
    std::uint32_t ack_cseq = 0;
};

// One INVITE of leg B: outbound, one per trunk tried in turn (failover); inbound, one per contact of the
// extension, at once.
struct CallFork {
    std::string request;  // as sent
    transport::Peer peer;
    Engine::Handle tx{};
    std::size_t choice = 0;  // outbound: the dial plan choice it tries
    std::uint32_t cseq = 1;
    bool provisional = false;
    bool cancel_wanted = false;
    bool cancel_sent = false;
    bool done = false;
    bool authenticated = false;  // it answered the trunk's challenge already
    bool timed_out = false;      // cancelled by Timer C
    int status = 0;
    std::string reason;
    std::uint32_t rseq = 0;  // the last reliable provisional response PRACKed
};

// A call through the B2BUA: leg A is the side that called (a phone for outbound, a trunk for inbound),
// leg B the side called. Lives on the worker that owns leg A's Call-ID; leg B's Call-ID is chosen to
// belong to the same worker.
struct B2buaCall {
    bool outbound = true;
    std::string caller;  // extension (outbound) or calling number (inbound), for logs
    std::string callee;  // number dialled (outbound) or extension (inbound)
    std::string trunk;   // the trunk in use
    CallLeg a;
    CallLeg b;
    Engine::Handle a_tx{};
    std::optional<sip::Message> a_invite;
    bool a_final_sent = false;
    bool a_reliable = false;  // leg A required 100rel: our provisional responses to it are reliable
    std::uint32_t a_rseq = 0;
    bool a_rel_unacked = false;
    std::string a_rel;  // the reliable provisional waiting for its PRACK
    int a_rel_status = 0;
    transaction::Duration a_rel_interval{0};
    transaction::Duration a_rel_elapsed{0};
    std::string a_held_2xx;  // a 2xx held back until the reliable provisional before it is PRACKed
    std::vector<CallFork> forks;
    std::optional<std::size_t> winner;
    std::vector<b2bua::DialChoice> choices;   // outbound
    std::vector<b2bua::Trunk> choice_trunks;  // the trunk of each choice, as configured when the call began
    std::size_t next_choice = 0;
    std::uint32_t b_cseq = 0;
    std::string b_call_id;
    std::string b_tag;
    std::string cdr;                // its call detail record (empty once ended, or when none is written)
    int cdr_result = 0;             // how it ended, for the record: the final status (200 when answered) ...
    std::string cdr_reason;         // ... and why
    std::uint64_t toll_ticket = 0;  // the TollGuard's count of this outbound call (0: not counted)
    std::int64_t toll_max_s = -1;   // the longest it may last by the caller's international minutes
    bool toll_cut = false;          // the longest-call timer is the international minutes' limit
    bool cancelled = false;         // leg A cancelled
    bool ended = false;             // no more relaying: waiting only for the forks to finish
    bool local = false;             // a call between two users of ours (anchored media)
    // Local calls: the route being rung (the callee's forwarding rules with it), the forwarding steps so
    // far (181s sent, History-Info), and where the current round of forks starts in `forks`.
    std::optional<proxy::Decision> route;
    std::vector<proxy::ForwardHop> forwards;
    std::string original_user;
    std::string domain;  // of the forwarding steps' URIs
    std::string from_uri;
    std::size_t round = 0;
    bool no_answer_fired = false;
    std::unique_ptr<media::MediaCall> media;      // the relay's side of the call (null: SDP passes untouched)
    std::optional<media::Refusal> media_refusal;  // leg B's offer was refused (488 for leg A)
    std::array<std::uint32_t, 48> timer_gen{};
};

// The REGISTER client of one trunk, on worker 0.
struct TrunkRegistration {
    std::unique_ptr<b2bua::RegistrationClient> client;
    std::string config;     // the trunk settings it was made from (a change makes a new client)
    std::uint32_t gen = 0;  // of its timer
    std::uint32_t id = 0;   // names it in its REGISTER transactions (Entry::call.slot)
    transport::Peer peer;
    bool in_flight = false;
};

// The methods a B2BUA call's legs are offered (Allow), and the headers a bridged request carries to
// the other leg with its body (engine_b2bua.cpp).
inline constexpr std::string_view kCallAllow =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, MESSAGE";
void carry_headers(const sip::Message& m, dialog::RequestParts& p);
// The final status leg A hears when every fork of leg B from `first` on failed: busy wins (the callee
// is there), then a 6xx, then the last answer (480 when none answered); `reason` its reason phrase.
int best_failure(const std::vector<CallFork>& forks, std::size_t first, std::string& reason);
// Call-Info (RFC 3261 20.9) of a 181 Call Is Being Forwarded: the new target, who forwarded and why.
std::string forwarding_info(const proxy::ForwardHop& hop, const std::string& domain);

}  // namespace sw::app
