// Scanner user agents: known tools matched case-insensitively anywhere in the header, real phones not.
#include "security/scanner.hpp"

#include <gtest/gtest.h>

namespace sw::security {
namespace {

TEST(Scanner, KnownToolsInAnyCase) {
    for (const char* ua : {"friendly-scanner", "Friendly-Scanner 1.0", "sipvicious", "SIPVicious svwar 0.3",
                           "sipcli/v1.8", "VaxSIPUserAgent/3.1", "vaxsipuseragent", "sip-scan", "SIPSCAN 2.0",
                           "sundayddr", "iWar", "IWAR 0.1", "pplsip", "Ozeki VoIP SIP SDK", "smap 0.6.0"})
        EXPECT_TRUE(is_scanner(ua)) << ua;
    EXPECT_EQ(known_scanners().size(), 11u);
}

TEST(Scanner, RealClientsAreNotScanners) {
    for (const char* ua :
         {"", "Linphone/5.2.0 (belle-sip/5.2.0)", "Yealink SIP-T46S 66.86.0.15", "Zoiper rv2.10.19",
          "baresip v3.10.0", "Asterisk PBX 20.5.0", "FreeSWITCH-mod_sofia/1.10.10",
          "PolycomVVX-VVX_450-UA/6.4", "sipp", "MicroSIP/3.21.3", "Grandstream GXP2170 1.0.11"})
        EXPECT_FALSE(is_scanner(ua)) << ua;
}

TEST(Scanner, ConfiguredNamesCountAndEmptyOnesAreIgnored) {
    const std::vector<std::string> extra{"", "EvilTool", "x-brute"};
    EXPECT_TRUE(is_scanner("eviltool/2", extra));
    EXPECT_TRUE(is_scanner("My X-BRUTE agent", extra));
    EXPECT_FALSE(is_scanner("Linphone/5.2.0", extra)) << "an empty entry must not match everything";
    EXPECT_FALSE(is_scanner("eviltool/2"));
}

TEST(Scanner, ContainsIgnoringCase) {
    EXPECT_TRUE(contains_ignoring_case("abcDEF", "cde"));
    EXPECT_TRUE(contains_ignoring_case("abc", "ABC"));
    EXPECT_FALSE(contains_ignoring_case("ab", "abc"));
    EXPECT_FALSE(contains_ignoring_case("abc", ""));
    EXPECT_FALSE(contains_ignoring_case("abc", "abd"));
}

}  // namespace
}  // namespace sw::security
