// The two things from outside the process that the auth layer depends on: the time and random bytes.
// Both come in through these interfaces so that tests run with a fake clock and a fake random source.
#pragma once

#include <cstdint>
#include <span>

namespace sw::auth {

// Wall-clock time in whole seconds since the Unix epoch. Nonces carry it, so it must survive a restart
// (a monotonic clock would not). Thread: implementations are called from any worker thread.
class Clock {
public:
    virtual ~Clock() = default;
    virtual std::int64_t now_s() const = 0;
};

// Cryptographically strong random bytes. Thread: implementations are called from any worker thread.
class Random {
public:
    virtual ~Random() = default;
    virtual void fill(std::span<unsigned char> out) = 0;
};

class SystemClock final : public Clock {
public:
    std::int64_t now_s() const override;
};

// OpenSSL's RAND_bytes (thread-safe). A server that cannot get random bytes must not go on issuing
// predictable secrets, so a failure of the generator aborts the process.
class OsRandom final : public Random {
public:
    void fill(std::span<unsigned char> out) override;
};

}  // namespace sw::auth
