#include "media/srtp.hpp"

#include "media/srtp_backend.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

namespace sw::media {

namespace {

constexpr std::size_t kRtpHeader = 12;     // RFC 3550 5.1 fixed header
constexpr std::size_t kRtcpHeader = 8;     // RFC 3550 6.4.1 up to the SSRC of the sender
constexpr std::size_t kMaxPacket = 65535;  // no UDP datagram is longer; keeps libsrtp's int lengths safe

// libsrtp keeps one crypto kernel per process and wants srtp_init() once before any other call. That is
// the library's own global state, not ours; call_once makes the first use from any thread safe. Its result
// is not kept: if other code in the process initialised libsrtp first, a second srtp_init() fails (it
// will not load its debug module twice) though the kernel works. srtp_create() fails on its own when the
// kernel is unusable.
void init_library() {
    static std::once_flag once;
    std::call_once(once, [] { srtp_init(); });
}

std::size_t tag_length(SrtpSuite s) {
    switch (s) {
        case SrtpSuite::AesCm128HmacSha1_80:
            return 10;
        case SrtpSuite::AesCm128HmacSha1_32:
            return 4;
        case SrtpSuite::AeadAes128Gcm:
            return 16;
    }
    return 16;
}

// RFC 4568 6.2.2: AES_CM_128_HMAC_SHA1_32 shortens the SRTP tag only; SRTCP keeps the 80-bit tag.
std::size_t rtcp_tag_length(SrtpSuite s) {
    return s == SrtpSuite::AeadAes128Gcm ? 16 : 10;
}

// Bytes of the RTP header (fixed part, CSRCs, RFC 3550 5.3.1 extension), or nullopt if the packet is not
// RTP version 2 or is shorter than the header it announces.
std::optional<std::size_t> rtp_header_length(const std::uint8_t* p, std::size_t len) {
    if (len < kRtpHeader || (p[0] >> 6) != 2) return std::nullopt;
    std::size_t n = kRtpHeader + 4 * std::size_t{p[0] & 0x0fu};
    if (p[0] & 0x10u) {
        if (len < n + 4) return std::nullopt;
        n += 4 + 4 * ((std::size_t{p[n + 2]} << 8) | p[n + 3]);
    }
    if (len < n) return std::nullopt;
    return n;
}

bool is_rtcp_v2(const std::uint8_t* p, std::size_t len) {
    return len >= kRtcpHeader && (p[0] >> 6) == 2;
}

SrtpError error_of(srtp_err_status_t s, bool unprotecting) {
    switch (s) {
        case srtp_err_status_auth_fail:
            return SrtpError::Auth;
        // The AEAD ciphers check the tag while decrypting. libsrtp's NSS backend reports a wrong tag as
        // auth_fail, but it answers cipher_fail for a payload shorter than the tag (refused before we get
        // here) and other backends use cipher_fail for a wrong tag. Nothing else makes decryption fail.
        case srtp_err_status_cipher_fail:
            return unprotecting ? SrtpError::Auth : SrtpError::Other;
        // SRTCP (AES_CM): the E flag disagrees with the policy and libsrtp gives up before the tag check.
        // The flag is under the tag, so only a forged or damaged packet gets here.
        case srtp_err_status_cant_check:
            return SrtpError::Auth;
        case srtp_err_status_replay_fail:
        case srtp_err_status_replay_old:
        case srtp_err_status_pkt_idx_old:
            return SrtpError::Replay;
        case srtp_err_status_bad_param:
        case srtp_err_status_parse_err:
            return SrtpError::Malformed;
        default:
            return SrtpError::Other;
    }
}

SrtpStream::Outcome failed(SrtpError e) {
    return {0, e};
}

// RFC 4648 4, the standard alphabet.
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

std::string base64_encode(const std::uint8_t* p, std::size_t n) {
    std::string out;
    out.reserve((n + 2) / 3 * 4);
    for (std::size_t i = 0; i < n; i += 3) {
        std::uint32_t v = std::uint32_t{p[i]} << 16;
        if (i + 1 < n) v |= std::uint32_t{p[i + 1]} << 8;
        if (i + 2 < n) v |= p[i + 2];
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
        out += i + 2 < n ? kAlphabet[v & 63] : '=';
    }
    return out;
}

// Decodes into out (cap bytes); the decoded length, or nullopt for text that is not base64 or decodes
// to more than cap bytes. Padding is optional, but where present it must complete the last quantum.
std::optional<std::size_t> base64_decode(std::string_view in, std::uint8_t* out, std::size_t cap) {
    std::size_t pad = 0;
    while (pad < 2 && !in.empty() && in.back() == '=') {
        in.remove_suffix(1);
        ++pad;
    }
    if (pad > 0 && (in.size() + pad) % 4 != 0) return std::nullopt;
    if (in.size() % 4 == 1) return std::nullopt;
    std::size_t n = 0;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int v = sextet(c);
        if (v < 0) return std::nullopt;  // also a '=' that is not at the end
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap) return std::nullopt;
            out[n++] = static_cast<std::uint8_t>(acc >> bits);
        }
    }
    return n;
}

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// RFC 4568 9.2: lifetime = ["2^"] 1*(DIGIT). Accepts 2^10 up to 2^48 packets.
bool lifetime_ok(std::string_view s) {
    constexpr std::uint64_t kMin = std::uint64_t{1} << 10;
    constexpr std::uint64_t kMax = std::uint64_t{1} << 48;
    if (s.starts_with("2^")) {
        s.remove_prefix(2);
        if (!all_digits(s) || s.size() > 2) return false;
        unsigned exp = 0;
        for (char c : s)
            exp = exp * 10 + static_cast<unsigned>(c - '0');
        return exp >= 10 && exp <= 48;
    }
    if (!all_digits(s) || s.size() > 15) return false;  // 2^48 has 15 digits
    std::uint64_t v = 0;
    for (char c : s)
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    return v >= kMin && v <= kMax;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
        char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
        if (x != y) return false;
    }
    return true;
}

}  // namespace

std::optional<SrtpSuite> suite_from_name(std::string_view name) {
    if (name == "AES_CM_128_HMAC_SHA1_80") return SrtpSuite::AesCm128HmacSha1_80;
    if (name == "AES_CM_128_HMAC_SHA1_32") return SrtpSuite::AesCm128HmacSha1_32;
    if (name == "AEAD_AES_128_GCM") return SrtpSuite::AeadAes128Gcm;
    return std::nullopt;
}

std::string_view suite_name(SrtpSuite s) {
    switch (s) {
        case SrtpSuite::AesCm128HmacSha1_80:
            return "AES_CM_128_HMAC_SHA1_80";
        case SrtpSuite::AesCm128HmacSha1_32:
            return "AES_CM_128_HMAC_SHA1_32";
        case SrtpSuite::AeadAes128Gcm:
            return "AEAD_AES_128_GCM";
    }
    return "";
}

std::size_t master_length(SrtpSuite s) {
    // RFC 4568 6.2 (128-bit key, 112-bit salt); RFC 7714 12 (128-bit key, 96-bit salt).
    return s == SrtpSuite::AeadAes128Gcm ? 16 + 12 : 16 + 14;
}

std::size_t rtp_overhead(SrtpSuite s) {
    return tag_length(s);
}

std::size_t rtcp_overhead(SrtpSuite s) {
    return 4 + rtcp_tag_length(s);  // RFC 3711 3.4: E flag and SRTCP index, then the tag
}

static_assert(kMaxSrtpOverhead >= 4 + 16, "room for the largest trailer, SRTCP with a GCM tag");

std::optional<SrtpKey> parse_key_params(SrtpSuite suite, std::string_view key_params) {
    // RFC 4568 9.2: key-params = key-method ":" key-info; several are joined by ";". We use the first.
    if (auto semi = key_params.find(';'); semi != std::string_view::npos)
        key_params = key_params.substr(0, semi);
    constexpr std::string_view kMethod = "inline:";
    if (key_params.size() < kMethod.size() || !iequals(key_params.substr(0, kMethod.size()), kMethod))
        return std::nullopt;
    key_params.remove_prefix(kMethod.size());

    // key-info = key-salt ["|" lifetime] ["|" mki]
    auto bar = key_params.find('|');
    std::string_view key_salt = key_params.substr(0, bar);
    bool lifetime_seen = false;
    while (bar != std::string_view::npos) {
        key_params.remove_prefix(bar + 1);
        bar = key_params.find('|');
        std::string_view field = key_params.substr(0, bar);
        if (field.find(':') != std::string_view::npos) return std::nullopt;  // mki = mki-value ":" mki-length
        if (lifetime_seen || !lifetime_ok(field)) return std::nullopt;
        lifetime_seen = true;
    }

    SrtpKey key;
    key.suite = suite;
    auto n = base64_decode(key_salt, key.material.data(), key.material.size());
    if (!n || *n != master_length(suite)) {
        OPENSSL_cleanse(key.material.data(), key.material.size());
        return std::nullopt;
    }
    return key;
}

std::string key_params_text(const SrtpKey& key) {
    return "inline:" + base64_encode(key.material.data(), master_length(key.suite));
}

SrtpKey generate_key(SrtpSuite suite) {
    SrtpKey key;
    key.suite = suite;
    if (RAND_bytes(key.material.data(), static_cast<int>(master_length(suite))) != 1) std::abort();
    return key;
}

namespace {

// libsrtp's crypto policy for each suite.
void set_policy(SrtpSuite suite, srtp_policy_t& policy) {
    switch (suite) {
        case SrtpSuite::AesCm128HmacSha1_80:
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
            break;
        case SrtpSuite::AesCm128HmacSha1_32:
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);  // RFC 4568 6.2.2
            break;
        case SrtpSuite::AeadAes128Gcm:
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);  // RFC 7714 14.2: 16-octet tag
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
            break;
    }
}

// The reference backend: libsrtp2 with ssrc_any_inbound / ssrc_any_outbound.
class LibsrtpTransform final : public detail::SrtpTransform {
public:
    ~LibsrtpTransform() override {
        if (session_) srtp_dealloc(session_);
    }

    bool open(const SrtpKey& key, bool outbound) {
        suite_ = key.suite;
        init_library();
        srtp_policy_t policy{};
        set_policy(key.suite, policy);
        policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
        policy.ssrc.value = 0;
        // libsrtp derives the session keys in srtp_create and keeps no pointer to the master key.
        std::array<unsigned char, 32> material{};
        std::copy(key.material.begin(), key.material.end(), material.begin());
        policy.key = material.data();
        policy.window_size = 128;  // RFC 3711 3.3.2 asks for at least 64
        policy.allow_repeat_tx = 0;
        policy.next = nullptr;
        srtp_err_status_t s = srtp_create(&session_, &policy);
        OPENSSL_cleanse(material.data(), material.size());
        if (s != srtp_err_status_ok) {
            session_ = nullptr;
            return false;
        }
        // The buffer contract (rtp_overhead, rtcp_overhead, kMaxSrtpOverhead) rests on libsrtp adding
        // exactly this much; a libsrtp that disagrees could write past the caller's room, so refuse it.
        std::uint32_t rtp = 0, rtcp = 0;
        return srtp_get_protect_trailer_length(session_, 0, 0, &rtp) == srtp_err_status_ok &&
               srtp_get_protect_rtcp_trailer_length(session_, 0, 0, &rtcp) == srtp_err_status_ok &&
               rtp == rtp_overhead(suite_) && rtcp == rtcp_overhead(suite_);
    }

    SrtpStream::Outcome protect_rtp(std::uint8_t* buf, std::size_t len, std::size_t) override {
        return run(srtp_protect, buf, len, false);
    }
    SrtpStream::Outcome unprotect_rtp(std::uint8_t* buf, std::size_t len, std::size_t) override {
        return run(srtp_unprotect, buf, len, true);
    }
    SrtpStream::Outcome protect_rtcp(std::uint8_t* buf, std::size_t len) override {
        return run(srtp_protect_rtcp, buf, len, false);
    }
    SrtpStream::Outcome unprotect_rtcp(std::uint8_t* buf, std::size_t len) override {
        return run(srtp_unprotect_rtcp, buf, len, true);
    }

private:
    // libsrtp's int lengths: every caller has bounded len by kMaxPacket first.
    SrtpStream::Outcome run(srtp_err_status_t (*op)(srtp_t, void*, int*), std::uint8_t* buf, std::size_t len,
                            bool unprotecting) {
        int n = static_cast<int>(len);
        srtp_err_status_t s = op(session_, buf, &n);
        if (s != srtp_err_status_ok) return failed(error_of(s, unprotecting));
        return {static_cast<std::size_t>(n), std::nullopt};
    }

    srtp_t session_ = nullptr;
    SrtpSuite suite_ = SrtpSuite::AesCm128HmacSha1_80;
};

}  // namespace

namespace detail {

std::unique_ptr<SrtpTransform> make_libsrtp_transform(const SrtpKey& key, bool outbound) {
    auto t = std::make_unique<LibsrtpTransform>();
    if (!t->open(key, outbound)) return nullptr;
    return t;
}

}  // namespace detail

struct SrtpStream::Impl {
    std::unique_ptr<detail::SrtpTransform> transform;
    SrtpSuite suite = SrtpSuite::AesCm128HmacSha1_80;
    bool outbound = false;

    bool open(const SrtpKey& key, bool out, SrtpBackend backend) {
        suite = key.suite;
        outbound = out;
        transform = backend == SrtpBackend::Libsrtp ? detail::make_libsrtp_transform(key, out)
                                                    : detail::make_openssl_transform(key, out);
        return transform != nullptr;
    }
};

SrtpStream::SrtpStream() : impl_(std::make_unique<Impl>()) {}

SrtpStream::~SrtpStream() = default;

std::unique_ptr<SrtpStream> SrtpStream::inbound(const SrtpKey& key, SrtpBackend backend) {
    std::unique_ptr<SrtpStream> s(new SrtpStream());
    if (!s->impl_->open(key, false, backend)) return nullptr;
    return s;
}

std::unique_ptr<SrtpStream> SrtpStream::outbound(const SrtpKey& key, SrtpBackend backend) {
    std::unique_ptr<SrtpStream> s(new SrtpStream());
    if (!s->impl_->open(key, true, backend)) return nullptr;
    return s;
}

SrtpSuite SrtpStream::suite() const {
    return impl_->suite;
}

SrtpStream::Outcome SrtpStream::protect_rtp(std::uint8_t* buf, std::size_t len, std::size_t cap) {
    if (!impl_->outbound) return failed(SrtpError::Other);
    if (buf == nullptr || len > kMaxPacket) return failed(SrtpError::Malformed);
    auto header = rtp_header_length(buf, len);
    if (!header) return failed(SrtpError::Malformed);
    if (cap < len + rtp_overhead(impl_->suite)) return failed(SrtpError::Other);
    return impl_->transform->protect_rtp(buf, len, *header);
}

SrtpStream::Outcome SrtpStream::unprotect_rtp(std::uint8_t* buf, std::size_t len) {
    if (impl_->outbound) return failed(SrtpError::Other);
    if (buf == nullptr || len > kMaxPacket) return failed(SrtpError::Malformed);
    auto header = rtp_header_length(buf, len);
    if (!header || len < *header + tag_length(impl_->suite)) return failed(SrtpError::Malformed);
    return impl_->transform->unprotect_rtp(buf, len, *header);
}

SrtpStream::Outcome SrtpStream::protect_rtcp(std::uint8_t* buf, std::size_t len, std::size_t cap) {
    if (!impl_->outbound) return failed(SrtpError::Other);
    if (buf == nullptr || len > kMaxPacket || !is_rtcp_v2(buf, len)) return failed(SrtpError::Malformed);
    if (cap < len + rtcp_overhead(impl_->suite)) return failed(SrtpError::Other);
    return impl_->transform->protect_rtcp(buf, len);
}

SrtpStream::Outcome SrtpStream::unprotect_rtcp(std::uint8_t* buf, std::size_t len) {
    if (impl_->outbound) return failed(SrtpError::Other);
    if (buf == nullptr || len > kMaxPacket || !is_rtcp_v2(buf, len) ||
        len < kRtcpHeader + rtcp_overhead(impl_->suite))
        return failed(SrtpError::Malformed);
    return impl_->transform->unprotect_rtcp(buf, len);
}

}  // namespace sw::media
