#include "security/scanner.hpp"

#include <array>

#include "common/text.hpp"

namespace sw::security {

namespace {

// As documented in scanner.hpp; keep the two in step.
constexpr std::array<std::string_view, 11> kScanners{
    "friendly-scanner", "sipvicious", "sipcli", "VaxSIPUserAgent", "sip-scan", "SIPScan",
    "sundayddr",        "iWar",       "pplsip", "Ozeki",           "smap"};

}  // namespace

std::span<const std::string_view> known_scanners() {
    return kScanners;
}

bool contains_ignoring_case(std::string_view haystack, std::string_view needle) {
    if (needle.empty() || needle.size() > haystack.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i)
        if (iequals(haystack.substr(i, needle.size()), needle)) return true;
    return false;
}

bool is_scanner(std::string_view user_agent, const std::vector<std::string>& extra) {
    if (user_agent.empty()) return false;
    for (const auto name : kScanners)
        if (contains_ignoring_case(user_agent, name)) return true;
    for (const auto& name : extra)
        if (contains_ignoring_case(user_agent, name)) return true;
    return false;
}

}  // namespace sw::security
