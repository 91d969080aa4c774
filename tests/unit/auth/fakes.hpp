// Test doubles for the auth layer's Clock and Random.
#pragma once

#include <cstdint>
#include <span>

#include "auth/clock_random.hpp"

namespace sw::auth::test {

class FakeClock final : public Clock {
public:
    explicit FakeClock(std::int64_t now = 1'700'000'000) : now_(now) {}
    std::int64_t now_s() const override { return now_; }
    void set(std::int64_t now) { now_ = now; }
    void advance(std::int64_t seconds) { now_ += seconds; }

private:
    std::int64_t now_;
};

// A deterministic byte stream (a 64-bit LCG's high byte): varied enough for rejection sampling, and
// the same in every run.
class FakeRandom final : public Random {
public:
    explicit FakeRandom(std::uint64_t seed = 1) : state_(seed) {}
    void fill(std::span<unsigned char> out) override {
        for (unsigned char& b : out) {
            state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
            b = static_cast<unsigned char>(state_ >> 56);
        }
    }

private:
    std::uint64_t state_;
};

}  // namespace sw::auth::test
