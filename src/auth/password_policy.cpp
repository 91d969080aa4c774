#include "auth/password_policy.hpp"

#include <algorithm>

#include "auth/common_passwords.hpp"
#include "common/text.hpp"

namespace sw::auth {
namespace {

constexpr std::string_view kUpper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kLower = "abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kSymbols = "-_.:+=@";  // no ',', quotes, space, '\', '$', '!', '*', '#', '%'

bool is_utf8_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xc0) == 0x80;
}
bool is_non_ascii(char c) {
    return static_cast<unsigned char>(c) >= 0x80;
}

// Characters, not bytes: a UTF-8 sequence counts once.
std::size_t char_count(std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return !is_utf8_continuation(c); }));
}

// Lowercase, uppercase, digit, anything else: how many of these kinds occur.
int character_kinds(std::string_view s) {
    bool lower = false, upper = false, digit = false, other = false;
    for (char c : s) {
        if (c >= 'a' && c <= 'z')
            lower = true;
        else if (c >= 'A' && c <= 'Z')
            upper = true;
        else if (sw::is_digit(c))
            digit = true;
        else
            other = true;
    }
    return int{lower} + int{upper} + int{digit} + int{other};
}

bool is_common(std::string_view lowered) {
    const auto list = common_passwords();
    return std::binary_search(list.begin(), list.end(), lowered);
}

// The word of 4 or more letters from the display name that the password contains, if any. Letters are
// ASCII letters and any non-ASCII character (names are often not ASCII: "José", "Łukasz").
std::optional<std::string_view> display_name_word_in(std::string_view lowered_password,
                                                     std::string_view display) {
    std::size_t i = 0;
    while (i < display.size()) {
        auto is_letter = [](char c) { return sw::is_alpha(c) || is_non_ascii(c); };
        if (!is_letter(display[i])) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < display.size() && is_letter(display[j]))
            ++j;
        const std::string_view word = display.substr(i, j - i);
        if (char_count(word) >= 4 && lowered_password.find(sw::to_lower(word)) != std::string::npos)
            return word;
        i = j;
    }
    return std::nullopt;
}

// One character of alphabet, uniform: bytes at or past the largest multiple of the alphabet's size are
// drawn again, so that the modulo does not favour the first characters.
char draw(Random& random, std::string_view alphabet) {
    const unsigned limit = 256 - 256 % static_cast<unsigned>(alphabet.size());
    for (;;) {
        unsigned char b = 0;
        random.fill(std::span<unsigned char>(&b, 1));
        if (b < limit) return alphabet[b % alphabet.size()];
    }
}

}  // namespace

std::optional<std::string> weak_password_reason(std::string_view password, std::string_view user,
                                                std::string_view display_name) {
    if (char_count(password) < kMinPasswordLength) {
        return "The password must be at least " + std::to_string(kMinPasswordLength) + " characters long.";
    }
    if (character_kinds(password) < 2) {
        return std::string(
            "The password must mix at least two kinds of characters: lowercase letters, uppercase letters, "
            "digits, symbols.");
    }
    const std::string lowered = sw::to_lower(password);
    // Scanners try the extension or user name itself, with and without decorations.
    if (user.size() >= 3 && lowered.find(sw::to_lower(user)) != std::string::npos) {
        return std::string("The password must not contain the user name.");
    }
    if (const auto word = display_name_word_in(lowered, display_name)) {
        return "The password must not contain \"" + std::string(*word) + "\" from the display name.";
    }
    if (is_common(lowered)) {
        return std::string(
            "The password is too common: it is on the list of passwords that attackers try first.");
    }
    // "Password1234!": a common stem with digits and symbols appended is hardly stronger than the stem.
    std::string_view stem = lowered;
    while (!stem.empty() && !sw::is_alpha(stem.back()) && !is_non_ascii(stem.back()))
        stem.remove_suffix(1);
    if (!stem.empty() && stem.size() < lowered.size() && is_common(stem)) {
        return std::string(
            "The password is a common password with digits or symbols added: attackers try those first.");
    }
    return std::nullopt;
}

std::string generate_password(Random& random, std::string_view user, std::string_view display_name) {
    std::string alphabet;
    alphabet.append(kUpper).append(kLower).append(kDigits);
    const std::string alphanumeric = alphabet;
    alphabet.append(kSymbols);
    // Each round succeeds with probability above 0.8 (a class is missing in fewer than 1 in 5), so this
    // ends after a few rounds with any real random source.
    for (;;) {
        std::string pw;
        pw.reserve(kGeneratedPasswordLength);
        pw.push_back(draw(random, alphanumeric));
        while (pw.size() < kGeneratedPasswordLength)
            pw.push_back(draw(random, alphabet));
        const bool all_kinds =
            pw.find_first_of(kUpper) != std::string::npos && pw.find_first_of(kLower) != std::string::npos &&
            pw.find_first_of(kDigits) != std::string::npos && pw.find_first_of(kSymbols) != std::string::npos;
        if (all_kinds && !weak_password_reason(pw, user, display_name)) return pw;
    }
}

std::string generate_password() {
    OsRandom random;
    return generate_password(random);
}

}  // namespace sw::auth
