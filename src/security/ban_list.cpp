#include "security/ban_list.hpp"

#include <algorithm>
#include <limits>

namespace sw::security {

static_assert(BanList::kStripes == 64, "stripe_for takes the top 6 bits of the hash");

std::string_view verdict_name(Verdict v) {
    switch (v) {
        case Verdict::Allowed:
            return "allowed";
        case Verdict::Exempt:
            return "exempt";
        case Verdict::Denied:
            return "denied";
        case Verdict::Banned:
            return "banned";
    }
    return "allowed";
}

BanList::BanList(SipKey key, std::size_t max_entries)
    : key_(key),
      max_entries_(std::max<std::size_t>(max_entries, 1)),
      dirty_(16, AddressKeyHash{key}),
      removed_(16, AddressKeyHash{key}) {
    for (auto& s : stripes_)
        s = std::make_unique<Stripe>(key);
}

BanList::Stripe& BanList::stripe_for(const AddressKey& a) const {
    // The top bits pick the stripe; the map inside uses the low bits of the same hash for its buckets.
    return *stripes_[address_hash(key_, a) >> 58];
}

BanRecord BanList::record_of(const AddressKey& a, const Ban& b) {
    return BanRecord{a.text(), b.until, b.reason, b.created, b.count};
}

Verdict BanList::check(const AddressKey& address, std::int64_t now_s) const {
    const Stripe& s = stripe_for(address);
    std::shared_lock lock(s.mutex);
    if (s.access) {
        if (s.access->exempt(address)) return Verdict::Exempt;
        if (s.access->denied(address)) return Verdict::Denied;
    }
    const auto it = s.bans.find(address);
    return (it != s.bans.end() && now_s < it->second.until) ? Verdict::Banned : Verdict::Allowed;
}

bool BanList::banned(const AddressKey& address, std::int64_t now_s) const {
    const Stripe& s = stripe_for(address);
    std::shared_lock lock(s.mutex);
    const auto it = s.bans.find(address);
    return it != s.bans.end() && now_s < it->second.until;
}

bool BanList::user_allowed(std::string_view user, const AddressKey& address) const {
    const Stripe& s = stripe_for(address);
    std::shared_lock lock(s.mutex);
    return !s.access || s.access->user_allowed(user, address);
}

std::optional<BanRecord> BanList::find(const AddressKey& address) const {
    const Stripe& s = stripe_for(address);
    std::shared_lock lock(s.mutex);
    const auto it = s.bans.find(address);
    if (it == s.bans.end()) return std::nullopt;
    return record_of(address, it->second);
}

bool BanList::ban(const AddressKey& address, std::int64_t until_s, std::string_view reason,
                  std::int64_t now_s) {
    if (until_s <= now_s) return false;
    std::lock_guard writer(write_mutex_);
    Stripe& s = stripe_for(address);
    std::optional<Ban> existing;
    {
        std::shared_lock lock(s.mutex);
        if (s.access && s.access->exempt(address)) return false;
        if (const auto it = s.bans.find(address); it != s.bans.end()) existing = it->second;
    }
    Ban b;
    if (existing) {
        b = std::move(*existing);
        b.until = b.until > now_s ? std::max(b.until, until_s) : until_s;
        if (b.count < std::numeric_limits<std::uint32_t>::max()) ++b.count;
    } else {
        if (size_.load(std::memory_order_relaxed) >= max_entries_) drop_nearest_expiry();
        b.until = until_s;
        b.created = now_s;
        b.count = 1;
    }
    b.reason = std::string(reason);
    insert_locked(address, std::move(b));
    dirty_.insert(address);
    removed_.erase(address);
    changes_.fetch_add(1, std::memory_order_release);
    return true;
}

bool BanList::unban(const AddressKey& address) {
    std::lock_guard writer(write_mutex_);
    {
        Stripe& s = stripe_for(address);
        std::shared_lock lock(s.mutex);
        if (s.bans.find(address) == s.bans.end()) return false;
    }
    remove_locked(address, true);
    return true;
}

std::size_t BanList::prune(std::int64_t now_s) {
    std::lock_guard writer(write_mutex_);
    std::size_t n = 0;
    while (!by_expiry_.empty() && by_expiry_.begin()->first <= now_s) {
        remove_locked(by_expiry_.begin()->second, false);
        ++n;
    }
    return n;
}

void BanList::set_access_list(std::shared_ptr<const AccessList> list) {
    std::lock_guard writer(write_mutex_);
    for (auto& s : stripes_) {
        std::unique_lock lock(s->mutex);
        s->access = list;
    }
}

std::vector<BanRecord> BanList::snapshot() const {
    std::vector<BanRecord> out;
    for (const auto& s : stripes_) {
        std::shared_lock lock(s->mutex);
        for (const auto& [a, b] : s->bans)
            out.push_back(record_of(a, b));
    }
    std::sort(out.begin(), out.end(),
              [](const BanRecord& x, const BanRecord& y) { return x.address < y.address; });
    return out;
}

void BanList::load(const std::vector<BanRecord>& records, std::int64_t now_s) {
    std::lock_guard writer(write_mutex_);
    clear_locked();
    std::vector<std::pair<AddressKey, const BanRecord*>> valid;
    for (const auto& r : records) {
        const auto a = AddressKey::from_text(r.address);
        if (a && r.until > now_s) valid.emplace_back(*a, &r);
    }
    // The longest bans first, so that a store bigger than the list loses the ones nearest to expiry.
    std::stable_sort(valid.begin(), valid.end(),
                     [](const auto& x, const auto& y) { return x.second->until > y.second->until; });
    for (const auto& [a, r] : valid) {
        if (size_.load(std::memory_order_relaxed) >= max_entries_) break;
        insert_locked(a, Ban{r->until, r->created, std::max<std::uint32_t>(r->count, 1), r->reason});
    }
}

void BanList::merge(const std::vector<BanRecord>& records, std::int64_t now_s) {
    std::lock_guard writer(write_mutex_);
    std::unordered_map<AddressKey, const BanRecord*, AddressKeyHash> stored(records.size() + 1,
                                                                            AddressKeyHash{key_});
    for (const auto& r : records) {
        const auto a = AddressKey::from_text(r.address);
        // A row this list removed (and has not handed over yet) stays removed.
        if (a && r.until > now_s && removed_.count(*a) == 0) stored[*a] = &r;
    }
    // Bans the store had (written or loaded here) and no longer has: removed by another process.
    std::vector<AddressKey> gone;
    for (const auto& s : stripes_) {
        std::shared_lock lock(s->mutex);
        for (const auto& [a, b] : s->bans)
            if (dirty_.count(a) == 0 && stored.count(a) == 0) gone.push_back(a);
    }
    for (const auto& a : gone)
        remove_locked(a, false);
    for (const auto& [a, r] : stored) {
        if (dirty_.count(a) != 0) continue;  // changed here since: ours is newer, and goes to the store next
        bool present = false;
        {
            Stripe& s = stripe_for(a);
            std::shared_lock lock(s.mutex);
            present = s.bans.count(a) != 0;
        }
        if (!present && size_.load(std::memory_order_relaxed) >= max_entries_) drop_nearest_expiry();
        insert_locked(a, Ban{r->until, r->created, std::max<std::uint32_t>(r->count, 1), r->reason});
    }
}

BanWrites BanList::take_writes() {
    std::lock_guard writer(write_mutex_);
    BanWrites w;
    for (const auto& a : dirty_) {
        Stripe& s = stripe_for(a);
        std::shared_lock lock(s.mutex);
        if (const auto it = s.bans.find(a); it != s.bans.end()) w.upserts.push_back(record_of(a, it->second));
    }
    for (const auto& a : removed_)
        w.removals.push_back(a.text());
    dirty_.clear();
    removed_.clear();
    std::sort(w.upserts.begin(), w.upserts.end(),
              [](const BanRecord& x, const BanRecord& y) { return x.address < y.address; });
    std::sort(w.removals.begin(), w.removals.end());
    return w;
}

void BanList::retry(BanWrites writes) {
    std::lock_guard writer(write_mutex_);
    auto present = [&](const AddressKey& a) {
        Stripe& s = stripe_for(a);
        std::shared_lock lock(s.mutex);
        return s.bans.count(a) != 0;
    };
    for (const auto& r : writes.upserts) {
        const auto a = AddressKey::from_text(r.address);
        if (a && present(*a)) dirty_.insert(*a);
    }
    for (const auto& text : writes.removals) {
        const auto a = AddressKey::from_text(text);
        if (a && !present(*a)) tombstone(*a);
    }
    changes_.fetch_add(1, std::memory_order_release);
}

std::size_t BanList::size() const {
    return size_.load(std::memory_order_relaxed);
}

void BanList::drop_nearest_expiry() {
    if (!by_expiry_.empty()) remove_locked(by_expiry_.begin()->second, true);
}

void BanList::remove_locked(AddressKey a, bool tombstone_it) {
    Stripe& s = stripe_for(a);
    {
        std::unique_lock lock(s.mutex);
        const auto it = s.bans.find(a);
        if (it == s.bans.end()) return;
        by_expiry_.erase({it->second.until, a});
        s.bans.erase(it);
    }
    size_.fetch_sub(1, std::memory_order_relaxed);
    dirty_.erase(a);
    if (tombstone_it) tombstone(a);
}

void BanList::tombstone(const AddressKey& a) {
    // Bounded like the list: past that, a removal is forgotten and the store keeps the row until it
    // expires there (SqliteBanStore::prune), which is the lesser harm.
    if (removed_.size() < max_entries_) removed_.insert(a);
    changes_.fetch_add(1, std::memory_order_release);
}

void BanList::insert_locked(const AddressKey& a, Ban ban) {
    Stripe& s = stripe_for(a);
    const std::int64_t until = ban.until;
    bool inserted = false;
    {
        std::unique_lock lock(s.mutex);
        auto it = s.bans.find(a);
        if (it != s.bans.end()) {
            by_expiry_.erase({it->second.until, a});
            it->second = std::move(ban);
        } else {
            s.bans.emplace(a, std::move(ban));
            inserted = true;
        }
    }
    by_expiry_.insert({until, a});
    if (inserted) size_.fetch_add(1, std::memory_order_relaxed);
}

void BanList::clear_locked() {
    for (auto& s : stripes_) {
        std::unique_lock lock(s->mutex);
        s->bans.clear();
    }
    by_expiry_.clear();
    dirty_.clear();
    removed_.clear();
    size_.store(0, std::memory_order_relaxed);
}

}  // namespace sw::security
