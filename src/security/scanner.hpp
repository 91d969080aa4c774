// Scanner defence (issue 7 part 3): the User-Agent strings of well-known SIP scanning and war-dialling
// tools. Their requests are dropped without an answer and their source banned.
//
// The list is kept short on purpose: only names that no real phone or PBX uses, each seen in the wild
// (honeypot reports, fail2ban filters):
//   friendly-scanner, sipvicious  SIPVicious svmap/svwar/svcrack (the first is its default UA)
//   sipcli                        sipcli, a command-line caller used for toll fraud
//   VaxSIPUserAgent               VaxVoIP SDK as shipped in brute-force tools
//   sip-scan, SIPScan             generic scanners ("sip-scan", "SIPScan")
//   sundayddr                     a war-dialler
//   iWar                          iWar war-dialler
//   pplsip                        the "pplsip" brute forcer
//   Ozeki                         Ozeki VoIP SIP SDK, used by many scanning scripts
//   smap                          smap, SIP nmap-like scanner
// Matching is a case-insensitive substring match, so "friendly-scanner 1.2" and "SIPVicious" count.
// Operators add their own with the configured list (extra); empty entries in it are ignored (an empty
// string would match everything).
//
// Thread: pure functions; any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sw::security {

// The built-in names, as listed above.
std::span<const std::string_view> known_scanners();

// user_agent contains (ASCII case-insensitively) one of known_scanners() or of extra.
bool is_scanner(std::string_view user_agent, const std::vector<std::string>& extra = {});

// The same match for one needle: haystack contains needle, ASCII case-insensitively (empty needle: false).
bool contains_ignoring_case(std::string_view haystack, std::string_view needle);

}  // namespace sw::security
