#include <gtest/gtest.h>

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
