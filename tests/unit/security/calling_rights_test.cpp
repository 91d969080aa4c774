// Calling rights: country codes, the high-risk list, classification of numbers, business hours and the
// verdict on a call.
#include "security/calling_rights.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace sw::security {
namespace {

NumberingPlan germany() {
    NumberingPlan plan;
    plan.country_code = "49";
    return plan;  // 00 international, 0 national
}

NumberingPlan north_america() {
    NumberingPlan plan;
    plan.country_code = "1";
    plan.international_prefix = "011";
    plan.national_prefix = "1";
    return plan;
}

// Days as tm_wday.
constexpr int kSun = 0, kMon = 1, kTue = 2, kWed = 3, kThu = 4, kFri = 5, kSat = 6;

std::tm at(int wday, int hour, int minute) {
    std::tm t{};
    t.tm_wday = wday;
    t.tm_hour = hour;
    t.tm_min = minute;
    return t;
}

BusinessHours hours(std::string_view text) {
    std::string error;
    auto h = BusinessHours::parse(text, &error);
    EXPECT_TRUE(h.has_value()) << text << ": " << error;
    return h.value_or(BusinessHours{});
}

std::string parse_error(std::string_view text) {
    std::string error;
    auto h = BusinessHours::parse(text, &error);
    EXPECT_FALSE(h.has_value()) << text;
    EXPECT_FALSE(error.empty()) << text;
    return error;
}

// ---- class names

TEST(CallingRightsClass, NamesRoundTripAndParseIgnoresCase) {
    for (CallClass c : {CallClass::Internal, CallClass::Local, CallClass::National, CallClass::International,
                        CallClass::Premium})
        EXPECT_EQ(parse_class(class_name(c)), c) << class_name(c);
    EXPECT_EQ(class_name(CallClass::International), "international");
    EXPECT_EQ(parse_class("NATIONAL"), CallClass::National);
    EXPECT_EQ(parse_class("Premium"), CallClass::Premium);
    for (const char* bad : {"", "nat", "internationals", "local ", " local", "premium-rate", "0"})
        EXPECT_FALSE(parse_class(bad).has_value()) << bad;
}

TEST(CallingRightsClass, ClassesAreOrdered) {
    EXPECT_LT(CallClass::Internal, CallClass::Local);
    EXPECT_LT(CallClass::Local, CallClass::National);
    EXPECT_LT(CallClass::National, CallClass::International);
    EXPECT_LT(CallClass::International, CallClass::Premium);
}

// ---- country calling codes

TEST(CallingRightsCountryCode, LongestAssignedCodeBeginsTheNumber) {
    EXPECT_EQ(country_code_of("12125551234"), "1");
    EXPECT_EQ(country_code_of("18765551234"), "1") << "Jamaica is in the NANP: its country code is 1";
    EXPECT_EQ(country_code_of("442071234567"), "44");
    EXPECT_EQ(country_code_of("4930123456"), "49");
    EXPECT_EQ(country_code_of("88163123456"), "881");
    EXPECT_EQ(country_code_of("79161234567"), "7");
    EXPECT_EQ(country_code_of("77012345678"), "7") << "Kazakhstan shares zone 7";
    EXPECT_EQ(country_code_of("212522123456"), "212");
    EXPECT_EQ(country_code_of("35312345678"), "353");
    EXPECT_EQ(country_code_of("420212345678"), "420");
    EXPECT_EQ(country_code_of("97912345678"), "979");
    EXPECT_EQ(country_code_of("8001234567"), "800");
}

TEST(CallingRightsCountryCode, ShortNumbersMatchOnlyWholeCodes) {
    EXPECT_EQ(country_code_of("1"), "1");
    EXPECT_EQ(country_code_of("44"), "44");
    EXPECT_EQ(country_code_of("211"), "211");
    EXPECT_EQ(country_code_of("4"), "") << "no code is 4 alone";
    EXPECT_EQ(country_code_of("21"), "") << "zone 21 has only three-digit codes";
    EXPECT_EQ(country_code_of("88"), "");
}

TEST(CallingRightsCountryCode, SpareCodesAndNonNumbersHaveNone) {
    for (const char* n : {"",        "0",       "0049301234", "2101234", "2141234",     "2591234", "2801234",
                          "2921234", "3841234", "4221234",    "4251234", "6711234",     "6841234", "6931234",
                          "8011234", "8301234", "8541234",    "8711234", "8871234",     "8901234", "9691234",
                          "9781234", "9901234", "9971234",    "9991234", "+4930123456", "*21#"})
        EXPECT_EQ(country_code_of(n), "") << n;
}

TEST(CallingRightsCountryCode, EveryZoneIsCovered) {
    // A sample from every zone, of every code length, global services included.
    for (const char* code :
         {"20",  "211", "218", "220", "234", "249", "250", "258", "262", "269", "27",  "290", "297",
          "299", "30",  "31",  "32",  "33",  "34",  "350", "359", "36",  "370", "375", "379", "380",
          "381", "383", "385", "389", "39",  "40",  "41",  "420", "421", "423", "43",  "44",  "45",
          "46",  "47",  "48",  "49",  "500", "509", "51",  "52",  "53",  "54",  "55",  "56",  "57",
          "58",  "590", "599", "60",  "61",  "62",  "63",  "64",  "65",  "66",  "670", "672", "679",
          "680", "689", "690", "692", "800", "808", "81",  "82",  "84",  "850", "852", "853", "855",
          "856", "86",  "870", "878", "880", "881", "882", "883", "886", "888", "90",  "91",  "92",
          "93",  "94",  "95",  "960", "968", "970", "977", "979", "98",  "991", "992", "996", "998"}) {
        EXPECT_EQ(country_code_of(std::string(code) + "12345678"), code) << code;
        EXPECT_EQ(country_code_of(code), code) << code;
    }
}

// ---- the high-risk list

TEST(HighRiskList, AddAcceptsOnlyOneToFifteenDigits) {
    HighRiskList list;
    EXPECT_FALSE(list.add({"", false, "empty"}));
    EXPECT_FALSE(list.add({"12a", false, "letter"}));
    EXPECT_FALSE(list.add({"+881", false, "plus"}));
    EXPECT_FALSE(list.add({"88 1", false, "space"}));
    EXPECT_FALSE(list.add({"1234567890123456", false, "sixteen digits"}));
    EXPECT_TRUE(list.entries().empty());
    EXPECT_TRUE(list.add({"123456789012345", false, "fifteen digits"}));
    EXPECT_TRUE(list.add({"1", false, "one digit"}));
    EXPECT_EQ(list.entries().size(), 2u);
}

TEST(HighRiskList, AddReplacesTheEntryWithTheSamePrefix) {
    HighRiskList list;
    ASSERT_TRUE(list.add({"881", false, "first"}));
    ASSERT_TRUE(list.add({"881", true, "second"}));
    ASSERT_EQ(list.entries().size(), 1u);
    EXPECT_EQ(list.entries()[0].label, "second");
    EXPECT_TRUE(list.entries()[0].premium);
}

TEST(HighRiskList, EntriesStaySortedByPrefix) {
    HighRiskList list;
    for (const char* p : {"53", "1876", "1", "979", "18765", "4990", "2"})
        ASSERT_TRUE(list.add({p, false, p}));
    std::vector<std::string> prefixes;
    for (const auto& e : list.entries())
        prefixes.push_back(e.prefix);
    EXPECT_EQ(prefixes, (std::vector<std::string>{"1", "1876", "18765", "2", "4990", "53", "979"}));
}

TEST(HighRiskList, MatchTakesTheLongestPrefix) {
    HighRiskList list;
    for (const char* p : {"1", "1876", "18765", "53"})
        ASSERT_TRUE(list.add({p, false, std::string("label ") + p}));
    auto prefix_of = [&](std::string_view n) -> std::string {
        const HighRiskEntry* e = list.match(n);
        return e ? e->prefix : "(none)";
    };
    EXPECT_EQ(prefix_of("18765551234"), "18765");
    EXPECT_EQ(prefix_of("18761234567"), "1876");
    EXPECT_EQ(prefix_of("1876"), "1876") << "a number that is exactly the prefix";
    EXPECT_EQ(prefix_of("187"), "1") << "shorter than 1876: only 1 begins it";
    EXPECT_EQ(prefix_of("12125551234"), "1");
    EXPECT_EQ(prefix_of("5371234567"), "53");
    EXPECT_EQ(prefix_of("5"), "(none)");
    EXPECT_EQ(prefix_of("4930123456"), "(none)");
    EXPECT_EQ(prefix_of(""), "(none)");
    EXPECT_EQ(list.match("18765551234")->label, "label 18765");
}

TEST(HighRiskList, MatchFindsPrefixesOfFifteenDigits) {
    HighRiskList list;
    ASSERT_TRUE(list.add({"123456789012345", false, "long"}));
    ASSERT_TRUE(list.add({"12345", false, "short"}));
    EXPECT_EQ(list.match("1234567890123456789")->label, "long") << "numbers longer than 15 digits too";
    EXPECT_EQ(list.match("12345678901234")->label, "short");
}

TEST(HighRiskList, RemoveTakesOnlyTheExactPrefix) {
    HighRiskList list;
    ASSERT_TRUE(list.add({"1", false, "nanp"}));
    ASSERT_TRUE(list.add({"1876", false, "jamaica"}));
    EXPECT_FALSE(list.remove("187"));
    EXPECT_FALSE(list.remove("18765"));
    EXPECT_FALSE(list.remove(""));
    EXPECT_EQ(list.entries().size(), 2u);
    EXPECT_TRUE(list.remove("1876"));
    EXPECT_FALSE(list.remove("1876"));
    EXPECT_EQ(list.match("18765551234")->prefix, "1");
    EXPECT_TRUE(list.remove("1"));
    EXPECT_EQ(list.match("18765551234"), nullptr);
}

TEST(HighRiskList, MatchAgreesWithAScanOfEveryEntry) {
    // Many overlapping prefixes: the binary searches must find what a plain scan finds.
    std::mt19937 rng(7);
    auto digits = [&](std::size_t n) {
        std::string s;
        for (std::size_t i = 0; i < n; ++i)
            s += static_cast<char>('0' + rng() % 4);  // few digits: many overlaps
        return s;
    };
    HighRiskList list;
    for (int i = 0; i < 300; ++i)
        list.add({digits(1 + rng() % 6), false, ""});
    for (int i = 0; i < 2000; ++i) {
        const std::string n = digits(rng() % 10);
        const HighRiskEntry* best = nullptr;
        for (const auto& e : list.entries())
            if (n.starts_with(e.prefix) && (!best || e.prefix.size() > best->prefix.size())) best = &e;
        ASSERT_EQ(list.match(n), best) << n;
    }
}

TEST(HighRiskBuiltin, IsSortedUniqueAndValid) {
    const HighRiskList list = HighRiskList::builtin();
    ASSERT_GT(list.entries().size(), 90u);
    for (std::size_t i = 0; i < list.entries().size(); ++i) {
        const HighRiskEntry& e = list.entries()[i];
        EXPECT_FALSE(e.label.empty()) << e.prefix;
        EXPECT_TRUE(
            !e.prefix.empty() && e.prefix.size() <= 15 &&
            std::all_of(e.prefix.begin(), e.prefix.end(), [](char c) { return c >= '0' && c <= '9'; }))
            << e.prefix;
        if (i > 0) {
            EXPECT_LT(list.entries()[i - 1].prefix, e.prefix);
        }
        // Every entry lies inside an assigned country code: a typo would not.
        EXPECT_FALSE(country_code_of(e.prefix).empty()) << e.prefix;
    }
}

TEST(HighRiskBuiltin, PremiumRanges) {
    const HighRiskList list = HighRiskList::builtin();
    for (const char* n :
         {"97912345678",  "49900123456",  "49137123456", "4911833",     "449012345678", "449112345678",
          "449812345678", "448712345678", "19005551234", "19765551234", "33892123456",  "33812345678",
          "33821234567",  "34803123456",  "34806123456", "34807123456", "34905123456",  "39899123456",
          "39892123456",  "31900123456",  "31906123456", "31909123456", "43900123456",  "43930123456",
          "41900123456",  "41901123456",  "41906123456"}) {
        const HighRiskEntry* e = list.match(n);
        ASSERT_NE(e, nullptr) << n;
        EXPECT_TRUE(e->premium) << n << " matched " << e->prefix;
    }
    EXPECT_EQ(list.match("97912345678")->label, "international premium rate");
    EXPECT_EQ(list.match("49900123456")->prefix, "49900");
}

TEST(HighRiskBuiltin, FraudDestinationsAreNotPremium) {
    const HighRiskList list = HighRiskList::builtin();
    for (const char* p :
         {"808",  "870",  "881",  "882",  "883",  "53",   "252",  "232",  "224",  "220",  "235",
          "239",  "269",  "246",  "247",  "290",  "500",  "682",  "683",  "685",  "686",  "690",
          "688",  "674",  "677",  "678",  "675",  "681",  "692",  "691",  "680",  "375",  "263",
          "261",  "960",  "231",  "257",  "242",  "245",  "291",  "850",  "1242", "1246", "1264",
          "1268", "1284", "1345", "1441", "1473", "1649", "1664", "1721", "1758", "1767", "1784",
          "1809", "1829", "1849", "1868", "1869", "1876"}) {
        const HighRiskEntry* e = list.match(std::string(p) + "1234567");
        ASSERT_NE(e, nullptr) << p;
        EXPECT_EQ(e->prefix, p);
        EXPECT_FALSE(e->premium) << p;
    }
    EXPECT_EQ(list.match("5371234567")->label, "Cuba");
    EXPECT_EQ(list.match("18765551234")->label, "Jamaica (NANP 876)");
    EXPECT_EQ(list.match("8816123456")->prefix, "881") << "Iridium is inside 881";
}

TEST(HighRiskBuiltin, OrdinaryNumbersAreNotHighRisk) {
    const HighRiskList list = HighRiskList::builtin();
    for (const char* n :
         {"4930123456", "491711234567", "4980012345", "12125551234", "14165551234", "442071234567",
          "447700900123", "33142685300", "33800123456", "3361234567", "34912345678", "390612345678",
          "31201234567", "4312345678", "41441234567", "8001234567", "81312345678", "5511912345678"})
        EXPECT_EQ(list.match(n), nullptr) << n << " matched " << list.match(n)->prefix;
}

TEST(HighRiskBuiltin, ConfigurationCanChangeIt) {
    HighRiskList list = HighRiskList::builtin();
    const std::size_t n = list.entries().size();
    EXPECT_TRUE(list.remove("53"));
    EXPECT_EQ(list.match("5371234567"), nullptr);
    EXPECT_TRUE(list.add({"3719", true, "Latvia premium"}));
    EXPECT_EQ(list.match("37190012345")->label, "Latvia premium");
    EXPECT_EQ(list.entries().size(), n);
}

// ---- classification

TEST(Classify, PlusFormIsInternational) {
    const HighRiskList list = HighRiskList::builtin();
    const Destination d = classify("+33142685300", std::nullopt, germany(), list);
    EXPECT_EQ(d.number, "+33142685300");
    EXPECT_EQ(d.cls, CallClass::International);
    EXPECT_EQ(d.e164, "33142685300");
    EXPECT_EQ(d.country, "33");
    EXPECT_EQ(d.high_risk, nullptr);
    EXPECT_FALSE(d.emergency);
}

TEST(Classify, InternationalPrefixIsInternational) {
    const HighRiskList list = HighRiskList::builtin();
    const Destination d = classify("0033142685300", std::nullopt, germany(), list);
    EXPECT_EQ(d.cls, CallClass::International);
    EXPECT_EQ(d.e164, "33142685300");
    EXPECT_EQ(d.country, "33");
}

TEST(Classify, OwnCountryCodeIsNational) {
    const HighRiskList list = HighRiskList::builtin();
    for (const char* n : {"+4930123456", "004930123456"}) {
        const Destination d = classify(n, std::nullopt, germany(), list);
        EXPECT_EQ(d.cls, CallClass::National) << n;
        EXPECT_EQ(d.e164, "4930123456") << n;
        EXPECT_EQ(d.country, "49") << n;
    }
}

TEST(Classify, NationalPrefixWithKnownCountryCode) {
    const HighRiskList list = HighRiskList::builtin();
    const Destination d = classify("030123456", std::nullopt, germany(), list);
    EXPECT_EQ(d.cls, CallClass::National);
    EXPECT_EQ(d.e164, "4930123456");
    EXPECT_EQ(d.country, "49");
    EXPECT_EQ(d.high_risk, nullptr);
}

TEST(Classify, NationalPrefixWithoutCountryCode) {
    const HighRiskList list = HighRiskList::builtin();
    NumberingPlan plan;  // country code unknown
    const Destination d = classify("030123456", std::nullopt, plan, list);
    EXPECT_EQ(d.cls, CallClass::National);
    EXPECT_EQ(d.e164, "") << "the country is not known, so neither is the E.164 form";
    EXPECT_EQ(d.country, "");
    // Without our own code, every +CC is international, even Germany's.
    const Destination own = classify("+4930123456", std::nullopt, plan, list);
    EXPECT_EQ(own.cls, CallClass::International);
    EXPECT_EQ(own.e164, "4930123456");
    // And a premium number in national form cannot be recognised.
    const Destination premium = classify("0900123456", std::nullopt, plan, list);
    EXPECT_EQ(premium.cls, CallClass::National);
    EXPECT_EQ(premium.high_risk, nullptr);
}

TEST(Classify, LocalNumberHasNoE164Form) {
    const HighRiskList list = HighRiskList::builtin();
    const Destination d = classify("123456", std::nullopt, germany(), list);
    EXPECT_EQ(d.cls, CallClass::Local);
    EXPECT_EQ(d.e164, "");
    EXPECT_EQ(d.country, "");
    EXPECT_EQ(d.high_risk, nullptr);
    EXPECT_FALSE(d.emergency);
}

TEST(Classify, GermanPremiumInNationalFormIsPremium) {
    const HighRiskList list = HighRiskList::builtin();
    const Destination d = classify("0900123456", std::nullopt, germany(), list);
    EXPECT_EQ(d.cls, CallClass::Premium);
    EXPECT_EQ(d.e164, "49900123456");
    EXPECT_EQ(d.country, "49");
    ASSERT_NE(d.high_risk, nullptr);
    EXPECT_EQ(d.high_risk->prefix, "49900");
    EXPECT_TRUE(d.high_risk->premium);
    // It points into the list it was given.
    EXPECT_TRUE(d.high_risk >= list.entries().data() &&
                d.high_risk < list.entries().data() + list.entries().size());
}

TEST(Classify, InternationalPremiumRateIsPremium) {
    const HighRiskList list = HighRiskList::builtin();
    const Destination d = classify("+97912345678", std::nullopt, germany(), list);
    EXPECT_EQ(d.cls, CallClass::Premium);
    EXPECT_EQ(d.country, "979");
}

TEST(Classify, FraudDestinationKeepsItsClass) {
    const HighRiskList list = HighRiskList::builtin();
    const Destination d = classify("+5371234567", std::nullopt, germany(), list);
    EXPECT_EQ(d.cls, CallClass::International);
    ASSERT_NE(d.high_risk, nullptr);
    EXPECT_EQ(d.high_risk->label, "Cuba");
    EXPECT_FALSE(d.high_risk->premium);
}

TEST(Classify, NanpTakesTheLongestMatch) {
    const HighRiskList list = HighRiskList::builtin();
    const Destination jamaica = classify("18765551234", std::nullopt, north_america(), list);
    EXPECT_EQ(jamaica.cls, CallClass::National) << "country code 1 is our own";
    EXPECT_EQ(jamaica.e164, "18765551234");
    EXPECT_EQ(jamaica.country, "1");
    ASSERT_NE(jamaica.high_risk, nullptr);
    EXPECT_EQ(jamaica.high_risk->prefix, "1876");

    const Destination ny = classify("12125551234", std::nullopt, north_america(), list);
    EXPECT_EQ(ny.cls, CallClass::National);
    EXPECT_EQ(ny.e164, "12125551234");
    EXPECT_EQ(ny.high_risk, nullptr);

    const Destination london = classify("011442071234567", std::nullopt, north_america(), list);
    EXPECT_EQ(london.cls, CallClass::International);
    EXPECT_EQ(london.e164, "442071234567");
    EXPECT_EQ(london.country, "44");

    EXPECT_EQ(classify("19005551234", std::nullopt, north_america(), list).cls, CallClass::Premium);
    EXPECT_EQ(classify("+18765551234", std::nullopt, germany(), list).cls, CallClass::International);
}

TEST(Classify, RouteClassOverridesTheNumber) {
    const HighRiskList list = HighRiskList::builtin();
    const Destination local_as_intl = classify("123456", CallClass::International, germany(), list);
    EXPECT_EQ(local_as_intl.cls, CallClass::International);
    EXPECT_EQ(local_as_intl.e164, "");

    const Destination intl_as_local = classify("+33142685300", CallClass::Local, germany(), list);
    EXPECT_EQ(intl_as_local.cls, CallClass::Local);
    EXPECT_EQ(intl_as_local.e164, "33142685300") << "the route changes the class, not the number";
    EXPECT_EQ(intl_as_local.country, "33");

    EXPECT_EQ(classify("+33142685300", CallClass::Premium, germany(), list).cls, CallClass::Premium);
    EXPECT_EQ(classify("030123456", CallClass::Internal, germany(), list).cls, CallClass::Internal);
}

TEST(Classify, PremiumOutranksTheRouteClass) {
    const HighRiskList list = HighRiskList::builtin();
    EXPECT_EQ(classify("+97912345678", CallClass::National, germany(), list).cls, CallClass::Premium);
    EXPECT_EQ(classify("0900123456", CallClass::Internal, germany(), list).cls, CallClass::Premium);
    EXPECT_EQ(classify("0900123456", CallClass::Local, germany(), list).cls, CallClass::Premium);
    // A fraud entry does not change the route's class.
    EXPECT_EQ(classify("+5371234567", CallClass::Local, germany(), list).cls, CallClass::Local);
}

TEST(Classify, EmergencyNumbersAreLocalWhateverTheRoute) {
    const HighRiskList list = HighRiskList::builtin();
    for (const char* n : {"112", "911", "999", "110"}) {
        const Destination d = classify(n, CallClass::International, germany(), list);
        EXPECT_TRUE(d.emergency) << n;
        EXPECT_EQ(d.cls, CallClass::Local) << n;
        EXPECT_EQ(d.e164, "") << n;
        EXPECT_EQ(d.high_risk, nullptr) << n;
    }
    // Exact match only.
    EXPECT_FALSE(classify("1120", std::nullopt, germany(), list).emergency);
    EXPECT_FALSE(classify("11", std::nullopt, germany(), list).emergency);
    const Destination plus = classify("+49112", std::nullopt, germany(), list);
    EXPECT_FALSE(plus.emergency);
    EXPECT_EQ(plus.cls, CallClass::National);
}

TEST(Classify, EmergencyNumbersComeFromThePlan) {
    const HighRiskList list = HighRiskList::builtin();
    NumberingPlan plan = germany();
    plan.emergency = {"144", ""};
    EXPECT_TRUE(classify("144", std::nullopt, plan, list).emergency);
    EXPECT_FALSE(classify("112", std::nullopt, plan, list).emergency);
    EXPECT_FALSE(classify("", std::nullopt, plan, list).emergency) << "an empty entry matches nothing";
}

TEST(Classify, ServiceCodesAreLocal) {
    const HighRiskList list = HighRiskList::builtin();
    for (const char* n : {"*21#", "#31#0900123456", "*97", "+49*12", "0049900#"}) {
        const Destination d = classify(n, std::nullopt, germany(), list);
        EXPECT_EQ(d.cls, CallClass::Local) << n;
        EXPECT_EQ(d.e164, "") << n;
        EXPECT_EQ(d.high_risk, nullptr) << n;
    }
    EXPECT_EQ(classify("*21#", CallClass::National, germany(), list).cls, CallClass::National);
}

TEST(Classify, EmptyPrefixesAreNotMatched) {
    const HighRiskList list = HighRiskList::builtin();
    NumberingPlan plan = germany();
    plan.international_prefix.clear();
    plan.national_prefix.clear();
    const Destination d = classify("0049301234", std::nullopt, plan, list);
    EXPECT_EQ(d.cls, CallClass::Local);
    EXPECT_EQ(d.e164, "");
    EXPECT_EQ(classify("+4930123456", std::nullopt, plan, list).cls, CallClass::National);
    const Destination empty = classify("", std::nullopt, germany(), list);
    EXPECT_EQ(empty.cls, CallClass::Local);
    EXPECT_EQ(empty.e164, "");
}

TEST(Classify, InternationalPrefixBeatsTheNationalPrefixItBeginsWith) {
    // "00" begins with the national prefix "0": the longer reading wins.
    const HighRiskList list = HighRiskList::builtin();
    const Destination d = classify("00881612345678", std::nullopt, germany(), list);
    EXPECT_EQ(d.cls, CallClass::International);
    EXPECT_EQ(d.e164, "881612345678");
    EXPECT_EQ(d.country, "881");
    ASSERT_NE(d.high_risk, nullptr);
    EXPECT_EQ(d.high_risk->prefix, "881");
}

// ---- business hours

TEST(BusinessHours, EmptyTextIsAlwaysOpen) {
    for (const char* text : {"", "   ", " \t "}) {
        const BusinessHours h = hours(text);
        EXPECT_TRUE(h.always_open()) << '"' << text << '"';
        EXPECT_TRUE(h.open(at(kSun, 3, 0)));
    }
    EXPECT_TRUE(BusinessHours{}.always_open());
    EXPECT_TRUE(BusinessHours{}.open(at(kSat, 23, 59)));
}

TEST(BusinessHours, WeekdaysAndSaturdayMorning) {
    const BusinessHours h = hours("Mon-Fri 08:00-18:00, Sat 09:00-13:00");
    EXPECT_FALSE(h.always_open());
    EXPECT_TRUE(h.open(at(kMon, 8, 0)));
    EXPECT_FALSE(h.open(at(kMon, 7, 59)));
    EXPECT_TRUE(h.open(at(kWed, 12, 30)));
    EXPECT_TRUE(h.open(at(kFri, 17, 59)));
    EXPECT_FALSE(h.open(at(kFri, 18, 0))) << "the end is exclusive";
    EXPECT_TRUE(h.open(at(kSat, 9, 0)));
    EXPECT_TRUE(h.open(at(kSat, 12, 59)));
    EXPECT_FALSE(h.open(at(kSat, 13, 0)));
    EXPECT_FALSE(h.open(at(kSun, 10, 0)));
}

TEST(BusinessHours, DaysIgnoreCaseAndSemicolonsSeparate) {
    const BusinessHours h = hours("mon 09:00-10:00; SUN 10:00-11:00;tHu 8:00 - 9:30");
    EXPECT_TRUE(h.open(at(kMon, 9, 30)));
    EXPECT_TRUE(h.open(at(kSun, 10, 30)));
    EXPECT_TRUE(h.open(at(kThu, 8, 0)));
    EXPECT_TRUE(h.open(at(kThu, 9, 29)));
    EXPECT_FALSE(h.open(at(kThu, 9, 30)));
    EXPECT_FALSE(h.open(at(kMon, 10, 30)));
    EXPECT_FALSE(h.open(at(kTue, 9, 30)));
}

TEST(BusinessHours, SingleDay) {
    const BusinessHours h = hours("Wed 10:00-11:00");
    for (int d = 0; d < 7; ++d)
        EXPECT_EQ(h.open(at(d, 10, 15)), d == kWed) << d;
}

TEST(BusinessHours, RangeWrapsPastSunday) {
    const BusinessHours h = hours("Fri-Mon 10:00-12:00");
    for (int d : {kFri, kSat, kSun, kMon})
        EXPECT_TRUE(h.open(at(d, 11, 0))) << d;
    for (int d : {kTue, kWed, kThu})
        EXPECT_FALSE(h.open(at(d, 11, 0))) << d;
}

TEST(BusinessHours, TwentyFourIsAnEnd) {
    const BusinessHours h = hours("Sat 20:00-24:00, Sun 00:00-01:00");
    EXPECT_TRUE(h.open(at(kSat, 23, 59)));
    EXPECT_FALSE(h.open(at(kSat, 19, 59)));
    EXPECT_TRUE(h.open(at(kSun, 0, 0)));
    EXPECT_FALSE(h.open(at(kSun, 1, 0)));
    EXPECT_FALSE(h.open(at(kFri, 23, 0)));
}

TEST(BusinessHours, NightShiftIsTwoSpans) {
    const BusinessHours h = hours("Mon-Fri 22:00-24:00, Tue-Sat 00:00-06:00");
    EXPECT_TRUE(h.open(at(kMon, 23, 0)));
    EXPECT_TRUE(h.open(at(kTue, 5, 59)));
    EXPECT_TRUE(h.open(at(kSat, 3, 0)));
    EXPECT_FALSE(h.open(at(kMon, 3, 0)));
    EXPECT_FALSE(h.open(at(kSat, 23, 0)));
    EXPECT_FALSE(h.open(at(kWed, 12, 0)));
}

TEST(BusinessHours, EmptyItemsAreSkipped) {
    const BusinessHours h = hours("Mon 08:00-09:00,, ;Tue 08:00-09:00,");
    EXPECT_TRUE(h.open(at(kMon, 8, 30)));
    EXPECT_TRUE(h.open(at(kTue, 8, 30)));
}

TEST(BusinessHours, OutOfRangeWeekdayIsClosed) {
    const BusinessHours h = hours("Mon-Sun 00:00-24:00");
    EXPECT_TRUE(h.open(at(kSun, 12, 0)));
    EXPECT_TRUE(h.open(at(kSat, 12, 0)));
    EXPECT_FALSE(h.open(at(7, 12, 0)));
    EXPECT_FALSE(h.open(at(-1, 12, 0)));
}

TEST(BusinessHours, ErrorsNameWhatIsWrong) {
    EXPECT_EQ(parse_error("Mon-Fru 08:00-18:00"), "unknown day 'Mon-Fru'");
    EXPECT_EQ(parse_error("Monday 08:00-18:00"), "unknown day 'Monday'");
    EXPECT_EQ(parse_error("Mon-Fri-Sat 08:00-18:00"), "unknown day 'Mon-Fri-Sat'");
    EXPECT_EQ(parse_error("08:00-18:00"), "missing days in '08:00-18:00'");
    EXPECT_EQ(parse_error("Mon 25:00-26:00"), "time '25:00'");
    EXPECT_EQ(parse_error("Mon 08:00-25:00"), "time '25:00'");
    EXPECT_EQ(parse_error("Mon 08:60-09:00"), "time '08:60'");
    EXPECT_EQ(parse_error("Mon 24:00-24:00"), "time '24:00'") << "24:00 only ends a span";
    EXPECT_EQ(parse_error("Mon 08:00-24:01"), "time '24:01'");
    EXPECT_EQ(parse_error("Mon 8-18"), "time '8'");
    EXPECT_EQ(parse_error("Mon 08:0-18:00"), "time '08:0'");
    EXPECT_EQ(parse_error("Mon 008:00-18:00"), "time '008:00'");
    EXPECT_EQ(parse_error("Mon 08:00-18:00x"), "time '18:00x'");
    EXPECT_EQ(parse_error("Mon 08:00-18:00 Tue"), "time '18:00Tue'");
    EXPECT_EQ(parse_error("Mon 08:00"), "missing end time in 'Mon 08:00'");
    EXPECT_EQ(parse_error("Mon"), "missing times in 'Mon'");
    EXPECT_EQ(parse_error(", ;"), "no days and times in ', ;'");
}

TEST(BusinessHours, OvernightSpanIsRefused) {
    const std::string error = parse_error("Mon-Fri 22:00-06:00");
    EXPECT_NE(error.find("end before start"), std::string::npos) << error;
    EXPECT_NE(error.find("two spans"), std::string::npos) << error;
    EXPECT_NE(parse_error("Mon 10:00-10:00").find("end before start"), std::string::npos);
}

TEST(BusinessHours, AGoodItemDoesNotHideABadOne) {
    EXPECT_EQ(parse_error("Mon-Fri 08:00-18:00, Sat 09:00-31:00"), "time '31:00'");
    EXPECT_FALSE(BusinessHours::parse("garbage").has_value()) << "no error pointer: no crash either";
}

// ---- the verdict

class CallingRightsCheck : public ::testing::Test {
protected:
    Destination dest(std::string_view number, std::optional<CallClass> route = std::nullopt) {
        return classify(number, route, germany(), list_);
    }
    static UserRights user(CallClass max_class, bool premium = false) {
        UserRights r;
        r.max_class = max_class;
        r.premium = premium;
        return r;
    }

    HighRiskList list_ = HighRiskList::builtin();
    TimeRule none_;
    std::tm weekday_ = at(kWed, 10, 0);
};

TEST_F(CallingRightsCheck, AllowedCallSaysAllowed) {
    const RightsVerdict v = check_rights(user(CallClass::National), dest("030123456"), none_, weekday_);
    EXPECT_TRUE(v.allowed);
    EXPECT_EQ(v.verdict, "allowed");
    EXPECT_EQ(v.reason, "");
}

TEST_F(CallingRightsCheck, EmergencyIsAllowedEvenForAnInternalOnlyUser) {
    TimeRule closed{hours("Mon-Fri 08:00-18:00"), "night"};
    const RightsVerdict v = check_rights(user(CallClass::Internal), dest("112"), closed, at(kSun, 3, 0));
    EXPECT_TRUE(v.allowed);
    EXPECT_EQ(v.verdict, "emergency");
    // The same user may not call an ordinary local number.
    EXPECT_FALSE(check_rights(user(CallClass::Internal), dest("123456"), none_, weekday_).allowed);
}

TEST_F(CallingRightsCheck, InternalOnlyUserCallsNothingExternal) {
    const UserRights internal = user(CallClass::Internal, true);
    for (const char* n : {"123456", "030123456", "+33142685300", "0900123456"}) {
        const RightsVerdict v = check_rights(internal, dest(n), none_, weekday_);
        EXPECT_FALSE(v.allowed) << n;
        EXPECT_EQ(v.reason, "external calls not allowed for this user") << n;
        EXPECT_EQ(v.verdict, "refused: class") << n;
    }
    EXPECT_TRUE(check_rights(internal, dest("123", CallClass::Internal), none_, weekday_).allowed);
}

TEST_F(CallingRightsCheck, ClassOfServiceAllowsUpToItsOwn) {
    const UserRights local = user(CallClass::Local);
    EXPECT_TRUE(check_rights(local, dest("123456"), none_, weekday_).allowed);
    const RightsVerdict national = check_rights(local, dest("030123456"), none_, weekday_);
    EXPECT_FALSE(national.allowed);
    EXPECT_EQ(national.reason, "national calls not allowed for this user");
    EXPECT_EQ(national.verdict, "refused: class");

    const UserRights nat = user(CallClass::National);
    EXPECT_TRUE(check_rights(nat, dest("123456"), none_, weekday_).allowed);
    EXPECT_TRUE(check_rights(nat, dest("+4930123456"), none_, weekday_).allowed);
    const RightsVerdict intl = check_rights(nat, dest("+33142685300"), none_, weekday_);
    EXPECT_FALSE(intl.allowed);
    EXPECT_EQ(intl.reason, "international calls not allowed for this user");
    EXPECT_EQ(intl.verdict, "refused: class");

    EXPECT_TRUE(check_rights(user(CallClass::International), dest("+33142685300"), none_, weekday_).allowed);
}

TEST_F(CallingRightsCheck, PremiumNeedsThePremiumRight) {
    const RightsVerdict without =
        check_rights(user(CallClass::International), dest("0900123456"), none_, weekday_);
    EXPECT_FALSE(without.allowed);
    EXPECT_EQ(without.reason, "premium calls not allowed for this user");
    EXPECT_EQ(without.verdict, "refused: premium");
    EXPECT_TRUE(check_rights(user(CallClass::National, true), dest("0900123456"), none_, weekday_).allowed);
    // A premium route needs it too, even for a number that is not on the list.
    EXPECT_FALSE(
        check_rights(user(CallClass::International), dest("030123456", CallClass::Premium), none_, weekday_)
            .allowed);
    EXPECT_TRUE(
        check_rights(user(CallClass::National, true), dest("030123456", CallClass::Premium), none_, weekday_)
            .allowed);
    // The premium right does not widen the class: the number behind it is national.
    const RightsVerdict local =
        check_rights(user(CallClass::Local, true), dest("030123456", CallClass::Premium), none_, weekday_);
    EXPECT_FALSE(local.allowed);
    EXPECT_EQ(local.verdict, "refused: class");
}

TEST_F(CallingRightsCheck, PremiumRightAllowsPremiumEntriesButNotFraudEntries) {
    const UserRights rich = user(CallClass::International, true);
    const RightsVerdict premium = check_rights(rich, dest("+97912345678"), none_, weekday_);
    EXPECT_TRUE(premium.allowed) << premium.reason;
    const RightsVerdict cuba = check_rights(rich, dest("+5371234567"), none_, weekday_);
    EXPECT_FALSE(cuba.allowed);
    EXPECT_EQ(cuba.reason, "high-risk destination 53 (Cuba)");
    EXPECT_EQ(cuba.verdict, "refused: high-risk");
    const RightsVerdict sat = check_rights(rich, dest("+881612345678"), none_, weekday_);
    EXPECT_FALSE(sat.allowed);
    EXPECT_EQ(sat.reason, "high-risk destination 881 (satellite (GMSS))");
}

TEST_F(CallingRightsCheck, AllowedPrefixLiftsAHighRiskBlock) {
    UserRights r = user(CallClass::International);
    r.allowed_prefixes = {"5371"};
    EXPECT_TRUE(check_rights(r, dest("+5371234567"), none_, weekday_).allowed);
    EXPECT_FALSE(check_rights(r, dest("+5381234567"), none_, weekday_).allowed)
        << "5371 does not begin 5381...";
    r.allowed_prefixes = {"53"};
    EXPECT_TRUE(check_rights(r, dest("+5381234567"), none_, weekday_).allowed);
    r.allowed_prefixes = {"+53"};
    EXPECT_TRUE(check_rights(r, dest("+5381234567"), none_, weekday_).allowed) << "a leading + is tolerated";
    r.allowed_prefixes = {"53712345678"};
    EXPECT_FALSE(check_rights(r, dest("+5371234567"), none_, weekday_).allowed) << "longer than the number";
    r.allowed_prefixes = {"", "+"};
    EXPECT_FALSE(check_rights(r, dest("+5371234567"), none_, weekday_).allowed)
        << "empty prefixes lift nothing";
    r.allowed_prefixes = {"33", "882"};
    EXPECT_FALSE(check_rights(r, dest("+5371234567"), none_, weekday_).allowed);
    EXPECT_TRUE(check_rights(r, dest("+88212345678"), none_, weekday_).allowed);
}

TEST_F(CallingRightsCheck, AllowedPrefixDoesNotLiftTheClassOrThePremiumRight) {
    UserRights r = user(CallClass::National);
    r.allowed_prefixes = {"53", "49900"};
    EXPECT_EQ(check_rights(r, dest("+5371234567"), none_, weekday_).verdict, "refused: class");
    EXPECT_EQ(check_rights(r, dest("0900123456"), none_, weekday_).verdict, "refused: premium");
}

TEST_F(CallingRightsCheck, NanpAreaIsRefusedAsNationalCall) {
    const NumberingPlan plan = north_america();
    UserRights r = user(CallClass::National);
    const Destination jamaica = classify("18765551234", std::nullopt, plan, list_);
    const RightsVerdict v = check_rights(r, jamaica, none_, weekday_);
    EXPECT_FALSE(v.allowed);
    EXPECT_EQ(v.reason, "high-risk destination 1876 (Jamaica (NANP 876))");
    EXPECT_EQ(v.verdict, "refused: high-risk");
    EXPECT_TRUE(check_rights(r, classify("12125551234", std::nullopt, plan, list_), none_, weekday_).allowed);
    r.allowed_prefixes = {"1876"};
    EXPECT_TRUE(check_rights(r, jamaica, none_, weekday_).allowed);
}

TEST_F(CallingRightsCheck, PremiumEntryOnANonPremiumClass) {
    // A Destination built by hand (classify would make it Premium): the entry still needs the right.
    Destination d;
    d.number = "+49900123456";
    d.cls = CallClass::National;
    d.e164 = "49900123456";
    d.high_risk = list_.match(d.e164);
    ASSERT_NE(d.high_risk, nullptr);
    const RightsVerdict v = check_rights(user(CallClass::National), d, none_, weekday_);
    EXPECT_FALSE(v.allowed);
    EXPECT_EQ(v.verdict, "refused: premium");
    EXPECT_EQ(v.reason, "high-risk destination 49900 (Germany premium rate (0900))");
    EXPECT_TRUE(check_rights(user(CallClass::National, true), d, none_, weekday_).allowed);
}

TEST_F(CallingRightsCheck, ClassIsCheckedBeforeTheHighRiskList) {
    const RightsVerdict v = check_rights(user(CallClass::Local), dest("+5371234567"), none_, weekday_);
    EXPECT_EQ(v.verdict, "refused: class");
    EXPECT_EQ(v.reason, "international calls not allowed for this user");
}

TEST_F(CallingRightsCheck, AfterHoursOnlyTheGroupCallsOut) {
    const TimeRule rule{hours("Mon-Fri 08:00-18:00"), "night"};
    UserRights outsider = user(CallClass::International);
    outsider.groups = {"sales", "Night"};  // group names are exact
    UserRights member = outsider;
    member.groups.push_back("night");

    for (const std::tm& closed : {at(kSat, 11, 0), at(kSun, 11, 0), at(kWed, 18, 0), at(kMon, 7, 59)}) {
        const RightsVerdict v = check_rights(outsider, dest("+33142685300"), rule, closed);
        EXPECT_FALSE(v.allowed);
        EXPECT_EQ(v.reason, "outside business hours");
        EXPECT_EQ(v.verdict, "refused: after hours");
        EXPECT_TRUE(check_rights(member, dest("+33142685300"), rule, closed).allowed);
        EXPECT_TRUE(check_rights(outsider, dest("112"), rule, closed).allowed);
        EXPECT_TRUE(check_rights(outsider, dest("12", CallClass::Internal), rule, closed).allowed)
            << "internal calls are not external calls";
    }
    EXPECT_TRUE(check_rights(outsider, dest("+33142685300"), rule, at(kWed, 10, 0)).allowed);
    EXPECT_TRUE(check_rights(outsider, dest("+33142685300"), rule, at(kFri, 17, 59)).allowed);
}

TEST_F(CallingRightsCheck, TimeRuleNeedsBothAGroupAndASchedule) {
    const UserRights r = user(CallClass::International);
    const TimeRule no_group{hours("Mon-Fri 08:00-18:00"), ""};
    EXPECT_TRUE(check_rights(r, dest("+33142685300"), no_group, at(kSat, 11, 0)).allowed);
    const TimeRule no_hours{BusinessHours{}, "night"};
    EXPECT_TRUE(check_rights(r, dest("+33142685300"), no_hours, at(kSat, 11, 0)).allowed);
}

TEST_F(CallingRightsCheck, HighRiskIsCheckedBeforeTheTimeRule) {
    const TimeRule rule{hours("Mon-Fri 08:00-18:00"), "night"};
    const RightsVerdict v =
        check_rights(user(CallClass::International), dest("+5371234567"), rule, at(kSat, 3, 0));
    EXPECT_EQ(v.verdict, "refused: high-risk");
}

}  // namespace
}  // namespace sw::security
