#include "security/auth_guard.hpp"

#include <algorithm>

namespace sw::security {

AuthGuard::AuthGuard(AuthGuardConfig config, SipKey key) : config_(std::move(config)), key_(key) {
    config_.max_failures = std::max<std::uint32_t>(config_.max_failures, 1);
    config_.window_s = std::max<std::int64_t>(config_.window_s, 1);
    config_.account_addresses = std::clamp<std::uint32_t>(config_.account_addresses, 1, kMaxAccountAddresses);
    config_.account_window_s = std::max<std::int64_t>(config_.account_window_s, 1);
    config_.account_lock_s = std::max<std::int64_t>(config_.account_lock_s, 1);
    if (config_.ban_steps_s.empty()) config_.ban_steps_s.push_back(300);
    for (auto& s : config_.ban_steps_s)
        s = std::max<std::int64_t>(s, 1);
    const std::size_t per_address =
        std::max<std::size_t>(1, (config_.address_capacity + kStripes - 1) / kStripes);
    const std::size_t per_account =
        std::max<std::size_t>(1, (config_.account_capacity + kStripes - 1) / kStripes);
    for (std::size_t i = 0; i < kStripes; ++i) {
        addresses_[i] = std::make_unique<Stripe<AddressState>>(per_address, key_);
        accounts_[i] = std::make_unique<Stripe<AccountState>>(per_account, key_);
    }
}

std::uint64_t AuthGuard::address_id(const AddressKey& a) const {
    return address_hash(key_, a) | 1;  // never 0, which marks an empty slot
}

std::size_t AuthGuard::address_stripe(const AddressKey& a) const {
    return static_cast<std::size_t>(address_hash(key_, a) >> 60) % kStripes;
}

std::size_t AuthGuard::account_stripe(const TableKey& k) const {
    return static_cast<std::size_t>(k.bytes[15]) % kStripes;
}

AuthFailure AuthGuard::on_failure(const AddressKey& address, std::string_view user, std::int64_t now_s) {
    AuthFailure out;
    {
        auto& s = *addresses_[address_stripe(address)];
        std::lock_guard lock(s.mutex);
        AddressState& st = s.table.touch(table_key(address));
        if (st.failures == 0 || now_s - st.window_start >= config_.window_s) {
            st.failures = 0;
            st.window_start = now_s;
        }
        if (++st.failures >= config_.max_failures) {
            if (st.bans > 0 && now_s - st.last_ban >= config_.forget_after_s) st.bans = 0;
            const std::size_t step = std::min<std::size_t>(st.bans, config_.ban_steps_s.size() - 1);
            const std::int64_t seconds = config_.ban_steps_s[step];
            ++st.bans;
            st.last_ban = now_s;
            st.failures = 0;
            out.ban = AuthBan{now_s + seconds, seconds, st.bans};
        }
    }
    if (user.empty()) return out;
    const TableKey account = table_key(key_, user);
    auto& s = *accounts_[account_stripe(account)];
    std::lock_guard lock(s.mutex);
    AccountState& acc = s.table.touch(account);
    if (acc.locked_until > now_s) {
        out.account_locked_until = acc.locked_until;
        return out;
    }
    // The distinct addresses that failed within the window, oldest first.
    std::uint32_t kept = 0;
    for (std::uint32_t i = 0; i < acc.failing_count; ++i)
        if (now_s - acc.failing[i].at < config_.account_window_s) acc.failing[kept++] = acc.failing[i];
    acc.failing_count = kept;
    const std::uint64_t id = address_id(address);
    auto end = acc.failing.begin() + acc.failing_count;
    if (auto seen = std::find_if(acc.failing.begin(), end, [&](const Seen& x) { return x.address == id; });
        seen != end) {
        // Moved to the end: the order stays oldest first.
        std::rotate(seen, seen + 1, end);
        (end - 1)->at = now_s;
    } else {
        acc.failing[acc.failing_count++] = Seen{id, now_s};
    }
    if (acc.failing_count >= config_.account_addresses) {
        acc.locked_until = now_s + config_.account_lock_s;
        acc.failing_count = 0;
        out.account_lock_started = true;
        out.account_locked_until = acc.locked_until;
    }
    return out;
}

void AuthGuard::on_success(const AddressKey& address, std::string_view user, std::int64_t now_s) {
    {
        auto& s = *addresses_[address_stripe(address)];
        std::lock_guard lock(s.mutex);
        if (AddressState* st = s.table.find(table_key(address))) st->failures = 0;
    }
    if (user.empty()) return;
    const TableKey account = table_key(key_, user);
    auto& s = *accounts_[account_stripe(account)];
    std::lock_guard lock(s.mutex);
    AccountState& acc = s.table.touch(account);
    const std::uint64_t id = address_id(address);
    auto end = acc.failing.begin() + acc.failing_count;
    auto kept = std::remove_if(acc.failing.begin(), end, [&](const Seen& x) { return x.address == id; });
    acc.failing_count = static_cast<std::uint32_t>(kept - acc.failing.begin());
    if (std::find(acc.known.begin(), acc.known.end(), id) == acc.known.end()) {
        acc.known[acc.known_next] = id;
        acc.known_next = (acc.known_next + 1) % kKnownAddresses;
    }
    (void)now_s;  // kept in the signature: a later policy may age the known addresses
}

bool AuthGuard::account_locked(std::string_view user, std::int64_t now_s) const {
    const TableKey account = table_key(key_, user);
    const auto& s = *accounts_[account_stripe(account)];
    std::lock_guard lock(s.mutex);
    const AccountState* acc = s.table.find(account);
    return acc != nullptr && acc->locked_until > now_s;
}

bool AuthGuard::account_locked(std::string_view user, const AddressKey& address, std::int64_t now_s) const {
    const TableKey account = table_key(key_, user);
    const auto& s = *accounts_[account_stripe(account)];
    std::lock_guard lock(s.mutex);
    const AccountState* acc = s.table.find(account);
    if (acc == nullptr || acc->locked_until <= now_s) return false;
    const std::uint64_t id = address_id(address);
    return std::find(acc->known.begin(), acc->known.end(), id) == acc->known.end();
}

}  // namespace sw::security
