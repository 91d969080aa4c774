#include "app/run_command.hpp"

#include <asio.hpp>
#include <filesystem>
#include <spdlog/spdlog.h>

#include "app/engine.hpp"
#include "transport/tls_context.hpp"

namespace sw::app {

int run_server(const RunOptions& options) {
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
    config.limits.handshake_timeout = std::chrono::milliseconds(static_cast<long>(options.handshake_timeout_s * 1000));
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
    for (const auto& spec : config.listen) want_tls = want_tls || spec.protocol == transport::Protocol::Tls;
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

    asio::io_context io;
    Engine engine(io, config);
    if (tls_context) engine.set_tls_context(tls_context);
    if (auto ok = engine.start(); !ok) {
        spdlog::error("cannot listen: {}", ok.error());
        return 2;
    }
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const asio::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("signal {}: stopping", sig);
        engine.shutdown(std::chrono::milliseconds(static_cast<long>(options.shutdown_grace_s * 1000)));
    });
    // SIGHUP: reload the TLS certificate and key; established connections keep the old ones.
    asio::signal_set hup(io, SIGHUP);
    std::function<void(const asio::error_code&, int)> on_hup = [&](const asio::error_code& ec, int) {
        if (ec) return;
        if (want_tls) {
            auto ctx = transport::make_server_context(tls);
            if (!ctx) {
                spdlog::error("SIGHUP: keeping the old certificate: {}", ctx.error());
            } else {
                engine.set_tls_context(*ctx);
                auto fp = transport::certificate_fingerprint(tls.cert_file);
                spdlog::info("SIGHUP: TLS certificate reloaded (SHA-256 fingerprint {})", fp ? *fp : "?");
            }
        }
        hup.async_wait(on_hup);
    };
    hup.async_wait(on_hup);
    spdlog::info("sipwarden running (data in {})", options.data_dir);
    io.run();
    const auto& c = engine.counters();
    spdlog::info("stopped: {} requests, {} malformed, {} retransmissions absorbed, {} transactions", c.requests,
                 c.malformed, c.retransmissions, c.transactions_created);
    return 0;
}

}  // namespace sw::app
