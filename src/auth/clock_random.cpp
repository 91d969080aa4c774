#include "auth/clock_random.hpp"

#include <array>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace sw::auth {

std::int64_t SystemClock::now_s() const {
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
}

void OsRandom::fill(std::span<unsigned char> out) {
    // Small requests (nonces, tags: a few bytes each) are served from a per-thread pool refilled 4 KiB at
    // a time: OpenSSL's DRBG checks for a fork with getpid() on every call, a system call per nonce.
    // Served bytes are wiped from the pool. A fork would copy the pool into the child; sipwarden never
    // forks after it starts.
    constexpr std::size_t kPool = 4096;
    thread_local std::array<unsigned char, kPool> pool{};
    thread_local std::size_t left = 0;
    if (out.size() <= 64) {
        if (left < out.size()) {
            if (RAND_bytes(pool.data(), static_cast<int>(kPool)) != 1) std::abort();
            left = kPool;
        }
        std::memcpy(out.data(), pool.data() + (kPool - left), out.size());
        OPENSSL_cleanse(pool.data() + (kPool - left), out.size());
        left -= out.size();
        return;
    }
    while (!out.empty()) {
        const std::size_t chunk = out.size() < INT_MAX ? out.size() : static_cast<std::size_t>(INT_MAX);
        if (RAND_bytes(out.data(), static_cast<int>(chunk)) != 1) std::abort();
        out = out.subspan(chunk);
    }
}

}  // namespace sw::auth
