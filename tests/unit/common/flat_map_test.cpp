#include "common/flat_map.hpp"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

namespace {

using sw::FlatMap;

TEST(FlatMap, InsertFindEraseAndSize) {
    FlatMap<int> m;
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(m.find(42), m.end());
    auto [s, inserted] = m.emplace(42, 7);
    ASSERT_TRUE(inserted);
    EXPECT_EQ(s->first, 42u);
    EXPECT_EQ(s->second, 7);
    EXPECT_FALSE(m.emplace(42, 9).second);  // already there: the value stays
    EXPECT_EQ(m.find(42)->second, 7);
    m[43] = 8;
    EXPECT_EQ(m.size(), 2u);
    EXPECT_EQ(m.erase(42), 1u);
    EXPECT_EQ(m.erase(42), 0u);
    EXPECT_EQ(m.find(42), m.end());
    EXPECT_EQ(m.find(43)->second, 8);
    EXPECT_EQ(m.size(), 1u);
}

TEST(FlatMap, KeyZeroIsAKeyLikeAnyOther) {
    FlatMap<int> m;
    m[0] = 5;
    ASSERT_NE(m.find(0), m.end());
    EXPECT_EQ(m.find(0)->second, 5);
    EXPECT_EQ(m.erase(std::uint64_t{0}), 1u);
    EXPECT_TRUE(m.empty());
}

TEST(FlatMap, RemovalInsideAProbeRunThatWrapsKeepsEveryKeyReachable) {
    // 16 slots: keys whose home is slot 14 or 15 fill 14, 15, 0, 1, 2 (the run wraps around the end).
    FlatMap<int> m;
    const std::uint64_t keys[] = {14, 30, 15, 46, 31, 16 + 0};  // homes 14, 14, 15, 14, 15, 0
    for (int i = 0; i < 6; ++i)
        m.emplace(keys[i], i);
    ASSERT_EQ(m.capacity(), 16u);
    for (int victim = 0; victim < 6; ++victim) {
        FlatMap<int> c = m;
        ASSERT_EQ(c.erase(keys[victim]), 1u);
        for (int i = 0; i < 6; ++i) {
            if (i == victim) {
                EXPECT_EQ(c.find(keys[i]), c.end());
            } else {
                ASSERT_NE(c.find(keys[i]), c.end())
                    << "key " << keys[i] << " lost after erasing " << keys[victim];
                EXPECT_EQ(c.find(keys[i])->second, i);
            }
        }
    }
}

TEST(FlatMap, AgreesWithUnorderedMapOverRandomOperations) {
    // Keys from a small range with few low bits, so probe runs are long and collide often.
    std::mt19937_64 rng(7);
    FlatMap<std::uint64_t> m;
    std::unordered_map<std::uint64_t, std::uint64_t> ref;
    for (int step = 0; step < 200000; ++step) {
        const std::uint64_t key = (rng() % 3000) * 1024 + 1 + (rng() % 3);  // not 0: stored as 1
        switch (rng() % 4) {
            case 0:
            case 1: {
                const bool a = m.emplace(key, step).second;
                const bool b = ref.emplace(key, step).second;
                ASSERT_EQ(a, b);
                break;
            }
            case 2: {
                ASSERT_EQ(m.erase(key), ref.erase(key));
                break;
            }
            default: {
                auto* s = m.find(key);
                auto it = ref.find(key);
                ASSERT_EQ(s == m.end(), it == ref.end());
                if (s != m.end()) {
                    ASSERT_EQ(s->second, it->second);
                    if (rng() % 2 == 0) {  // erase through the slot
                        m.erase(s);
                        ref.erase(it);
                    }
                }
            }
        }
        ASSERT_EQ(m.size(), ref.size());
    }
    for (const auto& [k, v] : ref) {
        ASSERT_NE(m.find(k), m.end());
        EXPECT_EQ(m.find(k)->second, v);
    }
    EXPECT_LE(2 * m.size(), m.capacity());  // never more than half full
}

TEST(FlatMap, ReserveMakesRoomWithoutGrowingLater) {
    FlatMap<int> m;
    m.reserve(1000);
    const std::size_t cap = m.capacity();
    EXPECT_GE(cap, 2000u);
    for (std::uint64_t k = 1; k <= 1000; ++k)
        m[k * 0x9e3779b97f4a7c15ULL] = 1;
    EXPECT_EQ(m.capacity(), cap);
    EXPECT_EQ(m.size(), 1000u);
}

TEST(FlatMap, EraseIfRemovesExactlyTheMatchingEntries) {
    FlatMap<int> m;
    // Keys that share home slots (multiples of 64 collide in the low bits), so removals shift runs.
    for (std::uint64_t k = 1; k <= 600; ++k)
        m.emplace(k * 64, static_cast<int>(k));
    EXPECT_EQ(m.erase_if([](std::uint64_t, int v) { return v % 3 == 0; }), 200u);
    EXPECT_EQ(m.size(), 400u);
    for (std::uint64_t k = 1; k <= 600; ++k) {
        auto* s = m.find(k * 64);
        if (k % 3 == 0) {
            EXPECT_EQ(s, m.end()) << k;
        } else {
            ASSERT_NE(s, m.end()) << k;
            EXPECT_EQ(s->second, static_cast<int>(k));
        }
    }
    EXPECT_EQ(m.erase_if([](std::uint64_t, int) { return false; }), 0u);
    EXPECT_EQ(m.erase_if([](std::uint64_t, int) { return true; }), 400u);
    EXPECT_TRUE(m.empty());
}

}  // namespace
