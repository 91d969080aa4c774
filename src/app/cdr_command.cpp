#include "app/cdr_command.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <vector>

#include "app/store_setup.hpp"
#include "app/text_table.hpp"
#include "common/text.hpp"
#include "storage/sqlite/cdr_store.hpp"

namespace sw::app {

namespace {

constexpr std::int64_t kMsPerS = 1000;

// Digits only, at most 12 of them (no overflow: 10^12 seconds is 31 000 years).
std::optional<std::int64_t> number(std::string_view s) {
    if (!all_digits(s) || s.size() > 12) return std::nullopt;
    std::int64_t n = 0;
    for (char c : s)
        n = n * 10 + (c - '0');
    return n;
}

// "YYYY-MM-DD", then optionally "THH:MM" or " HH:MM", then optionally ":SS", then optionally "Z".
std::optional<std::int64_t> parse_iso(std::string_view s) {
    bool utc = false;
    if (!s.empty() && (s.back() == 'Z' || s.back() == 'z')) {
        utc = true;
        s.remove_suffix(1);
    }
    auto field = [&s](std::size_t at, std::size_t len) -> std::optional<int> {
        if (at + len > s.size()) return std::nullopt;
        auto n = number(s.substr(at, len));
        if (!n) return std::nullopt;
        return static_cast<int>(*n);
    };
    if (s.size() != 10 && s.size() != 16 && s.size() != 19) return std::nullopt;
    if (s[4] != '-' || s[7] != '-') return std::nullopt;
    auto year = field(0, 4), month = field(5, 2), day = field(8, 2);
    if (!year || !month || !day) return std::nullopt;
    int hour = 0, minute = 0, second = 0;
    if (s.size() >= 16) {
        if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':') return std::nullopt;
        auto h = field(11, 2), m = field(14, 2);
        if (!h || !m) return std::nullopt;
        hour = *h;
        minute = *m;
    }
    if (s.size() == 19) {
        if (s[16] != ':') return std::nullopt;
        auto sec = field(17, 2);
        if (!sec) return std::nullopt;
        second = *sec;
    }
    if (*year < 1970 || *month < 1 || *month > 12 || *day < 1 || *day > 31 || hour > 23 || minute > 59 ||
        second > 59) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    tm.tm_isdst = -1;  // local time: whatever daylight saving time says for that date
    const int want_day = tm.tm_mday;
    const std::time_t t = utc ? ::timegm(&tm) : std::mktime(&tm);
    // mktime and timegm make 2026-02-30 into 2026-03-02: a day that does not exist is refused instead.
    if (t == static_cast<std::time_t>(-1) || tm.tm_mday != want_day) return std::nullopt;
    return static_cast<std::int64_t>(t) * kMsPerS;
}

std::string or_dash(const std::string& s) {
    return s.empty() ? "-" : s;
}

// Local time of a Unix ms value; `iso`: "2026-12-01T10:00:05.123+01:00", else "2026-12-01 10:00:05".
std::string format_time(std::int64_t ms, bool iso) {
    const std::time_t t = static_cast<std::time_t>(ms / kMsPerS);
    std::tm tm{};
    if (::localtime_r(&t, &tm) == nullptr) return std::to_string(ms);
    char buf[64];
    if (!iso) {
        std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
        return buf;
    }
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out = buf;
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms % kMsPerS));
    out += frac;
    std::strftime(buf, sizeof buf, "%z", &tm);  // "+0100"
    std::string zone = buf;
    if (zone.size() == 5) zone.insert(3, ":");
    return out + zone;
}

// H:MM:SS, whole seconds (rounded down).
std::string format_duration(std::int64_t ms) {
    const std::int64_t s = ms / kMsPerS;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
    return buf;
}

}  // namespace

sw::Result<std::int64_t, std::string> parse_since(std::string_view text, std::int64_t now_ms) {
    const std::string shown(text);
    if (auto seconds = number(text)) return *seconds * kMsPerS;
    if (text.size() >= 2) {
        std::int64_t unit = 0;
        switch (text.back()) {
            case 's':
                unit = 1;
                break;
            case 'm':
                unit = 60;
                break;
            case 'h':
                unit = 3600;
                break;
            case 'd':
                unit = 86400;
                break;
            case 'w':
                unit = 7 * 86400;
                break;
            default:
                break;
        }
        if (unit != 0) {
            auto count = number(text.substr(0, text.size() - 1));
            if (!count) return sw::unexpected("--since " + shown + ": expected a number before the unit");
            const std::int64_t since = now_ms - *count * unit * kMsPerS;
            return since < 0 ? 0 : since;
        }
    }
    if (auto iso = parse_iso(text)) return *iso;
    return sw::unexpected("--since " + shown +
                          ": expected Unix seconds, a local time like 2026-12-01T10:00, or an age like "
                          "30m, 1h, 2d");
}

std::string csv_field(std::string_view field) {
    if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
    std::string out = "\"";
    for (char c : field) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

void print_cdr_table(std::ostream& out, const std::vector<storage::CdrRecord>& records) {
    std::vector<std::vector<std::string>> rows;
    rows.reserve(records.size() + 1);
    rows.push_back({"START", "CALLER", "CALLEE", "DIALLED", "DIRECTION", "TRUNK", "DURATION", "RESULT",
                    "REASON", "VERDICT", "SOURCE"});
    for (const auto& r : records) {
        const bool ended = r.end_ms != 0;
        rows.push_back({format_time(r.start_ms, false), or_dash(r.caller), or_dash(r.callee),
                        or_dash(r.dialled), or_dash(r.direction), or_dash(r.trunk),
                        ended ? format_duration(r.duration_ms) : "-",
                        r.result != 0 ? std::to_string(r.result) : "-", or_dash(r.reason), or_dash(r.verdict),
                        or_dash(r.source)});
    }
    print_table(out, rows);
}

void print_cdr_csv(std::ostream& out, const std::vector<storage::CdrRecord>& records) {
    out << "call,start,answer,end,duration_ms,caller,callee,dialled,direction,trunk,source,user_agent,"
           "result,reason,verdict\r\n";
    auto time = [](std::int64_t ms) { return ms != 0 ? format_time(ms, true) : std::string(); };
    std::string line;
    for (const auto& r : records) {
        line.clear();
        for (const std::string& field :
             {csv_field(r.call), time(r.start_ms), time(r.answer_ms), time(r.end_ms),
              std::to_string(r.duration_ms), csv_field(r.caller), csv_field(r.callee), csv_field(r.dialled),
              csv_field(r.direction), csv_field(r.trunk), csv_field(r.source), csv_field(r.user_agent),
              r.result != 0 ? std::to_string(r.result) : std::string(), csv_field(r.reason),
              csv_field(r.verdict)}) {
            line += field;
            line += ',';
        }
        line.back() = '\r';
        line += '\n';
        out << line;
    }
}

CLI::App* add_cdr_command(CLI::App& app, CdrCommand& command) {
    auto* sub = app.add_subcommand(
        "cdr",
        "List call detail records from DATA_DIR/cdr.db, newest first: start, caller, callee, number as "
        "dialled, direction, trunk, duration, SIP result, reason, fraud verdict, source. Exit status 0, or 2 "
        "when the store cannot be read.");
    sub->add_option("--since", command.since,
                    "Only calls that started at or after T: Unix seconds, a local time (2026-12-01T10:00, "
                    "2026-12-01; a trailing Z for UTC) or an age (90s, 30m, 1h, 2d, 1w)")
        ->type_name("T")
        ->check([](const std::string& t) {
            auto since = parse_since(t, 0);
            return since ? std::string() : since.error();
        });
    sub->add_option("--user", command.user, "Only calls from or to this extension or number")
        ->type_name("EXT");
    sub->add_flag("--external", command.external, "Only calls through a trunk (outbound and inbound)");
    sub->add_flag("--csv", command.csv,
                  "CSV (RFC 4180) with a header line and every field, times in ISO 8601, instead of a table");
    sub->add_option("--limit", command.limit, "Show at most the N newest records (default 1000; 0: all)")
        ->type_name("N");
    sub->add_option("--data-dir", command.data_dir,
                    "Folder of the server's data, with cdr.db (default ./var)")
        ->type_name("DIR");
    return sub;
}

int run_cdr_command(const CdrCommand& command, std::int64_t now_ms, std::ostream& out, std::ostream& err) {
    storage::CdrFilter filter;
    if (!command.since.empty()) {
        auto since = parse_since(command.since, now_ms);
        if (!since) {
            err << "sipwarden: " << since.error() << "\n";
            return 2;
        }
        filter.since_ms = *since;
    }
    filter.user = command.user;
    filter.external_only = command.external;
    // One more than asked for tells whether some were left out.
    filter.limit = command.limit == 0 ? 0 : command.limit + 1;

    std::vector<storage::CdrRecord> records;
    // Listing must not create a store: a mistyped --data-dir would otherwise leave an empty one behind.
    const std::string path = cdr_database_path(command.data_dir);
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        auto db = storage::open_cdr_database(path);
        if (!db) {
            err << "sipwarden: " << db.error() << "\n";
            return 2;
        }
        storage::SqliteCdrStore store(**db);
        auto found = store.query(filter);
        if (!found) {
            err << "sipwarden: " << path << ": " << found.error() << "\n";
            return 2;
        }
        records = std::move(*found);
    } else if (ec) {
        err << "sipwarden: " << path << ": " << ec.message() << "\n";
        return 2;
    }
    if (command.limit != 0 && records.size() > command.limit) {
        records.resize(command.limit);
        err << "sipwarden: showing the newest " << command.limit
            << " records; more match (--limit N for more, --limit 0 for all)\n";
    }
    if (command.csv) {
        print_cdr_csv(out, records);
    } else if (records.empty()) {
        out << "no call records\n";
    } else {
        print_cdr_table(out, records);
    }
    return 0;
}

}  // namespace sw::app
