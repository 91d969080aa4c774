// Writes location changes to the durable BindingStore on its own thread, in group commits: every change
// waiting when a commit starts goes into that one transaction, then each submitter's `done` runs. The
// registrar answers a REGISTER only from `done`, so a binding a phone was told about survives a crash
// (kill -9) or a restart; and one commit serves a whole burst of registrations.
//
// A commit that fails (disk full, lock held too long) leaves memory as the store has it: before the
// `done(false)` calls, every binding that commit would have changed is put back in the LocationService
// from the store's row (LocationService::revert), so a REGISTER answered 500 registers nothing anywhere.
//
// Thread: submit() from any thread; `done` runs on the writer thread (post it to your own loop).
// Submit the changes of one AOR in the order they were made in memory (the registrar submits under the
// AOR's lock), so the queue's order is memory's order.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "registrar/binding.hpp"
#include "registrar/location_service.hpp"

namespace sw::registrar {

class BindingWriter {
public:
    using Done = std::function<void(bool ok)>;
    // location: what to put back when a commit fails; may be null (nothing to keep in step).
    explicit BindingWriter(BindingStore& store, LocationService* location = nullptr);
    ~BindingWriter();  // writes what is queued, then stops
    BindingWriter(const BindingWriter&) = delete;
    BindingWriter& operator=(const BindingWriter&) = delete;

    // Keep: memory's change stands even if the store refuses it (bindings of a disabled user stay gone
    // from memory; the next start does not restore them either).
    enum class OnFailure : std::uint8_t { Revert, Keep };
    void submit(std::vector<BindingChange> changes, Done done, OnFailure on_failure = OnFailure::Revert);
    // Deletes from the store every binding expired at `now` (after the changes queued before it). A
    // binding refreshed meanwhile has a later expiry, so the order of threads cannot lose it.
    void expire(std::int64_t now);
    // Waits until everything submitted so far is written (tests, shutdown).
    void flush();
    std::uint64_t commits() const;
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
        std::size_t first = 0;  // where its changes start in the batch's list
    };
    BindingStore& store_;
    LocationService* location_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::vector<Item> queue_;
    bool busy_ = false;
    bool stop_ = false;
    std::uint64_t commits_ = 0;
    std::uint64_t reverted_ = 0;
    std::thread thread_;
};

}  // namespace sw::registrar
