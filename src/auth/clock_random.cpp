#include "auth/clock_random.hpp"

#include <chrono>
#include <climits>
#include <cstdlib>

#include <openssl/rand.h>

namespace sw::auth {

std::int64_t SystemClock::now_s() const {
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
}

void OsRandom::fill(std::span<unsigned char> out) {
    while (!out.empty()) {
        const std::size_t chunk = out.size() < INT_MAX ? out.size() : static_cast<std::size_t>(INT_MAX);
        if (RAND_bytes(out.data(), static_cast<int>(chunk)) != 1) std::abort();
        out = out.subspan(chunk);
    }
}

}  // namespace sw::auth
