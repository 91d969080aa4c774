#include "security/calling_rights.hpp"

#include <algorithm>
#include <array>
#include <iterator>

#include "common/text.hpp"

namespace sw::security {

namespace {

// ITU-T E.164 assigned country calling codes (the list annexed to ITU-T Operational Bulletin), including
// the codes of global services (800 freephone, 808 shared cost, 870 Inmarsat, 878 UPT, 881 GMSS, 882/883
// international networks, 888 OCHA, 979 international premium rate, 991 ITPCS trial) and 388 (groups of
// countries). Spare and reserved codes are left out, so a number in them has no country. Sorted as
// strings (the static_assert below checks it) for binary search; the set is prefix-free by design of
// E.164, so at most one code begins a number, but the lookup still tries the longest first.
// clang-format off
constexpr std::string_view kCountryCodes[]{
    // Zone 1: the North American Numbering Plan, all of it.
    "1",
    // Zone 2: Africa and a few Atlantic islands (210 214 215 217 219 259 28x 292-296 are spare).
    "20", "211", "212", "213", "216", "218", "220", "221", "222", "223",
    "224", "225", "226", "227", "228", "229", "230", "231", "232", "233",
    "234", "235", "236", "237", "238", "239", "240", "241", "242", "243",
    "244", "245", "246", "247", "248", "249", "250", "251", "252", "253",
    "254", "255", "256", "257", "258", "260", "261", "262", "263", "264",
    "265", "266", "267", "268", "269", "27", "290", "291", "297", "298",
    "299",
    // Zone 3: Europe (384 is spare; 379 is reserved for the Vatican).
    "30", "31", "32", "33", "34", "350", "351", "352", "353", "354",
    "355", "356", "357", "358", "359", "36", "370", "371", "372", "373",
    "374", "375", "376", "377", "378", "379", "380", "381", "382", "383",
    "385", "386", "387", "388", "389", "39",
    // Zone 4: Europe (422 424-429 are spare).
    "40", "41", "420", "421", "423", "43", "44", "45", "46", "47",
    "48", "49",
    // Zone 5: South and Central America.
    "500", "501", "502", "503", "504", "505", "506", "507", "508", "509",
    "51", "52", "53", "54", "55", "56", "57", "58", "590", "591",
    "592", "593", "594", "595", "596", "597", "598", "599",
    // Zone 6: South-east Asia and Oceania (671 684 693-699 are spare).
    "60", "61", "62", "63", "64", "65", "66", "670", "672", "673",
    "674", "675", "676", "677", "678", "679", "680", "681", "682", "683",
    "685", "686", "687", "688", "689", "690", "691", "692",
    // Zone 7: Russia and Kazakhstan.
    "7",
    // Zone 8: East Asia and global services.
    "800", "808", "81", "82", "84", "850", "852", "853", "855", "856",
    "86", "870", "878", "880", "881", "882", "883", "886", "888",
    // Zone 9: West, Central and South Asia, the Middle East, and international premium rate.
    "90", "91", "92", "93", "94", "95", "960", "961", "962", "963",
    "964", "965", "966", "967", "968", "970", "971", "972", "973", "974",
    "975", "976", "977", "979", "98", "991", "992", "993", "994", "995",
    "996", "998",
};
// clang-format on
static_assert(std::is_sorted(std::begin(kCountryCodes), std::end(kCountryCodes)));
static_assert(std::adjacent_find(std::begin(kCountryCodes), std::end(kCountryCodes)) ==
              std::end(kCountryCodes));

struct BuiltinEntry {
    std::string_view prefix;
    bool premium;
    std::string_view label;
};

// The shipped high-risk list. Premium entries are national premium-rate ranges and the international
// premium rate code: a user with the premium right may call them. The others are destinations where a
// hijacked account makes money for the fraudster (international revenue-share fraud): satellite and
// international-network codes with very high termination rates, and countries and NANP areas whose
// numbers fraudsters lease. NANP areas are listed because a caller in zone 1 reaches them as national
// numbers (country code 1), so no class of service stops them.
constexpr BuiltinEntry kBuiltinHighRisk[]{
    // Global services.
    {"979", true, "international premium rate"},
    {"808", false, "international shared cost"},
    {"870", false, "satellite (Inmarsat)"},
    {"881", false, "satellite (GMSS)"},
    {"882", false, "international networks"},
    {"883", false, "international networks"},
    // National premium-rate ranges, in E.164 form (without the national prefix).
    {"49900", true, "Germany premium rate (0900)"},
    {"49137", true, "Germany mass calling (0137)"},
    {"49118", true, "Germany directory enquiries (118)"},
    {"4490", true, "UK premium rate (090)"},
    {"4491", true, "UK premium rate (091)"},
    {"4498", true, "UK adult premium rate (098)"},
    {"4487", true, "UK service charge (087)"},
    {"1900", true, "NANP premium rate (900)"},
    {"1976", true, "NANP premium rate (976)"},
    // 0800-0805 (freephone) must stay callable, so 081 082 089 rather than the whole of 08.
    {"3381", true, "France special rate (081)"},
    {"3382", true, "France special rate (082)"},
    {"3389", true, "France premium rate (089)"},
    {"34803", true, "Spain adult premium rate (803)"},
    {"34806", true, "Spain premium rate (806)"},
    {"34807", true, "Spain premium rate (807)"},
    {"34905", true, "Spain mass calling (905)"},
    {"39892", true, "Italy premium rate (892)"},
    {"39899", true, "Italy premium rate (899)"},
    {"31900", true, "Netherlands premium rate (0900)"},
    {"31906", true, "Netherlands premium rate (0906)"},
    {"31909", true, "Netherlands premium rate (0909)"},
    {"43900", true, "Austria premium rate (0900)"},
    {"43930", true, "Austria adult premium rate (0930)"},
    {"41900", true, "Switzerland premium rate (0900)"},
    {"41901", true, "Switzerland premium rate (0901)"},
    {"41906", true, "Switzerland adult premium rate (0906)"},
    // Countries commonly used for revenue-share fraud.
    {"220", false, "Gambia"},
    {"224", false, "Guinea"},
    {"231", false, "Liberia"},
    {"232", false, "Sierra Leone"},
    {"235", false, "Chad"},
    {"239", false, "Sao Tome and Principe"},
    {"242", false, "Congo"},
    {"245", false, "Guinea-Bissau"},
    {"246", false, "Diego Garcia"},
    {"247", false, "Ascension"},
    {"252", false, "Somalia"},
    {"257", false, "Burundi"},
    {"261", false, "Madagascar"},
    {"263", false, "Zimbabwe"},
    {"269", false, "Comoros"},
    {"290", false, "Saint Helena"},
    {"291", false, "Eritrea"},
    {"375", false, "Belarus"},
    {"500", false, "Falkland Islands"},
    {"53", false, "Cuba"},
    {"672", false, "Norfolk Island and Antarctica"},
    {"674", false, "Nauru"},
    {"675", false, "Papua New Guinea"},
    {"676", false, "Tonga"},
    {"677", false, "Solomon Islands"},
    {"678", false, "Vanuatu"},
    {"680", false, "Palau"},
    {"681", false, "Wallis and Futuna"},
    {"682", false, "Cook Islands"},
    {"683", false, "Niue"},
    {"685", false, "Samoa"},
    {"686", false, "Kiribati"},
    {"688", false, "Tuvalu"},
    {"690", false, "Tokelau"},
    {"691", false, "Micronesia"},
    {"692", false, "Marshall Islands"},
    {"850", false, "North Korea"},
    {"960", false, "Maldives"},
    // NANP areas in the Caribbean and the Atlantic.
    {"1242", false, "Bahamas (NANP 242)"},
    {"1246", false, "Barbados (NANP 246)"},
    {"1264", false, "Anguilla (NANP 264)"},
    {"1268", false, "Antigua and Barbuda (NANP 268)"},
    {"1284", false, "British Virgin Islands (NANP 284)"},
    {"1345", false, "Cayman Islands (NANP 345)"},
    {"1441", false, "Bermuda (NANP 441)"},
    {"1473", false, "Grenada (NANP 473)"},
    {"1649", false, "Turks and Caicos (NANP 649)"},
    {"1658", false, "Jamaica (NANP 658)"},
    {"1664", false, "Montserrat (NANP 664)"},
    {"1721", false, "Sint Maarten (NANP 721)"},
    {"1758", false, "Saint Lucia (NANP 758)"},
    {"1767", false, "Dominica (NANP 767)"},
    {"1784", false, "Saint Vincent and the Grenadines (NANP 784)"},
    {"1809", false, "Dominican Republic (NANP 809)"},
    {"1829", false, "Dominican Republic (NANP 829)"},
    {"1849", false, "Dominican Republic (NANP 849)"},
    {"1868", false, "Trinidad and Tobago (NANP 868)"},
    {"1869", false, "Saint Kitts and Nevis (NANP 869)"},
    {"1876", false, "Jamaica (NANP 876)"},
};

bool valid_prefix(std::string_view prefix) {
    return prefix.size() <= 15 && sw::all_digits(prefix);
}

// The entry whose prefix is exactly `prefix`, or entries.end().
std::vector<HighRiskEntry>::const_iterator find_exact(const std::vector<HighRiskEntry>& entries,
                                                      std::string_view prefix) {
    const auto it = std::lower_bound(
        entries.begin(), entries.end(), prefix,
        [](const HighRiskEntry& x, std::string_view p) { return std::string_view(x.prefix) < p; });
    return (it != entries.end() && it->prefix == prefix) ? it : entries.end();
}

bool is_emergency(std::string_view number, const NumberingPlan& plan) {
    return std::any_of(plan.emergency.begin(), plan.emergency.end(),
                       [&](const std::string& e) { return !e.empty() && e == number; });
}

}  // namespace

std::string_view class_name(CallClass c) {
    switch (c) {
        case CallClass::Internal:
            return "internal";
        case CallClass::Local:
            return "local";
        case CallClass::National:
            return "national";
        case CallClass::International:
            return "international";
        case CallClass::Premium:
            return "premium";
    }
    return "internal";  // not reached: every enumerator is handled above
}

std::optional<CallClass> parse_class(std::string_view text) {
    for (CallClass c : {CallClass::Internal, CallClass::Local, CallClass::National, CallClass::International,
                        CallClass::Premium}) {
        if (sw::iequals(text, class_name(c))) return c;
    }
    return std::nullopt;
}

std::string_view country_code_of(std::string_view e164) {
    for (std::size_t len = std::min<std::size_t>(3, e164.size()); len > 0; --len) {
        const auto it =
            std::lower_bound(std::begin(kCountryCodes), std::end(kCountryCodes), e164.substr(0, len));
        if (it != std::end(kCountryCodes) && *it == e164.substr(0, len)) return *it;
    }
    return {};
}

HighRiskList HighRiskList::builtin() {
    HighRiskList list;
    list.entries_.reserve(std::size(kBuiltinHighRisk));
    for (const auto& e : kBuiltinHighRisk)
        list.add(HighRiskEntry{std::string(e.prefix), e.premium, std::string(e.label)});
    return list;
}

bool HighRiskList::add(HighRiskEntry e) {
    if (!valid_prefix(e.prefix)) return false;
    const auto it =
        std::lower_bound(entries_.begin(), entries_.end(), e.prefix,
                         [](const HighRiskEntry& x, const std::string& p) { return x.prefix < p; });
    if (it != entries_.end() && it->prefix == e.prefix) {
        *it = std::move(e);  // the configuration replaces a shipped entry
    } else {
        entries_.insert(it, std::move(e));
    }
    return true;
}

bool HighRiskList::remove(std::string_view prefix) {
    const auto it = find_exact(entries_, prefix);
    if (it == entries_.end()) return false;
    entries_.erase(it);
    return true;
}

std::optional<std::string> high_risk_prefix(std::string_view text) {
    if (text.starts_with('+')) text.remove_prefix(1);
    if (!valid_prefix(text)) return std::nullopt;
    return std::string(text);
}

const HighRiskEntry* HighRiskList::match(std::string_view e164) const {
    // One binary search per prefix length, longest first: at most 15 searches of a few hundred entries,
    // cheap enough for every call, and exact whatever the entries overlap.
    for (std::size_t len = std::min<std::size_t>(15, e164.size()); len > 0; --len) {
        const auto it = find_exact(entries_, e164.substr(0, len));
        if (it != entries_.end()) return &*it;
    }
    return nullptr;
}

Destination classify(std::string_view number, std::optional<CallClass> route_class, const NumberingPlan& plan,
                     const HighRiskList& list) {
    Destination d;
    d.number = std::string(number);
    // Emergency first: nothing else about the number may get in the way of the call.
    if (is_emergency(number, plan)) {
        d.cls = CallClass::Local;
        d.emergency = true;
        return d;
    }
    // A '*' or '#' makes it a service code (call forwarding, voicemail, carrier services), not a number
    // of the E.164 plan.
    const bool service_code = number.find_first_of("*#") != std::string_view::npos;
    d.cls = CallClass::Local;
    if (service_code) {
        // e164 stays empty: nothing to match against the high-risk list.
    } else if (number.starts_with('+') ||
               (!plan.international_prefix.empty() && number.starts_with(plan.international_prefix))) {
        d.e164 = std::string(number.substr(number.starts_with('+') ? 1 : plan.international_prefix.size()));
        const bool own = !plan.country_code.empty() && d.e164.starts_with(plan.country_code);
        d.cls = own ? CallClass::National : CallClass::International;
    } else if (!plan.national_prefix.empty() && number.starts_with(plan.national_prefix)) {
        d.cls = CallClass::National;
        const std::string_view rest = number.substr(plan.national_prefix.size());
        // Without our own country code the E.164 form cannot be known.
        if (!plan.country_code.empty() && !rest.empty()) d.e164 = plan.country_code + std::string(rest);
    }
    // A local number stays without an E.164 form even with a known country code: its area code is not
    // known here.
    d.country = std::string(country_code_of(d.e164));
    if (!d.e164.empty()) d.high_risk = list.match(d.e164);
    d.number_class = route_class && *route_class != CallClass::Premium ? *route_class : d.cls;
    if (route_class) d.cls = *route_class;
    // Premium outranks whatever the route says: a premium-rate number costs the same on any route.
    if (d.high_risk != nullptr && d.high_risk->premium) d.cls = CallClass::Premium;
    return d;
}

namespace {

// Parses "HH:MM" (or "H:MM") into minutes after midnight; 24:00 only when `end`.
std::optional<std::uint16_t> parse_time(std::string_view t, bool end) {
    const auto colon = t.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 2 || t.size() - colon - 1 != 2)
        return std::nullopt;
    const auto h = sw::parse_uint(t.substr(0, colon), 24);
    const auto m = sw::parse_uint(t.substr(colon + 1), 59);
    if (!h || !m) return std::nullopt;
    if (*h == 24 && (*m != 0 || !end)) return std::nullopt;
    return static_cast<std::uint16_t>(*h * 60 + *m);
}

// "Mon".."Sun" (any case) -> tm_wday.
std::optional<std::uint8_t> parse_day(std::string_view d) {
    static constexpr std::array<std::string_view, 7> kDays{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    for (std::size_t i = 0; i < kDays.size(); ++i)
        if (sw::iequals(d, kDays[i])) return static_cast<std::uint8_t>(i);
    return std::nullopt;
}

bool fail(std::string* error, std::string message) {
    if (error) *error = std::move(message);
    return false;
}

struct DaySpan {
    std::uint8_t day;
    std::uint16_t from_min;
    std::uint16_t to_min;
};

// One "DAYS HH:MM-HH:MM" item of the schedule, one span per day added to `out`; false and `error` set
// when it is not one.
bool parse_item(std::string_view item, std::vector<DaySpan>& out, std::string* error) {
    // "DAYS TIMES": the days are the first word, the times the rest (spaces around the '-' allowed).
    const auto space = item.find_first_of(" \t");
    if (space == std::string_view::npos) {
        const bool no_days = sw::is_digit(item.front());
        return fail(error, std::string(no_days ? "missing days in '" : "missing times in '") +
                               std::string(item) + "'");
    }
    const std::string_view days = item.substr(0, space);
    std::string times;
    for (char c : item.substr(space))
        if (!sw::is_wsp(c)) times += c;

    const auto dash = days.find('-');
    const auto first = parse_day(days.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_day(days.substr(dash + 1));
    if (!first || !last) return fail(error, "unknown day '" + std::string(days) + "'");

    const auto tdash = times.find('-');
    if (tdash == std::string::npos) return fail(error, "missing end time in '" + std::string(item) + "'");
    const std::string_view from_text = std::string_view(times).substr(0, tdash);
    const std::string_view to_text = std::string_view(times).substr(tdash + 1);
    const auto from = parse_time(from_text, false);
    if (!from) return fail(error, "time '" + std::string(from_text) + "'");
    const auto to = parse_time(to_text, true);
    if (!to) return fail(error, "time '" + std::string(to_text) + "'");
    // Overnight spans are refused rather than guessed at: they would belong to two days.
    if (*to <= *from)
        return fail(error, "end before start in '" + times + "' (write a span past midnight as two spans)");

    // A range wraps past Sunday: Fri-Mon is Fri Sat Sun Mon.
    for (std::uint8_t d = *first;; d = static_cast<std::uint8_t>((d + 1) % 7)) {
        out.push_back(DaySpan{d, *from, *to});
        if (d == *last) break;
    }
    return true;
}

}  // namespace

std::optional<BusinessHours> BusinessHours::parse(std::string_view text, std::string* error) {
    BusinessHours hours;
    if (sw::trim(text).empty()) return hours;
    std::vector<DaySpan> spans;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto sep = text.find_first_of(",;", start);
        const auto end = sep == std::string_view::npos ? text.size() : sep;
        const std::string_view item = sw::trim(text.substr(start, end - start));
        // An empty item (a trailing or doubled separator) is harmless and skipped.
        if (!item.empty() && !parse_item(item, spans, error)) return std::nullopt;
        start = end + 1;
    }
    // Only separators: an empty list would read as "always open", the opposite of what was meant.
    if (spans.empty()) {
        fail(error, "no days and times in '" + std::string(text) + "'");
        return std::nullopt;
    }
    for (const auto& s : spans)
        hours.spans_.push_back(Span{s.day, s.from_min, s.to_min});
    return hours;
}

bool BusinessHours::open(const std::tm& local) const {
    if (always_open()) return true;
    if (local.tm_wday < 0 || local.tm_wday > 6) return false;
    const int minute = local.tm_hour * 60 + local.tm_min;
    return std::any_of(spans_.begin(), spans_.end(), [&](const Span& s) {
        return s.day == local.tm_wday && minute >= s.from_min && minute < s.to_min;
    });
}

namespace {

RightsVerdict refused(std::string reason, std::string verdict) {
    return RightsVerdict{false, std::move(reason), std::move(verdict)};
}

std::optional<RightsVerdict> class_refusal(const UserRights& rights, CallClass cls, CallClass number_class) {
    if (cls == CallClass::Internal) return std::nullopt;
    if (rights.max_class == CallClass::Internal)
        return refused("external calls not allowed for this user", "refused: class");
    if (cls == CallClass::Premium) {
        if (!rights.premium) return refused("premium calls not allowed for this user", "refused: premium");
        // The premium right does not widen the class: a premium number abroad is international too.
        if (number_class == CallClass::Premium || number_class <= rights.max_class) return std::nullopt;
        cls = number_class;
    }
    if (cls > rights.max_class)
        return refused(std::string(class_name(cls)) + " calls not allowed for this user", "refused: class");
    return std::nullopt;
}

// Whether one of the user's allowed prefixes begins the number. Only the number counts: a prefix that
// merely overlaps the entry ("5" for Cuba's "53" entry and a number 537...) lifts it, one that begins
// the entry but not the number ("5381" for a number 5371...) does not.
bool lifted(const UserRights& rights, std::string_view e164) {
    return std::any_of(rights.allowed_prefixes.begin(), rights.allowed_prefixes.end(),
                       [&](std::string_view p) {
                           if (p.starts_with('+')) p.remove_prefix(1);
                           return !p.empty() && e164.starts_with(p);
                       });
}

std::optional<RightsVerdict> high_risk_refusal(const UserRights& rights, const Destination& dest) {
    const HighRiskEntry* entry = dest.high_risk;
    if (entry == nullptr) return std::nullopt;
    if (entry->premium && rights.premium) return std::nullopt;
    if (lifted(rights, dest.e164)) return std::nullopt;
    return refused("high-risk destination " + entry->prefix + " (" + entry->label + ")",
                   entry->premium ? "refused: premium" : "refused: high-risk");
}

std::optional<RightsVerdict> time_refusal(const UserRights& rights, const Destination& dest,
                                          const TimeRule& rule, const std::tm& local) {
    // The rule is about external calls; an internal destination is not one.
    if (dest.cls == CallClass::Internal) return std::nullopt;
    if (rule.group.empty() || rule.hours.always_open() || rule.hours.open(local)) return std::nullopt;
    if (std::find(rights.groups.begin(), rights.groups.end(), rule.group) != rights.groups.end())
        return std::nullopt;
    return refused("outside business hours", "refused: after hours");
}

}  // namespace

RightsVerdict check_rights(const UserRights& rights, const Destination& dest, const TimeRule& rule,
                           const std::tm& local) {
    if (dest.emergency) return RightsVerdict{true, "", "emergency"};
    if (auto v = class_refusal(rights, dest.cls, dest.number_class)) return *v;
    if (auto v = high_risk_refusal(rights, dest)) return *v;
    if (auto v = time_refusal(rights, dest, rule, local)) return *v;
    return RightsVerdict{true, "", "allowed"};
}

}  // namespace sw::security
