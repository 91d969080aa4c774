// RateLimiter: token buckets per address and per name in a fixed-size LRU table.
#include "security/token_bucket.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace sw::security {
namespace {

constexpr SipKey kKey{0x0123456789abcdefULL, 0xfedcba9876543210ULL};

AddressKey addr(const char* text) {
    return *AddressKey::from_text(text);
}

AddressKey v4(std::uint32_t n) {
    return AddressKey::from_v4({static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                                static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
}

TEST(RateLimiter, AllowsTheBurstThenRefuses) {
    RateLimiter limiter({10, 5, 0}, 64, kKey);
    const auto a = addr("192.0.2.1");
    for (int i = 0; i < 5; ++i)
        EXPECT_TRUE(limiter.allow(a, 1000)) << i;
    EXPECT_FALSE(limiter.allow(a, 1000));
    EXPECT_FALSE(limiter.allow(a, 1050));  // half a token
    // Another address has its own bucket.
    EXPECT_TRUE(limiter.allow(addr("192.0.2.2"), 1050));
}

TEST(RateLimiter, RefillsAtTheRateUpToTheBurst) {
    RateLimiter limiter({10, 5, 0}, 64, kKey);
    const auto a = addr("2001:db8::7");
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(limiter.allow(a, 0));
    ASSERT_FALSE(limiter.allow(a, 0));
    EXPECT_TRUE(limiter.allow(a, 100));  // 10 per second: one token per 100 ms
    EXPECT_FALSE(limiter.allow(a, 150));
    EXPECT_TRUE(limiter.allow(a, 250));
    // A long quiet time fills the bucket to the burst, not beyond.
    int allowed = 0;
    for (int i = 0; i < 20; ++i)
        allowed += limiter.allow(a, 60'000) ? 1 : 0;
    EXPECT_EQ(allowed, 5);
}

TEST(RateLimiter, AClockThatGoesBackRefillsNothing) {
    RateLimiter limiter({1, 1, 0}, 8, kKey);
    const auto a = addr("192.0.2.1");
    ASSERT_TRUE(limiter.allow(a, 10'000));
    EXPECT_FALSE(limiter.allow(a, 5'000));
    EXPECT_FALSE(limiter.allow(a, 10'500));
    EXPECT_TRUE(limiter.allow(a, 11'000));
}

TEST(RateLimiter, AsksForABanOnceAfterBanAfterRefusals) {
    RateLimiter limiter({1, 2, 3}, 8, kKey);
    const auto a = addr("192.0.2.9");
    EXPECT_EQ(limiter.take(a, 0), RateVerdict::Allowed);
    EXPECT_EQ(limiter.take(a, 0), RateVerdict::Allowed);
    EXPECT_EQ(limiter.take(a, 0), RateVerdict::Refused);
    EXPECT_EQ(limiter.take(a, 0), RateVerdict::Refused);
    EXPECT_EQ(limiter.take(a, 0), RateVerdict::Ban);
    EXPECT_EQ(limiter.take(a, 0), RateVerdict::Refused);  // once
    // A token now and then (the flood goes on) does not start the count again: no second Ban.
    EXPECT_EQ(limiter.take(a, 1000), RateVerdict::Allowed);
    EXPECT_EQ(limiter.take(a, 1000), RateVerdict::Refused);
    EXPECT_EQ(limiter.take(a, 1000), RateVerdict::Refused);
    // Calm for long enough to fill the bucket: a new flood is counted from zero and banned again.
    EXPECT_EQ(limiter.take(a, 10'000), RateVerdict::Allowed);
    EXPECT_EQ(limiter.take(a, 10'000), RateVerdict::Allowed);
    EXPECT_EQ(limiter.take(a, 10'000), RateVerdict::Refused);
    EXPECT_EQ(limiter.take(a, 10'000), RateVerdict::Refused);
    EXPECT_EQ(limiter.take(a, 10'000), RateVerdict::Ban);
}

TEST(RateLimiter, AFloodThatGetsATokenNowAndThenIsStillBanned) {
    // 10 per second, burst 10, ban after 50 refusals; the flood sends 100 per second for two seconds.
    RateLimiter limiter({10, 10, 50}, 8, kKey);
    const auto a = addr("192.0.2.10");
    bool banned = false;
    for (int ms = 0; ms < 2000 && !banned; ms += 10)
        banned = limiter.take(a, ms) == RateVerdict::Ban;
    EXPECT_TRUE(banned);
}

TEST(RateLimiter, NamesHaveTheirOwnBuckets) {
    RateLimiter limiter({0.2, 2, 0}, 64, kKey);
    EXPECT_TRUE(limiter.allow_name("201", 0));
    EXPECT_TRUE(limiter.allow_name("201", 0));
    EXPECT_FALSE(limiter.allow_name("201", 0));
    EXPECT_TRUE(limiter.allow_name("202", 0));
    EXPECT_TRUE(limiter.allow_name("2010", 0));
    EXPECT_FALSE(limiter.allow_name("201", 4'900));
    EXPECT_TRUE(limiter.allow_name("201", 5'100));  // 0.2 per second: one per 5 s
    EXPECT_EQ(limiter.retry_after_s(), 5u);
}

TEST(RateLimiter, AMillionSpoofedAddressesKeepTheTableAtItsSizeAndAHotKeyKeepsItsState) {
    RateLimiter limiter({0.001, 3, 0}, 4096, kKey);
    EXPECT_EQ(limiter.capacity(), 4096u);
    const auto hot = addr("198.51.100.1");
    const auto cold = addr("198.51.100.2");
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(limiter.allow(hot, 0));
        ASSERT_TRUE(limiter.allow(cold, 0));
    }
    ASSERT_FALSE(limiter.allow(hot, 0));
    ASSERT_FALSE(limiter.allow(cold, 0));
    for (std::uint32_t i = 0; i < 1'000'000; ++i) {
        // Every source new: 10.0.0.0 upwards, half of them IPv6.
        if (i % 2 == 0) {
            EXPECT_TRUE(limiter.allow(v4(0x0a000000u + i), 0));
        } else {
            std::array<std::uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
            b[12] = static_cast<std::uint8_t>(i >> 24);
            b[13] = static_cast<std::uint8_t>(i >> 16);
            b[14] = static_cast<std::uint8_t>(i >> 8);
            b[15] = static_cast<std::uint8_t>(i);
            EXPECT_TRUE(limiter.allow(AddressKey::from_v6(b), 0));
        }
        // The attacker that floods from its real address keeps being seen, so its empty bucket stays.
        if (i % 1000 == 0) {
            ASSERT_FALSE(limiter.allow(hot, 0)) << "the hot key lost its state at " << i;
        }
        ASSERT_LE(limiter.size(), 4096u);
    }
    EXPECT_EQ(limiter.size(), 4096u);
    EXPECT_FALSE(limiter.allow(hot, 0));
    // The cold key was evicted long ago: it comes back with a full bucket.
    EXPECT_TRUE(limiter.allow(cold, 0));
}

TEST(SharedRateLimiter, OneBudgetPerNameAcrossThreads) {
    // Four threads (four workers) take tokens for the same two users at one instant: together they get
    // each user's burst, exactly, not a burst per thread.
    SharedRateLimiter limiter(RateLimit{5, 20, 0}, 4096, kKey);
    std::atomic<int> alice{0};
    std::atomic<int> bob{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                if (limiter.take_name("alice", 1000) == RateVerdict::Allowed) ++alice;
                if (limiter.take_name("bob", 1000) == RateVerdict::Allowed) ++bob;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(alice.load(), 20);
    EXPECT_EQ(bob.load(), 20);
    // The rate refills it for everyone: 5 per second, so 5 more a second later.
    int later = 0;
    for (int i = 0; i < 10; ++i)
        later += limiter.take_name("alice", 2000) == RateVerdict::Allowed ? 1 : 0;
    EXPECT_EQ(later, 5);
    EXPECT_EQ(limiter.retry_after_s(), 1u);
    EXPECT_EQ(limiter.limit().burst, 20);
}

TEST(SharedRateLimiter, NamesSpreadOverTheStripesAndStayApart) {
    SharedRateLimiter limiter(RateLimit{1, 2, 0}, 64 * SharedRateLimiter::kStripes, kKey);
    for (int u = 0; u < 500; ++u) {
        const std::string name = "user" + std::to_string(u);
        EXPECT_EQ(limiter.take_name(name, 0), RateVerdict::Allowed) << name;
        EXPECT_EQ(limiter.take_name(name, 0), RateVerdict::Allowed) << name;
    }
    // 500 names in 16 stripes of 64: the oldest were evicted (and would come back full); the newest
    // are still tracked and empty.
    EXPECT_EQ(limiter.take_name("user499", 0), RateVerdict::Refused);
    EXPECT_EQ(limiter.take_name("user498", 0), RateVerdict::Refused);
}

}  // namespace
}  // namespace sw::security
