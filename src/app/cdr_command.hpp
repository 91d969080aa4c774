// `sipwarden cdr`: the call detail records in DATA_DIR/cdr.db, newest first, as a table or as CSV.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "storage/cdr.hpp"

namespace CLI {
class App;
}

namespace sw::app {

struct CdrCommand {
    std::string data_dir = "./var";
    std::string since;  // --since T, as given (parse_since); empty: from the beginning
    std::string user;   // --user EXT: calls from or to EXT
    bool external = false;
    bool csv = false;
    std::size_t limit = 1000;  // 0: all
};

// Declares `cdr` on `app`; parsing fills `command`. Returns the subcommand.
CLI::App* add_cdr_command(CLI::App& app, CdrCommand& command);

// Prints the records the options select. A missing cdr.db has no records and is not created. When more
// records match than --limit, a note on `err` says so. Exit status 0, or 2 when the store cannot be read.
int run_cdr_command(const CdrCommand& command, std::int64_t now_ms, std::ostream& out, std::ostream& err);

// --since: Unix seconds ("1764583200"); a local date and time "2026-12-01T10:00", "2026-12-01T10:00:30",
// "2026-12-01 10:00" or a date alone "2026-12-01" (midnight), UTC with a trailing "Z"; or an age before
// `now_ms`: a number and a unit, s, m, h, d or w ("90s", "30m", "1h", "2d"). Returns Unix milliseconds.
sw::Result<std::int64_t, std::string> parse_since(std::string_view text, std::int64_t now_ms);

// The table and the CSV, for tests. The table's columns: START, CALLER, CALLEE, DIALLED, DIRECTION, TRUNK,
// DURATION, RESULT, REASON, VERDICT, SOURCE (local time; "-" for what is not known). The CSV (RFC 4180:
// CRLF line ends, fields with a comma, quote, CR or LF quoted, quotes doubled) has a header line and
// every field: call, start, answer, end (ISO 8601 local time with milliseconds and UTC offset; empty when
// not known), duration_ms, caller, callee, dialled, direction, trunk, source, user_agent, result (empty
// while the call has not ended), reason, verdict.
void print_cdr_table(std::ostream& out, const std::vector<storage::CdrRecord>& records);
void print_cdr_csv(std::ostream& out, const std::vector<storage::CdrRecord>& records);
std::string csv_field(std::string_view field);

}  // namespace sw::app
