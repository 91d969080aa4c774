// RateLimiter: token buckets (rate per second, burst) per source address or per name, in a FIXED-SIZE
// table with least-recently-used eviction (lru_table.hpp), so memory stays bounded under a flood from
// millions of spoofed addresses: the flood only evicts the least recently seen buckets. An evicted peer
// comes back with a full bucket, which errs on the side of letting real clients in; a peer that is really
// over its limit keeps being seen, so its bucket stays hot and empty.
//
// One RateLimiter per limit and per worker: e.g. "every request per address", "REGISTER per address",
// "REGISTER per user", "INVITE per user". Each worker sees the datagrams and connections the kernel gave
// it (SO_REUSEPORT hashes by source), so a per-worker table is close to a per-address limit at no lock.
//
// Thread: NOT thread-safe, no lock: owned and called by one worker thread only (its Engine); for a
// limit shared by the workers, SharedRateLimiter below. now_ms is the steady (monotonic) clock in
// milliseconds. O(1) per call, no allocation after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "common/siphash.hpp"
#include "security/address_key.hpp"
#include "security/lru_table.hpp"

namespace sw::security {

struct RateLimit {
    double per_second = 10;  // tokens added per second (a fraction such as 0.2 is fine: one per 5 s)
    double burst = 20;       // bucket size: requests allowed at once after a quiet time (at least 1)
    // Refusals after which take() answers Ban once (the caller bans the source); 0: never. They are
    // counted until the source's bucket is full again (it kept under the rate for a burst's worth of time),
    // so a flood that still gets a token now and then is banned all the same.
    std::uint32_t ban_after = 0;
};

enum class RateVerdict : std::uint8_t {
    Allowed,  // a token was taken
    Refused,  // over the limit: answer 503 + Retry-After (TCP/TLS) or drop (UDP)
    Ban,  // over the limit for ban_after requests since it was last calm: refuse and ban the source (once)
};

class RateLimiter {
public:
    // capacity: the most keys tracked at once (e.g. 65536, about 4 MB); key: secret, from the process's
    // random source (it keys the table's hash against hash flooding).
    RateLimiter(RateLimit limit, std::size_t capacity, SipKey key);

    RateVerdict take(const AddressKey& address, std::int64_t now_ms);
    RateVerdict take_name(std::string_view name, std::int64_t now_ms);  // per user, per account ...
    bool allow(const AddressKey& address, std::int64_t now_ms) {
        return take(address, now_ms) == RateVerdict::Allowed;
    }
    bool allow_name(std::string_view name, std::int64_t now_ms) {
        return take_name(name, now_ms) == RateVerdict::Allowed;
    }

    // Seconds until a refused peer has a token again from empty: the Retry-After of a 503 (at least 1).
    std::uint32_t retry_after_s() const;

    std::size_t size() const { return table_.size(); }
    std::size_t capacity() const { return table_.capacity(); }
    const RateLimit& limit() const { return limit_; }

private:
    struct Bucket {
        double tokens = 0;
        std::int64_t last_ms = 0;
        std::uint32_t refusals = 0;  // since the bucket was last full
    };
    RateVerdict take_key(const TableKey& key, std::int64_t now_ms);

    RateLimit limit_;
    SipKey key_;
    LruTable<Bucket> table_;
};

// The same limit per name, shared by every worker: for limits on a user, whose phones (several
// addresses, several connections) reach different workers, so that a per-worker table would let a
// user through N times as often with N workers. Split in kStripes RateLimiters by a keyed hash of the
// name, each behind a mutex of its own (a user's requests all meet in one stripe).
// Thread: take_name from any thread.
class SharedRateLimiter {
public:
    static constexpr std::size_t kStripes = 16;
    // capacity: the most names tracked at once, in all (each stripe tracks capacity / kStripes).
    SharedRateLimiter(RateLimit limit, std::size_t capacity, SipKey key);
    SharedRateLimiter(const SharedRateLimiter&) = delete;
    SharedRateLimiter& operator=(const SharedRateLimiter&) = delete;

    RateVerdict take_name(std::string_view name, std::int64_t now_ms);
    std::uint32_t retry_after_s() const { return stripes_[0]->limiter.retry_after_s(); }
    const RateLimit& limit() const { return stripes_[0]->limiter.limit(); }

private:
    struct Stripe {
        Stripe(RateLimit limit, std::size_t capacity, SipKey key) : limiter(limit, capacity, key) {}
        std::mutex mutex;
        RateLimiter limiter;
    };
    SipKey key_;
    std::vector<std::unique_ptr<Stripe>> stripes_;
};

}  // namespace sw::security
