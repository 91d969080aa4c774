#include "app/media_command.hpp"

#include <CLI/CLI.hpp>
#include <ostream>

#include "app/store_setup.hpp"
#include "storage/sqlite/user_store.hpp"

namespace sw::app {

void add_media_command(CLI::App& user, MediaCommand& command) {
    auto* sub = user.add_subcommand(
        "media",
        "Show or set a user's media policy: SRTP off, preferred or required (default: the server's "
        "--srtp), and whether the user must register and call over TLS. Calls that break a required "
        "policy get 488 with a Reason.");
    sub->add_option("EXT", command.user, "The user")->required();
    sub->add_option("--srtp", command.srtp, "off, preferred, required, or default (the server's --srtp)")
        ->check(CLI::IsMember({"off", "preferred", "required", "default"}));
    sub->add_flag("--tls-required", command.tls_required,
                  "The user's REGISTER and calls must come over TLS (others get 403 / 488)");
    sub->add_flag("--no-tls-required", command.no_tls_required, "UDP and TCP are allowed again");
    sub->add_option("--data-dir", command.data_dir, "Data folder (default ./var)");
    sub->callback([&command] { command.selected = true; });
}

int run_media_command(const MediaCommand& c, std::ostream& out, std::ostream& err) {
    if (c.tls_required && c.no_tls_required) {
        err << "sipwarden: --tls-required and --no-tls-required together\n";
        return 1;
    }
    auto db = open_database(c.data_dir);
    if (!db) {
        err << "sipwarden: " << db.error() << "\n";
        return 2;
    }
    storage::SqliteUserStore users(**db);
    auto found = users.find(c.user);
    if (!found) {
        err << "sipwarden: " << found.error() << "\n";
        return 2;
    }
    if (!*found) {
        err << "sipwarden: no such user: " << c.user << "\n";
        return 1;
    }
    auth::UserRecord u = **found;
    if (!c.srtp.empty() || c.tls_required || c.no_tls_required) {
        if (!c.srtp.empty()) u.srtp = c.srtp == "default" ? "" : c.srtp;
        if (c.tls_required) u.tls_required = true;
        if (c.no_tls_required) u.tls_required = false;
        if (auto done = users.set_media(u.name, u.srtp, u.tls_required); !done) {
            err << "sipwarden: " << done.error() << "\n";
            return 2;
        }
    }
    out << "user " << u.name << "\n"
        << "  srtp: " << (u.srtp.empty() ? "default" : u.srtp) << "\n"
        << "  tls required: " << (u.tls_required ? "yes" : "no") << "\n";
    return 0;
}

}  // namespace sw::app
