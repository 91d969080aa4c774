#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string_view>

#include "common/text.hpp"

TEST(Text, ParseUintRejectsOverflowSignsAndEmpty) {
    EXPECT_EQ(sw::parse_uint("0"), 0u);
    EXPECT_EQ(sw::parse_uint("0068"), 68u);
    EXPECT_EQ(sw::parse_uint("18446744073709551615"), UINT64_MAX);
    EXPECT_FALSE(sw::parse_uint("18446744073709551616"));
    EXPECT_FALSE(sw::parse_uint("256", 255));
    EXPECT_EQ(sw::parse_uint("255", 255), 255u);
    EXPECT_FALSE(sw::parse_uint("-1"));
    EXPECT_FALSE(sw::parse_uint(""));
    EXPECT_FALSE(sw::parse_uint("12a"));
}

TEST(Text, CaseInsensitiveCompareAndTrim) {
    EXPECT_TRUE(sw::iequals("Call-ID", "call-id"));
    EXPECT_FALSE(sw::iequals("Call-ID", "Call-IDs"));
    EXPECT_EQ(sw::trim(" \t x y \r\n"), "x y");
    EXPECT_EQ(sw::to_lower("AbC"), "abc");
}

TEST(Text, Hex16WritesSixteenLowercaseDigitsLikePrintf) {
    for (std::uint64_t v :
         {0ull, 1ull, 0xabcull, 0x0123456789abcdefull, 0xffffffffffffffffull, 0x8000000000000000ull}) {
        char buf[16];
        sw::hex16(v, buf);
        char want[17];
        std::snprintf(want, sizeof want, "%016llx", static_cast<unsigned long long>(v));
        EXPECT_EQ(std::string_view(buf, 16), std::string_view(want, 16)) << v;
    }
}
