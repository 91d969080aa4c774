// Secrets the server must be able to read back (a SIP trunk's password: a client needs the password
// itself, not a hash), kept in the store only sealed: AES-256-GCM under a key that lives in a file of its
// own (DATA_DIR/secret.key), so a copy of the database alone reveals nothing and a changed byte is noticed.
//
// Sealed text: "v1:" + base64url(nonce[12] || ciphertext || tag[16]), the nonce random per seal (at the
// few hundred seals a key ever sees, a repeat of a 96-bit random nonce is out of reach, NIST SP 800-38D
// 8.3). "v1" is also the additional authenticated data, so a future format cannot be fed to this one.
// No file I/O here: the caller loads the key (app/trunk_setup.hpp).
// Thread: any; no shared state.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "auth/clock_random.hpp"

namespace sw::auth {

constexpr std::size_t kSecretKeySize = 32;  // AES-256
using SecretKey = std::array<unsigned char, kSecretKeySize>;

// The sealed text of `plaintext` (which may be empty), with a nonce from `random`.
std::string seal_secret(const SecretKey& key, std::string_view plaintext, Random& random);

// The plaintext, or nullopt when `sealed` is not of this format, was sealed under another key, or was
// changed in any way.
std::optional<std::string> open_secret(const SecretKey& key, std::string_view sealed);

}  // namespace sw::auth
