#include "auth/nonce_counter.hpp"

#include <functional>

namespace sw::auth {

NonceCounter::NonceCounter(std::size_t per_stripe_capacity) : capacity_(per_stripe_capacity) {}

CountResult NonceCounter::accept(std::string_view nonce, std::uint32_t nc, std::int64_t now_s,
                                 std::int64_t expires_at_s) {
    if (now_s >= expires_at_s) return CountResult::Replayed;  // too old to be remembered: never accept
    // The nonce is a MAC'd random value, so any hash spreads it evenly. The stripe takes the top bits,
    // the stripe's table the low ones.
    const std::uint64_t key = std::hash<std::string_view>{}(nonce);
    Stripe& s = stripes_[key >> 58];
    static_assert(kStripes == 64, "the stripe is the hash's top 6 bits");
    const std::lock_guard lock(s.mutex);

    auto* it = s.entries.find(key);
    if (it != s.entries.end() && it->second.expires_at_s <= now_s) {
        s.entries.erase(it);  // lazily forget an expired entry
        it = s.entries.end();
    }
    if (it != s.entries.end()) {
        if (nc <= it->second.last_nc) return CountResult::Replayed;
        it->second.last_nc = nc;
        return CountResult::Accepted;
    }
    if (nc == 0) return CountResult::Replayed;  // RFC 7616 3.4: the first request has nc=00000001
    if (s.entries.size() >= capacity_) {
        s.entries.erase_if([now_s](std::uint64_t, const Entry& e) { return e.expires_at_s <= now_s; });
        if (s.entries.size() >= capacity_) return CountResult::Full;
    }
    s.entries.emplace(key, Entry{nc, expires_at_s});
    return CountResult::Accepted;
}

std::size_t NonceCounter::size() const {
    std::size_t n = 0;
    for (const Stripe& s : stripes_) {
        const std::lock_guard lock(s.mutex);
        n += s.entries.size();
    }
    return n;
}

}  // namespace sw::auth
