// `sipwarden registrations`: the bindings in DATA_DIR/location.db as the registrar last wrote them.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace CLI {
class App;
}

namespace sw::app {

struct RegistrationsCommand {
    std::string data_dir = "./var";
};

// Declares `registrations` on `app`; parsing fills `command`. Returns the subcommand.
CLI::App* add_registrations_command(CLI::App& app, RegistrationsCommand& command);

// One line per binding that has not expired at `now` (unix seconds): user (AOR), contact, source,
// transport, seconds left, user agent; "no registrations" when there is none. A missing database has no
// registrations and is not created. Exit status 0, or 2 when the store cannot be read.
int run_registrations(const RegistrationsCommand& command, std::int64_t now, std::ostream& out,
                      std::ostream& err);

}  // namespace sw::app
