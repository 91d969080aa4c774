#include "registrar/binding_writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "registrar/binding.hpp"
#include "registrar/location_service.hpp"

using sw::registrar::Binding;
using sw::registrar::BindingChange;
using sw::registrar::BindingStore;
using sw::registrar::BindingWriter;

namespace {

using Strings = std::vector<std::string>;

BindingChange upsert(std::string contact) {
    BindingChange c;
    c.kind = BindingChange::Kind::Upsert;
    c.binding.aor = "alice@example.com";
    c.binding.contact = std::move(contact);
    return c;
}

std::vector<BindingChange> one(std::string contact) {
    return {upsert(std::move(contact))};
}

// Records every apply() batch and remove_expired() call, in order. With block_first, the first apply()
// signals `entered` and waits for `release` before it records anything.
class FakeStore final : public BindingStore {
public:
    bool apply(const std::vector<BindingChange>& changes) override {
        if (block_first && applies_.fetch_add(1) == 0) {
            entered.count_down();
            release.wait();
        }
        std::lock_guard lock(mutex_);
        Strings batch;
        std::string line = "apply";
        for (const auto& c : changes) {
            batch.push_back(c.binding.contact);
            line += " " + c.binding.contact;
        }
        batches_.push_back(batch);
        log_.push_back(line);
        return !fail;
    }
    std::vector<Binding> load_all() override { return {}; }
    std::size_t remove_expired(std::int64_t now) override {
        std::lock_guard lock(mutex_);
        log_.push_back("expire " + std::to_string(now));
        return 0;
    }

    std::vector<Strings> batches() const {
        std::lock_guard lock(mutex_);
        return batches_;
    }
    Strings log() const {
        std::lock_guard lock(mutex_);
        return log_;
    }
    bool applied(const std::string& contact) const {
        std::lock_guard lock(mutex_);
        for (const auto& b : batches_) {
            for (const auto& c : b) {
                if (c == contact) return true;
            }
        }
        return false;
    }

    bool block_first = false;
    std::latch entered{1};
    std::latch release{1};
    std::atomic<bool> fail{false};

private:
    std::atomic<int> applies_{0};
    mutable std::mutex mutex_;
    std::vector<Strings> batches_;
    Strings log_;
};

// What the `done` callbacks reported: which submit, its result, and whether its change was in the store.
class Dones {
public:
    BindingWriter::Done make(const FakeStore& store, std::string contact) {
        return [this, &store, contact](bool ok) {
            const bool applied = store.applied(contact);
            std::lock_guard lock(mutex_);
            calls_.push_back(Call{contact, ok, applied});
        };
    }
    struct Call {
        std::string contact;
        bool ok = false;
        bool applied_before = false;
    };
    std::vector<Call> calls() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<Call> calls_;
};

Strings flat(const std::vector<Strings>& batches) {
    Strings out;
    for (const auto& b : batches)
        out.insert(out.end(), b.begin(), b.end());
    return out;
}

TEST(BindingWriter, EveryDoneRunsOnceAfterItsChangesWereApplied) {
    FakeStore store;
    Dones dones;
    Strings expected;
    {
        BindingWriter writer(store);
        for (int i = 0; i < 50; ++i) {
            const std::string contact = "sip:c" + std::to_string(i) + "@192.0.2.1";
            expected.push_back(contact);
            writer.submit(one(contact), dones.make(store, contact));
        }
        writer.flush();
        const auto calls = dones.calls();
        ASSERT_EQ(calls.size(), 50u);  // all of them by the time flush() returns
        Strings reported;
        for (const auto& c : calls) {
            EXPECT_TRUE(c.ok) << c.contact;
            EXPECT_TRUE(c.applied_before) << c.contact;
            reported.push_back(c.contact);
        }
        EXPECT_EQ(reported, expected);  // in submission order
        EXPECT_GE(writer.commits(), 1u);
        EXPECT_LE(writer.commits(), 50u);
        EXPECT_EQ(writer.commits(), store.batches().size());
    }
    EXPECT_EQ(flat(store.batches()), expected);  // every change once, in order
}

TEST(BindingWriter, SubmitsMadeWhileBusyGoIntoOneCommit) {
    FakeStore store;
    store.block_first = true;
    Dones dones;
    BindingWriter writer(store);
    writer.submit(one("sip:first@192.0.2.1"), dones.make(store, "sip:first@192.0.2.1"));
    store.entered.wait();  // the writer is inside the first apply()

    Strings burst;
    for (int i = 0; i < 10; ++i) {
        burst.push_back("sip:b" + std::to_string(i) + "@192.0.2.1");
        writer.submit(one(burst.back()), dones.make(store, burst.back()));
    }
    EXPECT_TRUE(dones.calls().empty());  // nothing answered before its commit
    store.release.count_down();
    writer.flush();

    const auto batches = store.batches();
    ASSERT_EQ(batches.size(), 2u);
    EXPECT_EQ(batches[0], Strings{"sip:first@192.0.2.1"});
    EXPECT_EQ(batches[1], burst);
    EXPECT_EQ(writer.commits(), 2u);
    const auto calls = dones.calls();
    ASSERT_EQ(calls.size(), 11u);
    for (const auto& c : calls) {
        EXPECT_TRUE(c.ok);
        EXPECT_TRUE(c.applied_before);
    }
}

TEST(BindingWriter, DoneIsFalseWhenTheStoreFails) {
    FakeStore store;
    store.fail = true;
    Dones dones;
    BindingWriter writer(store);
    for (int i = 0; i < 3; ++i) {
        const std::string contact = "sip:f" + std::to_string(i) + "@192.0.2.1";
        writer.submit(one(contact), dones.make(store, contact));
    }
    writer.flush();
    auto calls = dones.calls();
    ASSERT_EQ(calls.size(), 3u);
    for (const auto& c : calls)
        EXPECT_FALSE(c.ok) << c.contact;

    // The next commit succeeds again.
    store.fail = false;
    writer.submit(one("sip:ok@192.0.2.1"), dones.make(store, "sip:ok@192.0.2.1"));
    writer.flush();
    calls = dones.calls();
    ASSERT_EQ(calls.size(), 4u);
    EXPECT_TRUE(calls.back().ok);
}

TEST(BindingWriter, EmptySubmitAndMissingDoneAreFine) {
    FakeStore store;
    Dones dones;
    BindingWriter writer(store);
    writer.submit({}, dones.make(store, "nothing"));
    writer.submit(one("sip:quiet@192.0.2.1"), nullptr);  // e.g. removals of disabled users
    writer.flush();
    ASSERT_EQ(dones.calls().size(), 1u);
    EXPECT_TRUE(dones.calls()[0].ok);
    EXPECT_EQ(flat(store.batches()), Strings{"sip:quiet@192.0.2.1"});  // no apply() of an empty batch
}

TEST(BindingWriter, ExpireRunsAfterTheChangesQueuedBeforeIt) {
    FakeStore store;
    {
        BindingWriter writer(store);
        writer.submit(one("sip:a@192.0.2.1"), nullptr);
        writer.expire(1000);
        writer.flush();
        EXPECT_EQ(store.log(), (Strings{"apply sip:a@192.0.2.1", "expire 1000"}));

        // Alone: remove_expired without an apply().
        writer.expire(2000);
        writer.flush();
        EXPECT_EQ(store.log().back(), "expire 2000");
        EXPECT_EQ(store.log().size(), 3u);
    }
}

TEST(BindingWriter, ExpireQueuedWhileBusyRunsAfterTheChangesBeforeIt) {
    FakeStore store;
    store.block_first = true;
    BindingWriter writer(store);
    writer.submit(one("sip:first@192.0.2.1"), nullptr);
    store.entered.wait();
    writer.submit(one("sip:a@192.0.2.1"), nullptr);
    writer.expire(1000);
    writer.submit(one("sip:b@192.0.2.1"), nullptr);
    store.release.count_down();
    writer.flush();
    const auto log = store.log();
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log[0], "apply sip:first@192.0.2.1");
    EXPECT_EQ(log[1], "apply sip:a@192.0.2.1 sip:b@192.0.2.1");
    EXPECT_EQ(log[2], "expire 1000");
}

TEST(BindingWriter, DestructorWritesWhatIsQueued) {
    FakeStore store;
    store.block_first = true;
    Dones dones;
    auto writer = std::make_unique<BindingWriter>(store);
    writer->submit(one("sip:first@192.0.2.1"), dones.make(store, "sip:first@192.0.2.1"));
    store.entered.wait();
    Strings queued{"sip:first@192.0.2.1"};
    for (int i = 0; i < 5; ++i) {
        queued.push_back("sip:q" + std::to_string(i) + "@192.0.2.1");
        writer->submit(one(queued.back()), dones.make(store, queued.back()));
    }
    writer->expire(1000);
    // Let the first commit finish only once the destructor has (most likely) started; either way the
    // queued work must be written before it returns.
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        store.release.count_down();
    });
    writer.reset();
    releaser.join();

    EXPECT_EQ(flat(store.batches()), queued);
    EXPECT_EQ(store.log().back(), "expire 1000");
    const auto calls = dones.calls();
    ASSERT_EQ(calls.size(), queued.size());
    for (const auto& c : calls) {
        EXPECT_TRUE(c.ok);
        EXPECT_TRUE(c.applied_before);
    }
}

TEST(BindingWriter, DestructorWithNothingQueuedReturns) {
    FakeStore store;
    {
        BindingWriter writer(store);
        EXPECT_EQ(writer.commits(), 0u);
        writer.flush();
    }
    EXPECT_TRUE(store.log().empty());
}

}  // namespace

namespace {

using sw::registrar::LocationService;

// A store that keeps rows like the SQLite one (by AOR and contact) and fails the apply() calls named in
// `failing` (1 = the first apply). With block_first, the first apply() waits for `release`.
class RowStore final : public BindingStore {
public:
    bool apply(const std::vector<BindingChange>& changes) override {
        const int n = applies_.fetch_add(1) + 1;
        if (block_first && n == 1) {
            entered.count_down();
            release.wait();
        }
        std::lock_guard lock(mutex_);
        for (int f : failing) {
            if (f == n) return false;
        }
        for (const auto& c : changes) {
            const auto key = c.binding.aor + " " + c.binding.contact;
            if (c.kind == BindingChange::Kind::Upsert) {
                rows_[key] = c.binding;
            } else {
                rows_.erase(key);
            }
        }
        return true;
    }
    std::vector<Binding> load_all() override {
        std::lock_guard lock(mutex_);
        std::vector<Binding> out;
        for (auto& [k, b] : rows_)
            out.push_back(b);
        return out;
    }
    std::size_t remove_expired(std::int64_t) override { return 0; }
    bool find(const std::string& aor, const std::string& contact, std::optional<Binding>& out) override {
        ++finds;
        std::lock_guard lock(mutex_);
        out.reset();
        if (unreadable) return false;
        if (auto it = rows_.find(aor + " " + contact); it != rows_.end()) out = it->second;
        return true;
    }
    std::vector<int> failing;
    bool block_first = false;
    std::atomic<bool> unreadable{false};
    std::atomic<int> finds{0};
    std::latch entered{1};
    std::latch release{1};

private:
    std::atomic<int> applies_{0};
    std::mutex mutex_;
    std::map<std::string, Binding> rows_;
};

constexpr std::int64_t kNow = 1'700'000'000;
const std::string kAor = "alice@example.com";

Binding version(std::string contact, std::uint32_t cseq, std::int64_t expires_at) {
    Binding b;
    b.aor = kAor;
    b.contact = std::move(contact);
    b.call_id = "call-1";
    b.cseq = cseq;
    b.expires_at = expires_at;
    return b;
}

// What the registrar does: change memory and submit the change under the AOR's lock.
void register_in(LocationService& ls, BindingWriter& writer, Binding b, Dones* dones = nullptr,
                 const FakeStore* log = nullptr) {
    ls.update(kAor, [&](std::vector<Binding>& v) {
        auto it = std::find_if(v.begin(), v.end(), [&](const Binding& x) { return x.contact == b.contact; });
        if (it == v.end()) {
            v.push_back(b);
        } else {
            *it = b;
        }
        BindingWriter::Done done;
        if (dones != nullptr) done = dones->make(*log, b.contact);
        writer.submit({BindingChange{BindingChange::Kind::Upsert, b}}, std::move(done));
    });
}

std::vector<std::pair<std::string, std::uint32_t>> memory(const LocationService& ls) {
    std::vector<std::pair<std::string, std::uint32_t>> out;
    for (const auto& b : ls.lookup(kAor, kNow))
        out.emplace_back(b.contact, b.cseq);
    std::sort(out.begin(), out.end());
    return out;
}

using Memory = std::vector<std::pair<std::string, std::uint32_t>>;

}  // namespace

TEST(BindingWriterRevert, AFailedCommitLeavesMemoryAsTheStoreHasIt) {
    RowStore store;
    LocationService ls(4);
    BindingWriter writer(store, &ls);
    register_in(ls, writer, version("sip:a@192.0.2.1", 1, kNow + 600));
    writer.flush();
    ASSERT_EQ(memory(ls), (Memory{{"sip:a@192.0.2.1", 1}}));

    // Two refreshes of a and a new b, failing whichever way the writer groups them into commits.
    store.failing = {2, 3, 4};
    register_in(ls, writer, version("sip:a@192.0.2.1", 2, kNow + 3600));
    register_in(ls, writer, version("sip:a@192.0.2.1", 3, kNow + 3600));
    register_in(ls, writer, version("sip:b@192.0.2.1", 4, kNow + 3600));
    writer.flush();
    EXPECT_EQ(memory(ls), (Memory{{"sip:a@192.0.2.1", 1}}));
    EXPECT_EQ(ls.lookup(kAor, kNow)[0].expires_at, kNow + 600);
    EXPECT_GE(writer.reverted(), 2u);
    EXPECT_EQ(store.load_all().size(), 1u);
}

TEST(BindingWriterRevert, ALaterChangeOfTheSameBindingDecidesWhenItIsWritten) {
    RowStore store;
    store.block_first = true;
    store.failing = {1};
    LocationService ls(4);
    BindingWriter writer(store, &ls);
    register_in(ls, writer, version("sip:a@192.0.2.1", 1, kNow + 600));
    store.entered.wait();  // the first commit is under way; the refresh is queued behind it
    register_in(ls, writer, version("sip:a@192.0.2.1", 2, kNow + 900));
    store.release.count_down();
    writer.flush();
    // The first commit failed, but memory had moved on: the refresh, written by the second, stands.
    EXPECT_EQ(memory(ls), (Memory{{"sip:a@192.0.2.1", 2}}));
    ASSERT_EQ(store.load_all().size(), 1u);
    EXPECT_EQ(store.load_all()[0].cseq, 2u);
    EXPECT_EQ(writer.reverted(), 0u);
}

TEST(BindingWriterRevert, TwoFailedCommitsInARowLeaveWhatIsStoredNotTheFirstFailure) {
    RowStore store;
    store.block_first = true;
    store.failing = {1, 2};
    LocationService ls(4);
    BindingWriter writer(store, &ls);
    register_in(ls, writer, version("sip:a@192.0.2.1", 1, kNow + 600));
    store.entered.wait();
    register_in(ls, writer, version("sip:a@192.0.2.1", 2, kNow + 900));
    store.release.count_down();
    writer.flush();
    // The refresh's "before" was the first failure, never stored: memory goes back to the store (empty).
    EXPECT_TRUE(memory(ls).empty());
    EXPECT_TRUE(store.load_all().empty());
    EXPECT_EQ(writer.reverted(), 1u);
}

TEST(BindingWriterRevert, AnUnreadableStoreDropsTheFailedBinding) {
    RowStore store;
    LocationService ls(4);
    BindingWriter writer(store, &ls);
    register_in(ls, writer, version("sip:a@192.0.2.1", 1, kNow + 600));
    writer.flush();
    store.failing = {2};
    store.unreadable = true;
    register_in(ls, writer, version("sip:a@192.0.2.1", 2, kNow + 900));
    writer.flush();
    EXPECT_TRUE(memory(ls).empty());  // the phone was told 500: it registers again
    EXPECT_GE(store.finds.load(), 1);
}

TEST(BindingWriterRevert, KeepLeavesMemoryAsItIs) {
    RowStore store;
    LocationService ls(4);
    BindingWriter writer(store, &ls);
    register_in(ls, writer, version("sip:a@192.0.2.1", 1, kNow + 600));
    writer.flush();
    // A disabled user's bindings: gone from memory even though the store refuses the removal.
    store.failing = {2};
    auto gone = ls.remove_if_user([](std::string_view) { return true; });
    ASSERT_EQ(gone.size(), 1u);
    writer.submit({BindingChange{BindingChange::Kind::Remove, gone[0]}}, nullptr,
                  BindingWriter::OnFailure::Keep);
    writer.flush();
    EXPECT_TRUE(memory(ls).empty());
    EXPECT_EQ(store.load_all().size(), 1u);
    EXPECT_EQ(store.finds.load(), 0);

    // The same removal without Keep is put back from the stored row.
    store.failing = {3};
    writer.submit({BindingChange{BindingChange::Kind::Remove, gone[0]}}, nullptr);
    writer.flush();
    EXPECT_EQ(memory(ls), (Memory{{"sip:a@192.0.2.1", 1}}));
}

TEST(BindingWriterRevert, ManyThreadsRegisteringThroughFailuresEndWithMemoryEqualToTheStore) {
    RowStore store;
    for (int i = 2; i < 400; i += 3)
        store.failing.push_back(i);
    LocationService ls(4);
    {
        BindingWriter writer(store, &ls);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (std::uint32_t i = 1; i <= 200; ++i) {
                    // Mostly five contacts refreshed over and over, every seventh one new.
                    const std::string contact =
                        i % 7 == 0 ? "sip:u" + std::to_string(t) + "-" + std::to_string(i) + "@192.0.2.1"
                                   : "sip:c" + std::to_string((i + t) % 5) + "@192.0.2.1";
                    if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(3));
                    register_in(ls, writer, version(contact, i * 4 + t, kNow + 600 + i));
                }
            });
        }
        for (auto& th : threads)
            th.join();
        writer.flush();
        EXPECT_GT(writer.reverted(), 0u);  // some commits did fail
    }
    std::vector<std::tuple<std::string, std::uint32_t, std::int64_t>> in_memory, stored;
    for (const auto& b : ls.lookup(kAor, kNow))
        in_memory.emplace_back(b.contact, b.cseq, b.expires_at);
    for (const auto& b : store.load_all())
        stored.emplace_back(b.contact, b.cseq, b.expires_at);
    std::sort(in_memory.begin(), in_memory.end());
    std::sort(stored.begin(), stored.end());
    EXPECT_EQ(in_memory, stored);
    EXPECT_FALSE(stored.empty());
}

// Deferred changes (refreshes already answered): written within the limit without anyone asking,
// together with the next commit someone waits for, in memory's order, by flush() and by the destructor.
namespace {
bool defer(BindingWriter& w, std::vector<BindingChange> changes) {
    return w.submit_deferred(changes);
}
std::vector<BindingChange> of(std::string aor, std::string contact) {
    auto c = one(std::move(contact));
    c[0].binding.aor = std::move(aor);
    return c;
}
}  // namespace

TEST(BindingWriterDeferred, WrittenWithinTheLimitWithoutAWakeUp) {
    FakeStore store;
    BindingWriter writer(store, nullptr, std::chrono::milliseconds(300));
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(defer(writer, one("sip:d1@192.0.2.1")));
    ASSERT_TRUE(defer(writer, one("sip:d2@192.0.2.1")));
    while (!store.applied("sip:d2@192.0.2.1") &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto took = std::chrono::steady_clock::now() - start;
    // Not before the limit (nothing asked for a commit), and then both in one commit.
    EXPECT_GE(took, std::chrono::milliseconds(300));
    EXPECT_LT(took, std::chrono::seconds(5));
    EXPECT_EQ(store.batches(), (std::vector<Strings>{{"sip:d1@192.0.2.1", "sip:d2@192.0.2.1"}}));
    EXPECT_EQ(writer.commits(), 1u);
    EXPECT_EQ(writer.deferred_written(), 2u);
}

TEST(BindingWriterDeferred, GoWithTheNextCommitInOrderAndNeverAheadOfAPendingChangeOfTheirAor) {
    FakeStore store;
    Dones dones;
    // A limit no test waits for: only the urgent submit can make the commit happen.
    BindingWriter writer(store, nullptr, std::chrono::seconds(60));
    ASSERT_TRUE(defer(writer, one("sip:d1@192.0.2.1")));
    writer.submit(one("sip:u1@192.0.2.1"), dones.make(store, "sip:u1@192.0.2.1"));
    // While u1 (same AOR) is not written, memory is ahead of the disk: no refresh of it is deferred.
    // Another AOR's refresh is.
    auto same = one("sip:d2@192.0.2.1");
    const bool deferred_same = writer.submit_deferred(same);
    const bool deferred_other = defer(writer, of("bob@example.com", "sip:bob@192.0.2.2"));
    const auto start = std::chrono::steady_clock::now();
    while (dones.calls().empty() && std::chrono::steady_clock::now() - start < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_EQ(dones.calls().size(), 1u);
    EXPECT_TRUE(dones.calls()[0].ok);
    // (u1 may have been written already when d2 came: then d2 was deferred.)
    if (!deferred_same) {
        EXPECT_EQ(same.size(), 1u) << "a refused change stays with the caller";
    }
    EXPECT_TRUE(deferred_other);
    const auto written = flat(store.batches());
    ASSERT_GE(written.size(), 2u);
    EXPECT_EQ(written[0], "sip:d1@192.0.2.1");
    EXPECT_EQ(written[1], "sip:u1@192.0.2.1");
    // Once u1 is written (its done has run), the AOR's refreshes are deferred again.
    EXPECT_TRUE(defer(writer, one("sip:d3@192.0.2.1")));
    writer.flush();  // now, not in 60 s
    const auto all = flat(store.batches());
    EXPECT_EQ(all.back(), "sip:d3@192.0.2.1");
    EXPECT_EQ(std::count(all.begin(), all.end(), "sip:d2@192.0.2.1"), deferred_same ? 1 : 0);
}

TEST(BindingWriterDeferred, FlushAndTheDestructorWriteThem) {
    FakeStore store;
    {
        BindingWriter writer(store, nullptr, std::chrono::seconds(60));
        ASSERT_TRUE(defer(writer, one("sip:d1@192.0.2.1")));
        const auto start = std::chrono::steady_clock::now();
        writer.flush();
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
        EXPECT_EQ(flat(store.batches()), Strings{"sip:d1@192.0.2.1"});
        writer.flush();  // nothing queued: returns
        ASSERT_TRUE(defer(writer, one("sip:d2@192.0.2.1")));
    }
    EXPECT_EQ(flat(store.batches()), (Strings{"sip:d1@192.0.2.1", "sip:d2@192.0.2.1"}));
}

TEST(BindingWriterDeferred, ManyWakeTheWriterBeforeTheLimit) {
    FakeStore store;
    BindingWriter writer(store, nullptr, std::chrono::seconds(60));
    for (int i = 0; i < 5000; ++i)
        ASSERT_TRUE(defer(writer, one("sip:d" + std::to_string(i) + "@192.0.2.1")));
    const auto start = std::chrono::steady_clock::now();
    while (store.batches().empty() && std::chrono::steady_clock::now() - start < std::chrono::seconds(10))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_FALSE(store.batches().empty()) << "4,096 deferred changes should make a commit";
    EXPECT_GE(store.batches()[0].size(), 4096u);
}

// A deferred refresh was answered 200: a failed commit must neither undo it in memory (the phone would
// be unreachable from the old expiry on without knowing) nor forget it; it is tried again. While the
// disk fails, refreshes are not deferred (they wait, and get their 500).
TEST(BindingWriterDeferred, AFailedCommitKeepsTheRefreshAndTriesItAgain) {
    RowStore store;
    LocationService ls(4);
    BindingWriter writer(store, &ls, std::chrono::milliseconds(50));
    register_in(ls, writer, version("sip:a@192.0.2.1", 1, kNow + 600));
    writer.flush();
    store.failing = {2};
    Binding refreshed = version("sip:a@192.0.2.1", 2, kNow + 3600);
    ls.update(kAor, [&](std::vector<Binding>& v) {
        v.at(0) = refreshed;
        ASSERT_TRUE(defer(writer, {BindingChange{BindingChange::Kind::Upsert, refreshed}}));
    });
    writer.flush();
    EXPECT_EQ(memory(ls), (Memory{{"sip:a@192.0.2.1", 2}}));
    EXPECT_EQ(writer.reverted(), 0u);
    EXPECT_EQ(writer.deferred_written(), 1u) << "written by the retry";
    ASSERT_EQ(store.load_all().size(), 1u);
    EXPECT_EQ(store.load_all()[0].expires_at, kNow + 3600);
}

TEST(BindingWriterDeferred, AfterAFailedCommitNothingIsDeferredUntilOneSucceeds) {
    RowStore store;
    LocationService ls(4);
    BindingWriter writer(store, &ls, std::chrono::milliseconds(50));
    store.failing = {1, 2, 3};
    ASSERT_TRUE(defer(writer, of("carol@example.com", "sip:c@192.0.2.3")));
    writer.flush();  // three tries, all failed: given up
    EXPECT_EQ(writer.deferred_dropped(), 1u);
    EXPECT_EQ(writer.deferred_written(), 0u);
    EXPECT_FALSE(defer(writer, of("dave@example.com", "sip:d@192.0.2.4")));
    register_in(ls, writer, version("sip:a@192.0.2.1", 1, kNow + 600));  // the 4th commit: succeeds
    writer.flush();
    EXPECT_TRUE(defer(writer, of("dave@example.com", "sip:d@192.0.2.4")));
    writer.flush();
    EXPECT_EQ(writer.deferred_written(), 1u);
}
