// sipwarden: one binary, one subcommand per job. This is the only place where objects are wired together.
#include <CLI/CLI.hpp>
#include <iostream>
#include <spdlog/spdlog.h>

#include "app/check_message.hpp"

int main(int argc, char** argv) {
    CLI::App app{"sipwarden - a secure SIP server and IP-PBX"};
    app.require_subcommand(1);
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

    CLI11_PARSE(app, argc, argv);
    spdlog::set_level(spdlog::level::from_str(log_level));

    if (*check) return sw::app::run_check_message(files, max_size, std::cout);
    return 2;
}
