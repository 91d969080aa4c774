#include "app/run_command.hpp"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <asio.hpp>
#include <filesystem>
#include <thread>

#include "app/engine.hpp"
#include "transport/tls_context.hpp"

namespace sw::app {

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

    // Workers: one event loop and one Engine each; they share the listening addresses (SO_REUSEPORT).
    unsigned n = options.workers != 0 ? options.workers : std::max(1u, std::thread::hardware_concurrency());
    n = std::min(n, 64u);
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
        if (auto ok = w->engine->start(shared); !ok) {
            spdlog::error("cannot listen: {}", ok.error());
            return 2;
        }
        shards.push_back(w->engine.get());
        workers.push_back(std::move(w));
    }
    for (auto& w : workers)
        w->engine->set_shards(shards);

    // The control loop on the main thread: signals (and, later, changes made with the command line).
    asio::io_context control;
    asio::signal_set signals(control, SIGINT, SIGTERM);
    signals.async_wait([&](const asio::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("signal {}: stopping", sig);
        const auto grace = std::chrono::milliseconds(static_cast<long>(options.shutdown_grace_s * 1000));
        for (auto& w : workers)
            asio::post(w->io, [e = w->engine.get(), grace] { e->shutdown(grace); });
        for (auto& w : workers)
            w->thread.join();
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
    for (auto& w : workers) {
        w->thread = std::thread([&io = w->io] {
            auto guard = asio::make_work_guard(io);  // run until the Engine stops the loop
            io.run();
        });
    }
    spdlog::info("sipwarden running with {} worker{} (data in {})", n, n == 1 ? "" : "s", options.data_dir);
    control.run();
    for (auto& w : workers) {
        if (w->thread.joinable()) w->thread.join();
    }
    EngineCounters c;
    for (auto& w : workers)
        c += w->engine->counters();
    spdlog::info("stopped: {} requests, {} malformed, {} retransmissions absorbed, {} transactions",
                 c.requests, c.malformed, c.retransmissions, c.transactions_created);
    return 0;
}

}  // namespace sw::app
