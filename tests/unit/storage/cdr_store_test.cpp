#include "storage/sqlite/cdr_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace sw::storage {
namespace {

CdrCall call_details(std::string caller, std::string callee,
                     CdrDirection direction = CdrDirection::Internal) {
    CdrCall c;
    c.caller = std::move(caller);
    c.callee = std::move(callee);
    c.dialled = c.callee;
    c.direction = direction;
    if (direction != CdrDirection::Internal) c.trunk = "sipgate";
    c.source = "udp:192.0.2.10:5060";
    c.user_agent = "Phone/1.0";
    return c;
}

CdrFilter filter(std::int64_t since_ms, std::string user, bool external_only, std::size_t limit) {
    CdrFilter f;
    f.since_ms = since_ms;
    f.user = std::move(user);
    f.external_only = external_only;
    f.limit = limit;
    return f;
}

std::vector<std::string> calls(const std::vector<CdrRecord>& records) {
    std::vector<std::string> out;
    for (const auto& r : records)
        out.push_back(r.call);
    return out;
}

class CdrStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(dir_.ok());
        reopen();
    }

    void reopen() {
        store_.reset();
        db_.reset();
        auto db = open_cdr_database(path_);
        ASSERT_TRUE(db) << db.error();
        db_ = std::move(db).value();
        store_.emplace(*db_);
    }

    std::vector<CdrRecord> all() {
        auto records = store_->query(CdrFilter{});
        EXPECT_TRUE(records) << records.error();
        return records ? *records : std::vector<CdrRecord>{};
    }

    test::TempDir dir_;
    std::string path_ = dir_.file("cdr.db");
    std::unique_ptr<Database> db_;
    std::optional<SqliteCdrStore> store_;
};

TEST_F(CdrStoreTest, StartAnswerEndMakeOneRowWithTheDuration) {
    CdrCall details = call_details("201", "0301234567", CdrDirection::Outbound);
    details.dialled = "0-0301234567";
    details.verdict = "allowed: national";
    ASSERT_TRUE(store_->apply({CdrEvent::started("0-1-abc", 1'000'000, details)}));
    ASSERT_TRUE(store_->apply({CdrEvent::answered("0-1-abc", 1'004'500)}));
    // Before the end: answered, no duration yet, no result.
    auto running = all();
    ASSERT_EQ(running.size(), 1u);
    EXPECT_EQ(running[0].answer_ms, 1'004'500);
    EXPECT_EQ(running[0].end_ms, 0);
    EXPECT_EQ(running[0].duration_ms, 0);
    EXPECT_EQ(running[0].result, 0);

    ASSERT_TRUE(store_->apply({CdrEvent::ended("0-1-abc", 1'064'750, 200, "callee hung up")}));
    reopen();  // what is there was committed
    auto records = all();
    ASSERT_EQ(records.size(), 1u);
    const CdrRecord& r = records[0];
    EXPECT_EQ(r.call, "0-1-abc");
    EXPECT_EQ(r.start_ms, 1'000'000);
    EXPECT_EQ(r.answer_ms, 1'004'500);
    EXPECT_EQ(r.end_ms, 1'064'750);
    EXPECT_EQ(r.duration_ms, 60'250);
    EXPECT_EQ(r.caller, "201");
    EXPECT_EQ(r.callee, "0301234567");
    EXPECT_EQ(r.dialled, "0-0301234567");
    EXPECT_EQ(r.direction, "outbound");
    EXPECT_EQ(r.trunk, "sipgate");
    EXPECT_EQ(r.source, "udp:192.0.2.10:5060");
    EXPECT_EQ(r.user_agent, "Phone/1.0");
    EXPECT_EQ(r.result, 200);
    EXPECT_EQ(r.reason, "callee hung up");
    EXPECT_EQ(r.verdict, "allowed: national");
    EXPECT_GT(r.id, 0);
}

TEST_F(CdrStoreTest, ACallNeverAnsweredHasNoDuration) {
    ASSERT_TRUE(store_->apply({CdrEvent::started("c1", 5'000, call_details("201", "202")),
                               CdrEvent::ended("c1", 35'000, 487, "487 cancelled")}));
    auto records = all();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].answer_ms, 0);
    EXPECT_EQ(records[0].end_ms, 35'000);
    EXPECT_EQ(records[0].duration_ms, 0);
    EXPECT_EQ(records[0].result, 487);
    EXPECT_EQ(records[0].reason, "487 cancelled");
    EXPECT_EQ(records[0].direction, "internal");
    EXPECT_EQ(records[0].trunk, "");
}

TEST_F(CdrStoreTest, AnEndWithoutAStartStillMakesARow) {
    // The start was dropped under overload: the end must not be thrown away with it.
    ASSERT_TRUE(store_->apply({CdrEvent::ended("lost-start", 90'000, 200, "caller hung up")}));
    ASSERT_TRUE(store_->apply({CdrEvent::ended("other", 95'000, 486, "486 busy")}));
    auto records = all();
    ASSERT_EQ(calls(records), (std::vector<std::string>{"other", "lost-start"}));
    const CdrRecord& r = records[1];
    EXPECT_EQ(r.start_ms, 90'000);  // the first time known
    EXPECT_EQ(r.end_ms, 90'000);
    EXPECT_EQ(r.result, 200);
    EXPECT_EQ(r.reason, "caller hung up");
    EXPECT_EQ(r.caller, "");
    EXPECT_EQ(r.direction, "");
    EXPECT_EQ(r.duration_ms, 0);
}

TEST_F(CdrStoreTest, AnAnswerWithoutAStartKeepsTheDuration) {
    ASSERT_TRUE(store_->apply({CdrEvent::answered("c", 10'000), CdrEvent::ended("c", 25'000, 200, "x")}));
    auto records = all();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].start_ms, 10'000);
    EXPECT_EQ(records[0].duration_ms, 15'000);
    // A start that arrives late fills in the details and the earlier start time.
    ASSERT_TRUE(store_->apply({CdrEvent::started("c", 8'000, call_details("201", "202"))}));
    records = all();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].start_ms, 8'000);
    EXPECT_EQ(records[0].caller, "201");
    EXPECT_EQ(records[0].duration_ms, 15'000);
    EXPECT_EQ(records[0].result, 200);
}

TEST_F(CdrStoreTest, TheSameCallIdTwiceIsOneRow) {
    ASSERT_TRUE(store_->apply({CdrEvent::started("dup", 1'000, call_details("201", "202")),
                               CdrEvent::started("dup", 1'000, call_details("201", "203"))}));
    auto records = all();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].callee, "203");
}

TEST_F(CdrStoreTest, ApplyIsAllOrNothing) {
    // A trigger that refuses one caller makes the second event of the batch fail.
    ASSERT_TRUE(
        db_->exec("CREATE TRIGGER refuse BEFORE INSERT ON cdrs WHEN NEW.caller = 'boom' "
                  "BEGIN SELECT RAISE(ABORT, 'refused by test'); END;"));
    auto done = store_->apply({CdrEvent::started("good", 1'000, call_details("201", "202")),
                               CdrEvent::started("bad", 2'000, call_details("boom", "202"))});
    ASSERT_FALSE(done);
    EXPECT_NE(done.error().find("call bad"), std::string::npos) << done.error();
    EXPECT_NE(done.error().find("refused by test"), std::string::npos) << done.error();
    EXPECT_TRUE(all().empty());
    // The cached statements still work after the failure.
    ASSERT_TRUE(store_->apply({CdrEvent::started("good", 1'000, call_details("201", "202"))}));
    EXPECT_EQ(calls(all()), (std::vector<std::string>{"good"}));
}

TEST_F(CdrStoreTest, QueryFiltersBySinceUserDirectionAndLimitNewestFirst) {
    ASSERT_TRUE(store_->apply({
        CdrEvent::started("a", 1'000, call_details("201", "202")),
        CdrEvent::started("b", 2'000, call_details("201", "0301234567", CdrDirection::Outbound)),
        CdrEvent::started("c", 3'000, call_details("+4930555", "202", CdrDirection::Inbound)),
        CdrEvent::started("d", 4'000, call_details("203", "204")),
        CdrEvent::started("e", 5'000, call_details("2010", "202")),  // "2010" is not "201"
    }));
    EXPECT_EQ(calls(all()), (std::vector<std::string>{"e", "d", "c", "b", "a"}));

    auto since = store_->query(filter(3'000, "", false, 0));
    ASSERT_TRUE(since) << since.error();
    EXPECT_EQ(calls(*since), (std::vector<std::string>{"e", "d", "c"}));

    auto caller = store_->query(filter(0, "201", false, 0));
    ASSERT_TRUE(caller);
    EXPECT_EQ(calls(*caller), (std::vector<std::string>{"b", "a"}));

    auto either_side = store_->query(filter(0, "202", false, 0));
    ASSERT_TRUE(either_side);
    EXPECT_EQ(calls(*either_side), (std::vector<std::string>{"e", "c", "a"}));

    auto external = store_->query(filter(0, "", true, 0));
    ASSERT_TRUE(external);
    EXPECT_EQ(calls(*external), (std::vector<std::string>{"c", "b"}));

    auto limited = store_->query(filter(0, "", false, 2));
    ASSERT_TRUE(limited);
    EXPECT_EQ(calls(*limited), (std::vector<std::string>{"e", "d"}));

    auto combined = store_->query(filter(2'500, "202", true, 5));
    ASSERT_TRUE(combined);
    EXPECT_EQ(calls(*combined), (std::vector<std::string>{"c"}));
}

TEST_F(CdrStoreTest, TheFileHasOnlyTheCdrSchemaInWal) {
    EXPECT_EQ(db_->schema_version(), 1);
    auto users = db_->prepare("SELECT count(*) FROM sqlite_master WHERE name = 'users'");
    ASSERT_TRUE(users) << users.error();
    auto row = users->step();
    ASSERT_TRUE(row && *row);
    EXPECT_EQ(users->column_int64(0), 0);
    auto journal = db_->prepare("PRAGMA journal_mode");
    ASSERT_TRUE(journal);
    row = journal->step();
    ASSERT_TRUE(row && *row);
    EXPECT_EQ(journal->column_text(0), "wal");
}

TEST_F(CdrStoreTest, ACallWithinOneBatchIsOneRowAsIfAppliedOneByOne) {
    CdrCall details = call_details("201", "0301234567", CdrDirection::Outbound);
    details.verdict = "allowed: national";
    ASSERT_TRUE(store_->apply({CdrEvent::started("x", 1'000, details), CdrEvent::answered("x", 1'400),
                               CdrEvent::started("y", 1'500, call_details("202", "203")),
                               CdrEvent::ended("x", 9'400, 200, "caller hung up")}));
    auto records = all();
    ASSERT_EQ(records.size(), 2u);
    const CdrRecord& x = records[1];
    EXPECT_EQ(x.call, "x");
    EXPECT_EQ(x.start_ms, 1'000);
    EXPECT_EQ(x.answer_ms, 1'400);
    EXPECT_EQ(x.end_ms, 9'400);
    EXPECT_EQ(x.duration_ms, 8'000);
    EXPECT_EQ(x.caller, "201");
    EXPECT_EQ(x.direction, "outbound");
    EXPECT_EQ(x.trunk, "sipgate");
    EXPECT_EQ(x.verdict, "allowed: national");
    EXPECT_EQ(x.result, 200);
    EXPECT_EQ(x.reason, "caller hung up");
    EXPECT_LT(x.id, records[0].id);  // x's row was made first, as its first event came first
    EXPECT_EQ(records[0].call, "y");
    EXPECT_EQ(records[0].end_ms, 0);
}

// Folding a batch's events per call must leave exactly the rows that applying every event in a batch of
// its own leaves: random calls, events in random order (starts and answers overtaken by ends, repeats),
// cut into random batches, against the same events one by one.
TEST_F(CdrStoreTest, FoldedBatchesEqualOneEventAtATime) {
    auto one_by_one_db = open_cdr_database(dir_.file("one-by-one.db"));
    ASSERT_TRUE(one_by_one_db) << one_by_one_db.error();
    SqliteCdrStore one_by_one(**one_by_one_db);
    std::uint64_t seed = 0x9e3779b97f4a7c15u;
    auto next = [&seed](std::uint64_t n) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        return seed % n;
    };
    std::vector<CdrEvent> events;
    for (int i = 0; i < 3000; ++i) {
        const std::string call = "c" + std::to_string(next(300));
        const std::int64_t at = 1'000'000 + static_cast<std::int64_t>(next(100'000));
        switch (next(3)) {
            case 0: {
                CdrCall d = call_details("2" + std::to_string(next(50)), "3" + std::to_string(next(50)),
                                         next(2) == 0 ? CdrDirection::Internal : CdrDirection::Inbound);
                d.verdict = next(2) == 0 ? "" : "allowed";
                events.push_back(CdrEvent::started(call, at, d));
                break;
            }
            case 1:
                events.push_back(CdrEvent::answered(call, at));
                break;
            default:
                events.push_back(
                    CdrEvent::ended(call, at, next(2) == 0 ? 200 : 486, "r" + std::to_string(next(9))));
        }
    }
    std::size_t folded_batches = 0;
    for (std::size_t at = 0; at < events.size();) {
        const std::size_t n = std::min(events.size() - at, 1 + static_cast<std::size_t>(next(40)));
        std::vector<CdrEvent> batch(events.begin() + static_cast<std::ptrdiff_t>(at),
                                    events.begin() + static_cast<std::ptrdiff_t>(at + n));
        ASSERT_TRUE(store_->apply(batch));
        ++folded_batches;
        at += n;
    }
    for (const auto& e : events)
        ASSERT_TRUE(one_by_one.apply({e}));
    auto folded = all();
    auto expected = one_by_one.query(CdrFilter{});
    ASSERT_TRUE(expected) << expected.error();
    ASSERT_EQ(folded.size(), expected->size());
    ASSERT_GT(folded.size(), 250u);
    EXPECT_LT(folded_batches, events.size() / 10);
    for (std::size_t i = 0; i < folded.size(); ++i) {
        const CdrRecord& a = folded[i];
        const CdrRecord& b = (*expected)[i];
        SCOPED_TRACE(b.call);
        EXPECT_EQ(a.id, b.id);
        EXPECT_EQ(a.call, b.call);
        EXPECT_EQ(a.start_ms, b.start_ms);
        EXPECT_EQ(a.answer_ms, b.answer_ms);
        EXPECT_EQ(a.end_ms, b.end_ms);
        EXPECT_EQ(a.duration_ms, b.duration_ms);
        EXPECT_EQ(a.caller, b.caller);
        EXPECT_EQ(a.callee, b.callee);
        EXPECT_EQ(a.dialled, b.dialled);
        EXPECT_EQ(a.direction, b.direction);
        EXPECT_EQ(a.trunk, b.trunk);
        EXPECT_EQ(a.source, b.source);
        EXPECT_EQ(a.user_agent, b.user_agent);
        EXPECT_EQ(a.result, b.result);
        EXPECT_EQ(a.reason, b.reason);
        EXPECT_EQ(a.verdict, b.verdict);
    }
}

TEST(CdrDirection, Names) {
    EXPECT_EQ(direction_name(CdrDirection::Internal), "internal");
    EXPECT_EQ(direction_name(CdrDirection::Outbound), "outbound");
    EXPECT_EQ(direction_name(CdrDirection::Inbound), "inbound");
}

}  // namespace
}  // namespace sw::storage
