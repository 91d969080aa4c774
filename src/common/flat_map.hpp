// A hash map from 64-bit keys that are already uniformly random (SipHash outputs) to small values:
// open addressing with linear probing in one power-of-two array, removal by backward shift (no
// tombstones), at most half full. A lookup is one index computation (key & mask) and, nearly always,
// one cache line, where std::unordered_map divides by a prime and follows a node pointer.
//
// The interface is the part of std::unordered_map the engine uses: find/end (a pointer to the slot,
// nullptr for end), emplace, operator[], erase by key or by slot, erase_if, size, empty, reserve. A slot's
// pointer stays valid until the next insertion or removal.
//
// Key 0 marks an empty slot, so a key of 0 is stored as 1 (for SipHash keys, one more collision in
// 2^64, as unlikely as any other).
// Thread: not thread-safe (one worker's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace sw {

template <typename V>
class FlatMap {
public:
    struct Slot {
        std::uint64_t first = 0;  // 0: empty
        V second{};
    };

    FlatMap() { slots_.resize(16); }

    Slot* end() const { return nullptr; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::size_t capacity() const { return slots_.size(); }

    // Room for n keys without growing.
    void reserve(std::size_t n) {
        std::size_t cap = slots_.size();
        while (cap < 2 * n)
            cap *= 2;
        if (cap != slots_.size()) rehash(cap);
    }

    Slot* find(std::uint64_t key) {
        key = stored(key);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = key & mask;; i = (i + 1) & mask) {
            Slot& s = slots_[i];
            if (s.first == key) return &s;
            if (s.first == 0) return nullptr;
        }
    }

    // Inserts (key, value) unless the key is there: {slot, inserted}.
    std::pair<Slot*, bool> emplace(std::uint64_t key, V value) {
        if (Slot* s = find(key)) return {s, false};
        if (2 * (size_ + 1) > slots_.size()) rehash(2 * slots_.size());
        Slot* s = place(stored(key));
        s->second = std::move(value);
        ++size_;
        return {s, true};
    }

    V& operator[](std::uint64_t key) { return emplace(key, V{}).first->second; }

    std::size_t erase(std::uint64_t key) {
        Slot* s = find(key);
        if (s == nullptr) return 0;
        erase(s);
        return 1;
    }

    // Removes the slot's entry and moves later entries of its probe run back (Knuth's algorithm R), so
    // every key stays reachable from its home slot without tombstones.
    void erase(Slot* slot) {
        const std::size_t mask = slots_.size() - 1;
        std::size_t hole = static_cast<std::size_t>(slot - slots_.data());
        for (std::size_t i = (hole + 1) & mask;; i = (i + 1) & mask) {
            Slot& s = slots_[i];
            if (s.first == 0) break;
            const std::size_t home = s.first & mask;
            // s may fill the hole when its home is not in the cyclic range (hole, i].
            const bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
            if (stays) continue;
            slots_[hole] = std::move(s);
            hole = i;
        }
        slots_[hole] = Slot{};
        --size_;
    }

    // Removes every entry for which pred(key, value) is true; returns how many. Keys are gathered first
    // (a removal moves later entries back), so this is for occasional pruning, not a hot path.
    template <typename Pred>
    std::size_t erase_if(Pred pred) {
        std::vector<std::uint64_t> doomed;
        for (const Slot& s : slots_)
            if (s.first != 0 && pred(s.first, s.second)) doomed.push_back(s.first);
        for (const std::uint64_t k : doomed)
            erase(find(k));
        return doomed.size();
    }

private:
    static std::uint64_t stored(std::uint64_t key) { return key == 0 ? 1 : key; }

    Slot* place(std::uint64_t key) {
        const std::size_t mask = slots_.size() - 1;
        std::size_t i = key & mask;
        while (slots_[i].first != 0)
            i = (i + 1) & mask;
        slots_[i].first = key;
        return &slots_[i];
    }

    void rehash(std::size_t cap) {
        std::vector<Slot> old(cap);
        old.swap(slots_);
        for (Slot& s : old)
            if (s.first != 0) place(s.first)->second = std::move(s.second);
    }

    std::vector<Slot> slots_;
    std::size_t size_ = 0;
};

}  // namespace sw
