#include "common/siphash.hpp"

#include <gtest/gtest.h>
#include <string>

// Test vectors of the SipHash paper (appendix A): key 00..0f, messages 00, 00 01, ... .
TEST(SipHash, ReferenceVectors) {
    const sw::SipKey key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    std::string msg;
    EXPECT_EQ(sw::siphash24(key, msg), 0x726fdb47dd0e0e31ULL);
    for (int i = 0; i < 15; ++i)
        msg.push_back(static_cast<char>(i));
    EXPECT_EQ(sw::siphash24(key, msg), 0xa129ca6149be45e5ULL);
    msg.resize(8);
    EXPECT_EQ(sw::siphash24(key, msg), 0x93f5f5799a932462ULL);
}

TEST(SipHash, KeyChangesTheHash) {
    EXPECT_NE(sw::siphash24({1, 2}, "z9hG4bK776asdhds"), sw::siphash24({1, 3}, "z9hG4bK776asdhds"));
    EXPECT_NE(sw::siphash24({1, 2}, "a"), sw::siphash24({1, 2}, "b"));
}
