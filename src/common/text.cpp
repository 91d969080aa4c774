#include "common/text.hpp"

namespace sw {

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = ascii_lower(c);
    return out;
}

std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max) {
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return std::nullopt;
        // Overflow-checked without a division per digit (this runs for every port, CSeq and length).
        if (__builtin_mul_overflow(v, 10u, &v) ||
            __builtin_add_overflow(v, static_cast<unsigned>(c - '0'), &v)) {
            return std::nullopt;
        }
    }
    if (v > max) return std::nullopt;
    return v;
}

}  // namespace sw
