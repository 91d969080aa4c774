// `sipwarden did add|list|remove`: the company's numbers (DIDs) and the extension each rings, in
// DATA_DIR/sipwarden.db. A user's first DID is also its caller ID on outbound calls.
#pragma once

#include <iosfwd>
#include <string>

namespace CLI {
class App;
}

namespace sw::app {

struct DidCommand {
    enum class Action { Add, List, Remove } action = Action::List;
    std::string data_dir = "./var";
    std::string number;
    std::string user;
};

CLI::App* add_did_command(CLI::App& app, DidCommand& command);
// Exit status 0 done, 1 refused (with the reason), 2 store error.
int run_did_command(const DidCommand& command, std::ostream& out, std::ostream& err);

}  // namespace sw::app
