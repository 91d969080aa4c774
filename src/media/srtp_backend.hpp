// Private to src/media (and its tests): the two transforms behind SrtpStream. SrtpStream checks what both
// share (direction, RTP/RTCP version 2, a header within the packet, the length limits, room for the
// trailer) and hands a transform only packets that passed; the transform does the crypto and the
// per-SSRC state and reports SrtpError::Auth, Replay or Other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "media/srtp.hpp"

namespace sw::media::detail {

class SrtpTransform {
public:
    virtual ~SrtpTransform() = default;
    // RTP: header is the length of the RTP header with its CSRCs and extension (at most len). protect has
    // room for rtp_overhead / rtcp_overhead bytes past len; unprotect gets at least the header (or the
    // 8 bytes of an RTCP header) plus the trailer.
    virtual SrtpStream::Outcome protect_rtp(std::uint8_t* buf, std::size_t len, std::size_t header) = 0;
    virtual SrtpStream::Outcome unprotect_rtp(std::uint8_t* buf, std::size_t len, std::size_t header) = 0;
    virtual SrtpStream::Outcome protect_rtcp(std::uint8_t* buf, std::size_t len) = 0;
    virtual SrtpStream::Outcome unprotect_rtcp(std::uint8_t* buf, std::size_t len) = 0;
};

// nullptr if the backend refuses the key or cannot set up its contexts.
std::unique_ptr<SrtpTransform> make_libsrtp_transform(const SrtpKey& key, bool outbound);  // srtp.cpp
std::unique_ptr<SrtpTransform> make_openssl_transform(const SrtpKey& key, bool outbound);  // srtp_openssl.cpp

// The pieces of the OpenSSL transform the RFC 3711 Appendix B vectors check directly.
// RFC 3711 4.3.1 / 4.3.3: n bytes of the AES-CM PRF for a label (key derivation rate 0) from a 16-byte
// master key and a 14-byte master salt (RFC 7714's 12-byte salt padded with two zero bytes).
bool srtp_kdf(const std::uint8_t* master_key, const std::uint8_t* master_salt, std::uint8_t label,
              std::uint8_t* out, std::size_t n);
// RFC 3711 4.1.1: n bytes of AES-CM keystream for a packet with this SSRC and 48-bit index (for SRTCP the
// 31-bit SRTCP index), 16-byte session key, 14-byte session salt.
bool aes_cm_keystream(const std::uint8_t* session_key, const std::uint8_t* session_salt, std::uint32_t ssrc,
                      std::uint64_t index, std::uint8_t* out, std::size_t n);

}  // namespace sw::media::detail
