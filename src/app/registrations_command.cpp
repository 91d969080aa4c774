#include "app/registrations_command.hpp"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <ostream>
#include <system_error>

#include "app/store_setup.hpp"
#include "app/text_table.hpp"
#include "storage/sqlite/binding_store.hpp"

namespace sw::app {

namespace {

// "udp:192.0.2.1:5060" -> "udp". The source is written by the transport as PROTOCOL:HOST:PORT.
std::string transport_of(const std::string& source) {
    const auto colon = source.find(':');
    return colon == std::string::npos ? "-" : source.substr(0, colon);
}

std::string or_dash(const std::string& s) {
    return s.empty() ? "-" : s;
}

}  // namespace

CLI::App* add_registrations_command(CLI::App& app, RegistrationsCommand& command) {
    auto* sub = app.add_subcommand(
        "registrations",
        "List the current registrations (bindings) from DATA_DIR/location.db: user, contact, source, "
        "transport, seconds until expiry, user agent. Exit status 0, or 2 when the store cannot be read.");
    sub->add_option("--data-dir", command.data_dir,
                    "Folder of the server's data, with location.db (default ./var)")
        ->type_name("DIR");
    return sub;
}

int run_registrations(const RegistrationsCommand& command, std::int64_t now, std::ostream& out,
                      std::ostream& err) {
    // Listing must not create a store: a mistyped --data-dir would otherwise leave an empty one behind.
    const std::string path = location_database_path(command.data_dir);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        if (ec) {
            err << "sipwarden: " << path << ": " << ec.message() << "\n";
            return 2;
        }
        out << "no registrations\n";
        return 0;
    }
    auto db = storage::Database::open(path);
    if (!db) {
        err << "sipwarden: " << db.error() << "\n";
        return 2;
    }
    storage::SqliteBindingStore store(**db);
    auto bindings = store.list();
    if (!bindings) {
        err << "sipwarden: " << bindings.error() << "\n";
        return 2;
    }
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"USER", "CONTACT", "SOURCE", "TRANSPORT", "EXPIRES IN", "USER AGENT"});
    for (const auto& b : *bindings) {
        // The server removes expired bindings lazily; until it does they are history, not registrations.
        if (b.expires_at <= now) continue;
        rows.push_back({b.aor, b.contact, or_dash(b.source), transport_of(b.source),
                        std::to_string(b.expires_at - now), or_dash(b.user_agent)});
    }
    if (rows.size() == 1) {
        out << "no registrations\n";
        return 0;
    }
    print_table(out, rows);
    return 0;
}

}  // namespace sw::app
