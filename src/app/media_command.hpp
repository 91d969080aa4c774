// `sipwarden user media EXT [--srtp off|preferred|required|default] [--tls-required|--no-tls-required]`:
// a user's media policy (issue 9), in DATA_DIR/sipwarden.db. A running server applies it within a second.
#pragma once

#include <iosfwd>
#include <string>

namespace CLI {
class App;
}

namespace sw::app {

struct MediaCommand {
    bool selected = false;
    std::string data_dir = "./var";
    std::string user;
    std::string srtp;  // empty: unchanged; "default": the server's
    bool tls_required = false;
    bool no_tls_required = false;
};

void add_media_command(CLI::App& user, MediaCommand& command);
// Exit status 0 done; 1 refused (no such user); 2 store error.
int run_media_command(const MediaCommand& command, std::ostream& out, std::ostream& err);

}  // namespace sw::app
