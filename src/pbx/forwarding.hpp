// Call forwarding per user (a PBX's "call forward always / busy / no answer / unavailable"): the rules
// as the store keeps them, and an immutable table of them that the workers share.
//
// Thread: a ForwardingTable is immutable; a change of rules builds a new one and swaps it in.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::pbx {

enum class ForwardKind : std::uint8_t { Always, Busy, NoAnswer, Unavailable };
std::string_view kind_name(ForwardKind k);  // "always", "busy", "no-answer", "unavailable"
std::optional<ForwardKind> kind_from(std::string_view text);

// RFC 5806 3 (Diversion reason) and RFC 4458 / RFC 7044 (History-Info cause) of each kind.
std::string_view diversion_reason(ForwardKind k);  // "unconditional", "user-busy", "no-answer", "unavailable"
int history_cause(ForwardKind k);                  // 302, 486, 408, 480
// Which rule a call that rang and failed follows: no answer (its ringing time ran out), busy (486, 600),
// unavailable (408, 480, 503); nullopt for any other final status (the caller hears it).
std::optional<ForwardKind> kind_after(int final_status, bool no_answer);

struct ForwardRule {
    std::string user;  // whose calls
    ForwardKind kind = ForwardKind::Always;
    std::string target;         // an extension ("202") or a number ("+4930123456"), as the user part to route
    std::uint32_t seconds = 0;  // NoAnswer: ring this long first
};

// A user's rules, one per kind at most.
struct ForwardSet {
    std::optional<ForwardRule> always, busy, no_answer, unavailable;
    const std::optional<ForwardRule>& get(ForwardKind k) const;
};

class ForwardingTable {
public:
    ForwardingTable() = default;
    explicit ForwardingTable(const std::vector<ForwardRule>& rules);
    // nullptr when the user forwards nothing.
    const ForwardSet* find(std::string_view user) const;
    std::size_t size() const { return users_.size(); }

private:
    std::map<std::string, ForwardSet, std::less<>> users_;
};

// A target an operator may type: an extension or user name, or a telephone number (digits, an optional
// leading +, no visual separators). nullopt when fine, else why not.
std::optional<std::string> check_target(std::string_view target);

}  // namespace sw::pbx
