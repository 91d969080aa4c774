#include "app/trunk_command.hpp"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <istream>
#include <map>
#include <optional>
#include <ostream>

#include <openssl/crypto.h>

#include "app/store_setup.hpp"
#include "app/text_table.hpp"
#include "app/trunk_setup.hpp"
#include "b2bua/dial_plan.hpp"
#include "b2bua/trunk.hpp"
#include "common/text.hpp"
#include "storage/sqlite/trunk_store.hpp"

namespace sw::app {

namespace {

constexpr int kDone = 0;
constexpr int kRefused = 1;
constexpr int kStoreError = 2;

using Action = TrunkCommand::Action;

int refuse(std::ostream& err, const std::string& why) {
    err << "sipwarden: " << why << "\n";
    return kRefused;
}

int store_error(std::ostream& err, const std::string& why) {
    err << "sipwarden: " << why << "\n";
    return kStoreError;
}

bool is_ip_literal(const std::string& text, int family) {
    unsigned char buf[16];
    return ::inet_pton(family, text.c_str(), buf) == 1;
}

// RFC 1123 2.1 host names: labels of letters, digits and hyphens, not starting or ending with one.
bool valid_dns_name(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i <= name.size(); ++i) {
        if (i == name.size() || name[i] == '.') {
            if (label == 0 || label > 63 || name[i - 1] == '-') return false;
            label = 0;
            continue;
        }
        if (!is_alnum(name[i]) && name[i] != '-') return false;
        if (label == 0 && name[i] == '-') return false;
        ++label;
    }
    return true;
}

bool valid_host(const std::string& host) {
    return is_ip_literal(host, AF_INET) || is_ip_literal(host, AF_INET6) || valid_dns_name(host);
}

struct HostPort {
    std::string host;  // without brackets
    std::uint16_t port = 0;
};

// "host", "host:5060", "192.0.2.1:5080", "[2001:db8::1]:5060", "[2001:db8::1]" and, since there is no
// way to mistake it, a bare "2001:db8::1" (without a port).
std::optional<HostPort> parse_host_port(std::string_view text) {
    HostPort out;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        out.host = std::string(text.substr(1, close - 1));
        if (!is_ip_literal(out.host, AF_INET6)) return std::nullopt;
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            port = rest.substr(1);
            if (port.empty()) return std::nullopt;
        }
    } else if (std::count(text.begin(), text.end(), ':') > 1) {
        out.host = std::string(text);
        if (!is_ip_literal(out.host, AF_INET6)) return std::nullopt;
    } else {
        const auto colon = text.find(':');
        out.host = std::string(text.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = text.substr(colon + 1);
            if (port.empty()) return std::nullopt;
        }
        if (!valid_host(out.host)) return std::nullopt;
    }
    if (!port.empty()) {
        const auto p = parse_uint(port, 65535);
        if (!p || *p == 0) return std::nullopt;
        out.port = static_cast<std::uint16_t>(*p);
    }
    return out;
}

// Request-URI parameters as RFC 3261 25.1 spells them (paramchar, '=' and ';' between them): nothing that
// could end the URI or the header it sits in.
bool valid_uri_params(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text)
        if (!is_alnum(c) && std::string_view("-_.!~*'()%[]/:&+$=;").find(c) == std::string_view::npos)
            return false;
    return true;
}

std::string_view transport_text(transport::Protocol p) {
    return p == transport::Protocol::Tls ? "tls" : p == transport::Protocol::Tcp ? "tcp" : "udp";
}

std::string host_port_text(const b2bua::Trunk& t) {
    const bool v6 = t.host.find(':') != std::string::npos;
    return (v6 ? "[" + t.host + "]" : t.host) + ":" + std::to_string(t.effective_port());
}

// The trunk as validated options, or the reason it is refused.
sw::Result<b2bua::Trunk, std::string> trunk_from(const TrunkCommand& c) {
    b2bua::Trunk t;
    if (!b2bua::valid_trunk_name(c.name))
        return sw::unexpected("trunk " + c.name + ": a trunk name has 1 to 32 letters, digits, _ or -");
    t.name = c.name;
    const auto hp = parse_host_port(c.host);
    if (!hp)
        return sw::unexpected("--host " + c.host +
                              ": expected HOST[:PORT] (a DNS name or an IP address, IPv6 in brackets)");
    t.host = hp->host;
    t.port = hp->port;
    t.transport = c.transport == "tls"   ? transport::Protocol::Tls
                  : c.transport == "tcp" ? transport::Protocol::Tcp
                                         : transport::Protocol::Udp;
    t.username = c.username;
    // The digest username travels in a quoted string (RFC 7616 3.4): no quotes, backslashes or controls.
    for (char ch : t.username)
        if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
            return sw::unexpected("--username: quotes, backslashes and control characters are not allowed");
    if (c.register_with && t.username.empty()) return sw::unexpected("--register needs --username");
    if (c.register_with && !c.password_stdin)
        return sw::unexpected("--register needs a password (--password-stdin)");
    if (c.password_stdin && t.username.empty()) return sw::unexpected("--password-stdin needs --username");
    t.register_with = c.register_with;
    t.expires = c.expires;
    if (!c.from_domain.empty() && !valid_host(c.from_domain))
        return sw::unexpected("--from-domain " + c.from_domain + ": not a DNS name or an IP address");
    t.from_domain = c.from_domain;
    for (const auto& a : c.addresses) {
        auto cidr = sw::Cidr::parse(a);
        if (!cidr)
            return sw::unexpected("--address " + a +
                                  ": not an address or a network such as 192.0.2.0/24 or 2001:db8::/32");
        t.addresses.push_back(*cidr);
    }
    t.tel_uri = c.tel_uri;
    std::string_view params = c.ruri_params;
    if (!params.empty() && params.front() == ';') params.remove_prefix(1);
    if (!c.ruri_params.empty() && !valid_uri_params(params))
        return sw::unexpected("--ruri-params " + c.ruri_params + ": not URI parameters such as user=phone");
    t.ruri_params = std::string(params);
    t.no_100rel = c.no_100rel;
    t.srtp = c.srtp;
    if (!c.caller_id.empty()) {
        t.caller_id = b2bua::normalize_number(c.caller_id);
        if (t.caller_id.empty())
            return sw::unexpected("--caller-id " + c.caller_id + ": not a phone number such as +4930123456");
    }
    return t;
}

// The first line of stdin, without its line end.
std::optional<std::string> read_password(std::istream& in) {
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
        line.pop_back();
    if (line.empty()) return std::nullopt;
    return line;
}

int add_trunk(const TrunkCommand& command, std::istream& in, std::ostream& out, std::ostream& err,
              auth::Random& random) {
    auto trunk = trunk_from(command);
    if (!trunk) return refuse(err, trunk.error());
    std::optional<std::string> password;
    if (command.password_stdin) {
        password = read_password(in);
        if (!password) return refuse(err, "no password on stdin");
    }
    auto db = open_database(command.data_dir);
    if (!db) return store_error(err, db.error());
    if (password) {
        auto key = load_or_create_secret_key(secret_key_path(command.data_dir), random);
        if (!key) return store_error(err, key.error());
        trunk->secret = auth::seal_secret(*key, *password, random);
        OPENSSL_cleanse(key->data(), key->size());
        OPENSSL_cleanse(password->data(), password->size());
        if (trunk->secret.empty())
            return store_error(err, "trunk " + trunk->name + ": sealing the password failed");
    }
    storage::SqliteTrunkStore store(**db);
    if (auto added = store.add(*trunk); !added) {
        const bool taken = added.error() == "trunk " + trunk->name + " exists";
        return taken ? refuse(err, added.error()) : store_error(err, added.error());
    }
    out << "added trunk " << trunk->name << " (" << transport_text(trunk->transport) << ":"
        << host_port_text(*trunk)
        << (trunk->register_with ? ", registering as " + trunk->username : std::string()) << ")\n";
    return kDone;
}

std::string options_text(const b2bua::Trunk& t) {
    std::vector<std::string> parts;
    if (!t.username.empty()) parts.push_back("user=" + t.username);
    if (t.register_with) parts.push_back("expires=" + std::to_string(t.expires));
    if (!t.from_domain.empty()) parts.push_back("from-domain=" + t.from_domain);
    if (t.tel_uri) parts.push_back("tel-uri");
    if (!t.ruri_params.empty()) parts.push_back("ruri=" + t.ruri_params);
    if (t.no_100rel) parts.push_back("no-100rel");
    if (!t.srtp.empty()) parts.push_back("srtp=" + t.srtp);
    if (!t.addresses.empty()) {
        std::string list;
        // Always with the prefix, so that a single address reads as the network it is ("/32").
        for (const auto& a : t.addresses) {
            const std::string text = a.text();
            list += (list.empty() ? "" : ",") + text;
            if (text.find('/') == std::string::npos) list += "/" + std::to_string(a.prefix);
        }
        parts.push_back("addresses=" + list);
    }
    if (!t.caller_id.empty()) parts.push_back("caller-id=" + t.caller_id);
    std::string out;
    for (const auto& p : parts)
        out += (out.empty() ? "" : " ") + p;
    return out.empty() ? "-" : out;
}

int list_trunks(const TrunkCommand& command, std::int64_t now, std::ostream& out, std::ostream& err) {
    auto db = open_database(command.data_dir);
    if (!db) return store_error(err, db.error());
    storage::SqliteTrunkStore store(**db);
    auto trunks = store.load_all();
    if (!trunks) return store_error(err, trunks.error());
    auto statuses = store.load_status();
    if (!statuses) return store_error(err, statuses.error());
    if (trunks->empty()) {
        out << "no trunks\n";
        return kDone;
    }
    std::map<std::string, b2bua::TrunkStatus, std::less<>> by_name;
    for (auto& s : *statuses)
        by_name.emplace(s.name, std::move(s));
    std::vector<std::vector<std::string>> rows{
        {"NAME", "HOST", "TRANSPORT", "REGISTER", "STATE", "DETAIL", "OPTIONS"}};
    for (const auto& t : *trunks) {
        std::string state = "not registering";
        std::string detail = "-";
        if (t.register_with) {
            state = "-";
            if (auto it = by_name.find(t.name); it != by_name.end()) {
                state = it->second.state;
                if (!it->second.detail.empty()) detail = it->second.detail;
                if (state == "registered") {
                    const std::int64_t left = it->second.expires_at - now;
                    detail = left > 0 ? "expires in " + std::to_string(left) + "s"
                                      : "expired " + std::to_string(-left) + "s ago";
                }
            }
        }
        rows.push_back({t.name, host_port_text(t), std::string(transport_text(t.transport)),
                        t.register_with ? "yes" : "no", state, detail, options_text(t)});
    }
    print_table(out, rows);
    return kDone;
}

int remove_trunk(const TrunkCommand& command, std::ostream& out, std::ostream& err) {
    auto db = open_database(command.data_dir);
    if (!db) return store_error(err, db.error());
    if (auto removed = storage::SqliteTrunkStore(**db).remove(command.name); !removed) {
        const bool refused = removed.error().rfind("no such trunk", 0) == 0 ||
                             removed.error().rfind("routes use trunk", 0) == 0;
        return refused ? refuse(err, removed.error()) : store_error(err, removed.error());
    }
    out << "removed trunk " << command.name << "\n";
    return kDone;
}

void add_data_dir(CLI::App& sub, TrunkCommand& command) {
    sub.add_option("--data-dir", command.data_dir,
                   "Folder of the server's data, with sipwarden.db and "
                   "secret.key (default ./var)")
        ->type_name("DIR");
}

}  // namespace

CLI::App* add_trunk_command(CLI::App& app, TrunkCommand& command) {
    auto* sub = app.add_subcommand(
        "trunk",
        "SIP trunks: the providers and PSTN gateways calls go out through (see `route`) and come in from "
        "(see `did`). Changes reach a running server within a second.");
    sub->require_subcommand(1);

    auto* add = sub->add_subcommand(
        "add", "Add a trunk: trunk add NAME --host HOST[:PORT] [options]. An existing name is refused.");
    add->add_option("NAME", command.name, "The trunk's name: 1 to 32 letters, digits, _ or -")->required();
    add->add_option("--host", command.host,
                    "The provider's address: a DNS name or an IP address, with an optional :PORT "
                    "(default 5060, 5061 for tls); IPv6 in brackets, e.g. [2001:db8::1]:5060")
        ->required()
        ->type_name("HOST[:PORT]");
    add->add_option("--transport", command.transport, "How to reach it: udp (default), tcp or tls")
        ->check(CLI::IsMember({"udp", "tcp", "tls"}));
    add->add_option("--username", command.username,
                    "The account at the provider: the digest user name for REGISTER and for challenged "
                    "calls")
        ->type_name("USER");
    add->add_flag("--password-stdin", command.password_stdin,
                  "Read the account's password from the first line of stdin. It is stored only sealed "
                  "(AES-256-GCM, key in DATA_DIR/secret.key) and never shown");
    add->add_flag("--register", command.register_with,
                  "Register with the provider and keep the registration fresh (needs --username and "
                  "--password-stdin)");
    add->add_option("--expires", command.expires,
                    "Seconds of registration asked for in REGISTER, 60 to 86400 (default 600)")
        ->check(CLI::Range(60u, 86400u))
        ->type_name("SECONDS");
    add->add_option("--from-domain", command.from_domain,
                    "The domain in From, To and the REGISTER Request-URI, when the provider wants another "
                    "than HOST")
        ->type_name("DOMAIN");
    add->add_option("--address", command.addresses,
                    "Where the provider's calls come from, as an address or network (192.0.2.0/24, "
                    "2001:db8::/32); repeatable. Calls from other addresses are not taken as the trunk's. "
                    "Default: HOST's own addresses")
        ->type_name("CIDR");
    add->add_flag("--tel-uri", command.tel_uri,
                  "Address the number as tel:+NUMBER (RFC 3966) in the Request-URI and To instead of sip:");
    add->add_option("--ruri-params", command.ruri_params,
                    "Parameters added to a sip: Request-URI, e.g. user=phone")
        ->type_name("TEXT");
    add->add_flag("--no-100rel", command.no_100rel,
                  "Never offer reliable provisional responses (100rel, RFC 3262) to this provider");
    add->add_option("--srtp", command.srtp,
                    "SRTP with this provider: off, preferred (SRTP when the trunk is TLS) or required "
                    "(default: the server's --trunk-srtp)")
        ->check(CLI::IsMember({"off", "preferred", "required"}));
    add->add_option("--caller-id", command.caller_id,
                    "The number sent as the caller for outbound calls of a user without a DID (default: "
                    "the extension)")
        ->type_name("NUMBER");
    add_data_dir(*add, command);
    add->callback([&] { command.action = Action::Add; });

    auto* list = sub->add_subcommand(
        "list",
        "Every trunk: host, transport, whether it registers, the registration state the running server "
        "last wrote with its detail (failure reason, or when it expires), and its options");
    add_data_dir(*list, command);
    list->callback([&] { command.action = Action::List; });

    auto* remove = sub->add_subcommand(
        "remove", "Remove a trunk and its stored password; refused while a route uses it");
    remove->add_option("NAME", command.name, "The trunk")->required();
    add_data_dir(*remove, command);
    remove->callback([&] { command.action = Action::Remove; });
    return sub;
}

int run_trunk_command(const TrunkCommand& command, std::istream& in, std::int64_t now, std::ostream& out,
                      std::ostream& err, auth::Random& random) {
    switch (command.action) {
        case Action::Add:
            return add_trunk(command, in, out, err, random);
        case Action::List:
            return list_trunks(command, now, out, err);
        case Action::Remove:
            return remove_trunk(command, out, err);
    }
    return kStoreError;
}

}  // namespace sw::app
