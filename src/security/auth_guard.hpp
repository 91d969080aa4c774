// AuthGuard: what failed digest authentications say about their source and their target (issue 7 part 2).
//
// Per address: max_failures failures within window_s ban the address; each repeat ban of the same
// address lasts longer (ban_steps_s: 5 min, 30 min, 4 h, then 24 h each time), until it has gone
// forget_after_s without a ban. Per account: failures from account_addresses distinct addresses within
// account_window_s (a distributed guessing attack, which per-address limits cannot see) lock the account's
// registration for account_lock_s, and on_failure reports the lock once, when it begins (log the alert).
// The addresses that authenticated as the account before stay usable during a lock (the account_locked
// overload with an address), so an attacker cannot lock the real phones out.
//
// Failures for names that are not users count the same (the answer must not tell them apart), so an
// unknown name can be "locked" too; that costs nothing and reveals nothing.
//
// Memory is bounded: fixed-size tables with least-recently-used eviction (lru_table.hpp), split into
// kStripes stripes. An evicted address forgets its failures and its ban level, the price of a bound.
//
// Thread: thread-safe; called by every worker (on_failure when a request's credentials were wrong, i.e.
// the 401/407 after a bad Authorization; on_success when they verified). Each call takes one stripe
// lock of the address table and one of the account table, one after the other, never both. now_s: Unix
// seconds (the ban's until_s goes to BanList::ban as it is).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "common/siphash.hpp"
#include "security/address_key.hpp"
#include "security/lru_table.hpp"

namespace sw::security {

struct AuthGuardConfig {
    std::uint32_t max_failures = 10;  // from one address within window_s: ban
    std::int64_t window_s = 60;
    std::vector<std::int64_t> ban_steps_s{300, 1800, 14400, 86400};  // 1st, 2nd, 3rd, 4th and later bans
    std::int64_t forget_after_s = 7 * 86400;  // a ban level older than this starts from the first step
    std::uint32_t account_addresses = 20;     // distinct failing addresses per account (at most 32)
    std::int64_t account_window_s = 600;
    std::int64_t account_lock_s = 900;
    std::size_t address_capacity = 65536;  // addresses remembered (about 4 MB)
    std::size_t account_capacity = 4096;   // accounts remembered (about 3 MB)
};

struct AuthBan {
    std::int64_t until_s = 0;  // BanList::ban(address, until_s, "auth failures", now_s)
    std::int64_t seconds = 0;
    std::uint32_t repeat = 1;  // 1 for the first ban of this address, 2 for the next ...
};

struct AuthFailure {
    std::optional<AuthBan> ban;             // ban the source now
    bool account_lock_started = false;      // the account has just been locked: log the alert (once per lock)
    std::int64_t account_locked_until = 0;  // when locked (now or before), else 0
};

class AuthGuard {
public:
    static constexpr std::size_t kStripes = 16;
    static constexpr std::uint32_t kMaxAccountAddresses = 32;

    AuthGuard(AuthGuardConfig config, SipKey key);
    AuthGuard(const AuthGuard&) = delete;
    AuthGuard& operator=(const AuthGuard&) = delete;

    // A request from `address` failed to authenticate as `user` (the name in its Authorization).
    AuthFailure on_failure(const AddressKey& address, std::string_view user, std::int64_t now_s);
    // A request from `address` authenticated as `user`: the address's failures are forgotten (not its ban
    // level), and it becomes one of the account's known addresses.
    void on_success(const AddressKey& address, std::string_view user, std::int64_t now_s);

    // The account's registration is locked: refuse it as if the credentials were wrong.
    bool account_locked(std::string_view user, std::int64_t now_s) const;
    // The same, but false for an address that authenticated as this user before (the real phones).
    bool account_locked(std::string_view user, const AddressKey& address, std::int64_t now_s) const;

    const AuthGuardConfig& config() const { return config_; }

private:
    struct AddressState {
        std::uint32_t failures = 0;
        std::int64_t window_start = 0;
        std::uint32_t bans = 0;
        std::int64_t last_ban = 0;
    };
    struct Seen {
        std::uint64_t address = 0;  // keyed hash of the address
        std::int64_t at = 0;
    };
    static constexpr std::size_t kKnownAddresses = 4;
    struct AccountState {
        std::array<Seen, kMaxAccountAddresses> failing{};  // distinct failing addresses in the window
        std::uint32_t failing_count = 0;
        std::int64_t locked_until = 0;
        std::array<std::uint64_t, kKnownAddresses> known{};  // addresses that authenticated; 0 = none
        std::uint32_t known_next = 0;
    };
    template <typename V>
    struct Stripe {
        mutable std::mutex mutex;
        LruTable<V> table;
        Stripe(std::size_t capacity, SipKey key) : table(capacity, key) {}
    };

    std::size_t address_stripe(const AddressKey& a) const;
    std::size_t account_stripe(const TableKey& k) const;
    std::uint64_t address_id(const AddressKey& a) const;

    AuthGuardConfig config_;
    SipKey key_;
    std::array<std::unique_ptr<Stripe<AddressState>>, kStripes> addresses_;
    std::array<std::unique_ptr<Stripe<AccountState>>, kStripes> accounts_;
};

}  // namespace sw::security
