// `sipwarden ban list|add|remove`: banned addresses in DATA_DIR/sipwarden.db (table bans). The running
// server bans by itself (password guessing, scanners, floods) and writes its bans there too; it picks up
// the operator's changes within a second. A ban ends at its expiry; a permanent block is `acl add --deny`.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace CLI {
class App;
}

namespace sw::app {

struct BanCommand {
    enum class Action { List, Add, Remove } action = Action::List;
    std::string data_dir = "./var";
    std::string address;
    std::int64_t seconds = 3600;
    std::string reason = "manual";
};

CLI::App* add_ban_command(CLI::App& app, BanCommand& command);
// now: Unix seconds. Exit status 0 done, 1 refused (with the reason), 2 store error.
int run_ban_command(const BanCommand& command, std::int64_t now, std::ostream& out, std::ostream& err);

}  // namespace sw::app
