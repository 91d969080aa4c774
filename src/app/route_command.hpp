// `sipwarden route add|list|remove`: the dial plan, which trunk a dialled number goes out through
// (patterns as b2bua/dial_plan.hpp describes them), in DATA_DIR/sipwarden.db.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace sw::app {

struct RouteCommand {
    enum class Action { Add, List, Remove } action = Action::List;
    std::string data_dir = "./var";
    std::string pattern;
    std::string trunk;  // add: required; remove: empty for every trunk
    std::uint32_t strip = 0;
    std::string prepend;
    int priority = 10;
    std::string call_class;  // add --class; empty: judged from the number
};

CLI::App* add_route_command(CLI::App& app, RouteCommand& command);
// Exit status 0 done, 1 refused (with the reason), 2 store error.
int run_route_command(const RouteCommand& command, std::ostream& out, std::ostream& err);

}  // namespace sw::app
