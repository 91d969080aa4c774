// A vector that keeps its first N elements inline: the few Vias or Contacts of a typical message cost
// no allocation. Contiguous (spills everything to the heap past N), so it converts to std::span.
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <vector>

namespace sw {

template <typename T, std::size_t N>
class SmallVec {
public:
    using value_type = T;

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    T* data() { return on_heap_ ? heap_.data() : inline_.data(); }
    const T* data() const { return on_heap_ ? heap_.data() : inline_.data(); }
    T* begin() { return data(); }
    T* end() { return data() + size_; }
    const T* begin() const { return data(); }
    const T* end() const { return data() + size_; }
    T& operator[](std::size_t i) { return data()[i]; }
    const T& operator[](std::size_t i) const { return data()[i]; }
    const T& at(std::size_t i) const {
        if (i >= size_) throw std::out_of_range("SmallVec::at");
        return data()[i];
    }
    T& front() { return data()[0]; }
    const T& front() const { return data()[0]; }
    T& back() { return data()[size_ - 1]; }
    operator std::span<const T>() const { return {data(), size_}; }  // NOLINT: implicit by design

    void push_back(const T& v) {
        if (!on_heap_ && size_ < N) {
            if (size_ == used_) ++used_;
            inline_[size_++] = v;
            return;
        }
        spill();
        heap_.push_back(v);
        ++size_;
    }
    // Appends a default-constructed element and returns it (to be filled in place).
    T& emplace_back() {
        if (!on_heap_ && size_ < N) {
            // Slots never used since construction are still default-constructed: skip the reset.
            if (size_ < used_) inline_[size_] = T{};
            if (size_ == used_) ++used_;
            return inline_[size_++];
        }
        spill();
        ++size_;
        return heap_.emplace_back();
    }
    void pop_back() {
        if (size_ == 0) return;
        if (on_heap_) heap_.pop_back();
        --size_;
    }
    void insert_front(const T& v) {
        spill_if_full();
        if (on_heap_) {
            heap_.insert(heap_.begin(), v);
        } else {
            for (std::size_t i = size_; i > 0; --i)
                inline_[i] = inline_[i - 1];
            inline_[0] = v;
            if (size_ + 1 > used_) used_ = size_ + 1;
        }
        ++size_;
    }
    void erase_front() {
        if (size_ == 0) return;
        if (on_heap_) {
            heap_.erase(heap_.begin());
        } else {
            for (std::size_t i = 1; i < size_; ++i)
                inline_[i - 1] = inline_[i];
        }
        --size_;
    }
    void clear() {
        heap_.clear();
        on_heap_ = false;
        size_ = 0;
    }

private:
    void spill() {
        if (on_heap_) return;
        heap_.assign(inline_.begin(), inline_.begin() + static_cast<std::ptrdiff_t>(size_));
        on_heap_ = true;
    }
    void spill_if_full() {
        if (!on_heap_ && size_ == N) spill();
    }

    std::array<T, N> inline_{};
    std::vector<T> heap_;
    std::size_t size_ = 0;
    std::size_t used_ = 0;  // inline slots written since construction
    bool on_heap_ = false;
};

}  // namespace sw
