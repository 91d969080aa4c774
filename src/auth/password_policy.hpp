// What makes a SIP password acceptable. SIP accounts are attacked by scanners that try extension numbers,
// user names and well-known passwords by the thousand (toll fraud), so the rules aim at exactly those
// guesses: length, variety, the account's own names, and a list of common passwords and stems.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "auth/clock_random.hpp"

namespace sw::auth {

constexpr std::size_t kMinPasswordLength = 12;
constexpr std::size_t kGeneratedPasswordLength = 20;

// Why a password is refused (a clear sentence for the user), or nullopt when it is strong enough.
// user: the user name or extension (ignored when shorter than 3 characters); display_name: may be empty.
std::optional<std::string> weak_password_reason(std::string_view password, std::string_view user,
                                                std::string_view display_name);

// kGeneratedPasswordLength characters from upper- and lowercase letters, digits and symbols that are safe
// unquoted in CSV files and shells (no ',', quotes, spaces, backslash, '$', '!' ...), each drawn uniformly
// by rejection sampling; the first is a letter or digit (a leading '=', '+', '-' or '@' starts a formula in
// spreadsheets). Every class occurs at least once, and the result passes weak_password_reason(result,
// user, display_name): candidates that do not are drawn again.
std::string generate_password(Random& random, std::string_view user = {}, std::string_view display_name = {});
// The same with OsRandom (RAND_bytes), for no particular user.
std::string generate_password();

}  // namespace sw::auth
