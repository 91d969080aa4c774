// Character classes of the RFC 3261 section 25 grammar, as 256-entry tables built at compile time.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "common/text.hpp"

namespace sw::sip {

namespace detail {
constexpr std::array<bool, 256> make_table(std::string_view extra, bool alnum) {
    std::array<bool, 256> t{};
    if (alnum) {
        for (int c = 0; c < 256; ++c)
            t[c] = sw::is_alnum(static_cast<char>(c));
    }
    for (char c : extra)
        t[static_cast<unsigned char>(c)] = true;
    return t;
}
inline constexpr auto kToken = make_table("-.!%*_+`'~", true);
inline constexpr auto kUnreserved = make_table("-_.!~*'()", true);
// user = 1*( unreserved / escaped / user-unreserved ), user-unreserved = & = + $ , ; ? /
inline constexpr auto kUser = make_table("-_.!~*'()&=+$,;?/", true);
inline constexpr auto kPassword = make_table("-_.!~*'()&=+$,", true);
// paramchar = param-unreserved / unreserved / escaped, param-unreserved = [ ] / : & + $
inline constexpr auto kParam = make_table("-_.!~*'()[]/:&+$", true);
// hnv-unreserved = [ ] / ? : + $
inline constexpr auto kHeaderChar = make_table("-_.!~*'()[]/?:+$", true);
inline constexpr auto kHost = make_table("-.", true);
// word = 1*(alphanum / - . ! % * _ + ` ' ~ ( ) < > : \ " / [ ] ? { }) (Call-ID)
inline constexpr auto kWord = make_table("-.!%*_+`'~()<>:\\\"/[]?{}", true);
}  // namespace detail

constexpr bool is_token_char(char c) {
    return detail::kToken[static_cast<unsigned char>(c)];
}
constexpr bool is_unreserved(char c) {
    return detail::kUnreserved[static_cast<unsigned char>(c)];
}
constexpr bool is_user_char(char c) {
    return detail::kUser[static_cast<unsigned char>(c)];
}
constexpr bool is_password_char(char c) {
    return detail::kPassword[static_cast<unsigned char>(c)];
}
constexpr bool is_param_char(char c) {
    return detail::kParam[static_cast<unsigned char>(c)];
}
constexpr bool is_header_char(char c) {
    return detail::kHeaderChar[static_cast<unsigned char>(c)];
}
constexpr bool is_host_char(char c) {
    return detail::kHost[static_cast<unsigned char>(c)];
}
constexpr bool is_word_char(char c) {
    return detail::kWord[static_cast<unsigned char>(c)];
}

inline bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_token_char(c)) return false;
    return true;
}

// Checks that every character is in the class or is a well-formed %HH escape.
template <bool (*Allowed)(char)>
bool is_escaped_run(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size() || !sw::is_hex(s[i + 1]) || !sw::is_hex(s[i + 2])) return false;
            i += 2;
        } else if (!Allowed(s[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace sw::sip
