// Which worker keeps the state of a Call-ID, shared by all workers (Kamailio keeps its transactions in
// shared memory behind per-bucket locks; we keep only this table there and run each call on one thread).
//
// The worker that receives a call's first request becomes its owner: the caller's later requests come
// in on the same socket or connection (SO_REUSEPORT hashes a UDP source to one worker; a connection
// belongs to one worker), so they are handled without crossing to another thread, and only what comes
// from the far side (responses, the callee's requests) is handed over. Before this table a call belonged
// to hash(Call-ID) % workers, and whatever of it arrived elsewhere crossed: about 2.5 of a call's 8
// messages more, each a wake-up of the other worker.
//
// An entry is a lease: every message routed through it keeps it at least kLease seconds more, and the
// owner holds it longer for state that outlives a transaction (a proxied INVITE waiting for Timer C, an
// answered call until its BYE, a B2BUA call until it ends). A Call-ID without a live entry goes to the
// caller's fallback (the receiving worker for a new request, hash(Call-ID) otherwise: the B2BUA's and
// the trunks' own Call-IDs are made to hash to the worker that sends them).
//
// Threads: all workers; 64 stripes, a mutex each (held for one FlatMap probe). The sweep of expired
// leases runs on the server's control thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "common/flat_map.hpp"
#include "common/siphash.hpp"

namespace sw::app {

class CallDirectory {
public:
    // Long enough for any transaction to end (64*T1 = 32 s, plus a margin) after its last message.
    static constexpr std::uint32_t kLease = 40;
    static constexpr std::uint32_t kForever = 0xffffffffu;
    static constexpr std::size_t kStripes = 64;

    // capacity: the most Call-IDs tracked at once; beyond it (a flood of new Call-IDs) a new one is not
    // entered, and goes to the fallback worker, as it would without this table.
    CallDirectory(SipKey key, std::size_t capacity = 2'000'000);
    CallDirectory(const CallDirectory&) = delete;
    CallDirectory& operator=(const CallDirectory&) = delete;

    std::uint64_t key(std::string_view call_id) const { return siphash24(key_, call_id); }

    // The owner of `key`, its lease renewed; a Call-ID nobody owns is given to `fallback`.
    std::size_t route(std::uint64_t key, std::size_t fallback);
    // The owner keeps the Call-ID `seconds` more at least (kForever: until released).
    void hold(std::uint64_t key, std::size_t worker, std::uint32_t seconds);
    // The state that held it is gone: the lease ends kLease seconds from now (for retransmissions).
    void release(std::uint64_t key);
    // Forgets expired leases; returns how many are left.
    std::size_t sweep();

    std::size_t size();

    // For tests: the clock, in whole seconds (the table's own epoch).
    void advance_for_test(std::uint32_t seconds) { skew_ += seconds; }

private:
    struct Lease {
        std::uint32_t until = 0;
        std::uint32_t owner = 0;
    };
    struct alignas(64) Stripe {
        std::mutex mutex;
        FlatMap<Lease> map;
    };
    std::uint32_t now() const;
    Stripe& stripe(std::uint64_t key) { return stripes_[key >> 58]; }

    SipKey key_;
    std::size_t per_stripe_;
    std::chrono::steady_clock::time_point epoch_;
    std::uint32_t skew_ = 0;
    std::array<Stripe, kStripes> stripes_;
};

}  // namespace sw::app
