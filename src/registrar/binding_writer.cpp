#include "registrar/binding_writer.hpp"

#include <pthread.h>

namespace sw::registrar {

namespace {
constexpr auto kGather = std::chrono::milliseconds(2);
constexpr std::size_t kBatch = 256;
}  // namespace

BindingWriter::BindingWriter(BindingStore& store, LocationService* location)
    : store_(store), location_(location), thread_([this] { run(); }) {}

BindingWriter::~BindingWriter() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void BindingWriter::submit(std::vector<BindingChange> changes, Done done, OnFailure on_failure) {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(Item{std::move(changes), std::move(done), 0, on_failure});
        // Wake the writer only when it has something new to decide: the first item, or a full batch
        // (a wake-up per REGISTER would cost a futex call and a context switch each).
        wake = queue_.size() == 1 || queue_.size() == kBatch;
    }
    if (wake) wake_.notify_one();
}

void BindingWriter::expire(std::int64_t now) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(Item{{}, nullptr, now});
    }
    wake_.notify_one();
}

void BindingWriter::flush() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

std::uint64_t BindingWriter::commits() const {
    std::lock_guard lock(mutex_);
    return commits_;
}

std::uint64_t BindingWriter::reverted() const {
    std::lock_guard lock(mutex_);
    return reverted_;
}

void BindingWriter::revert(const std::vector<BindingChange>& all, std::size_t begin, std::size_t end) {
    std::uint64_t n = 0;
    for (std::size_t i = end; i-- > begin;) {
        const BindingChange& change = all[i];
        if (change.kind == BindingChange::Kind::Expire) continue;
        std::optional<Binding> durable;
        const bool known = store_.find(change.binding.aor, change.binding.contact, durable);
        if (location_->revert(change, durable, known)) ++n;
    }
    std::lock_guard lock(mutex_);
    reverted_ += n;
}

void BindingWriter::run() {
    pthread_setname_np(pthread_self(), "sw-writer");
    std::vector<Item> batch;
    std::vector<BindingChange> all;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            busy_ = false;
            idle_.notify_all();
            wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and nothing left to write
            // Group commit: a commit costs far more than a row, so let a burst gather for a moment
            // (the REGISTERs waiting for it are answered at most this much later).
            wake_.wait_for(lock, kGather, [this] { return stop_ || queue_.size() >= kBatch; });
            batch.swap(queue_);
            busy_ = true;
        }
        all.clear();
        for (auto& item : batch) {
            item.first = all.size();
            for (auto& c : item.changes)
                all.push_back(std::move(c));
        }
        const bool ok = all.empty() || store_.apply(all);
        if (!ok && location_ != nullptr) {
            // Newest first: when one commit changed a binding twice, the later change is what memory holds.
            std::size_t end = all.size();
            for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
                if (it->on_failure == OnFailure::Revert) revert(all, it->first, end);
                end = it->first;
            }
        }
        for (auto& item : batch) {
            if (item.expire_at != 0) store_.remove_expired(item.expire_at);
        }
        {
            std::lock_guard lock(mutex_);
            ++commits_;
        }
        for (auto& item : batch) {
            if (item.done) item.done(ok);
        }
        batch.clear();
    }
}

}  // namespace sw::registrar
