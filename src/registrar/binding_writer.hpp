// Writes location changes to the durable BindingStore on its own thread, in group commits: every change
// waiting when a commit starts goes into that one transaction, then each submitter's `done` runs. The
// registrar answers a REGISTER only from `done`, so a binding a phone was told about survives a crash
// (kill -9) or a restart; and one commit serves a whole burst of registrations.
//
// A commit that fails (disk full, lock held too long) leaves memory as the store has it: before the
// `done(false)` calls, every binding that commit would have changed is put back in the LocationService
// from the store's row (LocationService::revert), so a REGISTER answered 500 registers nothing anywhere.
//
// Deferred changes (submit_deferred): refreshes the phone was already answered for
// (RegisterOutcome::deferrable). They wait in the same queue, in memory's order, without waking the
// writer: they go with the next commit, and at the latest `defer_limit` after the first of them was
// queued. A crash loses at most that much of refreshes: their rows keep the previous expiry. flush()
// and the destructor write them too.
//
// Thread: submit() from any thread; `done` runs on the writer thread (post it to your own loop).
// Submit the changes of one AOR in the order they were made in memory (the registrar submits under the
// AOR's lock), so the queue's order is memory's order.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "registrar/binding.hpp"
#include "registrar/location_service.hpp"

namespace sw::registrar {

class BindingWriter {
public:
    using Done = std::function<void(bool ok)>;
    // location: what to put back when a commit fails; may be null (nothing to keep in step).
    explicit BindingWriter(BindingStore& store, LocationService* location = nullptr,
                           std::chrono::milliseconds defer_limit = std::chrono::milliseconds(1000));
    ~BindingWriter();  // writes what is queued, then stops
    BindingWriter(const BindingWriter&) = delete;
    BindingWriter& operator=(const BindingWriter&) = delete;

    // Keep: memory's change stands even if the store refuses it (bindings of a disabled user stay gone
    // from memory; the next start does not restore them either).
    enum class OnFailure : std::uint8_t { Revert, Keep };
    void submit(std::vector<BindingChange> changes, Done done, OnFailure on_failure = OnFailure::Revert);
    // Changes to be answered for before they are written: queued (taken from `changes`) to go with the
    // next commit, within defer_limit, and true. false (nothing taken: submit() them and wait) while a
    // change of the same AOR someone waits for is still queued or being written (what memory holds may
    // not be on disk yet), or after a failed commit until one succeeds (phones must hear of a failing
    // disk). A failed commit does not revert a deferred change (its phone was told): it is queued again,
    // in front, and dropped after 3 tries with memory left as it is.
    bool submit_deferred(std::vector<BindingChange>& changes);
    // Deletes from the store every binding expired at `now` (after the changes queued before it). A
    // binding refreshed meanwhile has a later expiry, so the order of threads cannot lose it.
    void expire(std::int64_t now);
    // Waits until everything submitted so far is written (tests, shutdown).
    void flush();
    std::uint64_t commits() const;
    // Deferred changes written so far (each counted once, in the commit that wrote it), and given up.
    std::uint64_t deferred_written() const;
    std::uint64_t deferred_dropped() const;
    // Bindings put back in memory after failed commits.
    std::uint64_t reverted() const;

private:
    void run();
    // Puts back all[begin, end), newest first.
    void revert(const std::vector<BindingChange>& all, std::size_t begin, std::size_t end);
    struct Item {
        std::vector<BindingChange> changes;
        Done done;
        std::int64_t expire_at = 0;
        OnFailure on_failure = OnFailure::Revert;
        bool deferred = false;
        std::uint8_t attempts = 0;  // deferred: failed commits it was in
        std::size_t first = 0;      // where its changes start in the batch's list
    };
    // Under mutex_: whether the writer should commit now rather than keep waiting.
    bool due(std::chrono::steady_clock::time_point now) const;
    BindingStore& store_;
    LocationService* location_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::chrono::milliseconds defer_limit_;
    std::vector<Item> queue_;
    std::size_t urgent_ = 0;  // items in queue_ someone waits for (not deferred)
    std::size_t deferred_ = 0;
    std::chrono::steady_clock::time_point deferred_since_{};  // when the oldest queued deferred item came
    std::size_t flushing_ = 0;                                // flush() calls waiting
    std::uint64_t deferred_written_ = 0;
    std::uint64_t deferred_dropped_ = 0;
    // Queued or committing changes someone waits for, per hash of their AOR (a collision only keeps a
    // refresh from being deferred).
    std::unordered_map<std::uint64_t, std::uint32_t> urgent_aors_;
    bool healthy_ = true;  // the last commit succeeded
    bool busy_ = false;
    bool stop_ = false;
    std::uint64_t commits_ = 0;
    std::uint64_t reverted_ = 0;
    std::thread thread_;
};

}  // namespace sw::registrar
