// AuthGuard: bans after failed authentications (growing with each repeat), account locks against
// distributed guessing (alert once), bounded memory.
#include "security/auth_guard.hpp"

#include <gtest/gtest.h>

namespace sw::security {
namespace {

constexpr SipKey kKey{7, 77};

AddressKey addr(const char* text) {
    return *AddressKey::from_text(text);
}

AddressKey nth(std::uint32_t n) {
    return AddressKey::from_v4({203, 0, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
}

// `n` failures from `a` at `now`; the result of the last.
AuthFailure fail_times(AuthGuard& g, const AddressKey& a, int n, std::int64_t now,
                       std::string_view user = "201") {
    AuthFailure last;
    for (int i = 0; i < n; ++i)
        last = g.on_failure(a, user, now);
    return last;
}

TEST(AuthGuard, TenFailuresWithinAMinuteBanTheAddress) {
    AuthGuard g({}, kKey);
    const auto a = addr("192.0.2.66");
    for (int i = 0; i < 9; ++i)
        EXPECT_FALSE(g.on_failure(a, "201", 1000 + i).ban) << i;
    const auto tenth = g.on_failure(a, "201", 1009);
    ASSERT_TRUE(tenth.ban);
    EXPECT_EQ(tenth.ban->seconds, 300);
    EXPECT_EQ(tenth.ban->until_s, 1309);
    EXPECT_EQ(tenth.ban->repeat, 1u);
    // Another address is counted on its own.
    EXPECT_FALSE(g.on_failure(addr("192.0.2.67"), "201", 1010).ban);
}

TEST(AuthGuard, FailuresSpreadBeyondTheWindowDoNotBan) {
    AuthGuard g({}, kKey);
    const auto a = addr("2001:db8::66");
    EXPECT_FALSE(fail_times(g, a, 9, 0).ban);
    EXPECT_FALSE(g.on_failure(a, "201", 60).ban) << "the window of the first nine has passed";
    EXPECT_FALSE(fail_times(g, a, 8, 61).ban);
    EXPECT_TRUE(g.on_failure(a, "201", 62).ban);
}

TEST(AuthGuard, EachRepeatBanLastsLongerUntilForgotten) {
    AuthGuard g({}, kKey);
    const auto a = addr("192.0.2.99");
    std::int64_t now = 0;
    std::vector<std::int64_t> seconds;
    for (int round = 0; round < 5; ++round) {
        const auto r = fail_times(g, a, 10, now);
        ASSERT_TRUE(r.ban) << round;
        EXPECT_EQ(r.ban->repeat, static_cast<std::uint32_t>(round + 1));
        seconds.push_back(r.ban->seconds);
        now = r.ban->until_s;  // it comes back when the ban ends
    }
    EXPECT_EQ(seconds, (std::vector<std::int64_t>{300, 1800, 14400, 86400, 86400}));
    // A week without a ban: the next one is a first one again.
    now += 7 * 86400;
    const auto r = fail_times(g, a, 10, now);
    ASSERT_TRUE(r.ban);
    EXPECT_EQ(r.ban->seconds, 300);
    EXPECT_EQ(r.ban->repeat, 1u);
}

TEST(AuthGuard, ASuccessForgetsTheFailuresButNotTheBanLevel) {
    AuthGuard g({}, kKey);
    const auto a = addr("192.0.2.5");
    ASSERT_FALSE(fail_times(g, a, 9, 100).ban);
    g.on_success(a, "201", 100);
    EXPECT_FALSE(fail_times(g, a, 9, 101).ban);
    const auto r = g.on_failure(a, "201", 102);
    ASSERT_TRUE(r.ban);
    g.on_success(a, "201", 500);
    const auto again = fail_times(g, a, 10, 600);
    ASSERT_TRUE(again.ban);
    EXPECT_EQ(again.ban->seconds, 1800);
}

TEST(AuthGuard, ConfiguredThresholdsAndSteps) {
    AuthGuardConfig c;
    c.max_failures = 3;
    c.window_s = 10;
    c.ban_steps_s = {60, 120};
    AuthGuard g(c, kKey);
    const auto a = addr("192.0.2.1");
    EXPECT_FALSE(fail_times(g, a, 2, 0).ban);
    EXPECT_EQ(g.on_failure(a, "x", 0).ban->seconds, 60);
    EXPECT_EQ(fail_times(g, a, 3, 100).ban->seconds, 120);
    EXPECT_EQ(fail_times(g, a, 3, 300).ban->seconds, 120);
}

TEST(AuthGuard, ManyAddressesAgainstOneAccountLockItAndAlertOnce) {
    AuthGuard g({}, kKey);
    for (std::uint32_t i = 0; i < 19; ++i) {
        const auto r = g.on_failure(nth(i), "201", 1000 + i);
        EXPECT_FALSE(r.account_lock_started) << i;
        EXPECT_FALSE(r.ban);
    }
    EXPECT_FALSE(g.account_locked("201", 1019));
    const auto twentieth = g.on_failure(nth(19), "201", 1019);
    EXPECT_TRUE(twentieth.account_lock_started);
    EXPECT_EQ(twentieth.account_locked_until, 1019 + 900);
    EXPECT_TRUE(g.account_locked("201", 1019));
    EXPECT_FALSE(g.account_locked("202", 1019));
    // The attack goes on: no second alert while locked.
    for (std::uint32_t i = 20; i < 60; ++i) {
        const auto r = g.on_failure(nth(i), "201", 1020);
        EXPECT_FALSE(r.account_lock_started) << i;
        EXPECT_EQ(r.account_locked_until, 1919);
    }
    EXPECT_TRUE(g.account_locked("201", 1918));
    EXPECT_FALSE(g.account_locked("201", 1919));
    // A new lock after it ended is a new alert.
    AuthFailure last;
    for (std::uint32_t i = 100; i < 120; ++i)
        last = g.on_failure(nth(i), "201", 2000);
    EXPECT_TRUE(last.account_lock_started);
}

TEST(AuthGuard, OneAddressFailingOftenDoesNotLockTheAccount) {
    AuthGuard g({}, kKey);
    for (int i = 0; i < 100; ++i)
        EXPECT_FALSE(g.on_failure(addr("192.0.2.1"), "201", i).account_lock_started);
    EXPECT_FALSE(g.account_locked("201", 100));
}

TEST(AuthGuard, AccountFailuresOlderThanTheWindowDoNotCount) {
    AuthGuard g({}, kKey);
    for (std::uint32_t i = 0; i < 19; ++i)
        g.on_failure(nth(i), "201", 0);
    EXPECT_FALSE(g.on_failure(nth(19), "201", 600).account_lock_started);
    for (std::uint32_t i = 20; i < 38; ++i)
        g.on_failure(nth(i), "201", 601);
    EXPECT_FALSE(g.account_locked("201", 601));
    // One at 600, eighteen at 601, this one: twenty distinct addresses within ten minutes.
    EXPECT_TRUE(g.on_failure(nth(38), "201", 602).account_lock_started);
}

TEST(AuthGuard, KnownAddressesOfTheAccountAreNotLockedOut) {
    AuthGuard g({}, kKey);
    const auto phone = addr("10.0.0.20");
    g.on_success(phone, "201", 0);
    AuthFailure last;
    for (std::uint32_t i = 0; i < 20; ++i)
        last = g.on_failure(nth(i), "201", 10);
    ASSERT_TRUE(last.account_lock_started);
    EXPECT_TRUE(g.account_locked("201", 11));
    EXPECT_FALSE(g.account_locked("201", phone, 11));
    EXPECT_TRUE(g.account_locked("201", nth(0), 11));
    EXPECT_TRUE(g.account_locked("201", addr("10.0.0.21"), 11));
}

TEST(AuthGuard, MemoryIsBoundedAndTheOldestAddressIsForgotten) {
    AuthGuardConfig c;
    c.address_capacity = 16;  // one entry per stripe
    c.account_capacity = 16;
    AuthGuard g(c, kKey);
    const auto a = addr("192.0.2.1");
    ASSERT_FALSE(fail_times(g, a, 9, 0).ban);
    for (std::uint32_t i = 0; i < 5000; ++i)
        g.on_failure(nth(i), "user" + std::to_string(i), 0);
    // a's nine failures were evicted: the tenth is a first.
    EXPECT_FALSE(g.on_failure(a, "201", 1).ban);
    // With room, the same sequence bans.
    AuthGuard roomy({}, kKey);
    ASSERT_FALSE(fail_times(roomy, a, 9, 0).ban);
    for (std::uint32_t i = 0; i < 5000; ++i)
        roomy.on_failure(nth(i), "user" + std::to_string(i), 0);
    EXPECT_TRUE(roomy.on_failure(a, "201", 1).ban);
}

}  // namespace
}  // namespace sw::security
