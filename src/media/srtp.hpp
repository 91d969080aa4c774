// SRTP and SRTCP (RFC 3711), with the SDES keys of RFC 4568 a=crypto lines and the AEAD suite of RFC 7714.
// Two backends behave alike: our own transform on OpenSSL EVP (srtp_openssl.cpp, the default: a fraction
// of libsrtp's per-packet cost with Debian's NSS-based libsrtp2) and libsrtp2 itself, kept as the reference
// the tests check the first against. Both stay behind this header: callers see suites, keys and buffers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sw::media {

// Thread: SrtpStream objects are used by one thread at a time; the functions are thread-safe.

enum class SrtpSuite { AesCm128HmacSha1_80, AesCm128HmacSha1_32, AeadAes128Gcm };

// RFC 4568 names "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", RFC 7714 "AEAD_AES_128_GCM".
// The names are matched exactly (RFC 4568 9.2 registers them in upper case).
std::optional<SrtpSuite> suite_from_name(std::string_view name);
std::string_view suite_name(SrtpSuite s);

// Bytes of master key + master salt: 30 for the AES_CM suites, 28 for AEAD_AES_128_GCM (16 + 12).
std::size_t master_length(SrtpSuite s);

// Bytes a protected packet grows by, which is also the room protect needs past the packet.
// RTP: the auth tag, 10 / 4 / 16 (GCM). RTCP: the E flag + SRTCP index (4) and the tag, which is 80 bits
// for both AES_CM suites (RFC 4568 6.2.2: the _32 suite shortens only the SRTP tag), so 14 / 14 / 20.
std::size_t rtp_overhead(SrtpSuite s);
std::size_t rtcp_overhead(SrtpSuite s);
// Room a buffer needs past the packet for any suite, RTP or RTCP.
constexpr std::size_t kMaxSrtpOverhead = 32;

struct SrtpKey {
    SrtpSuite suite = SrtpSuite::AesCm128HmacSha1_80;
    std::array<std::uint8_t, 32> material{};  // master key || master salt, master_length(suite) bytes used
    bool operator==(const SrtpKey&) const = default;
};

// The key of an RFC 4568 key-params text "inline:<base64>[|lifetime][|MKI:len]" (only the first
// key if several are joined by ';'). Refuses (nullopt): wrong base64, wrong decoded length for the
// suite, an MKI (we do not support MKI), a lifetime that is not a number or 2^n (e.g. "2^31"), a lifetime
// below 2^10 or above 2^48 (the most any of our suites allows: RFC 4568 6.2.1, RFC 7714 14.2). The lifetime
// is only checked, not kept: the backend enforces the suite's own limit. Base64 padding may be left out.
std::optional<SrtpKey> parse_key_params(SrtpSuite suite, std::string_view key_params);
// "inline:<base64 of material>" for an a=crypto line (padded base64, no lifetime, no MKI).
std::string key_params_text(const SrtpKey& key);
// A fresh random key (RAND_bytes) for the suite. A random generator that fails aborts the process:
// there is no safe key to return.
SrtpKey generate_key(SrtpSuite suite);

enum class SrtpError { Auth, Replay, Malformed, Other };

enum class SrtpBackend { OpenSsl, Libsrtp };

// One direction of one SRTP session, for every SSRC (libsrtp's ssrc_any_inbound / ssrc_any_outbound),
// replay protection on (window 128). Packets are transformed in place.
// Outbound also refuses to protect an RTP packet whose sequence number it has already protected (or one
// older than the window): reusing an index would reuse the keystream, so that is Replay too.
// A stream learns each SSRC from its first packet that authenticates; it never forgets one.
class SrtpStream {
public:
    // unprotect / protect; nullptr if the backend refuses the key or cannot set up.
    static std::unique_ptr<SrtpStream> inbound(const SrtpKey& key,
                                               SrtpBackend backend = SrtpBackend::OpenSsl);
    static std::unique_ptr<SrtpStream> outbound(const SrtpKey& key,
                                                SrtpBackend backend = SrtpBackend::OpenSsl);
    ~SrtpStream();
    SrtpStream(const SrtpStream&) = delete;
    SrtpStream& operator=(const SrtpStream&) = delete;

    // protect: buf holds len bytes of RTP/RTCP and has room for cap bytes (cap >= len + kMaxSrtpOverhead
    // is always enough, cap >= len + rtp_overhead / rtcp_overhead is the least); returns the new length.
    // unprotect: returns the plain length.
    // An error returns the SrtpError (a packet too short for a header is Malformed, never a crash); then
    // length is 0 and the bytes in buf are unspecified. Not a version 2 packet, or longer than 65535
    // bytes: Malformed. cap too small: Other. The wrong direction (protect on an inbound stream): Other.
    // With the libsrtp backend buf should be 4-byte aligned (libsrtp reads it as 32-bit words; x86-64 and
    // ARMv8 tolerate less); the OpenSSL backend reads bytes.
    struct Outcome {
        std::size_t length = 0;
        std::optional<SrtpError> error;
    };
    Outcome protect_rtp(std::uint8_t* buf, std::size_t len, std::size_t cap);
    Outcome unprotect_rtp(std::uint8_t* buf, std::size_t len);
    Outcome protect_rtcp(std::uint8_t* buf, std::size_t len, std::size_t cap);
    Outcome unprotect_rtcp(std::uint8_t* buf, std::size_t len);
    SrtpSuite suite() const;

private:
    SrtpStream();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sw::media
