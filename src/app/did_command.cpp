#include "app/did_command.hpp"

#include <CLI/CLI.hpp>
#include <optional>
#include <ostream>

#include "app/store_setup.hpp"
#include "app/text_table.hpp"
#include "b2bua/dial_plan.hpp"
#include "storage/sqlite/did_store.hpp"

namespace sw::app {

namespace {

constexpr int kDone = 0;
constexpr int kRefused = 1;
constexpr int kStoreError = 2;

using Action = DidCommand::Action;

int fail(std::ostream& err, const std::string& why, int status) {
    err << "sipwarden: " << why << "\n";
    return status;
}

// The store's refusals (as opposed to a failing database) start with these.
bool is_refusal(const std::string& error) {
    return error.rfind("no such user ", 0) == 0 || error.rfind("no such DID ", 0) == 0 ||
           error.ends_with(" already");
}

// One spelling per number in the store, whatever separators the operator typed.
std::optional<std::string> number_from(const std::string& text, std::ostream& err) {
    std::string number = b2bua::normalize_number(text);
    if (number.empty()) {
        fail(err, "DID " + text + ": not a phone number such as +4930123456", kRefused);
        return std::nullopt;
    }
    return number;
}

int add_did(const DidCommand& command, std::ostream& out, std::ostream& err) {
    const auto number = number_from(command.number, err);
    if (!number) return kRefused;
    auto db = open_database(command.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    if (auto added = storage::SqliteDidStore(**db).add({*number, command.user}); !added)
        return fail(err, added.error(), is_refusal(added.error()) ? kRefused : kStoreError);
    out << "DID " << *number << " rings " << command.user << "\n";
    return kDone;
}

int list_dids(const DidCommand& command, std::ostream& out, std::ostream& err) {
    auto db = open_database(command.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    auto dids = storage::SqliteDidStore(**db).load_all();
    if (!dids) return fail(err, dids.error(), kStoreError);
    if (dids->empty()) {
        out << "no DIDs\n";
        return kDone;
    }
    std::vector<std::vector<std::string>> rows{{"NUMBER", "USER"}};
    for (const auto& d : *dids)
        rows.push_back({d.number, d.user});
    print_table(out, rows);
    return kDone;
}

int remove_did(const DidCommand& command, std::ostream& out, std::ostream& err) {
    const auto number = number_from(command.number, err);
    if (!number) return kRefused;
    auto db = open_database(command.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    if (auto removed = storage::SqliteDidStore(**db).remove(*number); !removed)
        return fail(err, removed.error(), is_refusal(removed.error()) ? kRefused : kStoreError);
    out << "removed DID " << *number << "\n";
    return kDone;
}

void add_data_dir(CLI::App& sub, DidCommand& command) {
    sub.add_option("--data-dir", command.data_dir, "Folder of the server's data (default ./var)")
        ->type_name("DIR");
}

}  // namespace

CLI::App* add_did_command(CLI::App& app, DidCommand& command) {
    auto* sub = app.add_subcommand(
        "did",
        "DIDs: the company's phone numbers, each ringing one extension when a trunk brings a call for it. "
        "A user's first DID is its caller ID on outbound calls. Changes reach a running server within a "
        "second.");
    sub->require_subcommand(1);

    auto* add = sub->add_subcommand("add", "Route calls for NUMBER to an extension: did add NUMBER --to EXT");
    add->add_option("NUMBER", command.number,
                    "The number as providers send it, e.g. +4930123456 (spaces, - . ( ) are dropped); a "
                    "call for it with or without the + rings the same extension")
        ->required();
    add->add_option("--to", command.user, "The extension (user) it rings")->required()->type_name("EXT");
    add_data_dir(*add, command);
    add->callback([&] { command.action = Action::Add; });

    auto* list = sub->add_subcommand("list", "Every DID and the extension it rings");
    add_data_dir(*list, command);
    list->callback([&] { command.action = Action::List; });

    auto* remove = sub->add_subcommand("remove", "Remove a DID: did remove NUMBER");
    remove->add_option("NUMBER", command.number, "The number, as `did list` shows it")->required();
    add_data_dir(*remove, command);
    remove->callback([&] { command.action = Action::Remove; });
    return sub;
}

int run_did_command(const DidCommand& command, std::ostream& out, std::ostream& err) {
    switch (command.action) {
        case Action::Add:
            return add_did(command, out, err);
        case Action::List:
            return list_dids(command, out, err);
        case Action::Remove:
            return remove_did(command, out, err);
    }
    return kStoreError;
}

}  // namespace sw::app
