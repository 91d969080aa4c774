#include "security/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace sw::security {

RateLimiter::RateLimiter(RateLimit limit, std::size_t capacity, SipKey key)
    : limit_(limit), key_(key), table_(capacity, key) {
    limit_.burst = std::max(limit_.burst, 1.0);
    limit_.per_second = std::max(limit_.per_second, 0.0);
}

RateVerdict RateLimiter::take(const AddressKey& address, std::int64_t now_ms) {
    return take_key(table_key(address), now_ms);
}

RateVerdict RateLimiter::take_name(std::string_view name, std::int64_t now_ms) {
    return take_key(table_key(key_, name), now_ms);
}

RateVerdict RateLimiter::take_key(const TableKey& key, std::int64_t now_ms) {
    bool made = false;
    Bucket& b = table_.touch(key, made);
    if (made) {
        b.tokens = limit_.burst;
        b.last_ms = now_ms;
    } else if (now_ms > b.last_ms) {
        // A clock that went back (it should not: steady) only refills nothing.
        const double refill = static_cast<double>(now_ms - b.last_ms) * limit_.per_second / 1000.0;
        b.tokens = std::min(limit_.burst, b.tokens + refill);
        b.last_ms = now_ms;
        // Only a source that calmed down (its bucket full again) starts its count of refusals afresh: a
        // flood at many times the rate still gets a token now and then, and must not escape the ban by it.
        if (b.tokens >= limit_.burst) b.refusals = 0;
    }
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return RateVerdict::Allowed;
    }
    if (b.refusals < UINT32_MAX) ++b.refusals;
    return (limit_.ban_after != 0 && b.refusals == limit_.ban_after) ? RateVerdict::Ban
                                                                     : RateVerdict::Refused;
}

SharedRateLimiter::SharedRateLimiter(RateLimit limit, std::size_t capacity, SipKey key) : key_(key) {
    stripes_.reserve(kStripes);
    for (std::size_t i = 0; i < kStripes; ++i)
        stripes_.push_back(
            std::make_unique<Stripe>(limit, std::max<std::size_t>(capacity / kStripes, 1),
                                     SipKey{key.k0 ^ (0x9e3779b97f4a7c15ull * (i + 1)), key.k1 + i + 1}));
}

RateVerdict SharedRateLimiter::take_name(std::string_view name, std::int64_t now_ms) {
    Stripe& s = *stripes_[siphash24(key_, name) % kStripes];
    const std::lock_guard lock(s.mutex);
    return s.limiter.take_name(name, now_ms);
}

std::uint32_t RateLimiter::retry_after_s() const {
    if (limit_.per_second <= 0) return 3600;
    return static_cast<std::uint32_t>(std::clamp(std::ceil(1.0 / limit_.per_second), 1.0, 3600.0));
}

}  // namespace sw::security
