// The dial plan: which trunk an external number goes out through, and the DIDs (numbers of the
// company) that route calls from trunks to extensions.
//
// Patterns (`sipwarden route add PATTERN`), matched against the whole dialled number:
//   0-9 + * #   that character
//   X           any digit 0-9        Z  any digit 1-9        N  any digit 2-9
//   [1-5] [137] one digit of the set (ranges and single digits)
//   .           (last only) one or more characters of any kind
//   !           (last only) zero or more characters
// Letters are case-insensitive. The most specific pattern wins: the one with the most fixed positions
// (every element but a final . or !), then the one with more literal characters, then the lowest
// priority number; every other matching route follows as failover, in the same order.
//
// Thread: immutable once built; shared by the workers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sw::b2bua {

struct DialRoute {
    std::string pattern;
    std::string trunk;
    std::uint32_t strip = 0;  // leading characters removed from the dialled number
    std::string prepend;      // then put in front (digits, + * #)
    int priority = 10;        // lower first among equally specific patterns
    // The class of the numbers it carries for the toll-fraud guard (security/calling_rights.hpp):
    // "local", "national", "international", "premium"; empty: the number's own form decides.
    std::string call_class;
};

// Why a pattern is not valid, or empty when it is.
std::string pattern_error(std::string_view pattern);

// A number as dialled, without the visual separators of RFC 3966 (- . ( ) and spaces); empty when
// anything but digits, a leading +, * and # remains (not a phone number).
std::string normalize_number(std::string_view dialled);

struct DialChoice {
    DialRoute route;
    std::string number;  // what the trunk is asked for: after strip and prepend
};

class DialPlan {
public:
    DialPlan() = default;
    explicit DialPlan(std::vector<DialRoute> routes);
    // Every route whose pattern matches `number` (normalized), best first (see above). Empty: no route.
    std::vector<DialChoice> match(std::string_view number) const;
    const std::vector<DialRoute>& routes() const { return routes_; }

private:
    std::vector<DialRoute> routes_;
};

// Whether `pattern` matches the whole of `number` (both as given; the pattern must be valid).
bool pattern_matches(std::string_view pattern, std::string_view number);

struct Did {
    std::string number;  // normalized, e.g. +4930123456
    std::string user;    // the extension it rings
};

class DidTable {
public:
    DidTable() = default;
    explicit DidTable(const std::vector<Did>& dids);
    // The extension a called number rings: exact match of the normalized number, else the same
    // number with or without its leading +. Empty when it is no DID of ours.
    std::string_view user_of(std::string_view number) const;
    // The first DID (in number order) that rings `user`: its caller ID on outbound calls. Empty if none.
    std::string_view number_of(std::string_view user) const;
    std::size_t size() const { return by_number_.size(); }

private:
    std::map<std::string, std::string, std::less<>> by_number_;
    std::map<std::string, std::string, std::less<>> by_user_;
};

}  // namespace sw::b2bua
