// Server nonces that are verified without being stored (RFC 7616 3.3 leaves the nonce's construction to
// the server and suggests time-stamp, private data and a hash over both):
//
//   nonce = base64url( time (8 bytes, big-endian seconds) | random (8 bytes) | MAC (16 bytes) )
//   MAC   = SipHash-2-4(k1, m) | SipHash-2-4(k2, m), m = time | random | realm,
//           k1 | k2 = SHA-256("sipwarden nonce MAC" | secret)
//
// The MAC makes a nonce unforgeable and binds it to the realm; the time lets the server call it stale
// (RFC 7616 3.3 "stale") without remembering it. Replay of a nonce-count is NonceCounter's business.
// SipHash is a keyed PRF made for short inputs (a MAC by design); two independent keys give a 128-bit
// tag. It replaced HMAC-SHA256, which cost about 6,000 instructions per nonce made or checked (a
// registration does both) against a few hundred.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/clock_random.hpp"
#include "common/siphash.hpp"

namespace sw::auth {

enum class NonceCheck : std::uint8_t {
    Valid,    // issued by us, for this realm, within its lifetime
    Stale,    // issued by us for this realm, but older than the lifetime
    Invalid,  // not ours: bad encoding, bad MAC, another realm, or dated in the future beyond the clock skew
};

struct NonceStatus {
    NonceCheck check = NonceCheck::Invalid;
    std::int64_t issued_at_s = 0;  // meaningful unless Invalid
};

// Thread: make() and check() may be called from any thread at once when Random is thread-safe (OsRandom
// is); the factory has no mutable state of its own. The Clock and Random must outlive it.
class NonceFactory {
public:
    static constexpr std::size_t kMinSecretSize = 32;
    static constexpr std::int64_t kMaxClockSkewS = 5;  // a nonce may be dated this far in the future

    // secret: at least kMinSecretSize bytes (a precondition: random_secret() gives one). Shared by every
    // server that must accept each other's nonces; changing it invalidates all nonces in flight.
    NonceFactory(std::string secret, std::chrono::seconds lifetime, Clock& clock, Random& random);
    ~NonceFactory();
    NonceFactory(const NonceFactory&) = delete;
    NonceFactory& operator=(const NonceFactory&) = delete;

    std::string make(std::string_view realm);
    NonceCheck check(std::string_view nonce, std::string_view realm) const {
        return inspect(nonce, realm).check;
    }
    // check() and the time the nonce was issued (for how long NonceCounter must remember it).
    NonceStatus inspect(std::string_view nonce, std::string_view realm) const;

    std::chrono::seconds lifetime() const { return lifetime_; }

    // 32 bytes from RAND_bytes, for a fresh secret at start-up.
    static std::string random_secret();

private:
    void mac(const unsigned char* time_and_random, std::string_view realm, unsigned char* out) const;

    std::string secret_;
    SipKey mac_keys_[2];
    std::chrono::seconds lifetime_;
    Clock& clock_;
    Random& random_;
};

}  // namespace sw::auth
