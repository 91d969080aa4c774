#include <gtest/gtest.h>

#include "auth/digest.hpp"

using namespace sw::auth;

namespace {

// RFC 7616 3.9.1: the example exchange, computed with MD5 and with SHA-256.
constexpr std::string_view kUser = "Mufasa";
constexpr std::string_view kRealm = "http-auth@example.org";
constexpr std::string_view kPassword = "Circle of Life";
constexpr std::string_view kNonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr std::string_view kCnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

}  // namespace

TEST(Digest, AlgorithmNames) {
    EXPECT_EQ(algorithm_name(Algorithm::Md5), "MD5");
    EXPECT_EQ(algorithm_name(Algorithm::Sha256), "SHA-256");
    EXPECT_EQ(algorithm_name(Algorithm::Sha512_256), "SHA-512-256");
    EXPECT_EQ(parse_algorithm("MD5"), Algorithm::Md5);
    EXPECT_EQ(parse_algorithm("md5"), Algorithm::Md5);
    EXPECT_EQ(parse_algorithm("sha-256"), Algorithm::Sha256);
    EXPECT_EQ(parse_algorithm("SHA-512-256"), Algorithm::Sha512_256);
    EXPECT_EQ(parse_algorithm("MD5-sess"), std::nullopt);
    EXPECT_EQ(parse_algorithm("SHA-256-sess"), std::nullopt);
    EXPECT_EQ(parse_algorithm("SHA-512/256"), std::nullopt);
    EXPECT_EQ(parse_algorithm("SHA256"), std::nullopt);
    EXPECT_EQ(parse_algorithm(""), std::nullopt);
}

TEST(Digest, HexDigestsOfKnownInputs) {
    // FIPS 180-2 / RFC 1321 "abc" vectors.
    EXPECT_EQ(hex_digest(Algorithm::Md5, "abc"), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(hex_digest(Algorithm::Sha256, "abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex_digest(Algorithm::Sha512_256, ""),
              "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a");
    for (Algorithm a : {Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512_256}) {
        EXPECT_EQ(hex_digest(a, "x").size(), hex_length(a));
    }
}

TEST(Digest, Rfc7616ExampleMd5) {
    const std::string ha1 = compute_ha1(Algorithm::Md5, kUser, kRealm, kPassword);
    EXPECT_EQ(
        compute_response(Algorithm::Md5, ha1, kNonce, "00000001", kCnonce, "auth", "GET", "/dir/index.html"),
        "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(Digest, Rfc7616ExampleSha256) {
    const std::string ha1 = compute_ha1(Algorithm::Sha256, kUser, kRealm, kPassword);
    EXPECT_EQ(compute_response(Algorithm::Sha256, ha1, kNonce, "00000001", kCnonce, "auth", "GET",
                               "/dir/index.html"),
              "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST(Digest, Sha512_256Ha1MatchesOpensslCli) {
    // printf 'alice:sip.example.com:Correct Horse 42' | openssl dgst -sha512-256
    EXPECT_EQ(compute_ha1(Algorithm::Sha512_256, "alice", "sip.example.com", "Correct Horse 42"),
              "dfdde5f07472e0de93b578d9ac790494ed657cfa7525fa7c3b8616c0c094ea26");
    // printf 'Mufasa:http-auth@example.org:Circle of Life' | openssl dgst -sha512-256
    EXPECT_EQ(compute_ha1(Algorithm::Sha512_256, kUser, kRealm, kPassword),
              "fb174f5c3c7802721517cae13b98e2b8dae2e0118cb705d94ee29946319204ce");
}

TEST(Digest, ResponseWithoutQopIsRfc2069Form) {
    const std::string ha1 = compute_ha1(Algorithm::Md5, "bob", "r", "pw");
    const std::string ha2 = hex_digest(Algorithm::Md5, "REGISTER:sip:r");
    EXPECT_EQ(compute_response(Algorithm::Md5, ha1, "n", "", "", "", "REGISTER", "sip:r"),
              hex_digest(Algorithm::Md5, ha1 + ":n:" + ha2));
    EXPECT_EQ(compute_response(Algorithm::Md5, ha1, "n", "00000001", "c", "auth", "REGISTER", "sip:r"),
              hex_digest(Algorithm::Md5, ha1 + ":n:00000001:c:auth:" + ha2));
}

TEST(Digest, ConstantTimeEqual) {
    EXPECT_TRUE(constant_time_equal("", ""));
    EXPECT_TRUE(constant_time_equal("abcdef", "abcdef"));
    EXPECT_FALSE(constant_time_equal("abcdef", "abcdeF"));
    EXPECT_FALSE(constant_time_equal("abcdef", "bbcdef"));
    EXPECT_FALSE(constant_time_equal("abcdef", "abcde"));
    EXPECT_FALSE(constant_time_equal("abc", "abcdef"));
    EXPECT_FALSE(constant_time_equal("", "a"));
    EXPECT_FALSE(constant_time_equal("a", ""));
}
