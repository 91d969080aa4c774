#include "storage/cdr_writer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage/sqlite/cdr_store.hpp"
#include "temp_dir.hpp"

namespace sw::storage {
namespace {

using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

CdrEvent start(std::string call) {
    CdrCall c;
    c.caller = "201";
    c.callee = "202";
    return CdrEvent::started(std::move(call), 1'000, std::move(c));
}

// Records the call id of every event of every apply() batch. With block_first, the first apply() signals
// `entered` and waits for `release` before it records anything. With fail, every apply() is refused.
class FakeStore final : public CdrStore {
public:
    Status apply(const std::vector<CdrEvent>& events) override {
        if (block_first && applies_.fetch_add(1) == 0) {
            entered.count_down();
            release.wait();
        }
        std::lock_guard lock(mutex_);
        Strings batch;
        for (const auto& e : events)
            batch.push_back(e.call);
        batches_.push_back(batch);
        if (fail) return sw::unexpected(std::string("disk on fire"));
        return ok();
    }

    std::vector<Strings> batches() const {
        std::lock_guard lock(mutex_);
        return batches_;
    }
    Strings events() const {
        std::lock_guard lock(mutex_);
        Strings all;
        for (const auto& b : batches_)
            all.insert(all.end(), b.begin(), b.end());
        return all;
    }

    bool block_first = false;
    bool fail = false;
    std::latch entered{1};
    std::latch release{1};

private:
    std::atomic<int> applies_{0};
    mutable std::mutex mutex_;
    std::vector<Strings> batches_;
};

// Reports, kept for the test to read (they come from the writer thread or from submit()).
class Reports {
public:
    CdrWriter::Report sink() {
        return [this](const std::string& m) {
            std::lock_guard lock(mutex_);
            messages_.push_back(m);
        };
    }
    Strings messages() const {
        std::lock_guard lock(mutex_);
        return messages_;
    }

private:
    mutable std::mutex mutex_;
    Strings messages_;
};

// A steady clock that moves only when told to.
struct FakeClock {
    std::atomic<std::int64_t> ms{1'000'000};
    CdrWriter::SteadyClock fn() {
        return [this] { return std::chrono::steady_clock::time_point(std::chrono::milliseconds(ms.load())); };
    }
};

TEST(CdrWriter, ManyThreadsSubmittingLeaveEveryRowAfterDestruction) {
    test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    const std::string path = dir.file("cdr.db");
    constexpr int kThreads = 8;
    constexpr int kCalls = 250;
    {
        auto db = open_cdr_database(path);
        ASSERT_TRUE(db) << db.error();
        SqliteCdrStore store(**db);
        Reports reports;
        std::optional<CdrWriter> writer;
        writer.emplace(store, reports.sink());
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&writer, t] {
                for (int i = 0; i < kCalls; ++i) {
                    // One call's events come from one thread, in order (as from one worker).
                    const std::string id = std::to_string(t) + "-" + std::to_string(i) + "-x";
                    CdrCall c;
                    c.caller = "2" + std::to_string(t);
                    c.callee = "300";
                    writer->submit(CdrEvent::started(id, 1'000 + i, c));
                    writer->submit(CdrEvent::answered(id, 2'000 + i));
                    writer->submit(CdrEvent::ended(id, 5'000 + i, 200, "caller hung up"));
                }
            });
        }
        for (auto& th : threads)
            th.join();
        EXPECT_EQ(writer->dropped(), 0u);
        writer.reset();  // no flush(): the destructor must write what is still queued
        EXPECT_TRUE(reports.messages().empty());
    }
    auto db = open_cdr_database(path);
    ASSERT_TRUE(db) << db.error();
    SqliteCdrStore store(**db);
    auto records = store.query(CdrFilter{});
    ASSERT_TRUE(records) << records.error();
    ASSERT_EQ(records->size(), static_cast<std::size_t>(kThreads * kCalls));
    for (const auto& r : *records) {
        ASSERT_EQ(r.result, 200) << r.call;
        ASSERT_EQ(r.duration_ms, 3'000) << r.call;
    }
    CdrFilter one;
    one.user = "23";
    auto one_user = store.query(one);
    ASSERT_TRUE(one_user);
    EXPECT_EQ(one_user->size(), static_cast<std::size_t>(kCalls));
}

TEST(CdrWriter, AFullQueueDropsAndCountsInsteadOfWaiting) {
    FakeStore store;
    store.block_first = true;
    Reports reports;
    FakeClock clock;
    CdrWriter::Options options;
    options.capacity = 4;
    options.gather = 0ms;
    options.clock = clock.fn();
    std::optional<CdrWriter> writer;
    writer.emplace(store, reports.sink(), options);

    // The writer takes e0 and is stuck in the store: from now on nothing leaves the queue.
    ASSERT_TRUE(writer->submit(start("e0")));
    store.entered.wait();
    for (int i = 1; i <= 4; ++i)
        EXPECT_TRUE(writer->submit(start("e" + std::to_string(i)))) << i;
    // If submit() waited for room, this loop would never end (the store is blocked until release).
    for (int i = 5; i < 15; ++i)
        EXPECT_FALSE(writer->submit(start("e" + std::to_string(i)))) << i;
    EXPECT_EQ(writer->dropped(), 10u);
    // Ten drops within one second: one report.
    auto messages = reports.messages();
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_NE(messages[0].find("1 events dropped"), std::string::npos) << messages[0];

    clock.ms += 1'000;
    EXPECT_FALSE(writer->submit(start("e15")));
    EXPECT_EQ(writer->dropped(), 11u);
    messages = reports.messages();
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_NE(messages[1].find("11 events dropped"), std::string::npos) << messages[1];

    store.release.count_down();
    writer.reset();
    EXPECT_EQ(store.events(), (Strings{"e0", "e1", "e2", "e3", "e4"}));
}

TEST(CdrWriter, ABatchGathersUntilItIsFull) {
    FakeStore store;
    CdrWriter::Options options;
    options.gather = std::chrono::hours(1);  // only a full batch (or the stop) starts a commit
    options.batch = 10;
    CdrWriter writer(store, {}, options);
    for (int i = 0; i < 10; ++i)
        ASSERT_TRUE(writer.submit(start("c" + std::to_string(i))));
    writer.flush();
    EXPECT_EQ(store.batches().size(), 1u);
    EXPECT_EQ(store.events().size(), 10u);
    EXPECT_EQ(writer.written(), 10u);
    EXPECT_EQ(writer.commits(), 1u);
}

TEST(CdrWriter, DestructionWritesWhatIsGatheringAtOnce) {
    FakeStore store;
    CdrWriter::Options options;
    options.gather = std::chrono::hours(1);
    {
        CdrWriter writer(store, {}, options);
        ASSERT_TRUE(writer.submit(start("a")));
        ASSERT_TRUE(writer.submit(start("b")));
        ASSERT_TRUE(writer.submit(start("c")));
    }  // without the stop cutting the gathering short, this would wait an hour
    EXPECT_EQ(store.events(), (Strings{"a", "b", "c"}));
}

TEST(CdrWriter, StoreErrorsAreCountedAndReportedOncePerPeriod) {
    FakeStore store;
    store.fail = true;
    Reports reports;
    FakeClock clock;
    CdrWriter::Options options;
    options.gather = 0ms;
    options.clock = clock.fn();
    CdrWriter writer(store, reports.sink(), options);
    ASSERT_TRUE(writer.submit(start("a")));
    ASSERT_TRUE(writer.submit(start("b")));
    writer.flush();
    ASSERT_TRUE(writer.submit(start("c")));
    writer.flush();
    EXPECT_EQ(writer.failed(), 3u);
    EXPECT_EQ(writer.written(), 0u);
    auto messages = reports.messages();
    ASSERT_EQ(messages.size(), 1u);  // the clock did not move: one report
    EXPECT_NE(messages[0].find("disk on fire"), std::string::npos) << messages[0];

    clock.ms += 1'000;
    ASSERT_TRUE(writer.submit(start("d")));
    writer.flush();
    messages = reports.messages();
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_NE(messages[1].find("4 events lost"), std::string::npos) << messages[1];
}

}  // namespace
}  // namespace sw::storage
