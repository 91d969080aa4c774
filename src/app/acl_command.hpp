// `sipwarden acl list|add|remove`: allow and deny networks in DATA_DIR/sipwarden.db (table acl).
// Global entries: allow exempts a network from bans and rate limits (the office, trunks' networks), deny
// drops everything from it unanswered. Per-user entries (--user EXT): EXT may register and call only from
// its allow networks, never from its deny networks. The running server picks changes up within a second.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace sw::app {

struct AclCommand {
    enum class Action { List, Add, Remove } action = Action::List;
    std::string data_dir = "./var";
    std::vector<std::string> cidrs;
    bool allow = false;
    bool deny = false;
    std::string user;  // empty: global
};

CLI::App* add_acl_command(CLI::App& app, AclCommand& command);
// Exit status 0 done, 1 refused (with the reason), 2 store error.
int run_acl_command(const AclCommand& command, std::ostream& out, std::ostream& err);

}  // namespace sw::app
