// `sipwarden forward set|clear|list`: call forwarding rules per user, in DATA_DIR/sipwarden.db. The
// running server picks a change up within a second (it watches the store like it does for users).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace CLI {
class App;
}

namespace sw::app {

struct ForwardCommand {
    enum class Action { Set, Clear, List } action = Action::List;
    std::string data_dir = "./var";
    std::string user;
    std::string target;
    bool always = false;
    bool busy = false;
    bool unavailable = false;
    std::int64_t no_answer = -1;  // seconds; -1: not given
    std::string kind;             // clear: one kind, or empty for all
};

CLI::App* add_forward_command(CLI::App& app, ForwardCommand& command);
// Exit status 0 done, 1 refused (with the reason), 2 store error.
int run_forward_command(const ForwardCommand& command, std::ostream& out, std::ostream& err);

}  // namespace sw::app
