#include "app/forward_command.hpp"

#include <CLI/CLI.hpp>
#include <ostream>

#include "app/store_setup.hpp"
#include "app/text_table.hpp"
#include "storage/sqlite/forward_store.hpp"

namespace sw::app {

CLI::App* add_forward_command(CLI::App& app, ForwardCommand& command) {
    auto* sub = app.add_subcommand(
        "forward",
        "Call forwarding per user: unconditional, on busy, on no answer after N seconds, or when the user "
        "is unreachable. Changes reach a running server within a second.");
    sub->require_subcommand(1);
    auto data_dir = [&](CLI::App* s) {
        s->add_option("--data-dir", command.data_dir, "Folder of the server's data (default ./var)")
            ->type_name("DIR");
    };
    auto* set =
        sub->add_subcommand("set",
                            "Forward EXT's calls to TARGET (an extension or a number): "
                            "forward set EXT --always|--busy|--no-answer SECONDS|--unavailable TARGET");
    set->add_option("EXT", command.user, "The user whose calls are forwarded")->required();
    set->add_option("TARGET", command.target, "Where they go: an extension, or a number such as +4930123456")
        ->required();
    auto* a = set->add_flag("--always", command.always, "Every call, without ringing EXT (unconditional)");
    auto* b = set->add_flag("--busy", command.busy, "When EXT answers busy (486 or 600)");
    auto* n =
        set->add_option("--no-answer", command.no_answer, "When EXT has rung this many seconds unanswered")
            ->check(CLI::Range(1, 600))
            ->type_name("SECONDS");
    auto* u = set->add_flag("--unavailable", command.unavailable,
                            "When EXT is not registered or cannot be reached (480, 408)");
    a->excludes(b)->excludes(n)->excludes(u);
    b->excludes(n)->excludes(u);
    n->excludes(u);
    data_dir(set);
    set->callback([&] { command.action = ForwardCommand::Action::Set; });
    auto* clear = sub->add_subcommand("clear",
                                      "Remove EXT's forwarding: one KIND (always, busy, no-answer, "
                                      "unavailable) or all of it");
    clear->add_option("EXT", command.user, "The user")->required();
    clear->add_option("KIND", command.kind, "always, busy, no-answer or unavailable (default: all)")
        ->check(CLI::IsMember({"always", "busy", "no-answer", "unavailable"}));
    data_dir(clear);
    clear->callback([&] { command.action = ForwardCommand::Action::Clear; });
    auto* list = sub->add_subcommand("list", "Every forwarding rule: user, kind, target, seconds");
    data_dir(list);
    list->callback([&] { command.action = ForwardCommand::Action::List; });
    return sub;
}

int run_forward_command(const ForwardCommand& command, std::ostream& out, std::ostream& err) {
    auto db = open_database(command.data_dir);
    if (!db) {
        err << "sipwarden: " << db.error() << "\n";
        return 2;
    }
    storage::SqliteForwardStore store(**db);
    switch (command.action) {
        case ForwardCommand::Action::Set: {
            pbx::ForwardRule rule;
            rule.user = command.user;
            rule.target = command.target;
            if (command.always) {
                rule.kind = pbx::ForwardKind::Always;
            } else if (command.busy) {
                rule.kind = pbx::ForwardKind::Busy;
            } else if (command.no_answer > 0) {
                rule.kind = pbx::ForwardKind::NoAnswer;
                rule.seconds = static_cast<std::uint32_t>(command.no_answer);
            } else if (command.unavailable) {
                rule.kind = pbx::ForwardKind::Unavailable;
            } else {
                err << "sipwarden: say when: --always, --busy, --no-answer SECONDS or --unavailable\n";
                return 1;
            }
            if (auto ok = store.set(rule); !ok) {
                err << "sipwarden: " << ok.error() << "\n";
                return 1;
            }
            out << "forwarding " << rule.user << " " << pbx::kind_name(rule.kind) << " to " << rule.target
                << (rule.seconds ? " after " + std::to_string(rule.seconds) + " s" : std::string()) << "\n";
            return 0;
        }
        case ForwardCommand::Action::Clear: {
            std::optional<pbx::ForwardKind> kind;
            if (!command.kind.empty()) kind = pbx::kind_from(command.kind);
            if (auto ok = store.clear(command.user, kind); !ok) {
                err << "sipwarden: " << ok.error() << "\n";
                return 1;
            }
            out << "forwarding of " << command.user << " cleared"
                << (kind ? " (" + std::string(pbx::kind_name(*kind)) + ")" : std::string()) << "\n";
            return 0;
        }
        case ForwardCommand::Action::List: {
            auto rules = store.load_all();
            if (!rules) {
                err << "sipwarden: " << rules.error() << "\n";
                return 2;
            }
            if (rules->empty()) {
                out << "no forwarding\n";
                return 0;
            }
            std::vector<std::vector<std::string>> rows{{"USER", "KIND", "TARGET", "SECONDS"}};
            for (const auto& r : *rules)
                rows.push_back({r.user, std::string(pbx::kind_name(r.kind)), r.target,
                                r.kind == pbx::ForwardKind::NoAnswer ? std::to_string(r.seconds) : "-"});
            print_table(out, rows);
            return 0;
        }
    }
    return 2;
}

}  // namespace sw::app
