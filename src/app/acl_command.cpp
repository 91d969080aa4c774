#include "app/acl_command.hpp"

#include <CLI/CLI.hpp>
#include <optional>
#include <ostream>

#include "app/store_setup.hpp"
#include "app/text_table.hpp"
#include "security/records.hpp"
#include "storage/sqlite/acl_store.hpp"

namespace sw::app {

namespace {

constexpr int kDone = 0;
constexpr int kRefused = 1;
constexpr int kStoreError = 2;

using Action = AclCommand::Action;

int fail(std::ostream& err, const std::string& why, int status) {
    err << "sipwarden: " << why << "\n";
    return status;
}

// The store's refusals (as opposed to a failing database).
bool is_refusal(const std::string& error) {
    return error.rfind("no such user ", 0) == 0 || error.rfind("no acl ", 0) == 0 ||
           error.ends_with(" exists") || error.find(": not a network") != std::string::npos;
}

std::optional<security::AclKind> kind_of(const AclCommand& command) {
    if (command.allow) return security::AclKind::Allow;
    if (command.deny) return security::AclKind::Deny;
    return std::nullopt;
}

// Every network checked before anything is written: a typo in the third refuses all three.
std::optional<std::vector<std::string>> networks_from(const AclCommand& command, std::ostream& err) {
    std::vector<std::string> out;
    for (const auto& text : command.cidrs) {
        auto cidr = storage::normal_cidr(text);
        if (!cidr) {
            fail(err, text + ": not a network such as 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32", kRefused);
            return std::nullopt;
        }
        out.push_back(std::move(*cidr));
    }
    return out;
}

std::string scope(const std::string& user) {
    return user.empty() ? "" : " for " + user;
}

int add_entries(const AclCommand& command, std::ostream& out, std::ostream& err) {
    const auto kind = kind_of(command);
    if (!kind) return fail(err, "say which: --allow or --deny", kRefused);
    const auto networks = networks_from(command, err);
    if (!networks) return kRefused;
    auto db = open_database(command.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    storage::SqliteAclStore store(**db);
    for (const auto& cidr : *networks) {
        if (auto added = store.add({cidr, *kind, command.user}); !added)
            return fail(err, added.error(), is_refusal(added.error()) ? kRefused : kStoreError);
        out << "acl " << security::acl_kind_name(*kind) << " " << cidr << scope(command.user) << "\n";
    }
    return kDone;
}

int remove_entries(const AclCommand& command, std::ostream& out, std::ostream& err) {
    const auto kind = kind_of(command);
    const auto networks = networks_from(command, err);
    if (!networks) return kRefused;
    auto db = open_database(command.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    storage::SqliteAclStore store(**db);
    for (const auto& cidr : *networks) {
        if (auto removed = store.remove(cidr, kind, command.user); !removed)
            return fail(err, removed.error(), is_refusal(removed.error()) ? kRefused : kStoreError);
        out << "removed acl " << (kind ? std::string(security::acl_kind_name(*kind)) + " " : std::string())
            << cidr << scope(command.user) << "\n";
    }
    return kDone;
}

int list_entries(const AclCommand& command, std::ostream& out, std::ostream& err) {
    auto db = open_database(command.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    auto all = storage::SqliteAclStore(**db).load_all();
    if (!all) return fail(err, all.error(), kStoreError);
    if (all->empty()) {
        out << "no acl entries\n";
        return kDone;
    }
    std::vector<std::vector<std::string>> rows{{"KIND", "NETWORK", "USER"}};
    for (const auto& r : *all)
        rows.push_back({std::string(security::acl_kind_name(r.kind)), r.cidr, r.user.empty() ? "-" : r.user});
    print_table(out, rows);
    return kDone;
}

void add_data_dir(CLI::App& sub, AclCommand& command) {
    sub.add_option("--data-dir", command.data_dir, "Folder of the server's data (default ./var)")
        ->type_name("DIR");
}

}  // namespace

CLI::App* add_acl_command(CLI::App& app, AclCommand& command) {
    auto* sub = app.add_subcommand(
        "acl",
        "Allow and deny networks. Global: allow exempts a network from bans and rate limits (offices, "
        "trunks), deny drops everything from it; allow wins where both match. With --user EXT: EXT may "
        "register and call only from its allow networks and never from its deny networks. Changes reach a "
        "running server within a second.");
    sub->require_subcommand(1);

    auto* list = sub->add_subcommand("list", "Every entry: kind, network, user (- for global)");
    add_data_dir(*list, command);
    list->callback([&] { command.action = Action::List; });

    auto* add = sub->add_subcommand("add", "Add entries: acl add CIDR... --allow|--deny [--user EXT]");
    add->add_option("CIDR", command.cidrs, "Networks such as 10.0.0.0/8, 2001:db8::/32, or one address")
        ->required();
    auto* a = add->add_flag("--allow", command.allow, "Allow (global: exempt from bans and rate limits)");
    auto* d = add->add_flag("--deny", command.deny, "Deny (global: drop everything from it)");
    a->excludes(d);
    add->add_option("--user", command.user, "Only for this user (extension); default: for every source")
        ->type_name("EXT");
    add_data_dir(*add, command);
    add->callback([&] { command.action = Action::Add; });

    auto* remove = sub->add_subcommand(
        "remove",
        "Remove entries: acl remove CIDR... [--allow|--deny] [--user EXT] (both kinds when neither given)");
    remove->add_option("CIDR", command.cidrs, "The networks, as acl list shows them")->required();
    auto* ra = remove->add_flag("--allow", command.allow, "Only the allow entry");
    auto* rd = remove->add_flag("--deny", command.deny, "Only the deny entry");
    ra->excludes(rd);
    remove->add_option("--user", command.user, "The user's entries (default: the global ones)")
        ->type_name("EXT");
    add_data_dir(*remove, command);
    remove->callback([&] { command.action = Action::Remove; });
    return sub;
}

int run_acl_command(const AclCommand& command, std::ostream& out, std::ostream& err) {
    switch (command.action) {
        case Action::List:
            return list_entries(command, out, err);
        case Action::Add:
            return add_entries(command, out, err);
        case Action::Remove:
            return remove_entries(command, out, err);
    }
    return kStoreError;
}

}  // namespace sw::app
