// SecretBox: trunk passwords sealed with AES-256-GCM, and every change to the sealed text noticed.
#include "auth/secret_box.hpp"

#include <gtest/gtest.h>

#include "auth/base64url.hpp"
#include "fakes.hpp"

namespace sw::auth {
namespace {

SecretKey key_of(unsigned char seed) {
    SecretKey key{};
    for (std::size_t i = 0; i < key.size(); ++i)
        key[i] = static_cast<unsigned char>(seed + i * 7);
    return key;
}

TEST(SecretBox, RoundTripAndFormat) {
    test::FakeRandom random;
    const SecretKey key = key_of(1);
    const std::string sealed = seal_secret(key, "Provider-Pa55word!", random);
    ASSERT_EQ(sealed.rfind("v1:", 0), 0u) << sealed;
    EXPECT_EQ(sealed.find("Provider"), std::string::npos);
    auto raw = base64url_decode(std::string_view(sealed).substr(3));
    ASSERT_TRUE(raw);
    EXPECT_EQ(raw->size(), 12u + 18u + 16u);  // nonce, ciphertext as long as the text, tag
    auto opened = open_secret(key, sealed);
    ASSERT_TRUE(opened);
    EXPECT_EQ(*opened, "Provider-Pa55word!");
}

TEST(SecretBox, EmptyAndBinaryPlaintextsSurvive) {
    test::FakeRandom random;
    const SecretKey key = key_of(2);
    auto empty = open_secret(key, seal_secret(key, "", random));
    ASSERT_TRUE(empty);
    EXPECT_EQ(*empty, "");
    const std::string binary("a\0b\xff\n", 5);
    auto opened = open_secret(key, seal_secret(key, binary, random));
    ASSERT_TRUE(opened);
    EXPECT_EQ(*opened, binary);
}

TEST(SecretBox, EachSealHasItsOwnNonce) {
    test::FakeRandom random;
    const SecretKey key = key_of(3);
    const std::string a = seal_secret(key, "same", random);
    const std::string b = seal_secret(key, "same", random);
    EXPECT_NE(a, b);
    EXPECT_EQ(open_secret(key, a), open_secret(key, b));
}

TEST(SecretBox, AnyChangedByteIsRefused) {
    test::FakeRandom random;
    const SecretKey key = key_of(4);
    const std::string sealed = seal_secret(key, "tamper-me-please", random);
    auto raw = *base64url_decode(std::string_view(sealed).substr(3));
    // Every byte of nonce, ciphertext and tag, one bit at a time in turn.
    for (std::size_t i = 0; i < raw.size(); ++i) {
        auto changed = raw;
        changed[i] ^= static_cast<unsigned char>(1u << (i % 8));
        EXPECT_FALSE(open_secret(key, "v1:" + base64url_encode(changed))) << "byte " << i;
    }
    // Shortened, lengthened, or cut below nonce + tag.
    auto shorter = raw;
    shorter.pop_back();
    EXPECT_FALSE(open_secret(key, "v1:" + base64url_encode(shorter)));
    auto longer = raw;
    longer.push_back(0);
    EXPECT_FALSE(open_secret(key, "v1:" + base64url_encode(longer)));
    raw.resize(27);
    EXPECT_FALSE(open_secret(key, "v1:" + base64url_encode(raw)));
}

TEST(SecretBox, WrongKeyAndMalformedTextAreRefused) {
    test::FakeRandom random;
    const std::string sealed = seal_secret(key_of(5), "secret", random);
    EXPECT_FALSE(open_secret(key_of(6), sealed));
    EXPECT_TRUE(open_secret(key_of(5), sealed));
    EXPECT_FALSE(open_secret(key_of(5), ""));
    EXPECT_FALSE(open_secret(key_of(5), "v1:"));
    EXPECT_FALSE(open_secret(key_of(5), "v2:" + sealed.substr(3)));
    EXPECT_FALSE(open_secret(key_of(5), sealed.substr(3)));
    EXPECT_FALSE(open_secret(key_of(5), sealed + "="));  // not strict base64url
    EXPECT_FALSE(open_secret(key_of(5), "v1:" + std::string(20000, 'A')));
    EXPECT_FALSE(open_secret(key_of(5), "secret"));
}

}  // namespace
}  // namespace sw::auth
