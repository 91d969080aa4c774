#include "app/run_command.hpp"

#include <asio.hpp>
#include <filesystem>
#include <spdlog/spdlog.h>

#include "app/engine.hpp"

namespace sw::app {

int run_server(const RunOptions& options) {
    EngineConfig config;
    std::vector<std::string> listen = options.listen;
    if (listen.empty()) listen = {"udp:0.0.0.0:5060", "tcp:0.0.0.0:5060", "udp:[::]:5060", "tcp:[::]:5060"};
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
    config.timers.t1 = transaction::Duration(static_cast<long>(options.t1_ms));
    config.sip_trace = options.sip_trace;

    std::error_code fs_ec;
    std::filesystem::create_directories(options.data_dir, fs_ec);
    if (fs_ec) {
        spdlog::error("data folder {}: {}", options.data_dir, fs_ec.message());
        return 2;
    }

    asio::io_context io;
    Engine engine(io, config);
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
    spdlog::info("sipwarden running (data in {})", options.data_dir);
    io.run();
    const auto& c = engine.counters();
    spdlog::info("stopped: {} requests, {} malformed, {} retransmissions absorbed, {} transactions", c.requests,
                 c.malformed, c.retransmissions, c.transactions_created);
    return 0;
}

}  // namespace sw::app
