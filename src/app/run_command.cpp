#include "app/run_command.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <algorithm>
#include <asio.hpp>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "app/call_directory.hpp"
#include "app/engine.hpp"
#include "app/store_setup.hpp"
#include "app/trunk_setup.hpp"
#include "auth/authenticator.hpp"
#include "common/text.hpp"
#include "proxy/router.hpp"
#include "registrar/binding_writer.hpp"
#include "security/access_list.hpp"
#include "security/auth_guard.hpp"
#include "security/ban_list.hpp"
#include "storage/cdr_writer.hpp"
#include "storage/sqlite/acl_store.hpp"
#include "storage/sqlite/alias_store.hpp"
#include "storage/sqlite/ban_store.hpp"
#include "storage/sqlite/binding_store.hpp"
#include "storage/sqlite/cdr_store.hpp"
#include "storage/sqlite/forward_store.hpp"
#include "storage/sqlite/rights_store.hpp"
#include "storage/sqlite/user_store.hpp"
#include "transport/tls_context.hpp"

namespace sw::app {

namespace {
// The key of the dialog tokens in our Record-Route entries: made once and kept in the data folder
// (mode 0600), so that calls set up before a restart can still be hung up after it.
std::optional<sw::SipKey> route_key(const std::string& data_dir) {
    const std::filesystem::path path = std::filesystem::path(data_dir) / "route.key";
    unsigned long long k0 = 0, k1 = 0;
    if (FILE* f = std::fopen(path.c_str(), "r")) {
        const int n = std::fscanf(f, "%16llx%16llx", &k0, &k1);
        std::fclose(f);
        if (n == 2) return sw::SipKey{k0, k1};
        spdlog::warn("{}: not a key; making a new one", path.string());
    }
    unsigned char bytes[16];
    auth::OsRandom().fill(bytes);
    std::memcpy(&k0, bytes, 8);
    std::memcpy(&k1, bytes + 8, 8);
    const std::filesystem::path tmp = path.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return std::nullopt;
    char text[34];
    std::snprintf(text, sizeof text, "%016llx%016llx\n", k0, k1);
    const bool written = ::write(fd, text, 33) == 33 && ::fsync(fd) == 0;
    ::close(fd);
    if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) return std::nullopt;
    return sw::SipKey{k0, k1};
}
// A trunk's host as an IP literal: itself, or its first address from the resolver (IPv4 first). RFC 3263's
// NAPTR and SRV lookups are not done: a provider that needs them must be given its proxy's name or address.
std::string resolve_host(const std::string& host) {
    asio::error_code ec;
    const auto ip = asio::ip::make_address(host, ec);
    if (!ec) return ip.to_string();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) return {};
    std::string v4, v6;
    char text[INET6_ADDRSTRLEN];
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
        if (a->ai_family == AF_INET && v4.empty()) {
            ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, text, sizeof text);
            v4 = text;
        } else if (a->ai_family == AF_INET6 && v6.empty()) {
            ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, text, sizeof text);
            v6 = text;
        }
    }
    ::freeaddrinfo(res);
    return v4.empty() ? v6 : v4;
}
}  // namespace

namespace {
// The relay's addresses: [media] address, else the first listen address of the family; a wildcard
// listener binds the relay to the wildcard too and names the address the host routes from.
std::string routed_source(bool v6) {
    const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return {};
    std::string out;
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(9);
        inet_pton(AF_INET6, "2001:db8::1", &a->sin6_addr);
        len = sizeof(sockaddr_in6);
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(9);
        inet_pton(AF_INET, "192.0.2.1", &a->sin_addr);
        len = sizeof(sockaddr_in);
    }
    // connect() on UDP sends nothing: it only asks the routing table which source address it would use.
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
        sockaddr_storage me{};
        socklen_t ml = sizeof me;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &ml) == 0) {
            char buf[INET6_ADDRSTRLEN] = {};
            if (v6)
                inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&me)->sin6_addr, buf, sizeof buf);
            else
                inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&me)->sin_addr, buf, sizeof buf);
            out = buf;
        }
    }
    ::close(fd);
    return out;
}

media::RelayConfig relay_config(const MediaOptions& m, const std::vector<transport::ListenSpec>& listen) {
    media::RelayConfig rc;
    rc.address4 = m.address;
    rc.address6 = m.address6;
    for (const auto& spec : listen) {
        asio::error_code ec;
        const auto ip = asio::ip::make_address(spec.host, ec);
        if (ec) continue;
        std::string& slot = ip.is_v6() ? rc.address6 : rc.address4;
        std::string& named = ip.is_v6() ? rc.advertise6 : rc.advertise4;
        if (!slot.empty()) continue;
        slot = ip.to_string();
        if (ip.is_unspecified()) {
            named = routed_source(ip.is_v6());
            if (named.empty()) named = ip.is_v6() ? "::1" : "127.0.0.1";
        }
    }
    if (rc.address4.empty() && rc.address6.empty()) rc.address4 = "127.0.0.1";
    if (!m.advertise.empty()) rc.advertise4 = m.advertise;
    rc.port_min = static_cast<std::uint16_t>(m.port_min);
    rc.port_max = static_cast<std::uint16_t>(m.port_max);
    rc.threads = m.threads != 0 ? m.threads : std::max(1u, std::thread::hardware_concurrency());
    rc.timeout_s = static_cast<int>(m.timeout_s);
    rc.hold_timeout_s = static_cast<int>(m.hold_timeout_s);
    rc.kernel = m.kernel;
    rc.dscp = m.dscp;
    return rc;
}
}  // namespace

int run_server(const RunOptions& options) {
    // Transactions come and go by the hundred thousand: keep freed memory instead of giving it back to the
    // kernel and faulting it in again a moment later (glibc's default trims above 128 KiB).
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_TOP_PAD, 16 * 1024 * 1024);
    EngineConfig config;
    std::vector<std::string> listen = options.listen;
    if (listen.empty()) {
        listen = {"udp:0.0.0.0:5060", "tcp:0.0.0.0:5060", "tls:0.0.0.0:5061",
                  "udp:[::]:5060",    "tcp:[::]:5060",    "tls:[::]:5061"};
    }
    for (const auto& text : listen) {
        auto spec = transport::parse_listen(text);
        if (!spec) {
            spdlog::error("{}", spec.error());
            return 2;
        }
        config.listen.push_back(*spec);
    }
    config.domains = options.domains;
    config.limits.max_message_size = options.max_message_size;
    config.limits.max_connections = options.max_connections;
    config.limits.max_connections_per_address = options.max_connections_per_address;
    config.limits.dscp = options.sip_dscp;
    config.limits.idle_timeout = std::chrono::milliseconds(static_cast<long>(options.idle_timeout_s * 1000));
    config.limits.handshake_timeout =
        std::chrono::milliseconds(static_cast<long>(options.handshake_timeout_s * 1000));
    config.limits.message_timeout =
        std::chrono::milliseconds(static_cast<long>(options.message_timeout_s * 1000));
    config.timers.t1 = transaction::Duration(static_cast<long>(options.t1_ms));
    config.sip_trace = options.sip_trace;

    std::error_code fs_ec;
    std::filesystem::create_directories(options.data_dir, fs_ec);
    if (fs_ec) {
        spdlog::error("data folder {}: {}", options.data_dir, fs_ec.message());
        return 2;
    }

    // TLS: the configured certificate, or a self-signed one made on first start.
    bool want_tls = false;
    for (const auto& spec : config.listen)
        want_tls = want_tls || spec.protocol == transport::Protocol::Tls;
    transport::TlsSettings tls;
    tls.cert_file = options.tls_cert;
    tls.key_file = options.tls_key;
    tls.ca_file = options.tls_ca;
    tls.verify_client = options.tls_verify_client;
    std::shared_ptr<asio::ssl::context> tls_context;
    if (want_tls) {
        if (tls.cert_file.empty() != tls.key_file.empty()) {
            spdlog::error("--tls-cert and --tls-key go together");
            return 2;
        }
        if (tls.cert_file.empty()) {
            const std::string cn = options.domains.empty() ? "sipwarden.local" : options.domains.front();
            auto made = transport::ensure_self_signed(options.data_dir + "/tls", cn);
            if (!made) {
                spdlog::error("TLS: {}", made.error());
                return 2;
            }
            tls.cert_file = made->cert_file;
            tls.key_file = made->key_file;
            spdlog::info("TLS: {} self-signed certificate {} (SHA-256 fingerprint {})",
                         made->created ? "made a new" : "using the", made->cert_file, made->fingerprint);
        }
        auto ctx = transport::make_server_context(tls);
        if (!ctx) {
            spdlog::error("{}", ctx.error());
            return 2;
        }
        tls_context = *ctx;
    }

    // TLS connections to trunks: providers' certificates verified (host name included).
    auto tls_client = transport::make_client_context(options.tls_trunk_ca);
    if (!tls_client) {
        spdlog::error("{}", tls_client.error());
        return 2;
    }

    // The store: users (read here, on the control loop) and bindings (written by the BindingWriter's
    // thread through a connection of its own).
    auto store = open_store(options.data_dir, options.domains,
                            options.realm.empty() ? std::nullopt : std::optional<std::string>(options.realm));
    if (!store) {
        spdlog::error("store: {}", store.error());
        return 2;
    }
    // Bindings live in a file of their own: registrations write it all the time, and the users file must
    // change only when somebody changes users (its data_version tells the server to reload them).
    auto binding_db = storage::Database::open(location_database_path(options.data_dir));
    if (!binding_db) {
        spdlog::error("store: {}", binding_db.error());
        return 2;
    }
    storage::SqliteUserStore user_store(*store->db);
    storage::SqliteBindingStore binding_store(
        **binding_db, [](const std::string& m) { spdlog::error("bindings store: {}", m); });
    auto load_users = [&]() -> std::shared_ptr<const auth::UserDirectory> {
        auto all = user_store.load_all();
        if (!all) {
            spdlog::error("users: {}", all.error());
            return nullptr;
        }
        return std::make_shared<const auth::UserDirectory>(std::move(*all));
    };
    auto users = load_users();
    if (!users) return 2;
    storage::SqliteForwardStore forward_store(*store->db);
    auto load_forwards = [&]() -> std::shared_ptr<const pbx::ForwardingTable> {
        auto all = forward_store.load_all();
        if (!all) {
            spdlog::error("forwarding: {}", all.error());
            return nullptr;
        }
        return std::make_shared<const pbx::ForwardingTable>(*all);
    };
    auto forwards = load_forwards();
    if (!forwards) return 2;
    storage::SqliteAliasStore alias_store(*store->db);
    auto load_aliases = [&]() -> std::shared_ptr<const pbx::AliasTable> {
        auto all = alias_store.load_all();
        if (!all) {
            spdlog::error("aliases: {}", all.error());
            return nullptr;
        }
        return std::make_shared<const pbx::AliasTable>(*all);
    };
    auto aliases = load_aliases();
    if (!aliases) return 2;
    // Trunks, dial plan and DIDs, with every trunk host resolved (on this thread, at start and on change).
    auto load_trunks = [&]() -> std::optional<TrunkSet> {
        auto t = load_trunk_tables(*store->db, options.data_dir);
        if (!t) {
            spdlog::error("trunks: {}", t.error());
            return std::nullopt;
        }
        for (const auto& w : t->warnings)
            spdlog::warn("trunks: {}", w);
        auto resolved = std::make_shared<std::vector<b2bua::Trunk>>(*t->trunks);
        for (auto& tr : *resolved) {
            tr.address = resolve_host(tr.host);
            if (tr.address.empty()) spdlog::warn("trunk {}: host {} does not resolve", tr.name, tr.host);
        }
        return TrunkSet{resolved, t->plan, t->dids};
    };
    auto trunk_set = load_trunks();
    if (!trunk_set) return 2;
    auth::SystemClock clock;
    auth::OsRandom random;
    auth::NonceFactory nonces(auth::NonceFactory::random_secret(),
                              std::chrono::seconds(static_cast<long>(options.nonce_lifetime_s)), clock,
                              random);
    auth::NonceCounter nonce_counter;
    auth::DigestPolicy policy;
    policy.allow_md5 = options.allow_md5;
    policy.md5_first = options.md5_first;
    policy.md5_only_agents = options.md5_only_agents;
    policy.own_hosts = options.domains;
    for (const auto& spec : config.listen)
        policy.own_hosts.push_back(spec.host);
    policy.nonce_lifetime = std::chrono::seconds(static_cast<long>(options.nonce_lifetime_s));
    const auth::Authenticator authenticator(store->realm, policy, nonces, nonce_counter, clock);
    registrar::LocationService location;
    const auto restore_start = std::chrono::steady_clock::now();
    {
        const std::int64_t now = clock.now_s();
        binding_store.for_each([&](registrar::Binding&& b) { location.restore_one(std::move(b), now); });
    }
    const auto restore_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - restore_start)
                                .count();
    registrar::RegistrarConfig reg_config;
    reg_config.min_expires = options.min_expires;
    reg_config.max_expires = std::max(options.max_expires, options.min_expires);
    reg_config.default_expires =
        std::clamp(options.default_expires, reg_config.min_expires, reg_config.max_expires);
    reg_config.max_contacts = options.max_contacts;
    reg_config.domains = options.domains;
    // A refresh is answered before it is written only while the stored expiry is further away than the
    // delay plus a restart (so a crash that loses the refresh cannot end the registration early).
    const auto write_delay = std::chrono::milliseconds(std::lround(options.refresh_write_delay_s * 1000));
    reg_config.defer_margin_s =
        write_delay.count() > 0 ? 30 + static_cast<std::uint32_t>(std::ceil(options.refresh_write_delay_s))
                                : 0;
    registrar::Registrar registrar(reg_config, location);
    registrar::BindingWriter writer(binding_store, &location, write_delay);
    // Rows that expired while the server was down were not restored, so no sweep will name them: one
    // pass over the table removes them (the only scan of it, as it has no expiry index).
    writer.expire(clock.now_s());
    // Call detail records: DATA_DIR/cdr.db, written by a thread of their own (a call never waits for it).
    auto cdr_db = storage::open_cdr_database(cdr_database_path(options.data_dir));
    if (!cdr_db) {
        spdlog::error("call records: {}", cdr_db.error());
        return 2;
    }
    storage::SqliteCdrStore cdr_store(**cdr_db);
    storage::CdrWriter cdr_writer(cdr_store,
                                  [](const std::string& m) { spdlog::warn("call records: {}", m); });
    spdlog::info("{} users, {} registrations restored in {} ms, realm \"{}\"{}", users->size(),
                 location.size(), restore_ms, store->realm, options.allow_md5 ? "" : ", MD5 off");
    // The proxy: who we are (domains, and the addresses we listen on, as written in Via and Record-Route).
    proxy::SelfIdentity self;
    for (const auto& d : options.domains)
        self.domains.push_back(sw::to_lower(d));
    {
        std::uint8_t udp_index = 0;
        for (const auto& spec : config.listen) {
            proxy::LocalAddress a;
            a.protocol = spec.protocol;
            a.port = spec.port;
            asio::error_code ec;
            const auto ip = asio::ip::make_address(spec.host, ec);
            a.v6_family = !ec && ip.is_v6();
            if (!ec && ip.is_unspecified()) {
                // A wildcard listener: the name others reach us by (the first domain) goes into Via and
                // Record-Route. With no domain, the loopback address of the family.
                a.host =
                    options.domains.empty() ? (a.v6_family ? "::1" : "127.0.0.1") : options.domains.front();
            } else {
                a.host = sw::to_lower(spec.host);
            }
            asio::error_code ec2;
            a.ipv6 = asio::ip::make_address(a.host, ec2).is_v6() && !ec2;
            if (spec.protocol == transport::Protocol::Udp) a.udp_listener = udp_index++;
            self.addresses.push_back(std::move(a));
        }
    }
    proxy::RouterConfig router_config;
    router_config.serial_forking = options.serial_forking;
    if (auto key = route_key(options.data_dir)) {
        router_config.route_key = *key;
    } else {
        spdlog::error("cannot write {}/route.key", options.data_dir);
        return 2;
    }
    const proxy::Router router(self, authenticator, location, router_config);
    config.timer_c = std::chrono::milliseconds(static_cast<long>(options.timer_c_s * 1000));
    config.media.anchor = options.media.anchor == "always"  ? MediaSettings::Anchor::Always
                          : options.media.anchor == "never" ? MediaSettings::Anchor::Never
                                                            : MediaSettings::Anchor::Auto;
    if (!options.media.relay && config.media.anchor != MediaSettings::Anchor::Never)
        config.media.anchor = MediaSettings::Anchor::Never;
    config.media.user_srtp =
        media::srtp_policy_from(options.media.srtp).value_or(media::SrtpPolicy::Preferred);
    config.media.trunk_srtp =
        media::srtp_policy_from(options.media.trunk_srtp).value_or(media::SrtpPolicy::Preferred);
    config.media.tls_required = options.media.tls_required;
    config.media.plain_crypto =
        options.media.plain_crypto == "refuse" ? media::PlainCrypto::Refuse : media::PlainCrypto::Strip;
    config.max_call_duration = std::chrono::seconds(static_cast<long>(options.max_call_s));
    config.shield.scanner_agents = options.scanner_agents;
    config.shield.per_source.per_second = options.max_requests_per_second;
    config.shield.per_source.burst = options.max_requests_per_second * 2;
    // The shield: bans (kept in sipwarden.db, written by the control loop), the allow/deny networks, and
    // the failed-authentication guard, shared by the workers.
    auto random_key = [&random] {
        unsigned char b[16];
        random.fill(b);
        sw::SipKey k;
        std::memcpy(&k.k0, b, 8);
        std::memcpy(&k.k1, b + 8, 8);
        return k;
    };
    security::BanList bans(random_key());
    security::AuthGuard auth_guard(security::AuthGuardConfig{}, random_key());
    storage::SqliteBanStore ban_store(*store->db);
    storage::SqliteAclStore acl_store(*store->db);
    auto load_access = [&](const TrunkSet& ts) {
        auto records = acl_store.load_all();
        std::vector<std::string> bad;
        auto list = std::make_shared<security::AccessList>(security::AccessList::from_records(
            records ? *records : std::vector<security::AclRecord>{}, &bad));
        if (!records) spdlog::error("acl: {}", records.error());
        for (const auto& b : bad)
            spdlog::warn("acl: {}", b);
        for (const auto& text : options.allow_networks) {
            if (auto net = sw::Cidr::parse(text)) {
                list->add_exempt(*net);
            } else {
                spdlog::warn("--allow-network {}: not a network", text);
            }
        }
        // Trunks are never banned nor rate limited: their addresses, or the host's own.
        if (ts.trunks) {
            for (const auto& t : *ts.trunks) {
                for (const auto& net : t.addresses)
                    list->add_exempt(net);
                if (t.addresses.empty() && !t.address.empty())
                    if (auto net = sw::Cidr::parse(t.address)) list->add_exempt(*net);
            }
        }
        bans.set_access_list(std::move(list));
    };
    load_access(*trunk_set);
    if (auto saved = ban_store.load_all()) {
        bans.load(*saved, clock.now_s());
        if (!saved->empty()) spdlog::info("{} bans restored", bans.size());
    } else {
        spdlog::error("bans: {}", saved.error());
    }
    // The toll-fraud guard: calling rights from the store, a detector that learned from the call records.
    if (auto ok = check_toll_options(options.toll); !ok) {
        spdlog::error("{}", ok.error());
        return 2;
    }
    TollPolicy toll(options.toll);
    storage::SqliteRightsStore rights_store(*store->db);
    auto load_rights = [&] {
        auto rows = rights_store.load_all();
        if (!rows) {
            spdlog::error("calling rights: {}", rows.error());
            return false;
        }
        toll.set_rights(*rows);
        return true;
    };
    if (!load_rights()) return 2;
    if (options.toll.history_days > 0) {
        const std::size_t learned = learn_from_records(toll, **cdr_db, clock.now_s() * 1000,
                                                       options.toll.history_days, trunk_set->plan.get());
        spdlog::info("toll-fraud detector: learned from {} outbound calls of the last {} days", learned,
                     options.toll.history_days);
    }
    Services services{&authenticator, &registrar, &writer, &clock, &router,
                      &self,          {},         nullptr, &bans,  &auth_guard};
    // Per-user limits, one table for all workers: a user's phones may reach any of them.
    security::SharedRateLimiter register_per_user(config.shield.register_per_user, config.shield.table_size,
                                                  random_key());
    security::SharedRateLimiter invite_per_user(config.shield.invite_per_user, config.shield.table_size,
                                                random_key());
    services.register_per_user = &register_per_user;
    services.invite_per_user = &invite_per_user;
    // Which worker keeps each call: the one its first request reached (call_directory.hpp).
    CallDirectory call_directory(random_key());
    services.calls = &call_directory;
    services.toll = &toll;
    // Issue 9: the media relay, shared by the workers; a silent call is reported to its worker.
    std::vector<Engine*> media_shards;
    std::unique_ptr<media::MediaRelay> relay;
    if (options.media.relay) {
        media::RelayConfig rc = relay_config(options.media, config.listen);
        relay = std::make_unique<media::MediaRelay>(rc, [&media_shards](std::uint64_t owner) {
            const std::size_t w = Engine::media_owner_worker(owner);
            if (w >= media_shards.size()) return;
            Engine* e = media_shards[w];
            asio::post(e->io(), [e, owner] { e->on_media_timeout(owner); });
        });
        std::string error;
        if (!relay->start(error)) {
            spdlog::error("media relay: {}", error);
            return 2;
        }
        services.media = relay.get();
        spdlog::info("media relay on {}{}{} ports {}-{}, {} thread(s)", rc.address4,
                     rc.address6.empty() ? "" : " and ", rc.address6, rc.port_min, rc.port_max, rc.threads);
        if (rc.kernel && relay->kernel_active())
            spdlog::info("media relay kernel path {}", relay->kernel_status());
        else if (rc.kernel)
            spdlog::warn("media relay kernel path off ({}): streams are relayed in user space",
                         relay->kernel_status());
    }
    // The control loop on the main thread: signals, changes made with the command line, and the trunk
    // registrations' status (written here, for `sipwarden trunk list`).
    asio::io_context control;
    services.cdr = &cdr_writer;
    services.trunk_status = [&control, db = store->db.get()](const b2bua::TrunkStatus& st) {
        asio::post(control, [db, st] {
            if (auto ok = write_trunk_status(*db, st); !ok)
                spdlog::warn("trunk {}: status not stored", st.name);
        });
    };

    // Workers: one event loop and one Engine each; they share the listening addresses (SO_REUSEPORT).
    unsigned n = options.workers != 0 ? options.workers : std::max(1u, std::thread::hardware_concurrency());
    n = std::min(n, 64u);
    config.retired_budget_bytes = (options.answer_cache_mb << 20) / n;
    const bool shared = n > 1;
    if (shared) {
        for (auto& spec : config.listen) {
            auto port = transport::Transports::claim(spec);
            if (!port) {
                spdlog::error("cannot listen: {}", port.error());
                return 2;
            }
            spec.port = *port;
        }
    }
    struct Worker {
        asio::io_context io{1};
        std::unique_ptr<Engine> engine;
        std::thread thread;
    };
    transport::ConnectionBudget budget;
    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<Engine*> shards;
    for (unsigned i = 0; i < n; ++i) {
        auto w = std::make_unique<Worker>();
        w->engine = std::make_unique<Engine>(w->io, config, budget, static_cast<std::uint8_t>(i));
        if (tls_context) w->engine->set_tls_context(tls_context);
        w->engine->set_tls_client_context(*tls_client);
        w->engine->set_services(services);
        w->engine->set_users(users);
        w->engine->set_forwards(forwards);
        w->engine->set_aliases(aliases);
        w->engine->set_trunks(*trunk_set);
        if (auto ok = w->engine->start(shared); !ok) {
            spdlog::error("cannot listen: {}", ok.error());
            return 2;
        }
        shards.push_back(w->engine.get());
        workers.push_back(std::move(w));
    }
    for (auto& w : workers)
        w->engine->set_shards(shards);
    if (workers.size() > 1 && shared) {
        if (auto steered = workers[0]->engine->steer_responses(static_cast<unsigned>(workers.size()));
            !steered)
            spdlog::warn("UDP responses are not steered to their worker ({}): they are handed over",
                         steered.error());
    }
    media_shards = shards;  // before any call: the relay reports only anchored calls

    asio::signal_set signals(control, SIGINT, SIGTERM);
    signals.async_wait([&](const asio::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("signal {}: stopping", sig);
        const auto grace = std::chrono::milliseconds(static_cast<long>(options.shutdown_grace_s * 1000));
        for (auto& w : workers)
            asio::post(w->io, [e = w->engine.get(), grace] { e->shutdown(grace); });
        for (auto& w : workers)
            w->thread.join();
        if (relay) {
            const bool kernel = relay->kernel_active();
            relay->stop();  // its threads post to the workers: stopped before they go
            if (kernel)
                spdlog::info("media relay: {} packets relayed in the kernel", relay->kernel_packets());
        }
        control.stop();
    });
    // SIGHUP: reload the TLS certificate and key; established connections keep the old ones.
    asio::signal_set hup(control, SIGHUP);
    std::function<void(const asio::error_code&, int)> on_hup = [&](const asio::error_code& ec, int) {
        if (ec) return;
        if (want_tls) {
            auto ctx = transport::make_server_context(tls);
            if (!ctx) {
                spdlog::error("SIGHUP: keeping the old certificate: {}", ctx.error());
            } else {
                for (auto& w : workers)
                    asio::post(w->io, [e = w->engine.get(), c = *ctx] { e->set_tls_context(c); });
                auto fp = transport::certificate_fingerprint(tls.cert_file);
                spdlog::info("SIGHUP: TLS certificate reloaded (SHA-256 fingerprint {})", fp ? *fp : "?");
            }
        }
        hup.async_wait(on_hup);
    };
    hup.async_wait(on_hup);

    // Changes made with the command line (another process writing the store) reach the workers within
    // half a second; expired bindings are removed once a second.
    asio::steady_timer poll(control);
    std::int64_t seen_version = store->db->data_version();
    std::int64_t last_expiry = 0;
    std::uint64_t seen_bans = bans.change_count();
    std::function<void(const asio::error_code&)> on_poll = [&](const asio::error_code& ec) {
        if (ec) return;
        const std::int64_t version = store->db->data_version();
        if (version != seen_version) {
            seen_version = version;
            auto fresh_forwards = load_forwards();
            auto fresh_aliases = load_aliases();
            auto fresh_trunks = load_trunks();
            if (fresh_trunks) load_access(*fresh_trunks);
            if (auto rows = ban_store.load_all()) bans.merge(*rows, clock.now_s());  // `sipwarden ban` edits
            load_rights();  // `sipwarden user rights|suspend|unsuspend`
            for (auto& w : workers) {
                asio::post(w->io, [e = w->engine.get(), fresh_forwards, fresh_aliases, fresh_trunks] {
                    if (fresh_forwards) e->set_forwards(fresh_forwards);
                    if (fresh_aliases) e->set_aliases(fresh_aliases);
                    if (fresh_trunks) e->set_trunks(*fresh_trunks);
                });
            }
            if (auto fresh = load_users()) {
                users = fresh;
                // Bindings of users removed or disabled go once every worker has the new list: a worker
                // still on the old one could otherwise register such a user again right after the sweep.
                auto drop_bindings = [&location, &writer, fresh] {
                    auto gone = location.remove_if_user([&](std::string_view name) {
                        const auth::UserRecord* u = fresh->find(name);
                        return u == nullptr || !u->enabled;
                    });
                    if (!gone.empty()) {
                        std::vector<registrar::BindingChange> changes;
                        for (auto& b : gone)
                            changes.push_back({registrar::BindingChange::Kind::Remove, std::move(b)});
                        writer.submit(std::move(changes), nullptr, registrar::BindingWriter::OnFailure::Keep);
                        spdlog::info("{} bindings of removed or disabled users dropped", gone.size());
                    }
                };
                auto pending = std::make_shared<std::atomic<std::size_t>>(workers.size());
                for (auto& w : workers) {
                    asio::post(w->io, [e = w->engine.get(), fresh, pending, &control, drop_bindings] {
                        e->set_users(fresh);
                        if (pending->fetch_sub(1) == 1) asio::post(control, drop_bindings);
                    });
                }
                spdlog::info("users reloaded: {} users", fresh->size());
            }
        }
        const std::int64_t now = clock.now_s();
        // The detector's alerts: logged, stored as events, suspensions written (this connection too).
        store_alerts(toll, rights_store);
        // Bans made by the workers reach the store (on this connection: its writes do not wake the poll).
        if (bans.change_count() != seen_bans) {
            seen_bans = bans.change_count();
            auto w = bans.take_writes();
            if (!ban_store.apply(w)) bans.retry(std::move(w));
        }
        if (now % 60 == 0 && now != last_expiry) {
            bans.prune(now);
            (void)ban_store.prune(now);
        }
        if (now != last_expiry) {
            last_expiry = now;
            (void)call_directory.sweep();
            // A slice of the shards per second (all of them in 16 s): a million bindings are not walked
            // every second, and what has expired is ignored by lookups until its slice comes.
            // Their rows go by key (the store keeps no expiry index: it would cost every REGISTER a third
            // B-tree), each only if no REGISTER has refreshed it since.
            auto expired = location.sweep_expired(now, 4);
            if (!expired.empty()) {
                std::vector<registrar::BindingChange> changes;
                changes.reserve(expired.size());
                for (auto& b : expired)
                    changes.push_back({registrar::BindingChange::Kind::Expire, std::move(b)});
                writer.submit(std::move(changes), nullptr, registrar::BindingWriter::OnFailure::Keep);
            }
        }
        poll.expires_after(std::chrono::milliseconds(500));
        poll.async_wait(on_poll);
    };
    poll.expires_after(std::chrono::milliseconds(500));
    poll.async_wait(on_poll);

    for (std::size_t i = 0; i < workers.size(); ++i) {
        auto& w = workers[i];
        w->thread = std::thread([&io = w->io, name = "sw-worker-" + std::to_string(i)] {
            pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
            auto guard = asio::make_work_guard(io);  // run until the Engine stops the loop
            io.run();
        });
    }
    spdlog::info("sipwarden running with {} worker{} (data in {})", n, n == 1 ? "" : "s", options.data_dir);
    control.run();
    for (auto& w : workers) {
        if (w->thread.joinable()) w->thread.join();
    }
    // Alerts and bans of the last moments reach the store too (they survive the restart).
    store_alerts(toll, rights_store);
    if (auto w = bans.take_writes(); !ban_store.apply(w))
        spdlog::warn("bans: the last changes were not stored");
    EngineCounters c;
    for (auto& w : workers)
        c += w->engine->counters();
    spdlog::info(
        "stopped: {} requests, {} malformed, {} retransmissions absorbed, {} transactions, {} handed to "
        "another worker, {} registrations, {} proxied, {} branches, {} forwarded statelessly, {} loops, {} "
        "trunk "
        "calls, {} REGISTERs to trunks; shield: {} dropped banned, {} over rate, {} from scanners, {} rate "
        "limited, {} answers let go before Timer J",
        c.requests, c.malformed, c.retransmissions, c.transactions_created, c.handed_to_other_worker,
        c.registrations, c.proxied, c.branches, c.stateless_forwards, c.loops, c.trunk_calls,
        c.trunk_registers, c.dropped_banned, c.dropped_flood, c.dropped_scanner, c.rate_limited,
        c.retired_early);
    return 0;
}

}  // namespace sw::app
