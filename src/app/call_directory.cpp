#include "app/call_directory.hpp"

#include <algorithm>

namespace sw::app {

namespace {
std::uint32_t later(std::uint32_t now, std::uint32_t seconds) {
    return seconds >= CallDirectory::kForever - now ? CallDirectory::kForever : now + seconds;
}
}  // namespace

CallDirectory::CallDirectory(SipKey key, std::size_t capacity)
    : key_(key),
      per_stripe_(std::max<std::size_t>(1, capacity / kStripes)),
      epoch_(std::chrono::steady_clock::now()) {}

std::uint32_t CallDirectory::now() const {
    // Starts at 1 so that an entry's `until` of 0 is always in the past.
    return 1 + skew_ +
           static_cast<std::uint32_t>(
               std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - epoch_)
                   .count());
}

std::size_t CallDirectory::route(std::uint64_t key, std::size_t fallback) {
    const std::uint32_t t = now();
    Stripe& s = stripe(key);
    std::lock_guard lock(s.mutex);
    if (auto* slot = s.map.find(key)) {
        Lease& l = slot->second;
        if (l.until >= t) {
            l.until = std::max(l.until, later(t, kLease));
            return l.owner;
        }
        l = Lease{later(t, kLease), static_cast<std::uint32_t>(fallback)};
        return fallback;
    }
    if (s.map.size() < per_stripe_)
        s.map.emplace(key, Lease{later(t, kLease), static_cast<std::uint32_t>(fallback)});
    return fallback;
}

void CallDirectory::hold(std::uint64_t key, std::size_t worker, std::uint32_t seconds) {
    const std::uint32_t t = now();
    Stripe& s = stripe(key);
    std::lock_guard lock(s.mutex);
    auto [slot, inserted] = s.map.emplace(key, Lease{});
    Lease& l = slot->second;
    if (inserted || l.until < t || l.owner != worker) {
        // Not ours, or not any more: a worker holds what it keeps state for (the last to create state wins,
        // as hash(Call-ID) ownership would have sent it there anyway).
        l = Lease{later(t, seconds), static_cast<std::uint32_t>(worker)};
        return;
    }
    l.until = std::max(l.until, later(t, seconds));
}

void CallDirectory::release(std::uint64_t key) {
    const std::uint32_t t = now();
    Stripe& s = stripe(key);
    std::lock_guard lock(s.mutex);
    if (auto* slot = s.map.find(key)) slot->second.until = std::min(slot->second.until, later(t, kLease));
}

std::size_t CallDirectory::sweep() {
    const std::uint32_t t = now();
    std::size_t left = 0;
    for (Stripe& s : stripes_) {
        std::lock_guard lock(s.mutex);
        s.map.erase_if([t](std::uint64_t, const Lease& l) { return l.until < t; });
        left += s.map.size();
    }
    return left;
}

std::size_t CallDirectory::size() {
    std::size_t n = 0;
    for (Stripe& s : stripes_) {
        std::lock_guard lock(s.mutex);
        n += s.map.size();
    }
    return n;
}

}  // namespace sw::app
