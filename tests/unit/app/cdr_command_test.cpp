#include "app/cdr_command.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <ctime>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>

#include "../storage/temp_dir.hpp"
#include "app/store_setup.hpp"
#include "storage/sqlite/cdr_store.hpp"

namespace sw::app {
namespace {

// Local time is UTC for these tests (and the zone the process had is put back afterwards).
class CdrCommandTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (const char* tz = ::getenv("TZ")) saved_tz_ = tz;
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
    void TearDown() override {
        if (saved_tz_) {
            ::setenv("TZ", saved_tz_->c_str(), 1);
        } else {
            ::unsetenv("TZ");
        }
        ::tzset();
    }

private:
    std::optional<std::string> saved_tz_;
};

constexpr std::int64_t kNow = 1'780'000'000'000;  // 2026-05-28T20:26:40Z

TEST_F(CdrCommandTest, SinceTakesUnixSecondsIsoTimesAndAges) {
    EXPECT_EQ(parse_since("1764583200", kNow).value(), 1'764'583'200'000);
    EXPECT_EQ(parse_since("2026-12-01T10:00", kNow).value(), 1'796'119'200'000);
    EXPECT_EQ(parse_since("2026-12-01 10:00", kNow).value(), 1'796'119'200'000);
    EXPECT_EQ(parse_since("2026-12-01T10:00:30", kNow).value(), 1'796'119'230'000);
    EXPECT_EQ(parse_since("2026-12-01T10:00Z", kNow).value(), 1'796'119'200'000);
    EXPECT_EQ(parse_since("2026-12-01", kNow).value(), 1'796'083'200'000);
    EXPECT_EQ(parse_since("90s", kNow).value(), kNow - 90'000);
    EXPECT_EQ(parse_since("30m", kNow).value(), kNow - 30 * 60'000);
    EXPECT_EQ(parse_since("1h", kNow).value(), kNow - 3'600'000);
    EXPECT_EQ(parse_since("2d", kNow).value(), kNow - 2 * 86'400'000);
    EXPECT_EQ(parse_since("1w", kNow).value(), kNow - 7 * 86'400'000);
    EXPECT_EQ(parse_since("100000w", kNow).value(), 0);  // before 1970: from the beginning
}

TEST_F(CdrCommandTest, SinceRefusesWhatItCannotRead) {
    for (const char* bad : {"", "h", "-5", "1x", "1.5h", "2026-13-01", "2026-02-30", "2026-12-01T25:00",
                            "2026-12-01T10", "2026/12/01", "yesterday", "1e9", "9999999999999"}) {
        auto since = parse_since(bad, kNow);
        EXPECT_FALSE(since) << bad << " read as " << (since ? *since : 0);
    }
    auto error = parse_since("soon", kNow);
    ASSERT_FALSE(error);
    EXPECT_NE(error.error().find("--since soon"), std::string::npos) << error.error();
}

TEST_F(CdrCommandTest, CsvQuotesPerRfc4180) {
    EXPECT_EQ(csv_field("plain text"), "plain text");
    EXPECT_EQ(csv_field(""), "");
    EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
    EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
    EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
}

storage::CdrRecord record() {
    storage::CdrRecord r;
    r.call = "0-1-a";
    r.start_ms = 1'796'119'200'000;  // 2026-12-01 10:00:00 UTC
    r.answer_ms = r.start_ms + 2'500;
    r.end_ms = r.start_ms + 3'725'750;
    r.duration_ms = r.end_ms - r.answer_ms;
    r.caller = "201";
    r.callee = "0301234567";
    r.dialled = "0301234567";
    r.direction = "outbound";
    r.trunk = "sipgate";
    r.source = "udp:192.0.2.1:5060";
    r.user_agent = "Phone \"X\", v1";
    r.result = 200;
    r.reason = "caller hung up";
    return r;
}

TEST_F(CdrCommandTest, CsvHasAHeaderAndEveryField) {
    auto unanswered = record();
    unanswered.call = "0-2-b";
    unanswered.answer_ms = 0;
    unanswered.end_ms = 0;
    unanswered.duration_ms = 0;
    unanswered.result = 0;
    unanswered.reason.clear();
    std::ostringstream out;
    print_cdr_csv(out, {record(), unanswered});
    EXPECT_EQ(
        out.str(),
        "call,start,answer,end,duration_ms,caller,callee,dialled,direction,trunk,source,user_agent,"
        "result,reason,verdict\r\n"
        "0-1-a,2026-12-01T10:00:00.000+00:00,2026-12-01T10:00:02.500+00:00,2026-12-01T11:02:05.750+00:00,"
        "3723250,201,0301234567,0301234567,outbound,sipgate,udp:192.0.2.1:5060,\"Phone \"\"X\"\", v1\","
        "200,caller hung up,\r\n"
        "0-2-b,2026-12-01T10:00:00.000+00:00,,,0,201,0301234567,0301234567,outbound,sipgate,"
        "udp:192.0.2.1:5060,\"Phone \"\"X\"\", v1\",,,\r\n");
}

TEST_F(CdrCommandTest, TableShowsLocalTimeDurationAndDashes) {
    auto running = record();
    running.end_ms = 0;
    running.result = 0;
    running.reason.clear();
    running.trunk.clear();
    std::ostringstream out;
    print_cdr_table(out, {record(), running});
    const std::string text = out.str();
    EXPECT_EQ(text.substr(0, text.find('\n')),
              "START                CALLER  CALLEE      DIALLED     DIRECTION  TRUNK    DURATION  RESULT  "
              "REASON          VERDICT  SOURCE");
    EXPECT_NE(text.find("2026-12-01 10:00:00  201     0301234567  0301234567  outbound   sipgate  1:02:03   "
                        "200     caller hung up  -        udp:192.0.2.1:5060\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("outbound   -        -         -       -               -        udp:"),
              std::string::npos)
        << text;
}

TEST_F(CdrCommandTest, RunFiltersAndNotesTheLimit) {
    storage::test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    const std::string data = dir.file("var");
    CdrCommand command;
    command.data_dir = data;
    std::ostringstream out, err;
    // No data folder at all: no records, and nothing is created.
    ASSERT_EQ(run_cdr_command(command, kNow, out, err), 0) << err.str();
    EXPECT_EQ(out.str(), "no call records\n");
    EXPECT_FALSE(std::filesystem::exists(data));

    std::filesystem::create_directories(data);
    {
        auto db = storage::open_cdr_database(cdr_database_path(data));
        ASSERT_TRUE(db) << db.error();
        storage::SqliteCdrStore store(**db);
        storage::CdrCall internal;
        internal.caller = "201";
        internal.callee = "202";
        storage::CdrCall outbound;
        outbound.caller = "203";
        outbound.callee = "0301234567";
        outbound.direction = storage::CdrDirection::Outbound;
        outbound.trunk = "sipgate";
        ASSERT_TRUE(store.apply({storage::CdrEvent::started("old", kNow - 7'200'000, internal),
                                 storage::CdrEvent::started("new", kNow - 60'000, internal),
                                 storage::CdrEvent::started("out", kNow - 30'000, outbound)}));
    }
    auto with = [](auto set) {
        CdrCommand c;
        set(c);
        return c;
    };
    auto run = [&](CdrCommand c) {
        out.str("");
        err.str("");
        c.data_dir = data;
        c.csv = true;
        EXPECT_EQ(run_cdr_command(c, kNow, out, err), 0) << err.str();
        std::string calls;
        std::istringstream lines(out.str());
        std::string line;
        std::getline(lines, line);  // the header
        while (std::getline(lines, line))
            calls += line.substr(0, line.find(',')) + " ";
        return calls;
    };
    EXPECT_EQ(run(CdrCommand{}), "out new old ");
    EXPECT_EQ(run(with([](CdrCommand& c) { c.since = "1h"; })), "out new ");
    EXPECT_EQ(run(with([](CdrCommand& c) { c.user = "201"; })), "new old ");
    EXPECT_EQ(run(with([](CdrCommand& c) { c.external = true; })), "out ");
    EXPECT_EQ(err.str(), "");
    EXPECT_EQ(run(with([](CdrCommand& c) { c.limit = 2; })), "out new ");
    EXPECT_NE(err.str().find("showing the newest 2 records"), std::string::npos) << err.str();
    EXPECT_EQ(run(with([](CdrCommand& c) { c.limit = 3; })), "out new old ");
    EXPECT_EQ(err.str(), "");

    command.since = "whenever";
    EXPECT_EQ(run_cdr_command(command, kNow, out, err), 2);
}

}  // namespace
}  // namespace sw::app
