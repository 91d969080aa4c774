// `sipwarden trunk add|list|remove`: the SIP trunks (providers, PSTN gateways) in DATA_DIR/sipwarden.db.
// A trunk's password is read from stdin, sealed with DATA_DIR/secret.key (app/trunk_setup.hpp) and never
// printed. The running server picks changes up when the store's data_version changes.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "auth/clock_random.hpp"

namespace CLI {
class App;
}

namespace sw::app {

struct TrunkCommand {
    enum class Action { Add, List, Remove } action = Action::List;
    std::string data_dir = "./var";
    std::string name;
    std::string host;  // HOST[:PORT] as given; IPv6 in brackets
    std::string transport = "udp";
    std::string username;
    bool password_stdin = false;
    bool register_with = false;
    std::uint32_t expires = 600;
    std::string from_domain;
    std::vector<std::string> addresses;
    bool tel_uri = false;
    std::string ruri_params;
    bool no_100rel = false;
    std::string srtp;  // off, preferred, required; empty: the server's
    std::string caller_id;
};

CLI::App* add_trunk_command(CLI::App& app, TrunkCommand& command);
// Exit status 0 done, 1 refused (with the reason), 2 store error. `in` gives the password
// (--password-stdin); `now` (Unix seconds) is what `list` counts registration expiry from.
int run_trunk_command(const TrunkCommand& command, std::istream& in, std::int64_t now, std::ostream& out,
                      std::ostream& err, auth::Random& random);

}  // namespace sw::app
