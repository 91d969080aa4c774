// `sipwarden user rights|suspend|unsuspend|alerts`: who may call what outside the company (issue 7 parts
// 4-5), in DATA_DIR/sipwarden.db. Changes reach a running server within a second.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace sw::app {

struct RightsCommand {
    enum class Action { None, Rights, Suspend, Unsuspend, Alerts };
    Action action = Action::None;
    std::string data_dir = "./var";
    std::string user;  // rights: empty lists every user with rights of their own; alerts: empty for all
    // rights: what to change (nothing given: show)
    std::string call_class;   // internal, local, national, international, default
    bool premium = false;     // --premium
    bool no_premium = false;  // --no-premium
    std::vector<std::string> allow_prefixes;
    bool clear_prefixes = false;
    std::vector<std::string> groups;
    bool clear_groups = false;
    std::optional<int> max_concurrent, per_minute, per_hour, intl_minutes;  // 0: none; -1: default
    bool default_limits = false;
    std::string reason;  // suspend --reason
    std::string since;   // alerts --since (as cdr --since)
    std::size_t limit = 100;
};

// Adds rights, suspend, unsuspend and alerts to the `user` subcommand.
void add_rights_commands(CLI::App& user, RightsCommand& command);
// Exit status 0 done; 1 refused (no such user, bad value); 2 store error.
int run_rights_command(const RightsCommand& command, std::int64_t now_ms, std::ostream& out,
                       std::ostream& err);

}  // namespace sw::app
