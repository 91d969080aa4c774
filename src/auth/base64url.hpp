// base64url without padding (RFC 4648 5, as RFC 7515 2 uses it): nonces travel inside quoted strings
// and URIs, and this alphabet needs no escaping in either.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sw::auth {

std::string base64url_encode(std::span<const unsigned char> bytes);

// Strict: only the url-safe alphabet, no padding, no whitespace, and the unused low bits of the last
// character must be zero, so that every byte string has exactly one accepted spelling.
std::optional<std::vector<unsigned char>> base64url_decode(std::string_view text);

}  // namespace sw::auth
