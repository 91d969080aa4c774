// SRTP and SRTCP (RFC 3711) with AES_CM_128_HMAC_SHA1_80/_32 and AEAD_AES_128_GCM (RFC 7714) on OpenSSL
// EVP, the default SrtpStream backend. It behaves like libsrtp2 with ssrc_any_inbound / ssrc_any_outbound,
// window 128 and allow_repeat_tx off (the reference backend in srtp.cpp): the same packet index estimate,
// the same replay windows, the same first SRTCP index (1), the same errors. What it does not have that
// libsrtp has: MKI, key derivation rates other than 0, other suites, header extension encryption.
//
// Per packet it allocates nothing of its own, and re-initialises no EVP context for AES-CM: each stream
// keeps keyed contexts (AES-128-ECB over the counter blocks, the two HMAC pad states, AES-128-GCM). What
// OpenSSL 3.0 still does per packet: EVP_MD_CTX_copy_ex duplicates a SHA-1 state on the heap, so an AES_CM
// packet costs two malloc/free pairs inside libcrypto (EVP_MAC's HMAC makes the same two copies); GCM
// needs EVP_CipherInit_ex for each packet's IV, which OpenSSL 3.0 follows with an IV-length query.
// A stream allocates once per new SSRC.

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <bit>
#include <bitset>
#include <cstring>
#include <unordered_map>

#include "media/srtp_backend.hpp"

namespace sw::media::detail {

namespace {

constexpr std::size_t kKeyLen = 16;      // AES-128
constexpr std::size_t kSaltLen = 14;     // RFC 3711 4.3.3, 112 bits
constexpr std::size_t kGcmSaltLen = 12;  // RFC 7714 12, 96 bits
constexpr std::size_t kAuthKeyLen = 20;  // RFC 3711 4.2.1 with RFC 4568 6.2: n_a = 160 bits
constexpr std::size_t kSha1Len = 20;
constexpr std::size_t kGcmIvLen = 12;      // RFC 7714 8.1
constexpr std::size_t kGcmTagLen = 16;     // RFC 7714 14.2
constexpr std::size_t kCmRtcpTagLen = 10;  // RFC 4568 6.2.2: 80 bits for both AES_CM suites
constexpr std::size_t kRtcpHeader = 8;     // RFC 3711 3.4: the first 8 bytes of SRTCP are not encrypted
constexpr std::size_t kTrailer = 4;        // E flag || 31-bit SRTCP index
constexpr std::uint32_t kEFlag = 0x80000000u;
constexpr std::uint32_t kMaxRtcpIndex = 0x7fffffffu;
constexpr std::uint64_t kMaxIndex = (std::uint64_t{1} << 48) - 1;  // RFC 3711 3.3.1: 48-bit packet index
constexpr std::size_t kWindow = 128;

// RFC 3711 4.3.2 labels.
constexpr std::uint8_t kRtpEncryption = 0x00, kRtpAuth = 0x01, kRtpSalt = 0x02;
constexpr std::uint8_t kRtcpEncryption = 0x03, kRtcpAuth = 0x04, kRtcpSalt = 0x05;

struct CipherFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct DigestFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherFree>;
using DigestCtx = std::unique_ptr<EVP_MD_CTX, DigestFree>;

// Wipes a key buffer when it goes out of scope, on every path.
template <std::size_t N>
struct Secret {
    std::array<std::uint8_t, N> b{};
    Secret() = default;
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    ~Secret() { OPENSSL_cleanse(b.data(), b.size()); }
    std::uint8_t* data() { return b.data(); }
};

std::uint16_t load16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
std::uint32_t load32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
std::uint64_t load64(const std::uint8_t* p) {
    return std::uint64_t{load32(p)} << 32 | load32(p + 4);
}
// Stores v big-endian with one 8-byte store (byte-wise stores would be merged through a stack temporary).
void put_be64(std::uint8_t* p, std::uint64_t v) {
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    std::memcpy(p, &v, 8);
}
void store32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

SrtpStream::Outcome failed(SrtpError e) {
    return {0, e};
}
SrtpStream::Outcome done(std::size_t len) {
    return {len, std::nullopt};
}

// RFC 3711 4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16).
void cm_iv(const std::uint8_t* salt, std::uint32_t ssrc, std::uint64_t index, std::uint8_t* iv) {
    std::memcpy(iv, salt, kSaltLen);
    iv[14] = iv[15] = 0;
    for (int b = 0; b < 4; ++b)
        iv[4 + b] ^= static_cast<std::uint8_t>(ssrc >> (24 - 8 * b));
    for (int b = 0; b < 6; ++b)
        iv[8 + b] ^= static_cast<std::uint8_t>(index >> (40 - 8 * b));
}

// RFC 7714 8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt.
void gcm_rtp_iv(const std::uint8_t* salt, std::uint32_t ssrc, std::uint32_t roc, std::uint16_t seq,
                std::uint8_t* iv) {
    iv[0] = iv[1] = 0;
    store32(iv + 2, ssrc);
    store32(iv + 6, roc);
    iv[10] = static_cast<std::uint8_t>(seq >> 8);
    iv[11] = static_cast<std::uint8_t>(seq);
    for (std::size_t i = 0; i < kGcmIvLen; ++i)
        iv[i] ^= salt[i];
}

// RFC 7714 9.1: IV = (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR salt.
void gcm_rtcp_iv(const std::uint8_t* salt, std::uint32_t ssrc, std::uint32_t index, std::uint8_t* iv) {
    iv[0] = iv[1] = 0;
    store32(iv + 2, ssrc);
    iv[6] = iv[7] = 0;
    store32(iv + 8, index & kMaxRtcpIndex);
    for (std::size_t i = 0; i < kGcmIvLen; ++i)
        iv[i] ^= salt[i];
}

// AES-CM (RFC 3711 4.1.1): the keystream is AES of the counter blocks IV, IV + 1, ... (a 128-bit sum),
// XORed over data in place. The context is AES-128-ECB, keyed once without padding: OpenSSL 3.0 spends
// more on re-initialising a CTR context with each packet's IV than on the AES of a voice packet, and
// ECB over the counter blocks is the same computation without that.
bool cm_xor(EVP_CIPHER_CTX* ecb, const std::uint8_t* iv, std::uint8_t* data, std::size_t n) {
    constexpr std::size_t kBlocks = 16;  // 256 bytes of keystream per call, a voice packet in one
    alignas(16) std::uint8_t ks[16 * kBlocks];
    std::uint64_t hi = load64(iv), lo = load64(iv + 8);
    while (n > 0) {
        const std::size_t chunk = std::min(n, sizeof ks);
        const std::size_t blocks = (chunk + 15) / 16;
        for (std::size_t b = 0; b < blocks; ++b) {
            const std::uint64_t l = lo + b;
            put_be64(ks + 16 * b, hi + (l < lo ? 1 : 0));
            put_be64(ks + 16 * b + 8, l);
        }
        if (lo + blocks < lo) ++hi;
        lo += blocks;
        int out = 0;
        const int want = static_cast<int>(16 * blocks);
        if (EVP_EncryptUpdate(ecb, ks, &out, ks, want) != 1 || out != want) return false;
        std::size_t i = 0;
        for (; i + 8 <= chunk; i += 8) {
            std::uint64_t d, k;
            std::memcpy(&d, data + i, 8);
            std::memcpy(&k, ks + i, 8);
            d ^= k;
            std::memcpy(data + i, &d, 8);
        }
        for (; i < chunk; ++i)
            data[i] ^= ks[i];
        data += chunk;
        n -= chunk;
    }
    return true;  // the keystream left on the stack tells no more than the packet it protected
}

// HMAC-SHA1 (RFC 2104) on EVP digests, keyed once per stream: the key's inner and outer pad blocks are
// hashed into two template contexts, and each MAC copies them (EVP_MD_CTX_copy_ex). That is what OpenSSL's
// HMAC does inside EVP_MAC (HMAC_Init_ex without a key, HMAC_Final); going to the digests directly skips
// EVP_MAC's parameter lookups, a fifth of the cost of a packet's MAC in OpenSSL 3.0.
class HmacSha1 {
public:
    bool init(const std::uint8_t* key, std::size_t n) {
        if (n > kBlock) return false;
        EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
        if (!sha1) return false;
        inner_.reset(EVP_MD_CTX_new());
        outer_.reset(EVP_MD_CTX_new());
        work_.reset(EVP_MD_CTX_new());
        Secret<kBlock> ipad, opad;
        for (std::size_t i = 0; i < kBlock; ++i) {
            const std::uint8_t k = i < n ? key[i] : 0;
            ipad.b[i] = k ^ 0x36;
            opad.b[i] = k ^ 0x5c;
        }
        const bool ok = inner_ && outer_ && work_ && EVP_DigestInit_ex2(inner_.get(), sha1, nullptr) == 1 &&
                        EVP_DigestUpdate(inner_.get(), ipad.data(), kBlock) == 1 &&
                        EVP_DigestInit_ex2(outer_.get(), sha1, nullptr) == 1 &&
                        EVP_DigestUpdate(outer_.get(), opad.data(), kBlock) == 1 &&
                        EVP_DigestInit_ex2(work_.get(), sha1, nullptr) == 1;
        EVP_MD_free(sha1);  // the contexts keep their own references
        return ok;
    }

    // The MAC of a || b (b may be empty).
    bool mac(const std::uint8_t* a, std::size_t an, const std::uint8_t* b, std::size_t bn,
             std::uint8_t* out) {
        unsigned len = 0;
        EVP_MD_CTX* w = work_.get();
        const bool ok = EVP_MD_CTX_copy_ex(w, inner_.get()) == 1 && EVP_DigestUpdate(w, a, an) == 1 &&
                        (bn == 0 || EVP_DigestUpdate(w, b, bn) == 1) &&
                        EVP_DigestFinal_ex(w, out, &len) == 1 && len == kSha1Len &&
                        EVP_MD_CTX_copy_ex(w, outer_.get()) == 1 && EVP_DigestUpdate(w, out, kSha1Len) == 1 &&
                        EVP_DigestFinal_ex(w, out, &len) == 1 && len == kSha1Len;
        return ok;
    }

private:
    static constexpr std::size_t kBlock = 64;  // SHA-1's block
    DigestCtx inner_, outer_, work_;           // EVP_MD_CTX_free wipes their states
};

// The GCM tag as a parameter (EVP_CIPHER_CTX_ctrl would build the same array on each call, and slower).
std::array<OSSL_PARAM, 2> tag_param(std::uint8_t* tag) {
    return {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, kGcmTagLen),
            OSSL_PARAM_construct_end()};
}

// AES-128-GCM with two pieces of AAD; data is encrypted in place and the tag written to tag.
bool gcm_seal(EVP_CIPHER_CTX* c, const std::uint8_t* iv, const std::uint8_t* aad, std::size_t aad_n,
              const std::uint8_t* aad2, std::size_t aad2_n, std::uint8_t* data, std::size_t n,
              std::uint8_t* tag) {
    int out = 0;
    std::uint8_t none[16];
    return EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, iv) == 1 &&
           (aad_n == 0 || EVP_EncryptUpdate(c, nullptr, &out, aad, static_cast<int>(aad_n)) == 1) &&
           (aad2_n == 0 || EVP_EncryptUpdate(c, nullptr, &out, aad2, static_cast<int>(aad2_n)) == 1) &&
           (n == 0 || EVP_EncryptUpdate(c, data, &out, data, static_cast<int>(n)) == 1) &&
           EVP_EncryptFinal_ex(c, none, &out) == 1 &&
           EVP_CIPHER_CTX_get_params(c, tag_param(tag).data()) == 1;
}

// The inverse; false for a wrong tag (or an OpenSSL failure, which we cannot tell apart and treat alike).
bool gcm_open(EVP_CIPHER_CTX* c, const std::uint8_t* iv, const std::uint8_t* aad, std::size_t aad_n,
              const std::uint8_t* aad2, std::size_t aad2_n, std::uint8_t* data, std::size_t n,
              std::uint8_t* tag) {
    int out = 0;
    std::uint8_t none[16];
    return EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, iv) == 1 &&
           (aad_n == 0 || EVP_DecryptUpdate(c, nullptr, &out, aad, static_cast<int>(aad_n)) == 1) &&
           (aad2_n == 0 || EVP_DecryptUpdate(c, nullptr, &out, aad2, static_cast<int>(aad2_n)) == 1) &&
           (n == 0 || EVP_DecryptUpdate(c, data, &out, data, static_cast<int>(n)) == 1) &&
           EVP_CIPHER_CTX_set_params(c, tag_param(tag).data()) == 1 && EVP_DecryptFinal_ex(c, none, &out) > 0;
}

// The replay state of one SSRC in one stream (libsrtp's srtp_stream_ctx_t: rtp_rdbx and rtcp_rdb).
struct SsrcState {
    // SRTP, both directions (libsrtp's rdbx): the highest packet index seen or sent (ROC << 16 | SEQ),
    // bit k of the window stands for index - k.
    std::uint64_t index = 0;
    std::bitset<kWindow> window;
    // SRTCP outbound: the last index sent (libsrtp's rdb counter, so the first index is 1).
    std::uint32_t rtcp_sent = 0;
    // SRTCP inbound (libsrtp's rdb): bit k stands for index rtcp_start + k.
    std::uint32_t rtcp_start = 0;
    std::bitset<kWindow> rtcp_window;
};

// RFC 3711 3.3.1 and Appendix A as libsrtp does it (srtp_rdbx_estimate_index, srtp_index_guess): the
// index of SEQ s nearest the highest index seen; the difference to it is the return value. While the
// highest index is at most 2^15 the ROC is taken as 0 (a ROC of -1 cannot be).
std::int32_t estimate_index(std::uint64_t local, std::uint16_t s, std::uint64_t& guess) {
    constexpr int kMedian = 1 << 15;
    constexpr int kSeqs = 1 << 16;
    if (local <= static_cast<std::uint64_t>(kMedian)) {
        guess = s;
        return static_cast<std::int32_t>(s) - static_cast<std::int32_t>(local);
    }
    std::uint64_t roc = local >> 16;
    const int seq = static_cast<int>(local & 0xffffu);
    const int seq_in = s;
    int difference = seq_in - seq;
    if (seq < kMedian) {
        if (seq_in - seq > kMedian) {
            roc -= 1;  // local > 2^15 with seq < 2^15: roc >= 1
            difference -= kSeqs;
        }
    } else if (seq - kMedian > seq_in) {
        roc += 1;
        difference += kSeqs;
    }
    guess = roc << 16 | s;
    return difference;
}

bool rtp_replayed(const SsrcState& st, std::int32_t delta) {
    if (delta > 0) return false;
    if (delta <= -static_cast<std::int32_t>(kWindow)) return true;  // older than the window
    return st.window.test(static_cast<std::size_t>(-delta));
}

void rtp_add(SsrcState& st, std::int32_t delta, std::uint64_t index) {
    if (delta > 0) {
        st.index = index;
        st.window <<= static_cast<std::size_t>(delta);  // >= 128 clears it
        st.window.set(0);
    } else {
        st.window.set(static_cast<std::size_t>(-delta));
    }
}

bool rtcp_replayed(const SsrcState& st, std::uint32_t index) {
    if (index >= st.rtcp_start + kWindow) return false;  // rtcp_start < 2^31: no overflow
    if (index < st.rtcp_start) return true;
    return st.rtcp_window.test(index - st.rtcp_start);
}

void rtcp_add(SsrcState& st, std::uint32_t index) {
    const std::uint32_t delta = index - st.rtcp_start;  // index >= rtcp_start: checked first
    if (delta < kWindow) {
        st.rtcp_window.set(delta);
        return;
    }
    const std::uint32_t shift = delta - static_cast<std::uint32_t>(kWindow - 1);
    st.rtcp_window >>= shift;
    st.rtcp_window.set(kWindow - 1);
    st.rtcp_start += shift;
}

class OpenSslTransform final : public SrtpTransform {
public:
    ~OpenSslTransform() override {
        OPENSSL_cleanse(rtp_.salt.data(), rtp_.salt.size());
        OPENSSL_cleanse(rtcp_.salt.data(), rtcp_.salt.size());
        // EVP_CIPHER_CTX_free and EVP_MD_CTX_free wipe the key schedules and the HMAC pad states.
    }

    bool open(const SrtpKey& key, bool outbound) {
        gcm_ = key.suite == SrtpSuite::AeadAes128Gcm;
        outbound_ = outbound;
        rtp_tag_ = rtp_overhead(key.suite);
        Secret<kKeyLen> master_key;
        Secret<kSaltLen> master_salt;  // the GCM salt is 12 bytes, padded with zeros as libsrtp does
        std::copy_n(key.material.begin(), kKeyLen, master_key.data());
        std::copy_n(key.material.begin() + kKeyLen, gcm_ ? kGcmSaltLen : kSaltLen, master_salt.data());
        return keys(rtp_, master_key.data(), master_salt.data(), kRtpEncryption, kRtpAuth, kRtpSalt) &&
               keys(rtcp_, master_key.data(), master_salt.data(), kRtcpEncryption, kRtcpAuth, kRtcpSalt);
    }

    SrtpStream::Outcome protect_rtp(std::uint8_t* buf, std::size_t len, std::size_t header) override {
        const std::uint16_t seq = load16(buf + 2);
        const std::uint32_t ssrc = load32(buf + 8);
        SsrcState* st = find(ssrc);
        if (!st) st = &learn(ssrc, SsrcState{});
        std::uint64_t index = 0;
        const std::int32_t delta = estimate_index(st->index, seq, index);
        // Protecting an index twice would reuse its keystream (libsrtp: allow_repeat_tx off).
        if (rtp_replayed(*st, delta)) return failed(SrtpError::Replay);
        if (index > kMaxIndex) return failed(SrtpError::Other);  // the key is used up
        rtp_add(*st, delta, index);
        const auto roc = static_cast<std::uint32_t>(index >> 16);

        if (gcm_) {
            std::uint8_t iv[kGcmIvLen];
            gcm_rtp_iv(rtp_.salt.data(), ssrc, roc, seq, iv);
            if (!gcm_seal(rtp_.cipher.get(), iv, buf, header, nullptr, 0, buf + header, len - header,
                          buf + len))
                return failed(SrtpError::Other);
            return done(len + kGcmTagLen);
        }
        std::uint8_t iv[16];
        cm_iv(rtp_.salt.data(), ssrc, index, iv);
        if (!cm_xor(rtp_.cipher.get(), iv, buf + header, len - header)) return failed(SrtpError::Other);
        std::uint8_t roc_bytes[4];
        store32(roc_bytes, roc);
        std::uint8_t mac[kSha1Len];
        if (!rtp_.mac.mac(buf, len, roc_bytes, 4, mac)) return failed(SrtpError::Other);
        std::memcpy(buf + len, mac, rtp_tag_);
        return done(len + rtp_tag_);
    }

    SrtpStream::Outcome unprotect_rtp(std::uint8_t* buf, std::size_t len, std::size_t header) override {
        const std::uint16_t seq = load16(buf + 2);
        const std::uint32_t ssrc = load32(buf + 8);
        SsrcState fresh;  // an SSRC not seen yet, learnt only once its packet authenticates
        SsrcState* st = find(ssrc);
        std::uint64_t index = 0;
        const std::int32_t delta = estimate_index(st ? st->index : 0, seq, index);
        if (rtp_replayed(st ? *st : fresh, delta)) return failed(SrtpError::Replay);
        if (index > kMaxIndex) return failed(SrtpError::Other);
        const auto roc = static_cast<std::uint32_t>(index >> 16);
        const std::size_t body = len - rtp_tag_;  // header + payload

        if (gcm_) {
            std::uint8_t iv[kGcmIvLen];
            gcm_rtp_iv(rtp_.salt.data(), ssrc, roc, seq, iv);
            if (!gcm_open(rtp_.cipher.get(), iv, buf, header, nullptr, 0, buf + header, body - header,
                          buf + body))
                return failed(SrtpError::Auth);
        } else {
            std::uint8_t roc_bytes[4];
            store32(roc_bytes, roc);
            std::uint8_t mac[kSha1Len];
            if (!rtp_.mac.mac(buf, body, roc_bytes, 4, mac)) return failed(SrtpError::Other);
            if (CRYPTO_memcmp(mac, buf + body, rtp_tag_) != 0) return failed(SrtpError::Auth);
            std::uint8_t iv[16];
            cm_iv(rtp_.salt.data(), ssrc, index, iv);
            if (!cm_xor(rtp_.cipher.get(), iv, buf + header, body - header)) return failed(SrtpError::Other);
        }
        if (!st) st = &learn(ssrc, fresh);
        rtp_add(*st, delta, index);  // only now that the packet is genuine
        return done(body);
    }

    SrtpStream::Outcome protect_rtcp(std::uint8_t* buf, std::size_t len) override {
        const std::uint32_t ssrc = load32(buf + 4);
        SsrcState* st = find(ssrc);
        if (!st) st = &learn(ssrc, SsrcState{});
        if (st->rtcp_sent >= kMaxRtcpIndex) return failed(SrtpError::Other);  // the key is used up
        const std::uint32_t index = ++st->rtcp_sent;
        std::uint8_t trailer[kTrailer];
        store32(trailer, kEFlag | index);

        if (gcm_) {
            // RFC 7714 9.2 / 17: AAD = header || E || index; the trailer follows the tag.
            std::uint8_t iv[kGcmIvLen];
            gcm_rtcp_iv(rtcp_.salt.data(), ssrc, index, iv);
            if (!gcm_seal(rtcp_.cipher.get(), iv, buf, kRtcpHeader, trailer, kTrailer, buf + kRtcpHeader,
                          len - kRtcpHeader, buf + len))
                return failed(SrtpError::Other);
            std::memcpy(buf + len + kGcmTagLen, trailer, kTrailer);
            return done(len + kGcmTagLen + kTrailer);
        }
        // RFC 3711 3.4: encrypted part, then E || index, then the tag over everything before it.
        std::uint8_t iv[16];
        cm_iv(rtcp_.salt.data(), ssrc, index, iv);
        if (!cm_xor(rtcp_.cipher.get(), iv, buf + kRtcpHeader, len - kRtcpHeader))
            return failed(SrtpError::Other);
        std::memcpy(buf + len, trailer, kTrailer);
        std::uint8_t mac[kSha1Len];
        if (!rtcp_.mac.mac(buf, len + kTrailer, nullptr, 0, mac)) return failed(SrtpError::Other);
        std::memcpy(buf + len + kTrailer, mac, kCmRtcpTagLen);
        return done(len + kTrailer + kCmRtcpTagLen);
    }

    SrtpStream::Outcome unprotect_rtcp(std::uint8_t* buf, std::size_t len) override {
        const std::uint32_t ssrc = load32(buf + 4);
        SsrcState fresh;
        SsrcState* st = find(ssrc);
        const SsrcState& cur = st ? *st : fresh;

        std::size_t plain_len = 0;
        std::uint32_t index = 0;
        if (gcm_) {
            // header || ciphertext || tag || E || index
            std::uint8_t* trailer = buf + len - kTrailer;
            std::uint8_t* tag = trailer - kGcmTagLen;
            plain_len = len - kTrailer - kGcmTagLen;
            const std::uint32_t word = load32(trailer);
            index = word & kMaxRtcpIndex;
            if (rtcp_replayed(cur, index)) return failed(SrtpError::Replay);
            std::uint8_t iv[kGcmIvLen];
            gcm_rtcp_iv(rtcp_.salt.data(), ssrc, index, iv);
            bool ok = false;
            if (word & kEFlag) {
                ok = gcm_open(rtcp_.cipher.get(), iv, buf, kRtcpHeader, trailer, kTrailer, buf + kRtcpHeader,
                              plain_len - kRtcpHeader, tag);
            } else {
                // RFC 7714 10: unencrypted SRTCP, the whole packet is AAD (libsrtp accepts it too).
                ok = gcm_open(rtcp_.cipher.get(), iv, buf, plain_len, trailer, kTrailer, nullptr, 0, tag);
            }
            if (!ok) return failed(SrtpError::Auth);
        } else {
            // header || ciphertext || E || index || tag
            const std::size_t auth_len = len - kCmRtcpTagLen;
            std::uint8_t* trailer = buf + auth_len - kTrailer;
            plain_len = auth_len - kTrailer;
            const std::uint32_t word = load32(trailer);
            // We always encrypt SRTCP; a clear E flag is what libsrtp refuses as cant_check, i.e. Auth.
            if (!(word & kEFlag)) return failed(SrtpError::Auth);
            index = word & kMaxRtcpIndex;
            if (rtcp_replayed(cur, index)) return failed(SrtpError::Replay);
            std::uint8_t mac[kSha1Len];
            if (!rtcp_.mac.mac(buf, auth_len, nullptr, 0, mac)) return failed(SrtpError::Other);
            if (CRYPTO_memcmp(mac, buf + auth_len, kCmRtcpTagLen) != 0) return failed(SrtpError::Auth);
            std::uint8_t iv[16];
            cm_iv(rtcp_.salt.data(), ssrc, index, iv);
            if (!cm_xor(rtcp_.cipher.get(), iv, buf + kRtcpHeader, plain_len - kRtcpHeader))
                return failed(SrtpError::Other);
        }
        if (!st) st = &learn(ssrc, fresh);
        rtcp_add(*st, index);
        return done(plain_len);
    }

private:
    // The session keys of SRTP or of SRTCP.
    struct Keys {
        CipherCtx cipher;  // AES-128-ECB for AES-CM, or AES-128-GCM in this stream's direction, keyed
        HmacSha1 mac;      // keyed (AES_CM suites)
        std::array<std::uint8_t, kSaltLen> salt{};  // GCM uses the first 12 bytes
    };

    bool keys(Keys& k, const std::uint8_t* master_key, const std::uint8_t* master_salt, std::uint8_t enc,
              std::uint8_t auth, std::uint8_t salt) {
        Secret<kKeyLen> session_key;
        if (!srtp_kdf(master_key, master_salt, enc, session_key.data(), kKeyLen) ||
            !srtp_kdf(master_key, master_salt, salt, k.salt.data(), gcm_ ? kGcmSaltLen : kSaltLen))
            return false;
        k.cipher.reset(EVP_CIPHER_CTX_new());
        if (!k.cipher) return false;
        // AES-CM encrypts the counter blocks in both directions; GCM works in the stream's direction.
        const int enc_mode = gcm_ && !outbound_ ? 0 : 1;
        if (EVP_CipherInit_ex(k.cipher.get(), gcm_ ? EVP_aes_128_gcm() : EVP_aes_128_ecb(), nullptr,
                              session_key.data(), nullptr, enc_mode) != 1)
            return false;
        if (gcm_) return true;  // RFC 7714: no auth key
        if (EVP_CIPHER_CTX_set_padding(k.cipher.get(), 0) != 1) return false;

        Secret<kAuthKeyLen> auth_key;
        if (!srtp_kdf(master_key, master_salt, auth, auth_key.data(), kAuthKeyLen)) return false;
        return k.mac.init(auth_key.data(), kAuthKeyLen);
    }

    SsrcState* find(std::uint32_t ssrc) {
        if (last_ && last_ssrc_ == ssrc) return last_;
        auto it = ssrcs_.find(ssrc);
        if (it == ssrcs_.end()) return nullptr;
        last_ssrc_ = ssrc;
        last_ = &it->second;
        return last_;
    }

    // Element pointers of an unordered_map survive rehashing, so last_ stays valid.
    SsrcState& learn(std::uint32_t ssrc, const SsrcState& st) {
        SsrcState& s = ssrcs_.emplace(ssrc, st).first->second;
        last_ssrc_ = ssrc;
        last_ = &s;
        return s;
    }

    bool gcm_ = false;
    bool outbound_ = false;
    std::size_t rtp_tag_ = 0;
    Keys rtp_, rtcp_;
    std::unordered_map<std::uint32_t, SsrcState> ssrcs_;
    std::uint32_t last_ssrc_ = 0;
    SsrcState* last_ = nullptr;
};

}  // namespace

bool srtp_kdf(const std::uint8_t* master_key, const std::uint8_t* master_salt, std::uint8_t label,
              std::uint8_t* out, std::size_t n) {
    // key_id = label || r with r = 0 (rate 0); x = key_id XOR master_salt; the PRF is AES-CM keyed with
    // the master key from IV x * 2^16. The label lands in byte 7 of the 14-byte salt.
    std::uint8_t iv[16] = {};
    std::memcpy(iv, master_salt, kSaltLen);
    iv[7] ^= label;
    CipherCtx c(EVP_CIPHER_CTX_new());
    std::memset(out, 0, n);
    int len = 0;
    const bool ok = c && EVP_EncryptInit_ex(c.get(), EVP_aes_128_ctr(), nullptr, master_key, iv) == 1 &&
                    EVP_EncryptUpdate(c.get(), out, &len, out, static_cast<int>(n)) == 1 &&
                    static_cast<std::size_t>(len) == n;
    OPENSSL_cleanse(iv, sizeof iv);
    if (!ok) OPENSSL_cleanse(out, n);
    return ok;
}

bool aes_cm_keystream(const std::uint8_t* session_key, const std::uint8_t* session_salt, std::uint32_t ssrc,
                      std::uint64_t index, std::uint8_t* out, std::size_t n) {
    std::uint8_t iv[16];
    cm_iv(session_salt, ssrc, index, iv);
    CipherCtx c(EVP_CIPHER_CTX_new());
    std::memset(out, 0, n);
    return c && EVP_EncryptInit_ex(c.get(), EVP_aes_128_ecb(), nullptr, session_key, nullptr) == 1 &&
           EVP_CIPHER_CTX_set_padding(c.get(), 0) == 1 && cm_xor(c.get(), iv, out, n);
}

std::unique_ptr<SrtpTransform> make_openssl_transform(const SrtpKey& key, bool outbound) {
    auto t = std::make_unique<OpenSslTransform>();
    if (!t->open(key, outbound)) return nullptr;
    return t;
}

}  // namespace sw::media::detail
