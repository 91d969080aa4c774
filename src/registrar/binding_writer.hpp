// Writes location changes to the durable BindingStore on its own thread, in group commits: every change
// waiting when a commit starts goes into that one transaction, then each submitter's `done` runs. The
// registrar answers a REGISTER only from `done`, so a binding a phone was told about survives a crash
// (kill -9) or a restart; and one commit serves a whole burst of registrations.
//
// Thread: submit() from any thread; `done` runs on the writer thread (post it to your own loop).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "registrar/binding.hpp"

namespace sw::registrar {

class BindingWriter {
public:
    using Done = std::function<void(bool ok)>;
    explicit BindingWriter(BindingStore& store);
    ~BindingWriter();  // writes what is queued, then stops
    BindingWriter(const BindingWriter&) = delete;
    BindingWriter& operator=(const BindingWriter&) = delete;

    void submit(std::vector<BindingChange> changes, Done done);
    // Deletes from the store every binding expired at `now` (after the changes queued before it). A
    // binding refreshed meanwhile has a later expiry, so the order of threads cannot lose it.
    void expire(std::int64_t now);
    // Waits until everything submitted so far is written (tests, shutdown).
    void flush();
    std::uint64_t commits() const;

private:
    void run();
    struct Item {
        std::vector<BindingChange> changes;
        Done done;
        std::int64_t expire_at = 0;
    };
    BindingStore& store_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::vector<Item> queue_;
    bool busy_ = false;
    bool stop_ = false;
    std::uint64_t commits_ = 0;
    std::thread thread_;
};

}  // namespace sw::registrar
