// Writes call detail records on a thread of its own, so that a worker never waits for the disk. The design
// of registrar::BindingWriter (group commit: every event waiting when a commit starts goes into that one
// transaction), with two differences: nobody waits for a CDR's commit, and the queue is bounded. When it
// is full (the disk is slower than the calls for long), submit() drops the event and counts it instead of
// waiting: losing a record is better than holding up calls. Drops are reported at most once a second.
//
// Durability: an event is committed at most `gather` (plus one commit) after submit(), and a commit is in
// the WAL file when it returns (cdr_store.hpp), so a kill -9 loses at most that window. The destructor
// writes everything still queued (a graceful stop loses nothing).
//
// Thread: submit() from any thread (a short mutex-protected push, never a wait for the store); the store
// is used only on the writer thread ("sw-cdr"); `report` runs on a submitting thread (drops) or on the
// writer thread (store errors), never with the writer's lock held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage/cdr.hpp"

namespace sw::storage {

class CdrWriter {
public:
    using Report = std::function<void(const std::string& message)>;
    using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

    struct Options {
        std::size_t capacity = 65536;                  // events waiting at most; beyond that they are dropped
        std::chrono::milliseconds gather{50};          // how long a batch may gather before its commit
        std::size_t batch = 1024;                      // a batch this big is committed without waiting
        std::chrono::milliseconds report_every{1000};  // at most one drop (or store error) report per period
        SteadyClock clock;                             // for report_every; empty: std::chrono::steady_clock
    };

    explicit CdrWriter(CdrStore& store, Report report = {});
    CdrWriter(CdrStore& store, Report report, Options options);
    ~CdrWriter();  // writes everything queued, then stops
    CdrWriter(const CdrWriter&) = delete;
    CdrWriter& operator=(const CdrWriter&) = delete;

    // Queues the event; false when the queue is full and the event was dropped (and counted).
    bool submit(CdrEvent event);
    // Waits until everything submitted so far has been given to the store (tests, shutdown).
    void flush();

    std::uint64_t dropped() const;  // events refused because the queue was full
    std::uint64_t written() const;  // events in committed batches
    std::uint64_t failed() const;   // events in batches the store refused (reported, not retried)
    std::uint64_t commits() const;

private:
    void run();
    std::chrono::steady_clock::time_point now() const;
    // Under mutex_: true (and the period restarted) when a report is due now.
    bool report_due(std::optional<std::chrono::steady_clock::time_point>& last) const;

    CdrStore& store_;
    Report report_;
    Options options_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::vector<CdrEvent> queue_;
    bool busy_ = false;
    bool stop_ = false;
    std::uint64_t dropped_ = 0;
    std::uint64_t written_ = 0;
    std::uint64_t failed_ = 0;
    std::uint64_t commits_ = 0;
    std::optional<std::chrono::steady_clock::time_point> last_drop_report_;
    std::optional<std::chrono::steady_clock::time_point> last_error_report_;
    std::thread thread_;  // last: started once everything above is ready
};

}  // namespace sw::storage
