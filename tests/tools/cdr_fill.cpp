// Test-only: writes call detail records into DATA_DIR/cdr.db through the real CdrWriter and CdrStore, for
// tests/integration/cdr_cli_test.sh (the engine that writes them in production needs calls to do so).
//
//   cdr_fill DATA_DIR fill      reads events from stdin, one a line, fields separated by tabs ("-": empty):
//                                 start  CALL TIME_MS CALLER CALLEE DIALLED DIRECTION TRUNK SOURCE UA VERDICT
//                                 answer CALL TIME_MS
//                                 end    CALL TIME_MS RESULT REASON
//                               then stops the writer (which writes everything) and exits 0.
//   cdr_fill DATA_DIR crash N   submits N start events, waits 300 ms, prints "submitted N" and waits to
//                               be killed (kill -9): the rows must already be on disk.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "storage/cdr_writer.hpp"
#include "storage/sqlite/cdr_store.hpp"

namespace {

using sw::storage::CdrCall;
using sw::storage::CdrDirection;
using sw::storage::CdrEvent;

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> fields;
    std::string field;
    std::istringstream in(line);
    while (std::getline(in, field, '\t'))
        fields.push_back(field == "-" ? std::string() : field);
    return fields;
}

bool parse_event(const std::string& line, CdrEvent& event) {
    const auto f = split_tabs(line);
    if (f.size() < 3) return false;
    const std::int64_t time_ms = std::stoll(f[2]);
    if (f[0] == "start" && f.size() == 11) {
        CdrCall c;
        c.caller = f[3];
        c.callee = f[4];
        c.dialled = f[5];
        if (f[6] == "outbound") {
            c.direction = CdrDirection::Outbound;
        } else if (f[6] == "inbound") {
            c.direction = CdrDirection::Inbound;
        } else if (f[6] != "internal") {
            return false;
        }
        c.trunk = f[7];
        c.source = f[8];
        c.user_agent = f[9];
        c.verdict = f[10];
        event = CdrEvent::started(f[1], time_ms, std::move(c));
        return true;
    }
    if (f[0] == "answer" && f.size() == 3) {
        event = CdrEvent::answered(f[1], time_ms);
        return true;
    }
    if (f[0] == "end" && f.size() == 5) {
        event = CdrEvent::ended(f[1], time_ms, std::stoi(f[3]), f[4]);
        return true;
    }
    return false;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: cdr_fill DATA_DIR fill | cdr_fill DATA_DIR crash N\n";
        return 2;
    }
    const std::string data_dir = argv[1];
    const std::string mode = argv[2];
    auto db = sw::storage::open_cdr_database(data_dir + "/cdr.db");
    if (!db) {
        std::cerr << "cdr_fill: " << db.error() << "\n";
        return 2;
    }
    sw::storage::SqliteCdrStore store(**db);
    auto report = [](const std::string& m) { std::cerr << "cdr_fill: " << m << "\n"; };
    sw::storage::CdrWriter writer(store, report);

    if (mode == "fill" && argc == 3) {
        std::string line;
        int number = 0;
        while (std::getline(std::cin, line)) {
            ++number;
            if (line.empty()) continue;
            CdrEvent event;
            if (!parse_event(line, event)) {
                std::cerr << "cdr_fill: line " << number << ": not an event\n";
                return 1;
            }
            if (!writer.submit(std::move(event))) {
                std::cerr << "cdr_fill: line " << number << ": dropped\n";
                return 1;
            }
        }
        return 0;  // ~CdrWriter writes what is queued
    }
    if (mode == "crash" && argc == 4) {
        const int n = std::stoi(argv[3]);
        const std::int64_t t = now_ms();
        for (int i = 0; i < n; ++i) {
            CdrCall c;
            c.caller = "201";
            c.callee = "202";
            if (!writer.submit(CdrEvent::started("crash-" + std::to_string(i), t + i, std::move(c)))) {
                std::cerr << "cdr_fill: dropped\n";
                return 1;
            }
        }
        // The promise under test: what was submitted is committed within about 100 ms, with no flush().
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        std::cout << "submitted " << n << std::endl;
        for (;;)
            ::pause();
    }
    std::cerr << "usage: cdr_fill DATA_DIR fill | cdr_fill DATA_DIR crash N\n";
    return 2;
}
