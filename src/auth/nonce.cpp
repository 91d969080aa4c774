#include "auth/nonce.hpp"

#include <array>
#include <cassert>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/base64url.hpp"

namespace sw::auth {
namespace {

constexpr std::size_t kTimeSize = 8;
constexpr std::size_t kRandomSize = 8;
constexpr std::size_t kMacSize = 16;  // HMAC-SHA256 truncated to 128 bits (RFC 2104 5 allows truncation)
constexpr std::size_t kNonceSize = kTimeSize + kRandomSize + kMacSize;
constexpr std::size_t kNonceTextSize = (kNonceSize * 4 + 2) / 3;  // 43 characters

using NonceBytes = std::array<unsigned char, kNonceSize>;

// MAC over time | random | realm. time and random have fixed sizes, so the realm needs no delimiter.
// false only when OpenSSL fails.
bool compute_mac(std::string_view secret, const unsigned char* time_and_random, std::string_view realm,
                 unsigned char* mac_out) {
    std::string input(reinterpret_cast<const char*>(time_and_random), kTimeSize + kRandomSize);
    input.append(realm);
    std::array<unsigned char, EVP_MAX_MD_SIZE> full{};
    unsigned int n = 0;
    if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(input.data()), input.size(), full.data(),
             &n) == nullptr ||
        n < kMacSize) {
        return false;
    }
    std::memcpy(mac_out, full.data(), kMacSize);
    return true;
}

}  // namespace

NonceFactory::NonceFactory(std::string secret, std::chrono::seconds lifetime, Clock& clock, Random& random)
    : secret_(std::move(secret)), lifetime_(lifetime), clock_(clock), random_(random) {
    assert(secret_.size() >= kMinSecretSize);
}

NonceFactory::~NonceFactory() {
    OPENSSL_cleanse(secret_.data(), secret_.size());
}

std::string NonceFactory::make(std::string_view realm) {
    NonceBytes b{};
    const auto t = static_cast<std::uint64_t>(clock_.now_s());
    for (std::size_t i = 0; i < kTimeSize; ++i)
        b[i] = static_cast<unsigned char>(t >> (8 * (kTimeSize - 1 - i)));
    random_.fill(std::span<unsigned char>(b.data() + kTimeSize, kRandomSize));
    // On an OpenSSL failure the MAC stays zero: such a nonce never checks Valid, so the client is
    // challenged again instead of being let in.
    compute_mac(secret_, b.data(), realm, b.data() + kTimeSize + kRandomSize);
    return base64url_encode(b);
}

NonceStatus NonceFactory::inspect(std::string_view nonce, std::string_view realm) const {
    NonceStatus st;
    if (nonce.size() != kNonceTextSize) return st;
    const auto bytes = base64url_decode(nonce);
    if (!bytes || bytes->size() != kNonceSize) return st;

    std::array<unsigned char, kMacSize> mac{};
    if (!compute_mac(secret_, bytes->data(), realm, mac.data())) return st;
    if (CRYPTO_memcmp(mac.data(), bytes->data() + kTimeSize + kRandomSize, kMacSize) != 0) return st;

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
