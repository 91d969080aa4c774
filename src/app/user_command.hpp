// `sipwarden user add|list|passwd|disable|enable|remove|import|alias|unalias|aliases`: the accounts in
// DATA_DIR/sipwarden.db. Passwords are never stored, printed or logged: the store keeps one HA1 per digest
// algorithm (RFC 7616 3.4.2), and the only password ever shown is one the command generated, once, on stdout.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}
namespace sw::auth {
class Random;
}

namespace sw::app {

struct UserCommand {
    enum class Action { None, Add, List, Passwd, Disable, Enable, Remove, Import, Alias, Unalias, Aliases };
    Action action = Action::None;
    std::string data_dir = "./var";
    std::vector<std::string> domains;
    std::optional<std::string> realm;  // --realm, when given
    std::string name;                  // EXT: add, passwd, disable, enable, remove
    std::string display_name;          // add --name
    bool password_stdin = false;       // add, passwd
    bool no_md5 = false;               // add, import
    std::string file;                  // import
    bool replace = false;              // import
    std::string alias;                 // alias, unalias
};

// Declares `user` and its subcommands on `app`; parsing fills `command`, which must outlive the parse.
// Returns the `user` subcommand (true after a parse that chose it).
CLI::App* add_user_command(CLI::App& app, UserCommand& command);

// Runs the parsed command: a password comes from `in` with --password-stdin, results go to `out`, refusals
// and errors to `err`; generated passwords are drawn from `random`.
// Exit status: 0 done; 1 refused (bad name or line, weak password, no such user, user exists);
// 2 the store could not be opened, read or written.
int run_user_command(const UserCommand& command, std::istream& in, std::ostream& out, std::ostream& err,
                     auth::Random& random);

}  // namespace sw::app
