// SipHash-2-4 (Aumasson and Bernstein): a keyed 64-bit hash. With a secret random key, nobody outside
// the process can make two inputs collide on purpose, so a table keyed by the hash alone is safe against
// hostile input, and by chance two of a million live keys collide with probability about 2^-25.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace sw {

struct SipKey {
    std::uint64_t k0 = 0;
    std::uint64_t k1 = 0;
};

inline std::uint64_t siphash24(const SipKey& key, std::string_view data) {
    auto rotl = [](std::uint64_t x, int b) { return (x << b) | (x >> (64 - b)); };
    std::uint64_t v0 = 0x736f6d6570736575ULL ^ key.k0;
    std::uint64_t v1 = 0x646f72616e646f6dULL ^ key.k1;
    std::uint64_t v2 = 0x6c7967656e657261ULL ^ key.k0;
    std::uint64_t v3 = 0x7465646279746573ULL ^ key.k1;
    auto round = [&] {
        v0 += v1;
        v1 = rotl(v1, 13);
        v1 ^= v0;
        v0 = rotl(v0, 32);
        v2 += v3;
        v3 = rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = rotl(v1, 17);
        v1 ^= v2;
        v2 = rotl(v2, 32);
    };
    const std::size_t n = data.size();
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t m;
        std::memcpy(&m, p + i, 8);  // little-endian hosts (x86_64, aarch64)
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
    std::uint64_t last = static_cast<std::uint64_t>(n) << 56;
    for (std::size_t j = 0; i + j < n; ++j)
        last |= static_cast<std::uint64_t>(p[i + j]) << (8 * j);
    v3 ^= last;
    round();
    round();
    v0 ^= last;
    v2 ^= 0xff;
    round();
    round();
    round();
    round();
    return v0 ^ v1 ^ v2 ^ v3;
}

}  // namespace sw
