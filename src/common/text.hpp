// ASCII helpers shared by every parser. SIP is case-insensitive in most places and always ASCII there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sw {

constexpr char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}
constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
constexpr bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_alnum(char c) {
    return is_digit(c) || is_alpha(c);
}
constexpr bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}
// Not empty, and nothing but 0-9.
constexpr bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_digit(c)) return false;
    return true;
}
constexpr int hex_value(char c) {
    return is_digit(c)              ? c - '0'
           : (c >= 'a' && c <= 'f') ? c - 'a' + 10
           : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                    : -1;
}

// v as 16 lowercase hex digits, zero-padded (what "%016llx" writes), into out[0..16). No terminator.
inline void hex16(std::uint64_t v, char* out) {
    constexpr char kDigits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
        out[i] = kDigits[v & 0xf];
        v >>= 4;
    }
}

// Inline: both sit on the hot path of every header.
inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a == b) return true;  // canonical spelling is the common case: one memcmp
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

// Removes spaces and tabs at both ends (and CR/LF, which can remain after unfolding).
inline std::string_view trim(std::string_view s) {
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    std::size_t b = 0, e = s.size();
    while (b < e && is_space(s[b]))
        ++b;
    while (e > b && is_space(s[e - 1]))
        --e;
    return s.substr(b, e - b);
}

std::string to_lower(std::string_view s);

// True when s holds any of the characters in set. A plain loop: libstdc++'s find_first_of calls memchr
// on the set once per character of s, which is slow for the short sets parsers use.
inline bool contains_any(std::string_view s, std::string_view set) {
    for (char c : s)
        for (char x : set)
            if (c == x) return true;
    return false;
}

// Decimal digits only, no sign, no overflow past max. Empty or anything else: nullopt.
std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max = UINT64_MAX);

}  // namespace sw
