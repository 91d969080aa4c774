// LruTable<V>: a hash table of FIXED capacity whose entries are evicted least recently used first, for
// state kept per peer or per account under hostile input. Every node, bucket and link is allocated in the
// constructor; find, touch and evict are O(1) (expected: buckets are chosen by a keyed SipHash, so a peer
// cannot aim many keys at one chain) and never allocate. A flood of a million spoofed addresses costs the
// same memory as a table full of real ones: it only pushes the least recently seen entries out.
//
// Keys are 128 bits (TableKey): an address's canonical 16 bytes, or two keyed hashes of a name.
// Thread: none of its own. Each owner says who calls it (one worker, or under a stripe lock).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "common/siphash.hpp"
#include "security/address_key.hpp"

namespace sw::security {

struct TableKey {
    std::array<std::uint8_t, 16> bytes{};

    friend bool operator==(const TableKey&, const TableKey&) = default;
};

inline TableKey table_key(const AddressKey& a) {
    return TableKey{a.canonical()};
}

// A name (user, account) as 128 bits: two SipHashes with independent secret keys. Two names share a key
// only by a 2^-128 chance that nobody outside the process can improve on.
inline TableKey table_key(const SipKey& key, std::string_view name) {
    const SipKey second{key.k0 ^ 0x9e3779b97f4a7c15ULL, key.k1 ^ 0xc2b2ae3d27d4eb4fULL};
    const std::uint64_t h[2] = {siphash24(key, name), siphash24(second, name)};
    TableKey k;
    std::memcpy(k.bytes.data(), h, sizeof h);
    return k;
}

template <typename V>
class LruTable {
public:
    // capacity: the most entries ever held (at least 1).
    LruTable(std::size_t capacity, SipKey key) : key_(key) {
        const std::size_t cap = std::clamp<std::size_t>(capacity, 1, kMaxCapacity);
        nodes_.resize(cap);
        std::size_t buckets = 1;
        while (buckets < cap)
            buckets <<= 1;
        buckets_.assign(buckets, kNone);
        mask_ = buckets - 1;
        for (std::uint32_t i = 0; i < cap; ++i)
            nodes_[i].next = (i + 1 < cap) ? i + 1 : kNone;
        free_ = 0;
    }

    std::size_t size() const { return size_; }
    std::size_t capacity() const { return nodes_.size(); }

    // The entry for k, or nullptr. Does not change its recency.
    V* find(const TableKey& k) {
        const std::uint32_t i = lookup(k, bucket_of(k));
        return i == kNone ? nullptr : &nodes_[i].value;
    }
    const V* find(const TableKey& k) const {
        const std::uint32_t i = lookup(k, bucket_of(k));
        return i == kNone ? nullptr : &nodes_[i].value;
    }

    // The entry for k, made as V{} when absent (the least recently used entry is evicted first when the
    // table is full); either way it becomes the most recently used. `made` tells a new entry.
    V& touch(const TableKey& k, bool& made) {
        const std::size_t b = bucket_of(k);
        std::uint32_t i = lookup(k, b);
        made = i == kNone;
        if (!made) {
            unlink_lru(i);
        } else {
            if (free_ == kNone) evict(tail_);
            i = free_;
            free_ = nodes_[i].next;
            nodes_[i].key = k;
            nodes_[i].value = V{};
            nodes_[i].chain = buckets_[b];
            buckets_[b] = i;
            ++size_;
        }
        push_front(i);
        return nodes_[i].value;
    }
    V& touch(const TableKey& k) {
        bool made = false;
        return touch(k, made);
    }

    bool erase(const TableKey& k) {
        const std::uint32_t i = lookup(k, bucket_of(k));
        if (i == kNone) return false;
        evict(i);
        return true;
    }

private:
    static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
    static constexpr std::size_t kMaxCapacity = std::size_t{1} << 30;

    struct Node {
        TableKey key;
        V value{};
        std::uint32_t prev = kNone;   // towards the most recently used
        std::uint32_t next = kNone;   // towards the least recently used; the free list's link
        std::uint32_t chain = kNone;  // next node in the same bucket
    };

    std::size_t bucket_of(const TableKey& k) const {
        return static_cast<std::size_t>(
                   siphash24(key_, std::string_view(reinterpret_cast<const char*>(k.bytes.data()), 16))) &
               mask_;
    }
    std::uint32_t lookup(const TableKey& k, std::size_t b) const {
        for (std::uint32_t i = buckets_[b]; i != kNone; i = nodes_[i].chain)
            if (nodes_[i].key == k) return i;
        return kNone;
    }
    void unlink_lru(std::uint32_t i) {
        Node& n = nodes_[i];
        if (n.prev != kNone)
            nodes_[n.prev].next = n.next;
        else
            head_ = n.next;
        if (n.next != kNone)
            nodes_[n.next].prev = n.prev;
        else
            tail_ = n.prev;
        n.prev = n.next = kNone;
    }
    void push_front(std::uint32_t i) {
        nodes_[i].prev = kNone;
        nodes_[i].next = head_;
        if (head_ != kNone) nodes_[head_].prev = i;
        head_ = i;
        if (tail_ == kNone) tail_ = i;
    }
    // Removes node i from its bucket chain and the recency list and puts it on the free list.
    void evict(std::uint32_t i) {
        const std::size_t b = bucket_of(nodes_[i].key);
        for (std::uint32_t* link = &buckets_[b]; *link != kNone; link = &nodes_[*link].chain) {
            if (*link == i) {
                *link = nodes_[i].chain;
                break;
            }
        }
        unlink_lru(i);
        nodes_[i].chain = kNone;
        nodes_[i].next = free_;
        free_ = i;
        --size_;
    }

    SipKey key_;
    std::vector<Node> nodes_;
    std::vector<std::uint32_t> buckets_;
    std::size_t mask_ = 0;
    std::uint32_t head_ = kNone;
    std::uint32_t tail_ = kNone;
    std::uint32_t free_ = kNone;
    std::size_t size_ = 0;
};

}  // namespace sw::security
