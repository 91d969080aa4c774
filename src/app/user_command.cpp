#include "app/user_command.hpp"

#include <CLI/CLI.hpp>
#include <fstream>
#include <istream>
#include <map>
#include <ostream>

#include "app/store_setup.hpp"
#include "app/text_table.hpp"
#include "app/user_import.hpp"
#include "auth/clock_random.hpp"
#include "auth/digest.hpp"
#include "auth/password_policy.hpp"
#include "common/text.hpp"
#include "storage/sqlite/alias_store.hpp"
#include "storage/sqlite/rights_store.hpp"
#include "storage/sqlite/user_store.hpp"
#include "storage/user_rules.hpp"

namespace sw::app {

namespace {

constexpr int kDone = 0;
constexpr int kRefused = 1;
constexpr int kStoreError = 2;
// Bad lines printed before the rest is only counted: enough to see a pattern, not a screenful per line.
constexpr std::size_t kMaxReportedLines = 20;

using Action = UserCommand::Action;

void add_store_options(CLI::App& sub, UserCommand& command) {
    sub.add_option("--data-dir", command.data_dir,
                   "Folder of the server's data, with sipwarden.db (default ./var)")
        ->type_name("DIR");
    sub.add_option("--domain", command.domains,
                   "A SIP domain of the server (repeatable); a new store takes the first as its realm unless "
                   "--realm is given")
        ->type_name("NAME");
    sub.add_option(
           "--realm", command.realm,
           "Digest realm of a new store (default: the first --domain, else \"sipwarden\"); an existing "
           "store keeps its own, and a different --realm is refused")
        ->type_name("NAME");
}

// The HA1 of every algorithm the user may use (RFC 7616 3.4.2, RFC 8760): SHA-256 and SHA-512-256 always,
// MD5 only when allowed (old phones know nothing else).
void set_credentials(auth::UserRecord& user, std::string_view realm, std::string_view password) {
    user.ha1_sha256 = auth::compute_ha1(auth::Algorithm::Sha256, user.name, realm, password);
    user.ha1_sha512_256 = auth::compute_ha1(auth::Algorithm::Sha512_256, user.name, realm, password);
    user.ha1_md5 =
        user.md5_allowed ? auth::compute_ha1(auth::Algorithm::Md5, user.name, realm, password) : "";
}

struct NewPassword {
    std::string text;
    bool generated = false;  // generated passwords are shown once; given ones never
};

// One line from `in` (without its line end) with --password-stdin, refused when weak; else a generated one.
std::optional<NewPassword> obtain_password(const UserCommand& command, std::string_view name,
                                           std::string_view display_name, std::istream& in, std::ostream& err,
                                           auth::Random& random) {
    if (!command.password_stdin)
        return NewPassword{auth::generate_password(random, name, display_name), true};
    std::string line;
    if (!std::getline(in, line)) {
        err << "sipwarden: no password on stdin\n";
        return std::nullopt;
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
        line.pop_back();
    if (auto weak = auth::weak_password_reason(line, name, display_name)) {
        err << "sipwarden: password refused: " << *weak << "\n";
        return std::nullopt;
    }
    return NewPassword{std::move(line), false};
}

int refuse(std::ostream& err, const std::string& why) {
    err << "sipwarden: " << why << "\n";
    return kRefused;
}

int store_error(std::ostream& err, const std::string& why) {
    err << "sipwarden: " << why << "\n";
    return kStoreError;
}

int add_user(const UserCommand& command, std::istream& in, std::ostream& out, std::ostream& err,
             auth::Random& random) {
    if (auto bad = storage::check_user_name(command.name))
        return refuse(err, "user " + command.name + ": " + *bad);
    if (auto bad = storage::check_display_name(command.display_name)) return refuse(err, "--name: " + *bad);
    const auto password = obtain_password(command, command.name, command.display_name, in, err, random);
    if (!password) return kRefused;

    auto db = open_database(command.data_dir, command.realm);
    if (!db) return store_error(err, db.error());
    storage::SqliteUserStore users(**db);
    auto existing = users.find(command.name);
    if (!existing) return store_error(err, existing.error());
    if (*existing) return refuse(err, "user " + command.name + " exists");
    auto alias_of = storage::SqliteAliasStore(**db).user_of(command.name);
    if (!alias_of) return store_error(err, alias_of.error());
    if (*alias_of) return refuse(err, "user " + command.name + ": is an alias of " + **alias_of);
    auto realm = settle_realm(**db, command.domains, command.realm);
    if (!realm) return store_error(err, realm.error());

    auth::UserRecord user;
    user.name = command.name;
    user.display_name = command.display_name;
    user.md5_allowed = !command.no_md5;
    set_credentials(user, *realm, password->text);
    if (auto added = users.add(user); !added) return store_error(err, added.error());
    out << "added user " << user.name << " (realm " << *realm << (user.md5_allowed ? "" : ", no MD5")
        << ")\n";
    if (password->generated) out << "password for " << user.name << ": " << password->text << "\n";
    return kDone;
}

int change_password(const UserCommand& command, std::istream& in, std::ostream& out, std::ostream& err,
                    auth::Random& random) {
    auto db = open_database(command.data_dir, command.realm);
    if (!db) return store_error(err, db.error());
    storage::SqliteUserStore users(**db);
    auto found = users.find(command.name);
    if (!found) return store_error(err, found.error());
    if (!*found) return refuse(err, "no such user " + command.name);
    auth::UserRecord user = std::move(**found);
    auto realm = settle_realm(**db, command.domains, command.realm);
    if (!realm) return store_error(err, realm.error());

    const auto password = obtain_password(command, user.name, user.display_name, in, err, random);
    if (!password) return kRefused;
    const std::string old_sha256 = user.ha1_sha256;
    set_credentials(user, *realm, password->text);
    if (!old_sha256.empty() && auth::constant_time_equal(old_sha256, user.ha1_sha256))
        return refuse(err, "the new password is the current one");
    auto updated = users.update_credentials(user.name, user.ha1_md5, user.ha1_sha256, user.ha1_sha512_256,
                                            user.md5_allowed);
    if (!updated) return store_error(err, updated.error());
    out << "changed the password of user " << user.name << "\n";
    if (password->generated) out << "password for " << user.name << ": " << password->text << "\n";
    return kDone;
}

// disable, enable, remove: one user by name; "no such user" is a refusal, anything else a store error.
int change_user(const UserCommand& command, std::ostream& out, std::ostream& err) {
    auto db = open_database(command.data_dir, command.realm);
    if (!db) return store_error(err, db.error());
    storage::SqliteUserStore users(**db);
    auto found = users.find(command.name);
    if (!found) return store_error(err, found.error());
    if (!*found) return refuse(err, "no such user " + command.name);
    const bool remove = command.action == Action::Remove;
    const bool enable = command.action == Action::Enable;
    auto done = remove ? users.remove(command.name) : users.set_enabled(command.name, enable);
    if (!done) return store_error(err, done.error());
    // A user added again later under the same name starts with the defaults, not the old rights.
    if (remove)
        if (auto gone = storage::SqliteRightsStore(**db).remove(command.name); !gone)
            return store_error(err, gone.error());
    out << (remove ? "removed" : enable ? "enabled" : "disabled") << " user " << command.name << "\n";
    return kDone;
}

// `user alias EXT NAME`, `user unalias NAME`, `user aliases`.
int alias_command(const UserCommand& command, std::ostream& out, std::ostream& err) {
    auto db = open_database(command.data_dir, command.realm);
    if (!db) return store_error(err, db.error());
    storage::SqliteAliasStore aliases(**db);
    if (command.action == Action::Alias) {
        if (auto done = aliases.add(command.name, command.alias); !done) return refuse(err, done.error());
        out << "alias " << command.alias << " of user " << command.name << "\n";
        return kDone;
    }
    if (command.action == Action::Unalias) {
        if (auto done = aliases.remove(command.alias); !done) return refuse(err, done.error());
        out << "removed alias " << command.alias << "\n";
        return kDone;
    }
    auto all = aliases.load_all();
    if (!all) return store_error(err, all.error());
    if (all->empty()) {
        out << "no aliases\n";
        return kDone;
    }
    std::vector<std::vector<std::string>> rows{{"ALIAS", "USER"}};
    for (const auto& a : *all)
        rows.push_back({a.alias, a.user});
    print_table(out, rows);
    return kDone;
}

int list_users(const UserCommand& command, std::ostream& out, std::ostream& err) {
    auto db = open_database(command.data_dir, command.realm);
    if (!db) return store_error(err, db.error());
    storage::SqliteUserStore users(**db);
    auto all = users.list();
    if (!all) return store_error(err, all.error());
    if (all->empty()) {
        out << "no users\n";
        return kDone;
    }
    // Names and flags only: the HA1s are password equivalents and never leave the store.
    std::vector<std::vector<std::string>> rows;
    rows.reserve(all->size() + 1);
    rows.push_back({"NAME", "DISPLAY NAME", "ENABLED", "MD5"});
    for (const auto& user : *all) {
        rows.push_back({user.name, user.display_name.empty() ? "-" : user.display_name,
                        user.enabled ? "yes" : "no", user.md5_allowed ? "yes" : "no"});
    }
    print_table(out, rows);
    return kDone;
}

int import_users(const UserCommand& command, std::ostream& out, std::ostream& err) {
    std::ifstream file(command.file, std::ios::binary);
    if (!file) return store_error(err, "cannot read " + command.file);

    // Every line is checked before anything is written, and every bad line is reported (up to a limit), so
    // one run shows what to fix; the file is imported whole or not at all.
    std::vector<ImportLine> entries;
    std::size_t bad_lines = 0;
    auto report = [&](std::size_t line, const std::string& why) {
        if (++bad_lines <= kMaxReportedLines) err << command.file << ":" << line << ": " << why << "\n";
    };
    std::map<std::string, std::size_t, std::less<>> first_line;  // name -> line it first appeared on
    std::string text;
    for (std::size_t number = 1; std::getline(file, text); ++number) {
        // A UTF-8 byte order mark, as spreadsheets write it, is not part of the first name.
        if (number == 1 && text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
        auto parsed = parse_import_line(text, number);
        if (!parsed) {
            report(number, parsed.error());
            continue;
        }
        if (!*parsed) continue;
        ImportLine& entry = **parsed;
        if (auto bad = storage::check_user_name(entry.name)) {
            report(number, "user " + entry.name + ": " + *bad);
            continue;
        }
        if (auto bad = storage::check_display_name(entry.display_name)) {
            report(number, "user " + entry.name + ": " + *bad);
            continue;
        }
        if (auto weak = auth::weak_password_reason(entry.password, entry.name, entry.display_name)) {
            report(number, "user " + entry.name + ": password refused: " + *weak);
            continue;
        }
        if (auto [it, fresh] = first_line.emplace(entry.name, number); !fresh) {
            report(number, "user " + entry.name + " is also on line " + std::to_string(it->second));
            continue;
        }
        entries.push_back(std::move(entry));
    }
    if (file.bad()) return store_error(err, "reading " + command.file + " failed");

    auto db = open_database(command.data_dir, command.realm);
    if (!db) return store_error(err, db.error());
    storage::SqliteUserStore users(**db);
    if (!command.replace) {
        auto existing = users.list();
        if (!existing) return store_error(err, existing.error());
        for (const auto& user : *existing) {
            if (auto it = first_line.find(user.name); it != first_line.end())
                report(it->second, "user " + user.name + " exists (--replace to overwrite)");
        }
    }
    if (bad_lines > 0) {
        if (bad_lines > kMaxReportedLines)
            err << command.file << ": " << bad_lines - kMaxReportedLines << " more bad lines\n";
        err << "sipwarden: nothing imported: " << bad_lines << " bad line" << (bad_lines == 1 ? "" : "s")
            << " in " << command.file << "\n";
        return kRefused;
    }

    auto realm = settle_realm(**db, command.domains, command.realm);
    if (!realm) return store_error(err, realm.error());
    std::vector<auth::UserRecord> records;
    records.reserve(entries.size());
    for (const auto& entry : entries) {
        auth::UserRecord user;
        user.name = entry.name;
        user.display_name = entry.display_name;
        user.md5_allowed = !command.no_md5;
        set_credentials(user, *realm, entry.password);
        records.push_back(std::move(user));
    }
    auto imported = users.import(records, command.replace);
    if (!imported) {
        // Another process may have added one of the names since the check above. The store then refuses
        // the whole import as "record N: ...", N counting from 1 in `records`, so in `entries` too.
        const std::string& why = imported.error();
        constexpr std::string_view kRecord = "record ";
        std::size_t n = 0;
        std::size_t i = kRecord.size();
        for (; why.starts_with(kRecord) && i < why.size() && is_digit(why[i]); ++i)
            n = n * 10 + static_cast<std::size_t>(why[i] - '0');
        if (n == 0 || n > entries.size()) return store_error(err, "nothing imported: " + why);
        err << command.file << ":" << entries[n - 1].line << why.substr(i) << "\n";
        return refuse(err, "nothing imported");
    }
    out << "imported " << records.size() << " users";
    if (imported->replaced > 0)
        out << " (" << imported->added << " new, " << imported->replaced << " replaced)";
    out << "\n";
    return kDone;
}

}  // namespace

CLI::App* add_user_command(CLI::App& app, UserCommand& command) {
    auto* user = app.add_subcommand("user",
                                    "Manage the SIP accounts in DATA_DIR/sipwarden.db. Exit status: 0 done, "
                                    "1 refused (bad input, weak password, no such user), 2 usage or "
                                    "storage error.");
    user->require_subcommand(1);

    auto* add = user->add_subcommand(
        "add",
        "Add a user. Without --password-stdin a strong password is generated and printed once as "
        "`password for EXT: PASSWORD`; only its digest hashes are stored.");
    add->add_option("EXT", command.name,
                    "Extension or user name: the digest username and the user part of its address")
        ->required();
    add->add_option("--name", command.display_name, "Display name, such as \"Alice Smith\"");
    add->add_flag("--password-stdin", command.password_stdin,
                  "Read the password from the first line of stdin instead of generating one; weak passwords "
                  "are refused");
    add->add_flag("--no-md5", command.no_md5,
                  "Store no MD5 hash: the user must authenticate with SHA-256 or SHA-512-256 (RFC 8760)");
    add_store_options(*add, command);
    add->callback([&command] { command.action = Action::Add; });

    auto* list = user->add_subcommand("list", "List the users: name, display name, enabled, MD5 allowed.");
    add_store_options(*list, command);
    list->callback([&command] { command.action = Action::List; });

    auto* passwd = user->add_subcommand(
        "passwd",
        "Set a new password for a user (generated and printed once unless --password-stdin); MD5 stays as it "
        "was allowed or not.");
    passwd->add_option("EXT", command.name, "The user")->required();
    passwd->add_flag("--password-stdin", command.password_stdin,
                     "Read the password from the first line of stdin instead of generating one");
    add_store_options(*passwd, command);
    passwd->callback([&command] { command.action = Action::Passwd; });

    struct Simple {
        const char* name;
        const char* help;
        Action action;
    };
    for (const Simple& s :
         {Simple{"disable", "Refuse the user's authentication until enabled again.", Action::Disable},
          Simple{"enable", "Let a disabled user authenticate again.", Action::Enable},
          Simple{"remove", "Delete a user and the user's registrations.", Action::Remove}}) {
        auto* sub = user->add_subcommand(s.name, s.help);
        sub->add_option("EXT", command.name, "The user")->required();
        add_store_options(*sub, command);
        sub->callback([&command, action = s.action] { command.action = action; });
    }

    auto* import = user->add_subcommand(
        "import",
        "Add users from a CSV file of lines `extension,password[,display name]` (empty lines and lines "
        "starting with # are skipped; a display name may be in double quotes). All or nothing: a bad line "
        "is reported as FILE:LINE and nothing is stored.");
    import->add_option("FILE", command.file, "The CSV file")->required()->check(CLI::ExistingFile);
    import->add_flag(
        "--replace", command.replace,
        "Overwrite users that exist already (display name, password, MD5 setting; enabled again)");
    import->add_flag("--no-md5", command.no_md5, "Store no MD5 hash for the imported users");
    add_store_options(*import, command);
    import->callback([&command] { command.action = Action::Import;
});

auto* alias = user->add_subcommand(
    "alias", "Give user EXT another name: calls to NAME reach EXT, and EXT may present NAME in From.");
alias->add_option("EXT", command.name, "The user")->required();
alias->add_option("NAME", command.alias, "The alias, such as sales or 9")->required();
add_store_options(*alias, command);
alias->callback([&command] { command.action = Action::Alias; });
auto* unalias = user->add_subcommand("unalias", "Remove an alias.");
unalias->add_option("NAME", command.alias, "The alias")->required();
add_store_options(*unalias, command);
unalias->callback([&command] { command.action = Action::Unalias; });
auto* aliases = user->add_subcommand("aliases", "List the aliases: alias, user.");
add_store_options(*aliases, command);
aliases->callback([&command] { command.action = Action::Aliases; });
return user;
}  // namespace sw::app

int run_user_command(const UserCommand& command, std::istream& in, std::ostream& out, std::ostream& err,
                     auth::Random& random) {
    switch (command.action) {
        case Action::Add:
            return add_user(command, in, out, err, random);
        case Action::Passwd:
            return change_password(command, in, out, err, random);
        case Action::List:
            return list_users(command, out, err);
        case Action::Disable:
        case Action::Enable:
        case Action::Remove:
            return change_user(command, out, err);
        case Action::Import:
            return import_users(command, out, err);
        case Action::Alias:
        case Action::Unalias:
        case Action::Aliases:
            return alias_command(command, out, err);
        case Action::None:
            break;
    }
    err << "sipwarden: no user command\n";
    return kStoreError;
}

}  // namespace sw::app
