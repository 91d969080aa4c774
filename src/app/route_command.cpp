#include "app/route_command.hpp"

#include <CLI/CLI.hpp>
#include <ostream>

#include "app/store_setup.hpp"
#include "app/text_table.hpp"
#include "b2bua/dial_plan.hpp"
#include "b2bua/trunk.hpp"
#include "common/text.hpp"
#include "security/calling_rights.hpp"
#include "storage/sqlite/route_store.hpp"

namespace sw::app {

namespace {

constexpr int kDone = 0;
constexpr int kRefused = 1;
constexpr int kStoreError = 2;

using Action = RouteCommand::Action;

int fail(std::ostream& err, const std::string& why, int status) {
    err << "sipwarden: " << why << "\n";
    return status;
}

// The store's refusals (as opposed to a failing database) start with these.
bool is_refusal(const std::string& error) {
    return error.rfind("no such trunk ", 0) == 0 || error.rfind("no route ", 0) == 0 ||
           (error.rfind("route ", 0) == 0 && error.ends_with(" exists"));
}

// X, Z and N in one case, so that "0x." and "0X." are one pattern in the store.
std::string canonical_pattern(std::string_view pattern) {
    std::string out(pattern);
    for (char& c : out)
        if (c == 'x' || c == 'z' || c == 'n') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

// Digits, * and #, with an optional leading +: what a number may start with.
bool valid_prepend(std::string_view prepend) {
    for (std::size_t i = 0; i < prepend.size(); ++i) {
        const char c = prepend[i];
        if (!is_digit(c) && c != '*' && c != '#' && !(c == '+' && i == 0)) return false;
    }
    return true;
}

int add_route(const RouteCommand& command, std::ostream& out, std::ostream& err) {
    if (auto bad = b2bua::pattern_error(command.pattern); !bad.empty())
        return fail(err, "pattern " + command.pattern + ": " + bad, kRefused);
    if (!valid_prepend(command.prepend))
        return fail(err, "--prepend " + command.prepend + ": only digits, * and # (and a leading +)",
                    kRefused);
    std::string call_class;
    if (!command.call_class.empty()) {
        const auto cls = security::parse_class(command.call_class);
        if (!cls || *cls == security::CallClass::Internal)
            return fail(err, "--class " + command.call_class + ": local, national, international or premium",
                        kRefused);
        call_class = std::string(security::class_name(*cls));
    }
    b2bua::DialRoute route{canonical_pattern(command.pattern),
                           command.trunk,
                           command.strip,
                           command.prepend,
                           command.priority,
                           call_class};
    auto db = open_database(command.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    if (auto added = storage::SqliteRouteStore(**db).add(route); !added)
        return fail(err, added.error(), is_refusal(added.error()) ? kRefused : kStoreError);
    out << "added route " << route.pattern << " via " << route.trunk << "\n";
    return kDone;
}

int list_routes(const RouteCommand& command, std::ostream& out, std::ostream& err) {
    auto db = open_database(command.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    auto routes = storage::SqliteRouteStore(**db).load_all();
    if (!routes) return fail(err, routes.error(), kStoreError);
    if (routes->empty()) {
        out << "no routes\n";
        return kDone;
    }
    std::vector<std::vector<std::string>> rows{{"PATTERN", "TRUNK", "STRIP", "PREPEND", "PRIORITY", "CLASS"}};
    for (const auto& r : *routes)
        rows.push_back({r.pattern, r.trunk, std::to_string(r.strip), r.prepend.empty() ? "-" : r.prepend,
                        std::to_string(r.priority), r.call_class.empty() ? "-" : r.call_class});
    print_table(out, rows);
    return kDone;
}

int remove_route(const RouteCommand& command, std::ostream& out, std::ostream& err) {
    const std::string pattern = canonical_pattern(command.pattern);
    std::optional<std::string_view> trunk;
    if (!command.trunk.empty()) trunk = command.trunk;
    auto db = open_database(command.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    if (auto removed = storage::SqliteRouteStore(**db).remove(pattern, trunk); !removed)
        return fail(err, removed.error(), is_refusal(removed.error()) ? kRefused : kStoreError);
    out << "removed route " << pattern << (trunk ? " via " + command.trunk : std::string()) << "\n";
    return kDone;
}

void add_data_dir(CLI::App& sub, RouteCommand& command) {
    sub.add_option("--data-dir", command.data_dir, "Folder of the server's data (default ./var)")
        ->type_name("DIR");
}

}  // namespace

CLI::App* add_route_command(CLI::App& app, RouteCommand& command) {
    auto* sub = app.add_subcommand(
        "route",
        "The dial plan: which trunk a dialled number goes out through. The most specific matching pattern "
        "wins, the other matching routes follow as failover. Changes reach a running server within a "
        "second.");
    sub->require_subcommand(1);

    auto* add = sub->add_subcommand("add", "Add a route: route add PATTERN --trunk NAME [options]");
    add->add_option("PATTERN", command.pattern,
                    "The numbers it takes, matched against the whole number: 0-9 + * # themselves, X any "
                    "digit, Z 1-9, N 2-9, [1-5] or [137] one digit of the set, and at the end . (one or "
                    "more of anything) or ! (zero or more). E.g. 00. or +49Z.")
        ->required();
    add->add_option("--trunk", command.trunk, "The trunk the calls go out through (see `trunk list`)")
        ->required()
        ->type_name("NAME");
    add->add_option("--strip", command.strip,
                    "Leading characters removed from the dialled number before it is sent (default 0)")
        ->check(CLI::Range(0u, 32u))
        ->type_name("N");
    add->add_option("--prepend", command.prepend,
                    "Put in front of the number after --strip, e.g. +49 (digits, * #, a leading +)")
        ->type_name("DIGITS");
    add->add_option("--priority", command.priority,
                    "Order among equally specific patterns, lowest first, 0 to 1000 (default 10)")
        ->check(CLI::Range(0, 1000))
        ->type_name("P");
    add->add_option("--class", command.call_class,
                    "What kind of numbers the route carries, for users' calling rights: local, national, "
                    "international or premium (default: judged from each number: +CC or 00CC "
                    "international, 0... national, else local)")
        ->type_name("CLASS");
    add_data_dir(*add, command);
    add->callback([&] { command.action = Action::Add; });

    auto* list = sub->add_subcommand("list", "Every route: pattern, trunk, strip, prepend, priority, class");
    add_data_dir(*list, command);
    list->callback([&] { command.action = Action::List; });

    auto* remove = sub->add_subcommand("remove", "Remove the routes of a pattern: route remove PATTERN");
    remove->add_option("PATTERN", command.pattern, "The pattern, as `route list` shows it")->required();
    remove->add_option("--trunk", command.trunk, "Only the pattern's route through this trunk (default: all)")
        ->type_name("NAME");
    add_data_dir(*remove, command);
    remove->callback([&] { command.action = Action::Remove; });
    return sub;
}

int run_route_command(const RouteCommand& command, std::ostream& out, std::ostream& err) {
    switch (command.action) {
        case Action::Add:
            return add_route(command, out, err);
        case Action::List:
            return list_routes(command, out, err);
        case Action::Remove:
            return remove_route(command, out, err);
    }
    return kStoreError;
}

}  // namespace sw::app
