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

}  // namespace

// RFC 2104: HMAC(K, m) = H((K ^ opad) | H((K ^ ipad) | m)). The hash states after the two padded key
// blocks are computed once; each MAC copies them, so it costs two short hashes and no key schedule.
struct NonceFactory::Mac {
    EVP_MD_CTX* inner = EVP_MD_CTX_new();
    EVP_MD_CTX* outer = EVP_MD_CTX_new();
    bool ok = false;
    explicit Mac(std::string_view key) {
        static const EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
        std::array<unsigned char, 64> k{};
        if (key.size() > k.size()) {
            unsigned int n = 0;
            EVP_Digest(key.data(), key.size(), k.data(), &n, sha256, nullptr);
        } else {
            std::memcpy(k.data(), key.data(), key.size());
        }
        std::array<unsigned char, 64> ipad{}, opad{};
        for (std::size_t i = 0; i < k.size(); ++i) {
            ipad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
            opad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
        }
        ok = sha256 != nullptr && inner != nullptr && outer != nullptr &&
             EVP_DigestInit_ex(inner, sha256, nullptr) == 1 && EVP_DigestUpdate(inner, ipad.data(), ipad.size()) == 1 &&
             EVP_DigestInit_ex(outer, sha256, nullptr) == 1 && EVP_DigestUpdate(outer, opad.data(), opad.size()) == 1;
        OPENSSL_cleanse(k.data(), k.size());
        OPENSSL_cleanse(ipad.data(), ipad.size());
        OPENSSL_cleanse(opad.data(), opad.size());
    }
    ~Mac() {
        EVP_MD_CTX_free(inner);
        EVP_MD_CTX_free(outer);
    }
    Mac(const Mac&) = delete;
    Mac& operator=(const Mac&) = delete;
};

// MAC over time | random | realm. time and random have fixed sizes, so the realm needs no delimiter.
// false only when OpenSSL fails.
bool NonceFactory::mac(const unsigned char* time_and_random, std::string_view realm, unsigned char* out) const {
    if (!mac_->ok) return false;
    EVP_MD_CTX* c = EVP_MD_CTX_new();
    if (c == nullptr) return false;
    std::array<unsigned char, EVP_MAX_MD_SIZE> inner{}, full{};
    unsigned int n = 0, m = 0;
    const bool ok = EVP_MD_CTX_copy_ex(c, mac_->inner) == 1 &&
                    EVP_DigestUpdate(c, time_and_random, kTimeSize + kRandomSize) == 1 &&
                    EVP_DigestUpdate(c, realm.data(), realm.size()) == 1 && EVP_DigestFinal_ex(c, inner.data(), &n) == 1 &&
                    EVP_MD_CTX_copy_ex(c, mac_->outer) == 1 && EVP_DigestUpdate(c, inner.data(), n) == 1 &&
                    EVP_DigestFinal_ex(c, full.data(), &m) == 1 && m >= kMacSize;
    EVP_MD_CTX_free(c);
    if (ok) std::memcpy(out, full.data(), kMacSize);
    return ok;
}

NonceFactory::NonceFactory(std::string secret, std::chrono::seconds lifetime, Clock& clock, Random& random)
    : secret_(std::move(secret)),
      mac_(std::make_unique<Mac>(secret_)),
      lifetime_(lifetime),
      clock_(clock),
      random_(random) {
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
    mac(b.data(), realm, b.data() + kTimeSize + kRandomSize);
    return base64url_encode(b);
}

NonceStatus NonceFactory::inspect(std::string_view nonce, std::string_view realm) const {
    NonceStatus st;
    if (nonce.size() != kNonceTextSize) return st;
    const auto bytes = base64url_decode(nonce);
    if (!bytes || bytes->size() != kNonceSize) return st;

    std::array<unsigned char, kMacSize> expected{};
    if (!this->mac(bytes->data(), realm, expected.data())) return st;
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
