#include "auth/nonce.hpp"

#include <array>
#include <cassert>
#include <cstdlib>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/base64url.hpp"

namespace sw::auth {
namespace {

constexpr std::size_t kTimeSize = 8;
constexpr std::size_t kRandomSize = 8;
constexpr std::size_t kMacSize = 16;  // two 64-bit SipHash tags
constexpr std::size_t kNonceSize = kTimeSize + kRandomSize + kMacSize;
constexpr std::size_t kNonceTextSize = (kNonceSize * 4 + 2) / 3;  // 43 characters

using NonceBytes = std::array<unsigned char, kNonceSize>;

}  // namespace

// MAC over time | random | realm. time and random have fixed sizes, so the realm needs no delimiter.
void NonceFactory::mac(const unsigned char* time_and_random, std::string_view realm,
                       unsigned char* out) const {
    std::array<char, 256> small{};
    std::string large;
    const std::size_t n = kTimeSize + kRandomSize + realm.size();
    char* m = small.data();
    if (n > small.size()) {
        large.resize(n);
        m = large.data();
    }
    std::memcpy(m, time_and_random, kTimeSize + kRandomSize);
    if (!realm.empty()) std::memcpy(m + kTimeSize + kRandomSize, realm.data(), realm.size());
    for (std::size_t k = 0; k < 2; ++k) {
        const std::uint64_t tag = siphash24(mac_keys_[k], std::string_view(m, n));
        for (std::size_t i = 0; i < 8; ++i)
            out[8 * k + i] = static_cast<unsigned char>(tag >> (8 * i));
    }
}

NonceFactory::NonceFactory(std::string secret, std::chrono::seconds lifetime, Clock& clock, Random& random)
    : secret_(std::move(secret)), lifetime_(lifetime), clock_(clock), random_(random) {
    assert(secret_.size() >= kMinSecretSize);
    static constexpr std::string_view kLabel = "sipwarden nonce MAC";
    std::string input(kLabel);
    input.append(secret_);
    std::array<unsigned char, EVP_MAX_MD_SIZE> k{};
    unsigned int n = 0;
    const bool ok =
        EVP_Digest(input.data(), input.size(), k.data(), &n, EVP_sha256(), nullptr) == 1 && n == 32;
    OPENSSL_cleanse(input.data(), input.size());
    // Without SHA-256 the keys would be zero and the nonces forgeable: better not to start.
    if (!ok) std::abort();
    auto word = [&](std::size_t at) {
        std::uint64_t w = 0;
        for (std::size_t i = 0; i < 8; ++i)
            w |= static_cast<std::uint64_t>(k[at + i]) << (8 * i);
        return w;
    };
    mac_keys_[0] = SipKey{word(0), word(8)};
    mac_keys_[1] = SipKey{word(16), word(24)};
    OPENSSL_cleanse(k.data(), k.size());
}

NonceFactory::~NonceFactory() {
    OPENSSL_cleanse(secret_.data(), secret_.size());
    OPENSSL_cleanse(mac_keys_, sizeof mac_keys_);
}

std::string NonceFactory::make(std::string_view realm) {
    NonceBytes b{};
    const auto t = static_cast<std::uint64_t>(clock_.now_s());
    for (std::size_t i = 0; i < kTimeSize; ++i)
        b[i] = static_cast<unsigned char>(t >> (8 * (kTimeSize - 1 - i)));
    random_.fill(std::span<unsigned char>(b.data() + kTimeSize, kRandomSize));
    mac(b.data(), realm, b.data() + kTimeSize + kRandomSize);
    return base64url_encode(b);
}

NonceStatus NonceFactory::inspect(std::string_view nonce, std::string_view realm) const {
    NonceStatus st;
    if (nonce.size() != kNonceTextSize) return st;
    const auto bytes = base64url_decode(nonce);
    if (!bytes || bytes->size() != kNonceSize) return st;

    std::array<unsigned char, kMacSize> expected{};
    this->mac(bytes->data(), realm, expected.data());
    if (CRYPTO_memcmp(expected.data(), bytes->data() + kTimeSize + kRandomSize, kMacSize) != 0) return st;

    std::uint64_t t = 0;
    for (std::size_t i = 0; i < kTimeSize; ++i)
        t = (t << 8) | (*bytes)[i];
    st.issued_at_s = static_cast<std::int64_t>(t);
    const std::int64_t now = clock_.now_s();
    if (st.issued_at_s > now + kMaxClockSkewS) return st;  // authentic but impossible: refuse
    st.check = now - st.issued_at_s > lifetime_.count() ? NonceCheck::Stale : NonceCheck::Valid;
    return st;
}

std::string NonceFactory::random_secret() {
    std::string s(kMinSecretSize, '\0');
    OsRandom random;
    random.fill(std::span<unsigned char>(reinterpret_cast<unsigned char*>(s.data()), s.size()));
    return s;
}

}  // namespace sw::auth
