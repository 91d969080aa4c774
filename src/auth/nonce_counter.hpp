// Nonce-count replay protection (RFC 7616 3.4: the server "SHOULD" check that nc increases for a nonce
// so that a captured request cannot be replayed while its nonce is still fresh).
//
// Only nonces that passed NonceFactory's MAC check and carried a correct response reach this table, so an
// entry costs an attacker a valid password. Memory is still bounded: each stripe holds at most
// per_stripe_capacity entries; a full stripe first forgets its expired entries, then refuses (Full), and
// the caller answers with a fresh nonce (stale=true) instead of letting the request in unchecked.
//
// Thread: accept() is called by every worker thread at once. The table is split into kStripes stripes,
// each with its own mutex, chosen by a hash of the nonce; no lock covers the whole table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "common/flat_map.hpp"

namespace sw::auth {

enum class CountResult : std::uint8_t {
    Accepted,  // nc is greater than every nc accepted before for this nonce; recorded
    Replayed,  // nc is not greater (a replay, or requests that overtook each other), or the nonce expired
    Full,      // no room to remember a new nonce: ask the client for a fresh one
};

class NonceCounter {
public:
    static constexpr std::size_t kStripes = 64;
    static constexpr std::size_t kDefaultStripeCapacity = 4096;

    explicit NonceCounter(std::size_t per_stripe_capacity = kDefaultStripeCapacity);
    NonceCounter(const NonceCounter&) = delete;
    NonceCounter& operator=(const NonceCounter&) = delete;

    // now_s and expires_at_s in the Clock's seconds; the entry is forgotten once now_s >= expires_at_s,
    // so expires_at_s must be later than the last second at which the nonce is still accepted.
    CountResult accept(std::string_view nonce, std::uint32_t nc, std::int64_t now_s,
                       std::int64_t expires_at_s);

    // Entries held, expired ones included until pruned (for tests and metrics; takes every stripe lock in
    // turn, never all at once).
    std::size_t size() const;

private:
    struct Entry {
        std::uint32_t last_nc = 0;
        std::int64_t expires_at_s = 0;
    };
    // Entries are keyed by a 64-bit hash of the nonce, not the nonce itself (no string to allocate and
    // compare). Two live nonces with the same hash (odds about 2^-46 with a full table) would share
    // an entry: the later one's first request could be taken for a replay and answered with a fresh
    // nonce (stale=true). That costs a round trip, never lets a replay in.
    struct Stripe {
        mutable std::mutex mutex;
        FlatMap<Entry> entries;
    };

    std::size_t capacity_;
    std::array<Stripe, kStripes> stripes_;
};

}  // namespace sw::auth
