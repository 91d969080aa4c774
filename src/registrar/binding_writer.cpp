#include "registrar/binding_writer.hpp"

#include <pthread.h>

namespace sw::registrar {

namespace {
constexpr auto kGather = std::chrono::milliseconds(2);
constexpr std::size_t kBatch = 256;
// Deferred items wake the writer only when this many wait (or defer_limit has passed).
constexpr std::size_t kDeferredBatch = 4096;
}  // namespace

BindingWriter::BindingWriter(BindingStore& store, LocationService* location,
                             std::chrono::milliseconds defer_limit)
    : store_(store), location_(location), defer_limit_(defer_limit), thread_([this] { run(); }) {}

BindingWriter::~BindingWriter() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

namespace {
std::uint64_t aor_hash(const BindingChange& c) {
    return std::hash<std::string>{}(c.binding.aor);
}
}  // namespace

void BindingWriter::submit(std::vector<BindingChange> changes, Done done, OnFailure on_failure) {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        for (const auto& c : changes)
            ++urgent_aors_[aor_hash(c)];
        queue_.push_back(Item{std::move(changes), std::move(done), 0, on_failure});
        ++urgent_;
        // Wake the writer only when it has something new to decide: the first item someone waits for,
        // or a full batch (a wake-up per REGISTER would cost a futex call and a context switch each).
        wake = urgent_ == 1 || urgent_ == kBatch;
    }
    if (wake) wake_.notify_one();
}

bool BindingWriter::submit_deferred(std::vector<BindingChange>& changes) {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        if (!healthy_) return false;
        for (const auto& c : changes) {
            if (urgent_aors_.count(aor_hash(c)) != 0) return false;
        }
        if (deferred_ == 0) deferred_since_ = std::chrono::steady_clock::now();
        queue_.push_back(Item{std::move(changes), nullptr, 0, OnFailure::Revert, true});
        ++deferred_;
        // The first one starts the writer's clock (it may be asleep with nothing to wait for); the rest
        // wake it only when many have gathered.
        wake = deferred_ == 1 || deferred_ == kDeferredBatch;
    }
    if (wake) wake_.notify_one();
    return true;
}

bool BindingWriter::due(std::chrono::steady_clock::time_point now) const {
    return stop_ || urgent_ > 0 || flushing_ > 0 || deferred_ >= kDeferredBatch ||
           (deferred_ > 0 && now - deferred_since_ >= defer_limit_);
}

void BindingWriter::expire(std::int64_t now) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(Item{{}, nullptr, now});
        ++urgent_;
    }
    wake_.notify_one();
}

void BindingWriter::flush() {
    std::unique_lock lock(mutex_);
    if (queue_.empty() && !busy_) return;
    ++flushing_;
    wake_.notify_one();
    idle_.wait(lock, [this] { return queue_.empty() && !busy_; });
    --flushing_;
}

std::uint64_t BindingWriter::deferred_written() const {
    std::lock_guard lock(mutex_);
    return deferred_written_;
}

std::uint64_t BindingWriter::deferred_dropped() const {
    std::lock_guard lock(mutex_);
    return deferred_dropped_;
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
            for (;;) {
                if (queue_.empty()) {
                    if (stop_) return;  // stopping, and nothing left to write
                    wake_.wait(lock);
                    continue;
                }
                if (due(std::chrono::steady_clock::now())) break;
                if (deferred_ == 0) {
                    wake_.wait(lock);
                } else {
                    wake_.wait_until(lock, deferred_since_ + defer_limit_);
                }
            }
            // Group commit: a commit costs far more than a row, so let a burst gather for a moment
            // (the REGISTERs waiting for it are answered at most this much later).
            if (urgent_ > 0 && flushing_ == 0) {
                wake_.wait_for(lock, kGather, [this] { return stop_ || flushing_ > 0 || urgent_ >= kBatch; });
            }
            batch.swap(queue_);
            urgent_ = 0;
            deferred_ = 0;
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
                if (it->on_failure == OnFailure::Revert && !it->deferred) revert(all, it->first, end);
                end = it->first;
            }
        }
        // Where item i's changes end in `all`.
        auto end_of = [&](std::size_t i) { return i + 1 < batch.size() ? batch[i + 1].first : all.size(); };
        // Deferred changes were answered for: tried again with the next commit (in front, so in order).
        std::vector<Item> again;
        std::uint64_t dropped = 0;
        if (!ok) {
            for (std::size_t i = 0; i < batch.size(); ++i) {
                Item& item = batch[i];
                if (!item.deferred) continue;
                if (++item.attempts >= 3) {
                    ++dropped;
                    continue;
                }
                const std::size_t end = end_of(i);
                item.changes.assign(
                    std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(item.first)),
                    std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(end)));
                again.push_back(std::move(item));
            }
        }
        for (auto& item : batch) {
            if (item.expire_at != 0) store_.remove_expired(item.expire_at);
        }
        {
            std::uint64_t deferred = 0;
            for (const auto& item : batch)
                deferred += item.deferred ? 1 : 0;
            std::lock_guard lock(mutex_);
            ++commits_;
            if (ok) deferred_written_ += deferred;
            deferred_dropped_ += dropped;
            if (!all.empty()) healthy_ = ok;
            for (std::size_t i = 0; i < batch.size(); ++i) {
                if (batch[i].deferred) continue;
                for (std::size_t k = batch[i].first, end = end_of(i); k < end; ++k) {
                    auto it = urgent_aors_.find(aor_hash(all[k]));
                    if (it != urgent_aors_.end() && --it->second == 0) urgent_aors_.erase(it);
                }
            }
            if (!again.empty()) {
                if (deferred_ == 0) deferred_since_ = std::chrono::steady_clock::now();
                deferred_ += again.size();
                queue_.insert(queue_.begin(), std::make_move_iterator(again.begin()),
                              std::make_move_iterator(again.end()));
            }
        }
        for (auto& item : batch) {
            if (item.done) item.done(ok);
        }
        batch.clear();
    }
}

}  // namespace sw::registrar
