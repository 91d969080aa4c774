// Calling rights (issue 7 part 4): what kind of number a call goes to, and whether a user may call it now.
//
// A number sent out through a trunk is classified once, when the call starts:
//   - the dial plan route that carries it may name its class (`route add ... --class national`); else the
//     number's own form decides, with the numbering plan: "+CC..." or "<international prefix>CC..." is
//     international unless CC is our own country code (then national), "<national prefix>..." national,
//     anything else local;
//   - its E.164 form (digits, no '+') when it can be known, and the country calling code of that (ITU-T
//     E.164 assigned codes, longest match: "1", "44", "881");
//   - the high-risk list: prefixes of E.164 numbers (premium rate, international premium, satellite and
//     "international networks" codes, countries known for revenue-share fraud), shipped built in and
//     changed by configuration; an entry is either "premium" (allowed by the user's premium right) or not
//     (allowed only by naming the prefix for that user);
//   - emergency numbers (112, 911, ...) are never refused: no class, list, time rule nor limit applies.
//
// A user's class of service is the highest class they may call: internal (no external calls at all) <
// local < national < international. Premium numbers (a route of class premium, or a premium entry of the
// high-risk list) need the premium right besides. Time rule: outside business hours (a weekly schedule in
// the server's local time) external calls are only for members of a named group, when such a group is
// configured.
//
// Thread: all of it is immutable once built; pure functions, no clock of its own (the caller gives the
// local time).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::security {

// Ordered: a class of service allows every class up to its own (Premium needs the premium right too).
enum class CallClass : std::uint8_t { Internal, Local, National, International, Premium };

// "internal", "local", "national", "international", "premium".
std::string_view class_name(CallClass c);
// The inverse of class_name (case-insensitive); nullopt for anything else.
std::optional<CallClass> parse_class(std::string_view text);

struct NumberingPlan {
    std::string country_code;  // our own, e.g. "49"; empty: unknown (every +CC is international)
    std::string international_prefix = "00";  // dialled before a country code ("011" in North America)
    std::string national_prefix = "0";        // dialled before an area code; may be empty
    std::vector<std::string> emergency{"112", "911", "999", "110", "000", "118", "119"};
};

// The country calling code that begins an E.164 number (digits only, no '+'): the longest assigned code
// that is a prefix of it ("1" for 1212..., "44" for 4420..., "881" for 8816...). Empty when none is.
std::string_view country_code_of(std::string_view e164);

struct HighRiskEntry {
    std::string prefix;    // E.164 digits without '+': "881", "4990", "1268"
    bool premium = false;  // a premium-rate service (the premium right allows it); else a fraud destination
    std::string label;     // for logs and `Reason`: "international premium rate", "Cuba"
};

// A prefix as a person writes it ("+881" or "881", in the configuration and `user rights
// --allow-prefix`): its digits; nullopt unless 1 to 15 digits.
std::optional<std::string> high_risk_prefix(std::string_view text);

class HighRiskList {
public:
    HighRiskList() = default;
    // The shipped list: international premium and shared-cost codes, satellite and international networks
    // codes, national premium ranges of common countries (DE 49900 49137, UK 4490 4491 4498, US/CA 1900
    // 1976, FR 338, ...) and countries and NANP areas commonly used for revenue-share fraud.
    static HighRiskList builtin();
    // Adds an entry or replaces the one with the same prefix. Prefix: 1 to 15 digits, else ignored
    // (returns false).
    bool add(HighRiskEntry e);
    // Removes the entry with exactly this prefix; false when there is none.
    bool remove(std::string_view prefix);
    // The entry with the longest prefix that begins `e164`; nullptr when none does.
    const HighRiskEntry* match(std::string_view e164) const;
    const std::vector<HighRiskEntry>& entries() const { return entries_; }

private:
    std::vector<HighRiskEntry> entries_;  // kept sorted by prefix
};

// Where a call goes, as the guard sees it.
struct Destination {
    std::string number;  // as sent to the trunk (normalized: digits, leading +, * #)
    CallClass cls = CallClass::Local;
    // The class the number has besides being premium (its form, or the route's non-premium class): a
    // premium number abroad still needs the international class.
    CallClass number_class = CallClass::Local;
    std::string e164;                          // digits without '+'; empty when not known (a local number)
    std::string country;                       // country_code_of(e164); empty when not known
    const HighRiskEntry* high_risk = nullptr;  // the matching entry of the list given to classify
    bool emergency = false;
};

// Classifies `number` (normalized, as sent to the trunk) for a route of class `route_class` (nullopt:
// the number decides). Emergency numbers (an exact match of plan.emergency, whatever the route: "112", not
// "+49112" nor "0112") are Local and emergency. A number with our own country code is National; one whose
// E.164 form matches a premium entry of `list` is Premium unless the route says Premium anyway.
// The returned Destination points into `list` (keep it alive).
Destination classify(std::string_view number, std::optional<CallClass> route_class, const NumberingPlan& plan,
                     const HighRiskList& list);

// A weekly schedule: "Mon-Fri 08:00-18:00, Sat 09:00-13:00". Days Mon Tue Wed Thu Fri Sat Sun (case-
// insensitive), a single day or a range (Fri-Mon wraps), times HH:MM (24:00 allowed as an end), the end
// after the start; ranges separated by ',' or ';'. An empty text: always open.
class BusinessHours {
public:
    BusinessHours() = default;
    // nullopt and `error` set when the text is not a schedule.
    static std::optional<BusinessHours> parse(std::string_view text, std::string* error = nullptr);
    // Whether `local` (a broken-down local time: tm_wday, tm_hour, tm_min) is inside the schedule.
    bool open(const std::tm& local) const;
    bool always_open() const { return spans_.empty(); }

private:
    struct Span {
        std::uint8_t day;  // 0 = Sunday, as tm_wday
        std::uint16_t from_min;
        std::uint16_t to_min;  // exclusive
    };
    std::vector<Span> spans_;
};

struct TimeRule {
    BusinessHours hours;  // always open: no time rule
    std::string group;    // outside hours only members of this group call out; empty: no time rule
};

// One user's rights, as the store holds them (defaults: the server's default class, no premium).
struct UserRights {
    CallClass max_class = CallClass::National;
    bool premium = false;
    std::vector<std::string> allowed_prefixes;  // high-risk prefixes this user may call anyway
    std::vector<std::string> groups;
};

struct RightsVerdict {
    bool allowed = true;
    std::string reason;   // when refused: for the 403's Reason header and the log, e.g.
                          // "international calls not allowed for this user", "high-risk destination
                          // 882 (international networks)", "outside business hours"
    std::string verdict;  // for the CDR: "allowed", "emergency", "refused: class", "refused: high-risk",
                          // "refused: premium", "refused: after hours"
};

// Whether `rights` allow calling `dest` at local time `local` under `rule`. Order of checks: emergency
// (always allowed), class of service, premium, high-risk list (an allowed prefix of the user that begins
// the E.164 number lifts it), time rule.
RightsVerdict check_rights(const UserRights& rights, const Destination& dest, const TimeRule& rule,
                           const std::tm& local);

}  // namespace sw::security
