// The dial plan (which trunk a number goes out through) and the DID table (which extension a number rings).
#include "b2bua/dial_plan.hpp"

#include <gtest/gtest.h>

#include "b2bua/trunk.hpp"

namespace sw::b2bua {
namespace {

std::vector<std::string> trunks_of(const std::vector<DialChoice>& choices) {
    std::vector<std::string> out;
    for (const auto& c : choices)
        out.push_back(c.route.trunk);
    return out;
}

TEST(DialPattern, LiteralsAndDigitClasses) {
    EXPECT_TRUE(pattern_matches("110", "110"));
    EXPECT_FALSE(pattern_matches("110", "112"));
    EXPECT_FALSE(pattern_matches("110", "1100"));  // the whole number, not a prefix
    EXPECT_FALSE(pattern_matches("110", "11"));
    EXPECT_TRUE(pattern_matches("+49*#", "+49*#"));
    EXPECT_FALSE(pattern_matches("+49", "049"));

    EXPECT_TRUE(pattern_matches("XX", "09"));
    EXPECT_FALSE(pattern_matches("XX", "0*"));  // X is a digit only
    EXPECT_TRUE(pattern_matches("Z", "1"));
    EXPECT_FALSE(pattern_matches("Z", "0"));
    EXPECT_TRUE(pattern_matches("N", "2"));
    EXPECT_FALSE(pattern_matches("N", "1"));
    EXPECT_TRUE(pattern_matches("xzn", "012"));  // letters in either case
    EXPECT_FALSE(pattern_matches("xzn", "002"));
}

TEST(DialPattern, SetsWithRangesAndSingleDigits) {
    EXPECT_TRUE(pattern_matches("[1-5]", "3"));
    EXPECT_FALSE(pattern_matches("[1-5]", "6"));
    EXPECT_TRUE(pattern_matches("[137]", "7"));
    EXPECT_FALSE(pattern_matches("[137]", "2"));
    EXPECT_TRUE(pattern_matches("0[13-57]9", "049"));
    EXPECT_TRUE(pattern_matches("0[13-57]9", "079"));
    EXPECT_FALSE(pattern_matches("0[13-57]9", "069"));
    EXPECT_FALSE(pattern_matches("0[13-57]9", "029"));
}

TEST(DialPattern, DotNeedsOneMoreCharacterBangNone) {
    EXPECT_TRUE(pattern_matches("00.", "0049301234"));
    EXPECT_TRUE(pattern_matches("00.", "001"));
    EXPECT_FALSE(pattern_matches("00.", "00"));
    EXPECT_TRUE(pattern_matches("00!", "00"));
    EXPECT_TRUE(pattern_matches("00!", "00*#+"));
    EXPECT_FALSE(pattern_matches("00!", "0"));
    EXPECT_TRUE(pattern_matches("!", ""));
    EXPECT_TRUE(pattern_matches(".", "+1"));
    EXPECT_FALSE(pattern_matches(".", ""));
}

TEST(DialPattern, ErrorsNameTheFault) {
    EXPECT_EQ(pattern_error("0Z."), "");
    EXPECT_EQ(pattern_error("[0-9]!"), "");
    EXPECT_NE(pattern_error(""), "");
    EXPECT_NE(pattern_error("0.1"), "");  // . only last
    EXPECT_NE(pattern_error("!0"), "");
    EXPECT_NE(pattern_error("0.."), "");
    EXPECT_NE(pattern_error("[1-5"), "");
    EXPECT_NE(pattern_error("[]"), "");
    EXPECT_NE(pattern_error("[5-1]"), "");
    EXPECT_NE(pattern_error("[a]"), "");
    EXPECT_NE(pattern_error("[1-]"), "");
    EXPECT_NE(pattern_error("0Y"), "");
    EXPECT_NE(pattern_error("0 1"), "");
    EXPECT_NE(pattern_error(std::string(65, '1')), "");
    EXPECT_NE(pattern_error("0Y").find("'Y'"), std::string::npos);
    EXPECT_FALSE(pattern_matches("0Y", "0Y"));  // an invalid pattern matches nothing
}

TEST(DialPlan, MostFixedPositionsFirstThenMostLiteralsThenPriority) {
    const DialPlan plan({
        {"0.", "any-zero", 0, "", 10, ""},
        {"0049.", "germany", 0, "", 10, ""},
        {"00XX.", "intl", 0, "", 10, ""},
        {"00ZX.", "intl-z", 0, "", 10, ""},
        {"!", "fallback", 0, "", 1, ""},
    });
    // "0049." and "00XX." and "00ZX." have 4 fixed positions; "0049." has 4 literals, the others 2.
    // "00XX." and "00ZX." tie on both and have equal priority: they keep their order.
    EXPECT_EQ(trunks_of(plan.match("0049301234")),
              (std::vector<std::string>{"germany", "intl", "intl-z", "any-zero", "fallback"}));
    EXPECT_EQ(trunks_of(plan.match("0033123")),
              (std::vector<std::string>{"intl", "intl-z", "any-zero", "fallback"}));
    EXPECT_EQ(trunks_of(plan.match("0012")), (std::vector<std::string>{"any-zero", "fallback"}));
    EXPECT_EQ(trunks_of(plan.match("5")), (std::vector<std::string>{"fallback"}));
}

TEST(DialPlan, PriorityBreaksTiesBetweenEquallySpecificRoutes) {
    const DialPlan plan({
        {"+49.", "expensive", 0, "", 20, ""},
        {"+49.", "cheap", 0, "", 5, ""},
        {"+4X.", "other", 0, "", 1, ""},
    });
    EXPECT_EQ(trunks_of(plan.match("+4930123")), (std::vector<std::string>{"cheap", "expensive", "other"}));
}

TEST(DialPlan, StripThenPrependAndNormalizeTheDialledNumber) {
    const DialPlan plan({
        {"0Z.", "national", 1, "+49", 10, ""},
        {"00.", "intl", 2, "+", 10, ""},
        {"*.", "service", 1, "", 10, ""},
    });
    auto national = plan.match("030 1234-56");
    ASSERT_EQ(national.size(), 1u);
    EXPECT_EQ(national[0].number, "+4930123456");
    EXPECT_EQ(national[0].route.pattern, "0Z.");

    auto intl = plan.match("(0044) 20.7946");
    ASSERT_EQ(intl.size(), 1u);
    EXPECT_EQ(intl[0].number, "+44207946");

    // Stripping the whole number with nothing to prepend would ask for no number: not a choice.
    auto service = plan.match("*");
    EXPECT_TRUE(service.empty());
    auto service2 = plan.match("*21");
    ASSERT_EQ(service2.size(), 1u);
    EXPECT_EQ(service2[0].number, "21");

    EXPECT_TRUE(plan.match("alice").empty());  // no phone number, no route
    EXPECT_TRUE(DialPlan().match("0301234").empty());
}

TEST(NormalizeNumber, DropsVisualSeparatorsAndRefusesTheRest) {
    EXPECT_EQ(normalize_number("+49 (30) 123-45.6"), "+4930123456");
    EXPECT_EQ(normalize_number("*31#"), "*31#");
    EXPECT_EQ(normalize_number(" +1"), "+1");
    EXPECT_EQ(normalize_number(""), "");
    EXPECT_EQ(normalize_number("+"), "");
    EXPECT_EQ(normalize_number("- ."), "");
    EXPECT_EQ(normalize_number("49+30"), "");  // + only first
    EXPECT_EQ(normalize_number("++49"), "");
    EXPECT_EQ(normalize_number("0800-FLOWERS"), "");
    EXPECT_EQ(normalize_number("201;phone-context=x"), "");
    EXPECT_EQ(normalize_number("12\t3"), "");
}

TEST(DidTable, ExactNumberThenWithOrWithoutPlus) {
    const DidTable table({{"+4930123456", "201"}, {"4930999", "202"}, {"+49 30 777", "203"}, {"bad", "204"}});
    EXPECT_EQ(table.size(), 3u);  // "bad" is no number
    EXPECT_EQ(table.user_of("+4930123456"), "201");
    EXPECT_EQ(table.user_of("4930123456"), "201");  // provider sent it without +
    EXPECT_EQ(table.user_of("+49 30 123-456"), "201");
    EXPECT_EQ(table.user_of("4930999"), "202");
    EXPECT_EQ(table.user_of("+4930999"), "202");  // stored without +, called with it
    EXPECT_EQ(table.user_of("+4930777"), "203");  // stored normalized
    EXPECT_EQ(table.user_of("+4930123457"), "");
    EXPECT_EQ(table.user_of("201"), "");
    EXPECT_EQ(table.user_of(""), "");
    EXPECT_EQ(table.user_of("+"), "");
}

TEST(DidTable, ExactMatchWinsOverTheOtherSpelling) {
    const DidTable table({{"+4930", "201"}, {"4930", "202"}});
    EXPECT_EQ(table.user_of("+4930"), "201");
    EXPECT_EQ(table.user_of("4930"), "202");
}

TEST(DidTable, NumberOfIsTheUsersFirstDidInNumberOrder) {
    const DidTable table({{"+4930300", "201"}, {"+4930100", "201"}, {"+4930200", "202"}});
    EXPECT_EQ(table.number_of("201"), "+4930100");
    EXPECT_EQ(table.number_of("202"), "+4930200");
    EXPECT_EQ(table.number_of("203"), "");
}

TEST(TrunkName, LettersDigitsUnderscoreHyphenUpTo32) {
    EXPECT_TRUE(valid_trunk_name("sipgate-1_main"));
    EXPECT_TRUE(valid_trunk_name(std::string(32, 'a')));
    EXPECT_FALSE(valid_trunk_name(std::string(33, 'a')));
    EXPECT_FALSE(valid_trunk_name(""));
    EXPECT_FALSE(valid_trunk_name("a b"));
    EXPECT_FALSE(valid_trunk_name("a.b"));
    EXPECT_FALSE(valid_trunk_name("trunk;x"));
}

TEST(Trunk, EffectivePortAndDomainDefaults) {
    Trunk t;
    t.host = "sip.example.net";
    EXPECT_EQ(t.effective_port(), 5060);
    t.transport = transport::Protocol::Tls;
    EXPECT_EQ(t.effective_port(), 5061);
    t.port = 5080;
    EXPECT_EQ(t.effective_port(), 5080);
    EXPECT_EQ(t.domain(), "sip.example.net");
    t.from_domain = "example.net";
    EXPECT_EQ(t.domain(), "example.net");
}

}  // namespace
}  // namespace sw::b2bua
