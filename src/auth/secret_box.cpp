#include "auth/secret_box.hpp"

#include <memory>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/base64url.hpp"

namespace sw::auth {

namespace {

constexpr std::string_view kPrefix = "v1:";
constexpr std::string_view kAad = "v1";
constexpr std::size_t kNonceSize = 12;  // GCM's native IV length (SP 800-38D 5.2.1.1)
constexpr std::size_t kTagSize = 16;
// A secret is a password, a few dozen bytes: a bound keeps a hostile store from making us allocate much.
constexpr std::size_t kMaxSealedText = 8192;

struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string seal_secret(const SecretKey& key, std::string_view plaintext, Random& random) {
    std::vector<unsigned char> out(kNonceSize + plaintext.size() + kTagSize);
    random.fill(std::span<unsigned char>(out.data(), kNonceSize));
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    int tail = 0;
    // Every step can fail only on memory exhaustion or a broken OpenSSL; sealing nothing then is the
    // safe answer (the caller stores no secret rather than a wrong one), hence the empty string.
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), out.data()) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(kAad), static_cast<int>(kAad.size())) != 1 ||
        EVP_EncryptUpdate(ctx.get(), out.data() + kNonceSize, &len, bytes(plaintext),
                          static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), out.data() + kNonceSize + len, &tail) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                            out.data() + kNonceSize + plaintext.size()) != 1) {
        OPENSSL_cleanse(out.data(), out.size());
        return {};
    }
    return std::string(kPrefix) + base64url_encode(out);
}

std::optional<std::string> open_secret(const SecretKey& key, std::string_view sealed) {
    if (sealed.size() > kMaxSealedText || sealed.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
    auto raw = base64url_decode(sealed.substr(kPrefix.size()));
    if (!raw || raw->size() < kNonceSize + kTagSize) return std::nullopt;
    const std::size_t text_size = raw->size() - kNonceSize - kTagSize;
    std::string plain(text_size, '\0');
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    int tail = 0;
    unsigned char* tag = raw->data() + kNonceSize + text_size;
    // The tag is checked by EVP_DecryptFinal_ex; nothing decrypted is returned unless it matches.
    const bool ok =
        ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), raw->data()) == 1 &&
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(kAad), static_cast<int>(kAad.size())) == 1 &&
        EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                          raw->data() + kNonceSize, static_cast<int>(text_size)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len, &tail) == 1;
    if (!ok) {
        OPENSSL_cleanse(plain.data(), plain.size());
        return std::nullopt;
    }
    return plain;
}

}  // namespace sw::auth
