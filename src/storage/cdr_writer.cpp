#include "storage/cdr_writer.hpp"

#include <pthread.h>

#include <utility>

namespace sw::storage {

CdrWriter::CdrWriter(CdrStore& store, Report report) : CdrWriter(store, std::move(report), Options{}) {}

CdrWriter::CdrWriter(CdrStore& store, Report report, Options options)
    : store_(store), report_(std::move(report)), options_(std::move(options)), thread_([this] { run(); }) {}

CdrWriter::~CdrWriter() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

std::chrono::steady_clock::time_point CdrWriter::now() const {
    return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

bool CdrWriter::report_due(std::optional<std::chrono::steady_clock::time_point>& last) const {
    if (!report_) return false;
    const auto at = now();
    if (last && at - *last < options_.report_every) return false;
    last = at;
    return true;
}

bool CdrWriter::submit(CdrEvent event) {
    bool wake = false;
    std::uint64_t drops = 0;
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= options_.capacity) {
            ++dropped_;
            if (!report_due(last_drop_report_)) return false;
            drops = dropped_;
        } else {
            queue_.push_back(std::move(event));
            // Wake the writer only when it has something new to decide: the first event, or a full batch.
            wake = queue_.size() == 1 || queue_.size() == options_.batch;
        }
    }
    if (drops != 0) {
        report_("call records: the queue is full (the disk is too slow); " + std::to_string(drops) +
                " events dropped so far");
        return false;
    }
    if (wake) wake_.notify_one();
    return true;
}

void CdrWriter::flush() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

std::uint64_t CdrWriter::dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

std::uint64_t CdrWriter::written() const {
    std::lock_guard lock(mutex_);
    return written_;
}

std::uint64_t CdrWriter::failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
}

std::uint64_t CdrWriter::commits() const {
    std::lock_guard lock(mutex_);
    return commits_;
}

void CdrWriter::run() {
    pthread_setname_np(pthread_self(), "sw-cdr");
    std::vector<CdrEvent> batch;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            busy_ = false;
            idle_.notify_all();
            wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and nothing left to write
            // Group commit: a commit costs far more than a row, so let a burst gather for a moment. This
            // wait is the window a kill -9 can lose; when stopping, nothing waits.
            if (!stop_) {
                wake_.wait_for(lock, options_.gather,
                               [this] { return stop_ || queue_.size() >= options_.batch; });
            }
            batch.swap(queue_);  // the queue gets the old batch's (empty) storage back
            busy_ = true;
        }
        const auto done = store_.apply(batch);
        bool report = false;
        std::uint64_t lost = 0;
        {
            std::lock_guard lock(mutex_);
            ++commits_;
            if (done) {
                written_ += batch.size();
            } else {
                failed_ += batch.size();
                lost = failed_;
                report = report_due(last_error_report_);
            }
        }
        if (report) {
            report_("call records: " + done.error() + "; " + std::to_string(lost) + " events lost so far");
        }
        batch.clear();
    }
}

}  // namespace sw::storage
