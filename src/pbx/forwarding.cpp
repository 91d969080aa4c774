#include "pbx/forwarding.hpp"

namespace sw::pbx {

std::string_view kind_name(ForwardKind k) {
    switch (k) {
        case ForwardKind::Always:
            return "always";
        case ForwardKind::Busy:
            return "busy";
        case ForwardKind::NoAnswer:
            return "no-answer";
        case ForwardKind::Unavailable:
            return "unavailable";
    }
    return "always";
}

std::optional<ForwardKind> kind_from(std::string_view text) {
    for (ForwardKind k :
         {ForwardKind::Always, ForwardKind::Busy, ForwardKind::NoAnswer, ForwardKind::Unavailable})
        if (kind_name(k) == text) return k;
    return std::nullopt;
}

std::optional<ForwardKind> kind_after(int final_status, bool no_answer) {
    if (no_answer) return ForwardKind::NoAnswer;
    if (final_status == 486 || final_status == 600) return ForwardKind::Busy;
    if (final_status == 408 || final_status == 480 || final_status == 503) return ForwardKind::Unavailable;
    return std::nullopt;
}

std::string_view diversion_reason(ForwardKind k) {
    switch (k) {
        case ForwardKind::Always:
            return "unconditional";
        case ForwardKind::Busy:
            return "user-busy";
        case ForwardKind::NoAnswer:
            return "no-answer";
        case ForwardKind::Unavailable:
            return "unavailable";
    }
    return "unknown";
}

int history_cause(ForwardKind k) {
    // RFC 4458 / RFC 7044 section 9.3: the cause that made the request be retargeted.
    switch (k) {
        case ForwardKind::Always:
            return 302;
        case ForwardKind::Busy:
            return 486;
        case ForwardKind::NoAnswer:
            return 408;
        case ForwardKind::Unavailable:
            return 480;
    }
    return 302;
}

const std::optional<ForwardRule>& ForwardSet::get(ForwardKind k) const {
    switch (k) {
        case ForwardKind::Always:
            return always;
        case ForwardKind::Busy:
            return busy;
        case ForwardKind::NoAnswer:
            return no_answer;
        case ForwardKind::Unavailable:
            return unavailable;
    }
    return always;
}

ForwardingTable::ForwardingTable(const std::vector<ForwardRule>& rules) {
    for (const auto& r : rules) {
        ForwardSet& s = users_[r.user];
        switch (r.kind) {
            case ForwardKind::Always:
                s.always = r;
                break;
            case ForwardKind::Busy:
                s.busy = r;
                break;
            case ForwardKind::NoAnswer:
                s.no_answer = r;
                break;
            case ForwardKind::Unavailable:
                s.unavailable = r;
                break;
        }
    }
}

const ForwardSet* ForwardingTable::find(std::string_view user) const {
    auto it = users_.find(user);
    return it == users_.end() ? nullptr : &it->second;
}

std::optional<std::string> check_target(std::string_view target) {
    if (target.empty()) return "the target is empty";
    if (target.size() > 64) return "the target is longer than 64 characters";
    std::size_t start = target.front() == '+' ? 1 : 0;
    if (start == 1) {
        if (target.size() < 3) return "a number after + needs at least two digits";
        for (std::size_t i = 1; i < target.size(); ++i)
            if (target[i] < '0' || target[i] > '9') return "a number starting with + may hold only digits";
        return std::nullopt;
    }
    for (char c : target) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        c == '.' || c == '-' || c == '_';
        if (!ok) return "the target may hold letters, digits, '.', '-' and '_' (or be +digits)";
    }
    return std::nullopt;
}

}  // namespace sw::pbx
