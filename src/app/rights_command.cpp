#include "app/rights_command.hpp"

#include <CLI/CLI.hpp>
#include <ostream>

#include "app/cdr_command.hpp"
#include "app/store_setup.hpp"
#include "app/text_table.hpp"
#include "common/text.hpp"
#include "security/calling_rights.hpp"
#include "storage/sqlite/rights_store.hpp"
#include "storage/sqlite/user_store.hpp"

namespace sw::app {

namespace {

constexpr int kDone = 0;
constexpr int kRefused = 1;
constexpr int kStoreError = 2;

using Action = RightsCommand::Action;

int fail(std::ostream& err, const std::string& why, int status) {
    err << "sipwarden: " << why << "\n";
    return status;
}

bool valid_group(std::string_view g) {
    if (g.empty() || g.size() > 32) return false;
    for (char c : g)
        if (!is_alnum(c) && c != '-' && c != '_') return false;
    return true;
}

std::string limit_text(int v) {
    return v < 0 ? "default" : v == 0 ? "none" : std::to_string(v);
}

bool changes_anything(const RightsCommand& c) {
    return !c.call_class.empty() || c.premium || c.no_premium || !c.allow_prefixes.empty() ||
           c.clear_prefixes || !c.groups.empty() || c.clear_groups || c.max_concurrent || c.per_minute ||
           c.per_hour || c.intl_minutes || c.default_limits;
}

void show(std::ostream& out, const storage::RightsRecord& r) {
    out << "user " << r.user << "\n"
        << "  class: " << (r.call_class.empty() ? "default" : r.call_class) << "\n"
        << "  premium: " << (r.premium ? "allowed" : "no") << "\n"
        << "  allowed high-risk prefixes: "
        << (r.allowed_prefixes.empty() ? "-" : storage::join_list(r.allowed_prefixes)) << "\n"
        << "  groups: " << (r.groups.empty() ? "-" : storage::join_list(r.groups)) << "\n"
        << "  limits: concurrent " << limit_text(r.max_concurrent) << ", per minute "
        << limit_text(r.per_minute) << ", per hour " << limit_text(r.per_hour)
        << ", international minutes per day " << limit_text(r.intl_minutes) << "\n"
        << "  external calls: " << (r.suspended ? "SUSPENDED (" + r.suspended_reason + ")" : "allowed")
        << "\n";
}

sw::Result<bool, std::string> user_exists(storage::Database& db, const std::string& name) {
    auto found = storage::SqliteUserStore(db).find(name);
    if (!found) return sw::unexpected(found.error());
    return found->has_value();
}

int rights(const RightsCommand& c, std::ostream& out, std::ostream& err) {
    std::optional<std::string> cls;
    if (!c.call_class.empty() && c.call_class != "default") {
        const auto parsed = security::parse_class(c.call_class);
        if (!parsed || *parsed == security::CallClass::Premium)
            return fail(err,
                        "--class " + c.call_class + ": internal, local, national, international or default",
                        kRefused);
        cls = std::string(security::class_name(*parsed));
    }
    std::vector<std::string> prefixes;
    for (const auto& p : c.allow_prefixes) {
        auto digits = security::high_risk_prefix(p);
        if (!digits)
            return fail(err, "--allow-prefix " + p + ": an international number prefix such as +881",
                        kRefused);
        prefixes.push_back(*digits);
    }
    for (const auto& g : c.groups)
        if (!valid_group(g))
            return fail(err, "--group " + g + ": letters, digits, - and _ (at most 32)", kRefused);

    auto db = open_database(c.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    storage::SqliteRightsStore store(**db);
    if (c.user.empty() && changes_anything(c))
        return fail(err, "which user? user rights EXT [options]", kRefused);
    if (c.premium && c.no_premium) return fail(err, "--premium and --no-premium together", kRefused);
    if (c.user.empty()) {
        auto all = store.load_all();
        if (!all) return fail(err, all.error(), kStoreError);
        if (all->empty()) {
            out << "no user has rights of their own: every user has the server's defaults\n";
            return kDone;
        }
        std::vector<std::vector<std::string>> rows{{"USER", "CLASS", "PREMIUM", "ALLOWED PREFIXES", "GROUPS",
                                                    "CONCURRENT", "PER MIN", "PER HOUR", "INTL MIN/DAY",
                                                    "EXTERNAL"}};
        for (const auto& r : *all)
            rows.push_back({r.user, r.call_class.empty() ? "default" : r.call_class, r.premium ? "yes" : "no",
                            r.allowed_prefixes.empty() ? "-" : storage::join_list(r.allowed_prefixes),
                            r.groups.empty() ? "-" : storage::join_list(r.groups),
                            limit_text(r.max_concurrent), limit_text(r.per_minute), limit_text(r.per_hour),
                            limit_text(r.intl_minutes), r.suspended ? "suspended" : "allowed"});
        print_table(out, rows);
        return kDone;
    }
    auto exists = user_exists(**db, c.user);
    if (!exists) return fail(err, exists.error(), kStoreError);
    if (!*exists) return fail(err, "no such user " + c.user, kRefused);
    auto found = store.find(c.user);
    if (!found) return fail(err, found.error(), kStoreError);
    storage::RightsRecord r = found->value_or(storage::RightsRecord{});
    r.user = c.user;
    if (!changes_anything(c)) {
        show(out, r);
        return kDone;
    }
    if (!c.call_class.empty()) r.call_class = cls.value_or("");
    if (c.premium) r.premium = true;
    if (c.no_premium) r.premium = false;
    if (c.clear_prefixes) r.allowed_prefixes.clear();
    for (auto& p : prefixes)
        if (std::find(r.allowed_prefixes.begin(), r.allowed_prefixes.end(), p) == r.allowed_prefixes.end())
            r.allowed_prefixes.push_back(p);
    if (c.clear_groups) r.groups.clear();
    for (const auto& g : c.groups)
        if (std::find(r.groups.begin(), r.groups.end(), g) == r.groups.end()) r.groups.push_back(g);
    if (c.default_limits) r.max_concurrent = r.per_minute = r.per_hour = r.intl_minutes = -1;
    if (c.max_concurrent) r.max_concurrent = *c.max_concurrent;
    if (c.per_minute) r.per_minute = *c.per_minute;
    if (c.per_hour) r.per_hour = *c.per_hour;
    if (c.intl_minutes) r.intl_minutes = *c.intl_minutes;
    if (auto done = store.put(r); !done) return fail(err, done.error(), kStoreError);
    show(out, r);
    return kDone;
}

int suspend(const RightsCommand& c, std::int64_t now_ms, std::ostream& out, std::ostream& err) {
    const bool on = c.action == Action::Suspend;
    auto db = open_database(c.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    auto exists = user_exists(**db, c.user);
    if (!exists) return fail(err, exists.error(), kStoreError);
    if (!*exists) return fail(err, "no such user " + c.user, kRefused);
    storage::SqliteRightsStore store(**db);
    const std::string reason = c.reason.empty() ? "by the administrator" : c.reason;
    auto changed = store.set_suspended(c.user, on, reason, now_ms / 1000);
    if (!changed) return fail(err, changed.error(), kStoreError);
    if (!*changed) {
        out << "user " << c.user << ": external calls " << (on ? "already suspended" : "not suspended")
            << "\n";
        return kDone;
    }
    storage::FraudEvent e;
    e.time_ms = now_ms;
    e.user = c.user;
    e.kind = on ? "suspended" : "unsuspended";
    e.detail = on ? reason : "";
    e.action = on ? "suspended by the administrator" : "lifted by the administrator";
    if (auto added = store.add_event(e); !added) return fail(err, added.error(), kStoreError);
    out << "user " << c.user << ": external calls " << (on ? "suspended" : "allowed again") << "\n";
    return kDone;
}

int alerts(const RightsCommand& c, std::int64_t now_ms, std::ostream& out, std::ostream& err) {
    std::int64_t since = 0;
    if (!c.since.empty()) {
        auto parsed = parse_since(c.since, now_ms);
        if (!parsed) return fail(err, "--since " + c.since + ": " + parsed.error(), kRefused);
        since = *parsed;
    }
    auto db = open_database(c.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    auto events = storage::SqliteRightsStore(**db).events(c.user, since, c.limit);
    if (!events) return fail(err, events.error(), kStoreError);
    if (events->empty()) {
        out << "no alerts\n";
        return kDone;
    }
    std::vector<std::vector<std::string>> rows{{"TIME", "USER", "KIND", "DETAIL", "ACTION"}};
    for (const auto& e : *events) {
        const std::time_t t = static_cast<std::time_t>(e.time_ms / 1000);
        std::tm tm{};
        localtime_r(&t, &tm);
        char text[32];
        std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
        rows.push_back(
            {text, e.user, e.kind, e.detail.empty() ? "-" : e.detail, e.action.empty() ? "-" : e.action});
    }
    print_table(out, rows);
    return kDone;
}

void add_data_dir(CLI::App& sub, RightsCommand& command) {
    sub.add_option("--data-dir", command.data_dir, "Folder of the server's data (default ./var)")
        ->type_name("DIR");
}

}  // namespace

void add_rights_commands(CLI::App& user, RightsCommand& command) {
    auto* rights = user.add_subcommand(
        "rights",
        "Show or change a user's calling rights: `user rights EXT` shows them, options change them; without "
        "EXT every user with rights of their own is listed. The server's defaults (--default-class, [limits] "
        "in the config) apply to everything not set here.");
    rights->add_option("EXT", command.user, "The user");
    rights
        ->add_option("--class", command.call_class,
                     "Class of service: internal (no external calls), local, national, international, or "
                     "default (the server's --default-class)")
        ->type_name("CLASS");
    rights->add_flag("--premium", command.premium, "Allow premium-rate numbers");
    rights->add_flag("--no-premium", command.no_premium, "No longer allow premium-rate numbers");
    rights
        ->add_option("--allow-prefix", command.allow_prefixes,
                     "A high-risk destination prefix this user may call anyway, such as +881 (repeatable)")
        ->type_name("PREFIX");
    rights->add_flag("--no-allowed-prefixes", command.clear_prefixes, "Forget the user's allowed prefixes");
    rights
        ->add_option("--group", command.groups,
                     "Put the user in a group, such as the after-hours group of --after-hours-group "
                     "(repeatable)")
        ->type_name("NAME");
    rights->add_flag("--no-groups", command.clear_groups, "Take the user out of every group");
    rights
        ->add_option("--max-concurrent", command.max_concurrent,
                     "External calls at once (0: no limit, -1: the server's default)")
        ->check(CLI::Range(-1, 100000))
        ->type_name("N");
    rights
        ->add_option("--max-per-minute", command.per_minute,
                     "External calls per minute (0: no limit, -1: default)")
        ->check(CLI::Range(-1, 100000))
        ->type_name("N");
    rights
        ->add_option("--max-per-hour", command.per_hour, "External calls per hour (0: no limit, -1: default)")
        ->check(CLI::Range(-1, 1000000))
        ->type_name("N");
    rights
        ->add_option("--max-international-minutes", command.intl_minutes,
                     "Minutes of international calls per day (0: no limit, -1: default)")
        ->check(CLI::Range(-1, 1440 * 100))
        ->type_name("N");
    rights->add_flag("--default-limits", command.default_limits,
                     "Give the user the server's default limits again");
    add_data_dir(*rights, command);
    rights->callback([&command] { command.action = Action::Rights; });

    auto* suspend = user.add_subcommand(
        "suspend",
        "Suspend a user's external calls (calls inside the company go on) until `user unsuspend`.");
    suspend->add_option("EXT", command.user, "The user")->required();
    suspend->add_option("--reason", command.reason, "Why (shown by `user rights` and `user alerts`)");
    add_data_dir(*suspend, command);
    suspend->callback([&command] { command.action = Action::Suspend; });

    auto* unsuspend = user.add_subcommand(
        "unsuspend",
        "Allow a user's external calls again after a suspension (by the toll-fraud detector or `user "
        "suspend`). Look at `user alerts EXT` and `cdr --user EXT` first.");
    unsuspend->add_option("EXT", command.user, "The user")->required();
    add_data_dir(*unsuspend, command);
    unsuspend->callback([&command] { command.action = Action::Unsuspend; });

    auto* alerts = user.add_subcommand("alerts",
                                       "The toll-fraud detector's alerts and the suspensions, newest first: "
                                       "time, user, kind, detail, action.");
    alerts->add_option("EXT", command.user, "Only this user's");
    alerts->add_option("--since", command.since, "Only since T (as `cdr --since`: 2026-12-01, 1h, 2d ...)")
        ->type_name("T");
    alerts->add_option("--limit", command.limit, "At most N (default 100, 0: all)")->type_name("N");
    add_data_dir(*alerts, command);
    alerts->callback([&command] { command.action = Action::Alerts; });
}

int run_rights_command(const RightsCommand& command, std::int64_t now_ms, std::ostream& out,
                       std::ostream& err) {
    switch (command.action) {
        case Action::Rights:
            return rights(command, out, err);
        case Action::Suspend:
        case Action::Unsuspend:
            return suspend(command, now_ms, out, err);
        case Action::Alerts:
            return alerts(command, now_ms, out, err);
        case Action::None:
            break;
    }
    return kStoreError;
}

}  // namespace sw::app
