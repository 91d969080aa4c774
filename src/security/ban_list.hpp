// BanList: banned addresses (each with an expiry and a reason) and the current AccessList, shared by
// every worker. check() runs for every packet before it is parsed, so it takes one stripe's read lock and
// looks up one hash map; nothing else is shared on that path.
//
// Size is bounded (max_entries): when a new ban finds the list full, the ban nearest to its expiry is
// dropped (expired ones first). Expired bans stop counting at once; prune() frees them.
//
// Persistence (bans survive a restart, and `sipwarden ban add|remove` edits the store while the server
// runs). The owner (the control loop, with its own connection to sipwarden.db) does, once a second:
//   if (store.data_version changed)     bans.merge(ban_store.load_all(), now);   // someone else wrote
//   if (bans.change_count() != seen)    { seen = ...; w = bans.take_writes();
//                                          if (!ban_store.apply(w)) bans.retry(std::move(w)); }
//   ban_store.prune(now); bans.prune(now);                                       // now and then
// and at start bans.load(ban_store.load_all(), now). take_writes() hands over exactly what the store
// lacks (bans made or changed here, addresses unbanned or dropped here); merge() takes the store's rows
// but keeps what is not written yet, so neither side's change is lost whichever runs first.
// snapshot() is the whole list (for `ban list`-like views and tests).
//
// Thread: every method is thread-safe. check/banned/user_allowed/find: any worker, stripe read lock only.
// ban/unban/prune/load/merge/take_writes/retry/set_access_list: any thread; they are serialised among
// themselves by one writer mutex (bans are rare next to packets), then take the stripe locks one at a
// time. No lock is held while calling out.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/siphash.hpp"
#include "security/access_list.hpp"
#include "security/address_key.hpp"
#include "security/records.hpp"

namespace sw::security {

enum class Verdict : std::uint8_t {
    Allowed,  // go on (rate limits apply)
    Exempt,   // in a global allow network: never banned nor rate limited
    Denied,   // in a global deny network: drop
    Banned,   // banned until its expiry: drop
};

std::string_view verdict_name(Verdict v);

class BanList {
public:
    static constexpr std::size_t kStripes = 64;
    static constexpr std::size_t kDefaultMaxEntries = 100000;

    // key: secret (keys the stripe choice and the maps' hash against hash flooding).
    explicit BanList(SipKey key, std::size_t max_entries = kDefaultMaxEntries);
    BanList(const BanList&) = delete;
    BanList& operator=(const BanList&) = delete;

    // Exempt, then Denied, then Banned, else Allowed (see access_list.hpp). now_s: Unix seconds.
    Verdict check(const AddressKey& address, std::int64_t now_s) const;
    // Banned now (ignores the access list).
    bool banned(const AddressKey& address, std::int64_t now_s) const;
    // The per-user rules of the current access list.
    bool user_allowed(std::string_view user, const AddressKey& address) const;
    // The ban of an address, expired or not, as the store would keep it.
    std::optional<BanRecord> find(const AddressKey& address) const;

    // Bans the address until until_s. A ban already in force is extended (never shortened), its reason
    // replaced and its count raised; an expired one starts again with its count raised. false, and nothing
    // changes, for an exempt address or an until_s that is not after now_s.
    bool ban(const AddressKey& address, std::int64_t until_s, std::string_view reason, std::int64_t now_s);
    // false when the address was not banned.
    bool unban(const AddressKey& address);
    // Forgets the expired bans (the store prunes its own rows: SqliteBanStore::prune); returns how many.
    std::size_t prune(std::int64_t now_s);

    // Replaces the access list (the previous one stays alive until no reader holds it).
    void set_access_list(std::shared_ptr<const AccessList> list);

    // Every ban (expired ones until pruned), sorted by address text.
    std::vector<BanRecord> snapshot() const;
    // Replaces every ban with the store's (at start): records that are expired or whose address does not
    // parse are skipped; beyond max_entries the ones nearest to expiry are left out. Nothing is pending
    // for the store afterwards.
    void load(const std::vector<BanRecord>& records, std::int64_t now_s);
    // The store's rows after another process changed them: a row sets its ban (unless this list changed
    // that address and has not handed it over yet); a ban this list had written or loaded that is no
    // longer in the store was removed there and goes.
    void merge(const std::vector<BanRecord>& records, std::int64_t now_s);
    // What the store lacks since the last call; afterwards nothing is pending.
    BanWrites take_writes();
    // Puts back writes the store failed to apply (those still meaningful), to be handed over again.
    void retry(BanWrites writes);
    // Grows with every change take_writes() would hand over. The owner persists only when it moved.
    std::uint64_t change_count() const { return changes_.load(std::memory_order_acquire); }

    std::size_t size() const;
    std::size_t max_entries() const { return max_entries_; }

private:
    struct Ban {
        std::int64_t until = 0;
        std::int64_t created = 0;
        std::uint32_t count = 1;
        std::string reason;
    };
    struct Stripe {
        mutable std::shared_mutex mutex;
        std::unordered_map<AddressKey, Ban, AddressKeyHash> bans;
        std::shared_ptr<const AccessList> access;  // the same list in every stripe: read under this lock
        explicit Stripe(SipKey key) : bans(16, AddressKeyHash{key}) {}
    };

    Stripe& stripe_for(const AddressKey& a) const;
    static BanRecord record_of(const AddressKey& a, const Ban& b);
    // The writer's helpers: write_mutex_ held.
    void drop_nearest_expiry();
    void remove_locked(AddressKey a, bool tombstone_it);  // by value: a may be a key of by_expiry_
    void tombstone(const AddressKey& a);
    void insert_locked(const AddressKey& a, Ban ban);
    void clear_locked();

    SipKey key_;
    std::size_t max_entries_;
    std::unique_ptr<Stripe> stripes_[kStripes];

    std::mutex write_mutex_;
    std::set<std::pair<std::int64_t, AddressKey>> by_expiry_;  // every ban, nearest expiry first
    std::unordered_set<AddressKey, AddressKeyHash> dirty_;     // bans the store does not have as they are
    std::unordered_set<AddressKey, AddressKeyHash> removed_;   // bans gone here, still in the store
    std::atomic<std::size_t> size_{0};
    std::atomic<std::uint64_t> changes_{0};
};

}  // namespace sw::security
