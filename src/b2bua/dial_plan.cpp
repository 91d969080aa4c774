#include "b2bua/dial_plan.hpp"

#include <algorithm>
#include <bitset>
#include <optional>

#include "common/text.hpp"

namespace sw::b2bua {

namespace {

// Long enough for any E.164 number (15 digits) with prefixes and service codes, short enough that a
// typo of a whole line is caught.
constexpr std::size_t kMaxPatternLength = 64;

// One position of a pattern. A final '.' or '!' is not an element: it is the pattern's tail.
struct Element {
    char literal = 0;        // 0-9 + * #, or 0 for a digit set
    std::bitset<10> digits;  // X Z N [..]
};

struct Compiled {
    std::vector<Element> elements;
    char tail = 0;  // '.', '!' or 0
    int literals = 0;
};

std::bitset<10> digit_range(int from, int to) {
    std::bitset<10> set;
    for (int d = from; d <= to; ++d)
        set.set(static_cast<std::size_t>(d));
    return set;
}

bool is_literal(char c) {
    return is_digit(c) || c == '+' || c == '*' || c == '#';
}

// Parses "[1-5]" or "[137]" starting at pattern[i] == '['; i ends on the ']'.
std::optional<std::bitset<10>> parse_set(std::string_view pattern, std::size_t& i, std::string& error) {
    std::bitset<10> set;
    const std::size_t open = i;
    for (++i; i < pattern.size() && pattern[i] != ']'; ++i) {
        const char c = pattern[i];
        if (!is_digit(c)) {
            error = "only digits and ranges such as 1-5 may stand inside [ ]";
            return std::nullopt;
        }
        if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
            const char to = pattern[i + 2];
            if (!is_digit(to)) {
                error = "only digits and ranges such as 1-5 may stand inside [ ]";
                return std::nullopt;
            }
            if (to < c) {
                error = std::string("the range ") + c + "-" + to + " runs backwards";
                return std::nullopt;
            }
            set |= digit_range(c - '0', to - '0');
            i += 2;
        } else {
            set.set(static_cast<std::size_t>(c - '0'));
        }
    }
    if (i >= pattern.size()) {
        error = "the [ at position " + std::to_string(open + 1) + " has no ]";
        return std::nullopt;
    }
    if (set.none()) {
        error = "an empty set [ ] matches nothing";
        return std::nullopt;
    }
    return set;
}

std::optional<Compiled> compile(std::string_view pattern, std::string& error) {
    if (pattern.empty()) {
        error = "a pattern must not be empty";
        return std::nullopt;
    }
    if (pattern.size() > kMaxPatternLength) {
        error = "a pattern has at most " + std::to_string(kMaxPatternLength) + " characters";
        return std::nullopt;
    }
    Compiled out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        Element e;
        if (c == '.' || c == '!') {
            if (i + 1 != pattern.size()) {
                error = std::string("'") + c + "' may stand only at the end of a pattern";
                return std::nullopt;
            }
            out.tail = c;
            break;
        }
        if (is_literal(c)) {
            e.literal = c;
            ++out.literals;
        } else if (ascii_lower(c) == 'x') {
            e.digits = digit_range(0, 9);
        } else if (ascii_lower(c) == 'z') {
            e.digits = digit_range(1, 9);
        } else if (ascii_lower(c) == 'n') {
            e.digits = digit_range(2, 9);
        } else if (c == '[') {
            auto set = parse_set(pattern, i, error);
            if (!set) return std::nullopt;
            e.digits = *set;
        } else {
            error = std::string("unexpected '") + c + "' at position " + std::to_string(i + 1) +
                    " (allowed: 0-9 + * # X Z N [ ] and a final . or !)";
            return std::nullopt;
        }
        out.elements.push_back(e);
    }
    return out;
}

bool matches(const Compiled& p, std::string_view number) {
    const std::size_t fixed = p.elements.size();
    if (p.tail == 0 && number.size() != fixed) return false;
    if (p.tail == '.' && number.size() < fixed + 1) return false;
    if (number.size() < fixed) return false;
    for (std::size_t i = 0; i < fixed; ++i) {
        const Element& e = p.elements[i];
        const char c = number[i];
        if (e.literal != 0) {
            if (c != e.literal) return false;
        } else if (!is_digit(c) || !e.digits.test(static_cast<std::size_t>(c - '0'))) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string pattern_error(std::string_view pattern) {
    std::string error;
    return compile(pattern, error) ? std::string() : error;
}

bool pattern_matches(std::string_view pattern, std::string_view number) {
    std::string error;
    const auto compiled = compile(pattern, error);
    return compiled && matches(*compiled, number);
}

std::string normalize_number(std::string_view dialled) {
    std::string out;
    out.reserve(dialled.size());
    for (char c : dialled) {
        // RFC 3966 5.1.1 visual-separator, and the spaces people type and paste.
        if (c == '-' || c == '.' || c == '(' || c == ')' || c == ' ') continue;
        if (c == '+' ? !out.empty() : !is_literal(c)) return {};
        out.push_back(c);
    }
    if (out == "+") return {};
    return out;
}

DialPlan::DialPlan(std::vector<DialRoute> routes) : routes_(std::move(routes)) {}

std::vector<DialChoice> DialPlan::match(std::string_view number) const {
    const std::string n = normalize_number(number);
    if (n.empty()) return {};
    struct Candidate {
        const DialRoute* route;
        std::size_t fixed;
        int literals;
    };
    std::vector<Candidate> found;
    std::string error;
    for (const DialRoute& r : routes_) {
        const auto compiled = compile(r.pattern, error);
        if (!compiled || !matches(*compiled, n)) continue;
        // Stripping everything with nothing to prepend would ask the trunk for no number at all.
        if (r.strip >= n.size() && r.prepend.empty()) continue;
        found.push_back({&r, compiled->elements.size(), compiled->literals});
    }
    // Stable, so that routes equal in all three keep the order they were given in.
    std::stable_sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
        if (a.fixed != b.fixed) return a.fixed > b.fixed;
        if (a.literals != b.literals) return a.literals > b.literals;
        return a.route->priority < b.route->priority;
    });
    std::vector<DialChoice> out;
    out.reserve(found.size());
    for (const Candidate& c : found) {
        const std::size_t strip = std::min<std::size_t>(c.route->strip, n.size());
        out.push_back({*c.route, c.route->prepend + n.substr(strip)});
    }
    return out;
}

DidTable::DidTable(const std::vector<Did>& dids) {
    for (const Did& d : dids) {
        std::string number = normalize_number(d.number);
        if (number.empty() || d.user.empty()) continue;
        by_number_.emplace(std::move(number), d.user);
    }
    // In number order, and emplace keeps the first: a user's lowest DID is its caller ID.
    for (const auto& [number, user] : by_number_)
        by_user_.emplace(user, number);
}

std::string_view DidTable::user_of(std::string_view number) const {
    const std::string n = normalize_number(number);
    if (n.empty()) return {};
    if (auto it = by_number_.find(n); it != by_number_.end()) return it->second;
    // Providers differ on whether the number they send carries its +; a DID is the same number either way.
    const std::string other = n.front() == '+' ? n.substr(1) : "+" + n;
    if (other.empty()) return {};
    if (auto it = by_number_.find(other); it != by_number_.end()) return it->second;
    return {};
}

std::string_view DidTable::number_of(std::string_view user) const {
    if (auto it = by_user_.find(user); it != by_user_.end()) return it->second;
    return {};
}

}  // namespace sw::b2bua
