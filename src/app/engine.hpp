// One worker's share of the running server: transports -> parser -> the owner of the Call-ID ->
// transaction layer -> the core that answers requests addressed to the server itself.
//
// Threads (docs/architecture.md): one Engine per worker thread, each with its own io_context,
// transactions and timers. A message is parsed by the worker that received it and handed to the Engine
// that owns its Call-ID (asio::post to that worker's loop): the worker the call's first request reached,
// as the shared CallDirectory records (one striped lock per message). Everything of one transaction or
// dialog runs on one thread. REGISTER and OPTIONS for the server stay on the worker that received them
// (answered_where_received).
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/authenticator.hpp"
#include "b2bua/dial_plan.hpp"
#include "b2bua/trunk.hpp"
#include "common/flat_map.hpp"
#include "common/siphash.hpp"
#include "dialog/dialog.hpp"
#include "media/anchor.hpp"
#include "proxy/forward.hpp"
#include "proxy/response_selection.hpp"
#include "proxy/route_set.hpp"
#include "proxy/router.hpp"
#include "registrar/binding_writer.hpp"
#include "registrar/registrar.hpp"
#include "security/auth_guard.hpp"
#include "security/ban_list.hpp"
#include "security/token_bucket.hpp"
#include "sip/message.hpp"
#include "storage/cdr_writer.hpp"
#include "transaction/timers.hpp"
#include "transaction/transaction.hpp"
#include "transport/transports.hpp"

namespace sw::app {

struct ProxyContext;
struct ProxyBranch;
struct B2buaCall;
struct CallLeg;
struct CallFork;
enum class Role : std::uint8_t;
struct TrunkRegistration;
class TollPolicy;
struct TollDecision;

// The shield's limits (issue 7). Sources in an allow network (trunks, --allow-network, by default the
// host's own 127.0.0.1 and ::1) are exempt from all of them.
struct ShieldConfig {
    security::RateLimit per_source{200, 400, 400};        // every packet; 400 refusals in a row: a flood ban
    security::RateLimit register_per_source{50, 100, 0};  // REGISTERs from one address
    security::RateLimit register_per_user{5, 20, 0};      // REGISTERs for one user (from anywhere)
    security::RateLimit invite_per_user{10, 30, 0};       // INVITEs by one authenticated caller
    std::size_t table_size = 65536;                       // sources remembered per table and worker
    std::int64_t flood_ban_s = 600;
    std::int64_t scanner_ban_s = 86400;
    std::vector<std::string> scanner_agents;  // User-Agent texts banned besides the built-in list
};

// Media anchoring and SRTP policy (issue 9); the relay itself is Services::media.
struct MediaSettings {
    enum class Anchor : std::uint8_t {
        Auto,    // when media cannot flow directly: SRTP on one side only, keys that would cross a plain
                 // hop, a phone behind NAT (its SDP address is not where its SIP comes from)
        Always,  // every call through the B2BUA with the relay
        Never,   // media flows directly; a call that would need the relay is refused (488)
    };
    Anchor anchor = Anchor::Auto;
    media::SrtpPolicy user_srtp = media::SrtpPolicy::Preferred;   // users without a policy of their own
    media::SrtpPolicy trunk_srtp = media::SrtpPolicy::Preferred;  // trunks without one
    bool tls_required = false;  // users must register and call over TLS (per user: later)
    media::PlainCrypto plain_crypto = media::PlainCrypto::Strip;
};

struct EngineConfig {
    std::vector<transport::ListenSpec> listen;
    std::vector<std::string> domains;
    transport::Limits limits;
    transaction::TimerConfig timers;
    // RFC 3261 16.6 step 11: a proxied INVITE branch that has had a provisional response but no final
    // one after this long is cancelled (at least 3 minutes by the RFC).
    std::chrono::milliseconds timer_c{std::chrono::minutes(3)};
    bool sip_trace = false;
    ShieldConfig shield;
    // The longest a call through the B2BUA (a trunk call) may last before both sides get a BYE.
    std::chrono::seconds max_call_duration{std::chrono::hours(4)};
    MediaSettings media;
    // The most bytes of answers this worker keeps for retransmitted requests (retire()): past it the
    // oldest are let go early (RFC 3261 17.2.2's Timer J cut short), whatever a flood of requests does.
    std::size_t retired_budget_bytes = std::size_t{32} << 20;
};

struct EngineCounters {
    std::uint64_t requests = 0;
    std::uint64_t responses_ignored = 0;
    std::uint64_t malformed = 0;
    std::uint64_t retransmissions = 0;
    std::uint64_t transactions_created = 0;
    std::uint64_t stray_acks = 0;
    std::uint64_t handed_to_other_worker = 0;
    std::uint64_t registrations = 0;
    std::uint64_t auth_challenges = 0;
    std::uint64_t proxied = 0;             // requests forwarded statefully
    std::uint64_t branches = 0;            // client transactions started
    std::uint64_t stateless_forwards = 0;  // 2xx ACKs and stray responses
    std::uint64_t loops = 0;               // 482 Loop Detected
    std::uint64_t trunk_calls = 0;         // B2BUA calls begun (outbound and inbound)
    std::uint64_t trunk_registers = 0;     // REGISTERs sent to providers
    std::uint64_t dropped_banned = 0;      // packets from banned sources or deny networks (not parsed)
    std::uint64_t dropped_flood = 0;       // packets over a source's rate
    std::uint64_t dropped_scanner = 0;     // requests from scanners
    std::uint64_t rate_limited = 0;        // REGISTERs and INVITEs over a source's or user's rate
    std::uint64_t retired_early = 0;       // answers let go before Timer J: over retired_budget_bytes

    EngineCounters& operator+=(const EngineCounters& o);
};

// The transaction users shared by every worker (they are thread-safe); null: the feature is off and
// the request gets 405. Owned by run_server, they outlive the engines.
class CallDirectory;

struct Services {
    const auth::Authenticator* authenticator = nullptr;
    registrar::Registrar* registrar = nullptr;
    registrar::BindingWriter* writer = nullptr;
    const auth::Clock* clock = nullptr;
    const proxy::Router* router = nullptr;      // null: requests for users get 480 (no proxy)
    const proxy::SelfIdentity* self = nullptr;  // our domains and addresses (with router)
    // Worker 0 reports what its trunk registrations do (called on its thread; the callee posts).
    std::function<void(const b2bua::TrunkStatus&)> trunk_status;
    storage::CdrWriter* cdr = nullptr;  // call detail records; null: none written
    security::BanList* bans = nullptr;  // null: no shield
    security::AuthGuard* guard = nullptr;
    TollPolicy* toll = nullptr;  // calling rights and the toll-fraud guard; null: every external call allowed
    media::MediaRelay* media = nullptr;  // the media relay (thread-safe); null: no anchoring
    // The per-user REGISTER and INVITE limits, shared so that they hold whichever workers a user's
    // phones reach; null: each engine keeps its own (built from its ShieldConfig).
    security::SharedRateLimiter* register_per_user = nullptr;
    security::SharedRateLimiter* invite_per_user = nullptr;
    // Which worker keeps each Call-ID (call_directory.hpp); null: the owner is hash(Call-ID) % workers.
    CallDirectory* calls = nullptr;
};

// The trunks, the dial plan and the DIDs as the store holds them now (immutable snapshots).
struct TrunkSet {
    std::shared_ptr<const std::vector<b2bua::Trunk>> trunks;
    std::shared_ptr<const b2bua::DialPlan> plan;
    std::shared_ptr<const b2bua::DidTable> dids;
};

// Which worker owns a Call-ID (stable for the life of the process).
std::size_t shard_of(std::string_view call_id, std::size_t workers);

struct IdentityHashFwd {
    std::size_t operator()(std::uint64_t h) const { return static_cast<std::size_t>(h); }
};

class Engine : public transport::Receiver {
public:
    Engine(asio::io_context& io, EngineConfig config, transport::ConnectionBudget& budget,
           std::uint8_t worker = 0);
    ~Engine() override;

    // Binds every listener (reuse_port: the other workers bind the same addresses); the error names the
    // one that failed.
    sw::Result<bool, std::string> start(bool reuse_port = false);
    // Worker 0, once every worker has started: responses to a worker's requests reach its own UDP socket
    // (Transports::steer_udp_responses).
    sw::Result<bool, std::string> steer_responses(unsigned workers) {
        return transports_.steer_udp_responses(workers);
    }
    // Every worker's Engine, indexed by worker (this one included). Set before the loops run.
    void set_shards(std::vector<Engine*> shards);
    void set_tls_context(std::shared_ptr<asio::ssl::context> ctx) {
        transports_.set_tls_context(std::move(ctx));
    }
    void set_services(Services s) {
        services_ = s;
        // The shared per-user tables replace this engine's own, which are freed (a few MB each).
        if (s.register_per_user != nullptr) {
            register_user_ = s.register_per_user;
            own_register_user_.reset();
        }
        if (s.invite_per_user != nullptr) {
            invite_user_ = s.invite_per_user;
            own_invite_user_.reset();
        }
    }
    // The client context of TLS connections to trunks (verifies the providers' certificates).
    void set_tls_client_context(std::shared_ptr<asio::ssl::context> ctx) { tls_client_ = std::move(ctx); }
    // The users as the store holds them now (call on this worker's thread; the control loop posts it).
    void set_users(std::shared_ptr<const auth::UserDirectory> users) { users_ = std::move(users); }
    // The call forwarding rules as the store holds them now (this worker's thread).
    void set_forwards(std::shared_ptr<const pbx::ForwardingTable> f) { forwards_ = std::move(f); }
    void set_aliases(std::shared_ptr<const pbx::AliasTable> a) { aliases_ = std::move(a); }
    // Trunks, routes and DIDs (this worker's thread). Worker 0 starts, changes or stops the REGISTER
    // clients of registering trunks to match.
    void set_trunks(TrunkSet t);
    std::size_t live_calls() const { return calls_live_; }
    const transport::TransportCounters& transport_counters() const { return transports_.counters(); }
    // Stops receiving; the io_context keeps running until live transactions end or `grace` passes.
    // Call on this worker's thread.
    void shutdown(std::chrono::milliseconds grace);

    void on_message(const transport::Peer& from, std::string_view bytes) override;
    void end_of_burst() override;

    std::size_t live_transactions() const { return by_key_.size(); }

    // A transaction's place in the slab: index and generation, so a stale timer cannot reach a new entry.
    struct Handle {
        std::uint32_t slot = 0;
        std::uint32_t gen = 0;
        bool operator==(const Handle&) const = default;
    };
    const EngineCounters& counters() const { return counters_; }
    asio::io_context& io() { return io_; }
    transport::Transports& transports() { return transports_; }

private:
    struct Entry;
    class Fx;
    friend class Fx;
    struct Slot {
        std::unique_ptr<Entry> entry;
        std::uint32_t gen = 0;
    };
    using Clock = std::chrono::steady_clock;
    struct TimerItem {
        Clock::time_point at;
        Handle handle;
        std::uint32_t timer_gen;
        std::uint8_t timer;  // transaction::Timer, or kTimerC
        bool operator>(const TimerItem& o) const { return at > o.at; }
    };

    // A request for the server itself: no user part, no Route, one of our hosts (OPTIONS pings).
    bool for_server(const sip::Message& msg) const;
    // REGISTER and OPTIONS for the server itself: handled by the worker that received them.
    bool answered_where_received(const sip::Message& msg) const;
    // The worker a received message goes to (this one, or the owner of its Call-ID).
    std::size_t owner_of(const sip::Message& msg);
    // The Call-ID's state stays here `seconds` more (CallDirectory::hold), or ends (release).
    void hold_call(std::string_view call_id, std::uint32_t seconds);
    void release_call(std::string_view call_id);
    std::uint32_t timer_c_lease() const;
    void handle_message(sip::Message& msg, const transport::Peer& from);
    void handle_request(sip::Message& msg, const transport::Peer& from);
    // The server's own answers (RFC 3261 8.2 as a UAS): OPTIONS, 405, 480, 481, with merge detection.
    void answer_locally(Entry& e, sip::Message& msg, const transport::Peer& from);

    // ---- the shield (engine_shield.cpp) ----
    void make_limiters();
    std::int64_t now_s() const;
    // Before parsing: false drops the packet (banned, denied, over the source's rate). exempt: the source
    // is in an allow network.
    bool admit(const transport::Peer& from, std::string_view bytes, bool& exempt);
    // After parsing: false drops the request (a scanner, banned on the way).
    bool screen(const sip::Message& msg, const transport::Peer& from, bool exempt);
    bool exempt_source(const transport::Peer& from) const;
    bool within_user_rate(security::SharedRateLimiter& limiter, std::string_view user);
    // Over a rate: 503 with Retry-After over streams, nothing over UDP.
    void refuse_rate(const sip::Message& msg, const transport::Peer& to, std::uint32_t retry_after_s);
    void auth_failed(const transport::Peer& from, std::string_view user);
    void auth_succeeded(const transport::Peer& from, std::string_view user);
    bool account_blocked(const transport::Peer& from, std::string_view user) const;
    bool user_network_allowed(const transport::Peer& from, std::string_view user) const;

    // ---- call detail records (engine_shield.cpp) ----
    // A new record (start event); returns its id, or empty when no records are written.
    std::string cdr_start(storage::CdrCall details);
    void cdr_answer(const std::string& id);
    // The end event, once: `id` is cleared.
    void cdr_end(std::string& id, int result, std::string reason);
    // Answered proxied calls, by Call-ID, until their BYE passes (or max_call_duration passes).
    struct AnsweredCall {
        std::string cdr;
        std::string caller_tag;
        Clock::time_point until;
    };
    std::unordered_map<std::uint64_t, AnsweredCall, IdentityHashFwd> answered_;
    std::deque<std::pair<Clock::time_point, std::uint64_t>> answered_order_;
    std::uint64_t cdr_counter_ = 0;
    void sweep_answered();

    // ---- the B2BUA: calls through trunks (engine_b2bua.cpp) ----
    const b2bua::Trunk* trunk_for_source(const asio::ip::address& a) const;
    std::optional<transport::Peer> peer_for_trunk(const b2bua::Trunk& t) const;
    // An INVITE for a number outside the company (Decision::Kind::External): out through the dial plan.
    // 403 with a Reason for an outbound call the toll-fraud guard refused, logged and recorded.
    void refuse_outbound(Entry& e, const sip::Message& msg, const transport::Peer& from,
                         const proxy::Decision& d, const b2bua::DialChoice& first, const TollDecision& toll);
    void start_outbound_call(Entry& e, sip::Message& msg, const transport::Peer& from,
                             const proxy::Decision& d);
    // An INVITE from a trunk: to the extension its DID names.
    void start_inbound_call(Entry& e, sip::Message& msg, const transport::Peer& from, const b2bua::Trunk& t);
    // A call between users through the B2BUA, for the media relay (engine_media.cpp).
    void start_local_call(Entry& e, sip::Message& msg, const transport::Peer& from, const proxy::Decision& d,
                          media::LegInfo a, media::LegInfo b);
    // Leg B of a call to a user's contacts: secure only if every contact is reached over TLS.
    media::LegInfo b_leg_info(const proxy::Decision& d, media::SrtpPolicy policy, std::string label) const;
    // Rings every target of `d` as a new round of forks (a forwarded call rings its next callee so).
    bool ring_targets(Handle h, B2buaCall& c, const proxy::Decision& d, const std::string& from_uri);
    // A local call whose callee was busy, did not answer or could not be reached: on to the callee's
    // forwarding target (181 to the caller) when a rule says so. False: no rule, the call fails as it is.
    bool forward_local(Handle h, B2buaCall& c);
    // A proxied call whose forwarding leads to a number: the server transaction goes to the B2BUA.
    void forward_out(Entry& server, proxy::Decision d);
    // The same for a call the B2BUA rings a user with (anchored, or from a trunk).
    void forward_call_out(Handle h, B2buaCall& c, const proxy::Decision& d);
    // The dial plan's routes for `number` whose trunks exist, best first, with their trunks.
    void outbound_routes(const std::string& number, std::vector<b2bua::DialChoice>& usable,
                         std::vector<b2bua::Trunk>& chosen) const;
    void announce_local_forwards(B2buaCall& c, const std::vector<proxy::ForwardHop>& hops);
    void arm_local_no_answer(Handle h, B2buaCall& c);
    // ---- media (engine_media.cpp) ----
    // Whether this INVITE between A and B is anchored; nullopt: refused (answered 488 already).
    std::optional<bool> anchor_wanted(Entry& e, const sip::Message& inv, const transport::Peer& from,
                                      const media::LegInfo& a, const media::LegInfo& b);
    media::LegInfo leg_info(const transport::Peer& p, media::SrtpPolicy policy, std::string label) const;
    // A user's SRTP policy (`user media EXT --srtp`), else the server's --srtp; a trunk's likewise.
    media::SrtpPolicy srtp_policy_of(std::string_view user) const;
    media::SrtpPolicy trunk_srtp_policy(const b2bua::Trunk& t) const;
    bool tls_required_of(std::string_view user) const;
    media::LegInfo user_leg(const transport::Peer& p, std::string_view user, std::string label) const;
    void anchor_call(Handle h, B2buaCall& c, media::LegInfo a, media::LegInfo b);
    // The body a request or response of `from_leg` carries on to the other leg (rewritten by the call's
    // anchor); nullopt: refused, `why` says how.
    std::optional<std::string> media_sdp(B2buaCall& c, std::uint32_t from_leg, const sip::Message& m,
                                         bool final, media::Refusal& why);
    // Leg B's offer in `p` from leg A's INVITE; false: refused (why in c.media_refusal; the caller then
    // calls refuse_media, which may free the call).
    bool media_offer(Handle h, B2buaCall& c, dialog::RequestParts& p);
    void refuse_media(Handle h, B2buaCall& c, const media::Refusal& why);

public:
    // The relay found the call's media gone silent (posted to this worker by the relay's thread).
    void on_media_timeout(std::uint64_t owner);
    static std::size_t media_owner_worker(std::uint64_t owner) { return owner >> 56; }

private:
    std::uint64_t media_owner(Handle h) const;
    B2buaCall* new_call(Entry& e, sip::Message& msg, const transport::Peer& from, Handle& h);
    B2buaCall* find_call(Handle h);
    void free_call(Handle h);
    bool try_next_route(Handle h, B2buaCall& c);
    dialog::RequestParts invite_parts(const transport::Peer& peer, const sip::Message& inv,
                                      bool offer_100rel);
    // Starts the fork's client transaction. false: its request does not parse (our own bytes, so a bug
    // or a peer's input we should have refused); the fork is then done with 500 and the caller goes on
    // as for any failed fork.
    bool start_fork(Handle h, B2buaCall& c, std::size_t fork);
    void send_fork_cancel(CallFork& f);
    void on_call_response(Entry& ce, const sip::Message& r);
    void on_call_failure(Entry& ce, int status);
    void on_fork_response(Handle h, B2buaCall& c, std::size_t fork, const sip::Message& r);
    void on_fork_final(Handle h, B2buaCall& c, std::size_t fork, int status, std::string_view reason);
    void relay_provisional(Handle h, B2buaCall& c, const sip::Message& r);
    // A provisional response of our own to leg A (reliable when leg A asked for 100rel); `r`: the leg-B
    // response whose body (early media) it carries, or null.
    void send_a_provisional(B2buaCall& c, int status, std::string_view reason,
                            const std::vector<std::pair<std::string_view, std::string>>& extra,
                            const sip::Message* r);
    void send_a_2xx(Handle h, B2buaCall& c, std::string bytes);
    void fail_call(Handle h, B2buaCall& c, int status, std::string_view reason);
    void cancel_call(Handle h, B2buaCall& c);
    void hang_up(Handle h, B2buaCall& c, int except_leg);
    void send_in_dialog(B2buaCall& c, CallLeg& leg, std::string_view method,
                        const dialog::RequestParts& parts, Role role, Handle server, std::uint32_t leg_index);
    void call_in_dialog(sip::Message& msg, const transport::Peer& to, Handle h, std::uint32_t leg);
    void on_relay_response(Entry& ce, const sip::Message& r);
    void on_call_timer(Handle h, std::uint8_t timer);
    void maybe_free_call(Handle h, B2buaCall& c);
    std::string call_contact(const transport::Peer& p) const;
    std::string new_call_id();
    // Trunk registrations (worker 0).
    void sync_registrations();
    void send_register(std::size_t i);
    void on_register_response(std::uint32_t id, const sip::Message& r);
    void on_register_failure(std::uint32_t id, int status);
    void on_fork_timer_c(Entry& ce);
    void on_fork_silent(Entry& ce);
    void on_register_timer(std::size_t i);
    void report(const TrunkRegistration& r);

    // ---- the stateful proxy (engine_proxy.cpp) ----
    // Carries out the routing decision for a request that is not for the server itself.
    void proxy_request(Entry& e, sip::Message& msg, const transport::Peer& from, proxy::Decision d);
    void handle_response(sip::Message& msg);
    void forward_ack(sip::Message& ack);
    void start_branch(Entry& server, std::size_t branch);
    void cancel_branch(Entry& server, std::size_t branch);
    void cancel_pending(Entry& server, std::size_t except);
    void send_cancel(ProxyBranch& branch);
    void send_best(Entry& server);
    void on_branch_response(Handle client, const sip::Message& response);
    void on_branch_failed(Handle client, int status);
    void apply_verdict(Entry& server, std::size_t branch, const proxy::ResponseContext::Verdict& v,
                       int status, std::string* upstream);
    void on_timer_c(Handle client);
    void on_no_answer(Handle server);
    // Call forwarding after the callee failed (busy, unavailable, no answer): true when the call goes on
    // to a forwarding target (or ended with the forwarding's own answer).
    bool maybe_forward(Entry& server);
    // Sends a 181 per new forwarding step (INVITE only), records the steps, and starts the new targets.
    void ring_forwarded(Entry& server, proxy::Decision d);
    void announce_forwards(Entry& server, const std::vector<proxy::ForwardHop>& hops);
    // Our address for sending to `hop`: the listener of its transport and address family.
    const proxy::LocalAddress* local_address(transport::Protocol protocol, bool ipv6) const;
    std::optional<transport::Peer> peer_for(const proxy::NextHop& hop) const;
    Entry& create(sip::Message& msg, const transport::Peer& to, std::uint64_t key);
    // A slab entry for a transaction (not yet in by_key_).
    Entry& new_entry(transaction::Kind kind, const transport::Peer& peer, std::string request_bytes);
    Entry* find(Handle h);
    using Headers = std::vector<std::pair<std::string_view, std::string>>;
    // The transaction user's answer to a request (RFC 3261 8.2 as a UAS for the server itself).
    void answer(Entry& e, const sip::Message& req, int status, const Headers& extra = {},
                std::string_view reason = {});
    // An answer with the given To tag (a transaction's, or a fresh one for an answer without a transaction).
    std::string build_tagged_answer(const sip::Message& req, std::uint64_t to_tag, int status,
                                    const Headers& extra, std::string_view reason);
    std::string build_answer(const Entry& e, const sip::Message& req, int status, const Headers& extra,
                             std::string_view reason);
    void send_answer(Entry& e, int status, std::string_view bytes);
    void handle_register(Entry& e, const sip::Message& req, const transport::Peer& from);
    // What an OPTIONS for the server is answered with (RFC 3261 11.2): Allow, Accept, Supported.
    static Headers options_headers();
    // One WWW-Authenticate / Proxy-Authenticate (`name`) per algorithm, with one fresh nonce.
    Headers challenge_headers(std::string_view name, bool stale, const sip::Message& req) const;
    void flush_terminated();
    // RFC 3261 17.2.2: a non-INVITE server transaction on UDP in Completed only resends its final
    // response to retransmissions until Timer J (64*T1, the same for all) fires. Such transactions are
    // retired from the slab to a FIFO of {key, response} that expires in arrival order: a third of the
    // memory, and no timer heap item.
    void retire(Entry& e, transaction::Duration timer_j);
    void sweep_retired();
    void maybe_finish_shutdown();
    std::uint64_t new_tag();
    // The To tag of an answer sent without a transaction (RFC 3261 8.2.7): the same for the same request
    // (`key`: its server transaction key's hash), so a retransmission gets an identical answer.
    std::uint64_t stateless_tag(std::uint64_t key) const;

    // One timer queue per worker: a heap of deadlines driven by one Asio timer (instead of one Asio
    // timer per transaction timer). Stopping a timer bumps its generation; stale items are skipped.
    void schedule(Handle h, std::size_t timer, std::uint32_t timer_gen, transaction::Duration after);
    void arm_tick();
    void on_tick();

    asio::io_context& io_;
    EngineConfig config_;
    Services services_;
    std::shared_ptr<const auth::UserDirectory> users_;
    std::shared_ptr<const pbx::ForwardingTable> forwards_;
    std::shared_ptr<const pbx::AliasTable> aliases_;
    TrunkSet trunks_;
    std::shared_ptr<asio::ssl::context> tls_client_;
    std::unique_ptr<security::RateLimiter> per_source_;
    std::unique_ptr<security::RateLimiter> register_source_;
    // Per user: shared by every worker (Services), else this engine's own (tests, a lone engine).
    std::unique_ptr<security::SharedRateLimiter> own_register_user_;
    std::unique_ptr<security::SharedRateLimiter> own_invite_user_;
    security::SharedRateLimiter* register_user_ = nullptr;
    security::SharedRateLimiter* invite_user_ = nullptr;
    // B2BUA calls: a slab like the transactions', and their dialogs (SipHash of Call-ID and our tag ->
    // call and leg) for in-dialog requests on either side.
    struct CallSlot {
        std::unique_ptr<B2buaCall> call;
        std::uint32_t gen = 0;
    };
    std::vector<CallSlot> calls_;
    std::vector<std::uint32_t> free_calls_;
    std::size_t calls_live_ = 0;
    struct DialogRef {
        Handle call;
        std::uint32_t leg;  // 0: A, 1: B
    };
    std::unordered_map<std::uint64_t, DialogRef, IdentityHashFwd> calls_by_dialog_;
    std::vector<TrunkRegistration> registrations_;
    std::uint32_t registration_ids_ = 0;
    transport::Transports transports_;
    std::uint8_t worker_;
    std::vector<Engine*> shards_;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> free_slots_;
    // Transactions by SipHash of their matching key, and merged-request keys (RFC 3261 8.2.2.2) the same
    // way: integer keys keep the table nodes small and free of string allocations (see siphash.hpp for
    // why a keyed hash alone is safe here).
    struct IdentityHash {
        std::size_t operator()(std::uint64_t h) const { return static_cast<std::size_t>(h); }
    };
    std::uint64_t hash_key(std::string_view key) const { return siphash24(sip_key_, key); }
    SipKey sip_key_;
    FlatMap<Handle> by_key_;  // transactions by the hash of their matching key
    FlatMap<Handle> merges_;
    // Server INVITE transactions by Call-ID, From tag and CSeq number: for ACKs of a non-2xx that come
    // with a branch of their own (sipp's scenarios do that) instead of the INVITE's (RFC 3261 17.1.1.3).
    FlatMap<Handle> invites_by_ack_key_;
    FlatMap<std::uint64_t> retired_by_key_;  // key -> sequence
    std::vector<Handle> terminated_;
    struct Retired {
        std::uint64_t key;
        Clock::time_point until;
        std::string response;
        transport::Peer peer;
    };
    std::deque<Retired> retired_;
    std::uint64_t retired_base_ = 0;  // sequence number of retired_.front()
    std::size_t retired_bytes_ = 0;   // retired_cost() of everything in retired_
    Clock::time_point retired_warned_{};
    static std::size_t retired_cost(const Retired& r);
    void pop_retired();

    // Requests for other workers, gathered during a burst and handed over in one post per worker (one
    // wake-up of that worker per burst instead of one per message).
    struct Handoff {
        sip::Message message;
        transport::Peer from;
    };
    std::vector<std::vector<Handoff>> outbox_;

    // 200 OKs of REGISTERs whose bindings the writer thread has committed, waiting for this worker: the
    // writer commits a few dozen at once, and one post (one wake-up of this worker, one sendmmsg) then
    // answers them all instead of one post each.
    struct StoredAnswer {
        Handle handle;
        bool written;
        std::string ok;
    };
    void answer_stored();
    std::mutex stored_mutex_;
    std::vector<StoredAnswer> stored_;        // guarded by stored_mutex_
    std::vector<StoredAnswer> stored_taken_;  // this worker's, swapped with stored_
    std::priority_queue<TimerItem, std::vector<TimerItem>, std::greater<>> timers_;
    asio::steady_timer tick_;
    Clock::time_point tick_at_ = Clock::time_point::max();
    EngineCounters counters_;
    std::uint64_t tag_counter_ = 0;
    std::uint64_t branch_counter_ = 0;
    // The response handle_response is passing to a client transaction: the same object the transaction
    // hands to on_branch_response (as const), which may edit it instead of copying it.
    sip::Message* response_in_flight_ = nullptr;
    SipKey tag_key_;  // secret: tags and branches nobody outside can predict
    bool shutting_down_ = false;
    asio::steady_timer grace_timer_;
};

}  // namespace sw::app
