#include "app/ban_command.hpp"

#include <CLI/CLI.hpp>
#include <ctime>
#include <ostream>

#include "app/store_setup.hpp"
#include "app/text_table.hpp"
#include "security/access_list.hpp"
#include "security/address_key.hpp"
#include "storage/sqlite/acl_store.hpp"
#include "storage/sqlite/ban_store.hpp"

namespace sw::app {

namespace {

constexpr int kDone = 0;
constexpr int kRefused = 1;
constexpr int kStoreError = 2;
constexpr std::int64_t kMaxBanSeconds = 10LL * 365 * 86400;

using Action = BanCommand::Action;

int fail(std::ostream& err, const std::string& why, int status) {
    err << "sipwarden: " << why << "\n";
    return status;
}

// "2025-06-01 12:00:00Z"
std::string utc_time(std::int64_t t) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (::gmtime_r(&tt, &tm) == nullptr) return std::to_string(t);
    char buf[32] = {};
    if (std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm) == 0) return std::to_string(t);
    return buf;
}

// "59m 58s", "2h 0m 5s", "3d 4h": the time left, precise to the second up to a day.
std::string duration(std::int64_t s) {
    const std::int64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
    if (d > 0) return std::to_string(d) + "d " + std::to_string(h) + "h";
    if (h > 0) return std::to_string(h) + "h " + std::to_string(m) + "m " + std::to_string(sec) + "s";
    if (m > 0) return std::to_string(m) + "m " + std::to_string(sec) + "s";
    return std::to_string(sec) + "s";
}

// The address in its one text form, or a refusal naming it.
std::optional<std::string> address_from(const std::string& text, std::ostream& err) {
    const auto key = security::AddressKey::from_text(text);
    if (!key) {
        fail(err, text + ": not an IP address such as 192.0.2.7 or 2001:db8::1", kRefused);
        return std::nullopt;
    }
    return key->text();
}

int list_bans(const BanCommand& command, std::int64_t now, std::ostream& out, std::ostream& err) {
    auto db = open_database(command.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    auto bans = storage::SqliteBanStore(**db).load_all();
    if (!bans) return fail(err, bans.error(), kStoreError);
    if (bans->empty()) {
        out << "no bans\n";
        return kDone;
    }
    std::vector<std::vector<std::string>> rows{{"ADDRESS", "UNTIL", "EXPIRES", "COUNT", "REASON"}};
    for (const auto& b : *bans) {
        // The server prunes ended bans; until then they are shown as such, not as bans in force.
        rows.push_back({b.address, utc_time(b.until),
                        b.until > now ? "in " + duration(b.until - now) : "expired", std::to_string(b.count),
                        b.reason.empty() ? "-" : b.reason});
    }
    print_table(out, rows);
    return kDone;
}

int add_ban(const BanCommand& command, std::int64_t now, std::ostream& out, std::ostream& err) {
    const auto address = address_from(command.address, err);
    if (!address) return kRefused;
    if (command.reason.size() > storage::kMaxBanReason)
        return fail(err, "--reason: at most " + std::to_string(storage::kMaxBanReason) + " characters",
                    kRefused);
    auto db = open_database(command.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    const std::int64_t until = now + command.seconds;
    if (auto added = storage::SqliteBanStore(**db).add(*address, until, command.reason, now); !added)
        return fail(err, added.error(), kStoreError);
    out << "banned " << *address << " for " << duration(command.seconds) << " (until " << utc_time(until)
        << ")\n";
    // A ban of an exempt address is kept, but has no effect while the allow entry stands: say so.
    if (auto acl = storage::SqliteAclStore(**db).load_all(); acl) {
        const auto key = security::AddressKey::from_text(*address);
        if (key && security::AccessList::from_records(*acl).exempt(*key))
            out << "note: " << *address
                << " is in an allow network (sipwarden acl list): the server never bans it\n";
    }
    return kDone;
}

int remove_ban(const BanCommand& command, std::ostream& out, std::ostream& err) {
    const auto address = address_from(command.address, err);
    if (!address) return kRefused;
    auto db = open_database(command.data_dir);
    if (!db) return fail(err, db.error(), kStoreError);
    if (auto removed = storage::SqliteBanStore(**db).remove(*address); !removed) {
        const bool refusal = removed.error().rfind("no ban for ", 0) == 0;
        return fail(err, removed.error(), refusal ? kRefused : kStoreError);
    }
    out << "removed the ban of " << *address << "\n";
    return kDone;
}

void add_data_dir(CLI::App& sub, BanCommand& command) {
    sub.add_option("--data-dir", command.data_dir, "Folder of the server's data (default ./var)")
        ->type_name("DIR");
}

}  // namespace

CLI::App* add_ban_command(CLI::App& app, BanCommand& command) {
    auto* sub = app.add_subcommand(
        "ban",
        "Banned addresses: everything from them is dropped unanswered until the ban ends. The server bans "
        "by itself after failed passwords, scanner user agents and floods; bans survive a restart. Changes "
        "reach a running server within a second.");
    sub->require_subcommand(1);

    auto* list = sub->add_subcommand("list", "Every ban: address, end (UTC), time left, how often, reason");
    add_data_dir(*list, command);
    list->callback([&] { command.action = Action::List; });

    auto* add = sub->add_subcommand(
        "add",
        "Ban an address: ban add ADDRESS [--for SECONDS] [--reason TEXT]. Banning it again sets the new end");
    add->add_option("ADDRESS", command.address, "An IPv4 or IPv6 address, e.g. 192.0.2.7 or 2001:db8::1")
        ->required();
    add->add_option("--for", command.seconds, "How long the ban lasts, in seconds (default 3600)")
        ->check(CLI::Range(std::int64_t{1}, kMaxBanSeconds))
        ->type_name("SECONDS");
    add->add_option("--reason", command.reason, "Why, shown by ban list (default \"manual\")")
        ->type_name("TEXT");
    add_data_dir(*add, command);
    add->callback([&] { command.action = Action::Add; });

    auto* remove = sub->add_subcommand("remove", "Lift a ban: ban remove ADDRESS");
    remove->add_option("ADDRESS", command.address, "The banned address, as ban list shows it")->required();
    add_data_dir(*remove, command);
    remove->callback([&] { command.action = Action::Remove; });
    return sub;
}

int run_ban_command(const BanCommand& command, std::int64_t now, std::ostream& out, std::ostream& err) {
    switch (command.action) {
        case Action::List:
            return list_bans(command, now, out, err);
        case Action::Add:
            return add_ban(command, now, out, err);
        case Action::Remove:
            return remove_ban(command, out, err);
    }
    return kStoreError;
}

}  // namespace sw::app
