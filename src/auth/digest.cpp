#include "auth/digest.hpp"

#include <array>
#include <cstring>
#include <memory>
#include <span>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/text.hpp"

namespace sw::auth {
namespace {

// OpenSSL 3 looks an algorithm up in its providers on every use of EVP_md5() & co. (an "implicit
// fetch", with a lock); fetching once and keeping the method makes a digest several times cheaper.
// These are immutable after their thread-safe initialisation and live for the process.
const EVP_MD* evp_md(Algorithm a) {
    static const EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
    static const EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    static const EVP_MD* const sha512_256 = EVP_MD_fetch(nullptr, "SHA2-512/256", nullptr);  // FIPS 180-4
    switch (a) {
        case Algorithm::Md5:
            return md5;
        case Algorithm::Sha256:
            return sha256;
        case Algorithm::Sha512_256:
            return sha512_256;
    }
    return nullptr;
}

// One digest context per thread, reused: EVP_Digest makes and frees one on every call.
EVP_MD_CTX* thread_context() {
    thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                                   &EVP_MD_CTX_free);
    return ctx.get();
}

// The lowercase hex digest of the parts joined with ':' (the separator of every Digest formula). The
// parts are joined in a buffer on the stack and hashed with one update (each EVP_DigestUpdate has a
// fixed cost that a dozen short parts would pay a dozen times); the buffer is wiped afterwards, since an
// HA1 input holds the password. Writes 2 x digest size characters to `out`; returns how many (0 when
// OpenSSL fails).
std::size_t hex_joined(Algorithm a, std::span<const std::string_view> parts, char* out) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::size_t size = parts.empty() ? 0 : parts.size() - 1;
    for (std::string_view p : parts)
        size += p.size();
    std::array<char, 512> small{};
    std::string large;
    char* joined = small.data();
    if (size > small.size()) {
        large.resize(size);
        joined = large.data();
    }
    std::size_t at = 0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) joined[at++] = ':';
        if (!parts[i].empty()) std::memcpy(joined + at, parts[i].data(), parts[i].size());
        at += parts[i].size();
    }
    EVP_MD_CTX* c = thread_context();
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int n = 0;
    const bool ok = c != nullptr && EVP_DigestInit_ex2(c, evp_md(a), nullptr) == 1 &&
                    EVP_DigestUpdate(c, joined, size) == 1 && EVP_DigestFinal_ex(c, md.data(), &n) == 1;
    OPENSSL_cleanse(joined, size);
    if (!ok) return 0;
    for (unsigned int i = 0; i < n; ++i) {
        out[2 * i] = kHex[md[i] >> 4];
        out[2 * i + 1] = kHex[md[i] & 0x0f];
    }
    OPENSSL_cleanse(md.data(), md.size());
    return 2 * static_cast<std::size_t>(n);
}

template <std::size_t N>
std::string hash_joined(Algorithm a, const std::array<std::string_view, N>& parts) {
    std::array<char, 2 * EVP_MAX_MD_SIZE> hex{};
    return std::string(hex.data(), hex_joined(a, parts, hex.data()));
}

}  // namespace

std::string_view algorithm_name(Algorithm a) {
    switch (a) {
        case Algorithm::Md5:
            return "MD5";
        case Algorithm::Sha256:
            return "SHA-256";
        case Algorithm::Sha512_256:
            return "SHA-512-256";
    }
    return {};
}

std::optional<Algorithm> parse_algorithm(std::string_view token) {
    for (Algorithm a : {Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512_256}) {
        if (sw::iequals(token, algorithm_name(a))) return a;
    }
    return std::nullopt;
}

std::size_t hex_length(Algorithm a) {
    return a == Algorithm::Md5 ? 32 : 64;
}

std::string hex_digest(Algorithm a, std::string_view data) {
    return hash_joined(a, std::array{data});
}

std::string compute_ha1(Algorithm a, std::string_view user, std::string_view realm,
                        std::string_view password) {
    return hash_joined(a, std::array{user, realm, password});
}

std::string compute_response(Algorithm a, std::string_view ha1_hex, std::string_view nonce,
                             std::string_view nc, std::string_view cnonce, std::string_view qop,
                             std::string_view method, std::string_view uri) {
    std::array<char, 2 * EVP_MAX_MD_SIZE> ha2_hex{};
    const std::string_view ha2(ha2_hex.data(), hex_joined(a, std::array{method, uri}, ha2_hex.data()));
    if (qop.empty()) return hash_joined(a, std::array<std::string_view, 3>{ha1_hex, nonce, ha2});
    return hash_joined(a, std::array<std::string_view, 6>{ha1_hex, nonce, nc, cnonce, qop, ha2});
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    const bool same_length = a.size() == b.size();
    // On a length mismatch compare a with itself, so the work still depends on a's length only.
    const std::string_view other = same_length ? b : a;
    const int diff = a.empty() ? 0 : CRYPTO_memcmp(a.data(), other.data(), a.size());
    return same_length && diff == 0;
}

}  // namespace sw::auth
