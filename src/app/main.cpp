// sipwarden: one binary, one subcommand per job. This is the only place where objects are wired together.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <iostream>

#include "app/acl_command.hpp"
#include "app/ban_command.hpp"
#include "app/cdr_command.hpp"
#include "app/check_message.hpp"
#include "app/config.hpp"
#include "app/did_command.hpp"
#include "app/forward_command.hpp"
#include "app/media_command.hpp"
#include "app/registrations_command.hpp"
#include "app/rights_command.hpp"
#include "app/route_command.hpp"
#include "app/run_command.hpp"
#include "app/trunk_command.hpp"
#include "app/user_command.hpp"
#include "auth/clock_random.hpp"

int main(int argc, char** argv) {
    CLI::App app{"sipwarden - a secure SIP server and IP-PBX"};
    app.require_subcommand(1);
    app.fallthrough();  // global options (--log-level) may follow the subcommand too
    app.set_version_flag("--version", "sipwarden 0.1.0");
    std::string log_level = "info";
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

    auto* check = app.add_subcommand(
        "check-message",
        "Parse SIP message files and print, per file, `FILE: ok` or the response a server would send "
        "(`FILE: CODE REASON`). Exit status 0 when every file was ok, 1 otherwise.");
    std::vector<std::string> files;
    std::size_t max_size = 64 * 1024;
    check->add_option("files", files, "SIP message files (one message each, as received in one datagram)")
        ->required()
        ->check(CLI::ExistingFile);
    check->add_option("--max-message-size", max_size, "Largest message accepted, in bytes (default 65536)")
        ->check(CLI::Range(std::size_t{512}, std::size_t{16} * 1024 * 1024));

    auto* run =
        app.add_subcommand("run", "Start the SIP server and serve until SIGTERM or SIGINT (graceful stop).");
    sw::app::RunOptions ro;
    std::string config_file;
    run->add_option(
           "--config", config_file,
           "TOML file with any of the settings below (keys as the flags, with _ for -; [tls] cert, key, "
           "ca, verify_client, trunk_ca). Flags on the command line win.")
        ->check(CLI::ExistingFile);
    run->add_option(
        "--listen", ro.listen,
        "Where to listen, repeatable: udp:HOST:PORT, tcp:HOST:PORT, tls:HOST:PORT (IPv6 as [::1]). "
        "Default: UDP and TCP on 0.0.0.0:5060 and [::]:5060, TLS on 5061");
    run->add_option("--domain", ro.domains, "A SIP domain this server is responsible for (repeatable)");
    run->add_option("--data-dir", ro.data_dir, "Folder for the server's data (default ./var)");
    run->add_option("--t1-ms", ro.t1_ms, "RFC 3261 timer T1 in milliseconds (default 500)")
        ->check(CLI::Range(10.0, 10000.0));
    run->add_option("--shutdown-grace", ro.shutdown_grace_s,
                    "Seconds to let open transactions finish on SIGTERM (default 5)")
        ->check(CLI::Range(0.0, 600.0));
    run->add_option("--max-message-size", ro.max_message_size,
                    "Largest message accepted, in bytes (default 65536)")
        ->check(CLI::Range(std::size_t{512}, std::size_t{16} * 1024 * 1024));
    run->add_option("--max-connections", ro.max_connections,
                    "Most TCP connections open at once (default 4096)");
    run->add_option("--max-connections-per-address", ro.max_connections_per_address,
                    "Most TCP connections from one address (default 64)");
    run->add_option("--sip-dscp", ro.sip_dscp,
                    "DSCP of the SIP packets the server sends, for the network's quality of service "
                    "(default 24, CS3, call signalling; -1: unmarked)")
        ->check(CLI::Range(-1, 63));
    run->add_option("--idle-timeout", ro.idle_timeout_s,
                    "Seconds before an idle connection is closed (default 600)")
        ->check(CLI::Range(1.0, 86400.0));
    run->add_option("--tls-handshake-timeout", ro.handshake_timeout_s,
                    "Seconds a TLS peer has to finish its handshake (default 10)")
        ->check(CLI::Range(0.1, 120.0));
    run->add_option("--message-timeout", ro.message_timeout_s,
                    "Seconds a TCP/TLS peer has from the first byte of a message to its last (default 20)")
        ->check(CLI::Range(0.1, 3600.0));
    run->add_option("--workers", ro.workers,
                    "Worker threads, each with its own event loop (default 0: one per core)")
        ->check(CLI::Range(0u, 64u));
    run->add_option(
        "--realm", ro.realm,
        "Digest realm (default: the store's, set when it was made: the first --domain, else sipwarden)");
    run->add_flag("!--no-md5", ro.allow_md5,
                  "Never offer nor accept MD5 digest (SHA-256 and SHA-512-256 only)");
    run->add_flag(
        "--md5-first", ro.md5_first,
        "Offer MD5 before SHA-256 (only for old clients that read just the first challenge, e.g. sipp)");
    run->add_option(
           "--md5-only-agent", ro.md5_only_agents,
           "Offer only MD5 to clients whose User-Agent contains this text (repeatable; for clients that "
           "fail on SHA-256 challenges, e.g. \"baresip\" 1.0)")
        ->type_name("TEXT");
    run->add_option("--nonce-lifetime", ro.nonce_lifetime_s,
                    "Seconds a digest nonce stays fresh (default 300)")
        ->check(CLI::Range(1.0, 86400.0));
    run->add_option("--min-expires", ro.min_expires,
                    "Shortest registration accepted, seconds (default 60; 423 below)")
        ->check(CLI::Range(1u, 86400u));
    run->add_option("--max-expires", ro.max_expires, "Longest registration granted, seconds (default 7200)")
        ->check(CLI::Range(1u, 31536000u));
    run->add_option("--max-contacts", ro.max_contacts, "Most contacts one user may register (default 10)")
        ->check(CLI::Range(1u, 1000u));
    run->add_option("--refresh-write-delay", ro.refresh_write_delay_s,
                    "A re-REGISTER that only extends a binding is answered at once and written to disk "
                    "within this many seconds (default 1; 0: written before each 200)")
        ->check(CLI::Range(0.0, 10.0));
    run->add_option("--answer-cache-mb", ro.answer_cache_mb,
                    "Memory for resending final answers to retransmitted requests, in MB (default 64); "
                    "past it the oldest go before their 32 s")
        ->check(CLI::Range(std::size_t{1}, std::size_t{65536}));
    run->add_flag("--serial-forking", ro.serial_forking,
                  "Try a user's contacts one at a time, highest q first (default: all at once)");
    run->add_option("--timer-c", ro.timer_c_s,
                    "Seconds a proxied INVITE may ring before it is cancelled (default 180)")
        ->check(CLI::Range(1.0, 3600.0));
    run->add_option(
           "--allow-network", ro.allow_networks,
           "A network (CIDR) never banned nor rate limited, repeatable (default 127.0.0.1/32 and ::1/128, "
           "the host itself; trunk addresses always are)")
        ->type_name("CIDR");
    run->add_option(
           "--scanner-agent", ro.scanner_agents,
           "A User-Agent text whose requests are dropped and their source banned, besides the built-in "
           "list (friendly-scanner, sipvicious, sipcli, VaxSIPUserAgent ...), repeatable")
        ->type_name("TEXT");
    run->add_option(
           "--max-requests-per-second", ro.max_requests_per_second,
           "Packets per second one source may send (burst twice that; default 200); a source that keeps "
           "over it is banned for 10 minutes")
        ->check(CLI::Range(1.0, 1000000.0));
    run->add_option(
           "--max-call-duration", ro.max_call_s,
           "Seconds a call through a trunk may last before the server hangs up both sides (default 14400)")
        ->check(CLI::Range(1.0, 604800.0));
    run->add_option("--default-class", ro.toll.default_class,
                    "Calling class of users without one of their own (`user rights EXT --class`): internal, "
                    "local, national (default) or international")
        ->check(CLI::IsMember({"internal", "local", "national", "international"}));
    run->add_option("--country-code", ro.toll.country_code,
                    "Our country calling code, e.g. 49: +49... and 0049... are national calls, others "
                    "international (default: unknown, every +CC is international)")
        ->type_name("CC");
    run->add_option(
           "--business-hours", ro.toll.business_hours,
           "Business hours in the server's local time, e.g. \"Mon-Fri 08:00-18:00, Sat 09:00-12:00\" "
           "(with --after-hours-group)")
        ->type_name("SCHEDULE");
    run->add_option("--after-hours-group", ro.toll.after_hours_group,
                    "Outside --business-hours only members of this group (`user rights EXT --group G`) may "
                    "call outside the company")
        ->type_name("GROUP");
    run->add_option(
           "--anchor-media", ro.media.anchor,
           "Media through the server's relay: auto (default: when it cannot flow directly, e.g. SRTP "
           "on one side only or a phone behind NAT), always, never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
    run->add_option("--srtp", ro.media.srtp,
                    "SRTP policy of users: off, preferred (default: SRTP wherever the signalling is TLS) or "
                    "required (calls without SRTP get 488)")
        ->check(CLI::IsMember({"off", "preferred", "required"}));
    run->add_option("--trunk-srtp", ro.media.trunk_srtp, "SRTP policy of trunks (off, preferred, required)")
        ->check(CLI::IsMember({"off", "preferred", "required"}));
    run->add_option("--media-address", ro.media.address,
                    "IPv4 address of the media relay (default: the first IPv4 listen address)")
        ->type_name("IP");
    run->add_option("--media-port-min", ro.media.port_min,
                    "Lowest UDP port of the media relay (default 20000)")
        ->check(CLI::Range(1024u, 65534u));
    run->add_option("--media-port-max", ro.media.port_max,
                    "Highest UDP port of the media relay (default 29999)")
        ->check(CLI::Range(1025u, 65535u));
    run->add_option("--media-timeout", ro.media.timeout_s,
                    "Seconds without media after which an anchored call is ended (default 60; 0: never)")
        ->check(CLI::Range(0.0, 86400.0));
    run->add_flag("--media-kernel,!--no-media-kernel", ro.media.kernel,
                  "Relay latched RTP and pass-through SRTP in the kernel (eBPF on tc ingress) where the host "
                  "allows it: root or CAP_BPF+CAP_NET_ADMIN, Linux 6.6+ (default on; the relay threads do "
                  "everything otherwise)");
    run->add_option("--media-dscp", ro.media.dscp,
                    "DSCP of the relayed media packets, for the network's quality of service (default 46, "
                    "Expedited Forwarding, RFC 4594 telephony; -1: unmarked)")
        ->check(CLI::Range(-1, 63));
    run->add_flag("--sip-trace", ro.sip_trace, "Log every SIP message sent and received (off by default)");
    run->add_option(
        "--tls-cert", ro.tls_cert,
        "PEM certificate chain for TLS (default: a self-signed certificate made in DATA_DIR/tls)");
    run->add_option("--tls-key", ro.tls_key, "PEM private key for --tls-cert");
    run->add_option("--tls-ca", ro.tls_ca, "PEM CA bundle to verify client certificates with");
    run->add_flag("--tls-verify-client", ro.tls_verify_client,
                  "Require a client certificate signed by --tls-ca");
    run->add_option("--tls-trunk-ca", ro.tls_trunk_ca,
                    "PEM CA bundle to verify TLS trunks' certificates with (default: the system's CA store)");

    sw::app::UserCommand user_command;
    auto* user = sw::app::add_user_command(app, user_command);
    sw::app::RightsCommand rights_command;
    sw::app::add_rights_commands(*user, rights_command);
    sw::app::MediaCommand media_command;
    sw::app::add_media_command(*user, media_command);
    sw::app::ForwardCommand forward_command;
    auto* forward = sw::app::add_forward_command(app, forward_command);
    sw::app::RegistrationsCommand registrations_command;
    auto* registrations = sw::app::add_registrations_command(app, registrations_command);
    sw::app::TrunkCommand trunk_command;
    auto* trunk = sw::app::add_trunk_command(app, trunk_command);
    sw::app::RouteCommand route_command;
    auto* route = sw::app::add_route_command(app, route_command);
    sw::app::DidCommand did_command;
    auto* did = sw::app::add_did_command(app, did_command);
    sw::app::CdrCommand cdr_command;
    auto* cdr = sw::app::add_cdr_command(app, cdr_command);
    sw::app::BanCommand ban_command;
    auto* ban = sw::app::add_ban_command(app, ban_command);
    sw::app::AclCommand acl_command;
    auto* acl = sw::app::add_acl_command(app, acl_command);

    // The config file is read first, so that CLI11, which only writes options actually given, lets the
    // command line override it.
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        std::string file;
        if (a == "--config" && i + 1 < argc) file = argv[i + 1];
        if (a.rfind("--config=", 0) == 0) file = a.substr(9);
        if (file.empty()) continue;
        if (auto ok = sw::app::load_config(file, ro, log_level); !ok) {
            std::cerr << "sipwarden: " << ok.error() << "\n";
            return 2;
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version print and exit 0; a usage error is reported and exits 2, like a bad config.
        return app.exit(e) == 0 ? 0 : 2;
    }
    spdlog::set_level(spdlog::level::from_str(log_level));

    if (*check) return sw::app::run_check_message(files, max_size, std::cout);
    if (*run) return sw::app::run_server(ro);
    if (*user && media_command.selected)
        return sw::app::run_media_command(media_command, std::cout, std::cerr);
    if (*user && rights_command.action != sw::app::RightsCommand::Action::None) {
        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        return sw::app::run_rights_command(rights_command, static_cast<std::int64_t>(now_ms), std::cout,
                                           std::cerr);
    }
    if (*user) {
        sw::auth::OsRandom random;
        return sw::app::run_user_command(user_command, std::cin, std::cout, std::cerr, random);
    }
    if (*forward) return sw::app::run_forward_command(forward_command, std::cout, std::cerr);
    if (*trunk) {
        sw::auth::OsRandom random;
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        return sw::app::run_trunk_command(trunk_command, std::cin, now, std::cout, std::cerr, random);
    }
    if (*route) return sw::app::run_route_command(route_command, std::cout, std::cerr);
    if (*did) return sw::app::run_did_command(did_command, std::cout, std::cerr);
    if (*cdr) {
        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        return sw::app::run_cdr_command(cdr_command, static_cast<std::int64_t>(now_ms), std::cout, std::cerr);
    }
    if (*ban) {
        return sw::app::run_ban_command(ban_command, static_cast<std::int64_t>(std::time(nullptr)), std::cout,
                                        std::cerr);
    }
    if (*acl) return sw::app::run_acl_command(acl_command, std::cout, std::cerr);
    if (*registrations) {
        return sw::app::run_registrations(
            registrations_command, static_cast<std::int64_t>(std::time(nullptr)), std::cout, std::cerr);
    }
    return 2;
}
