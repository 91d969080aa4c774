// The location service (RFC 3261 10.3): address of record -> bindings. In memory for speed, sharded by
// AOR with one lock per shard: REGISTERs for one AOR can come from phones whose Call-IDs live on
// different workers, so the shard lock (never a global one) orders them. The durable copy is in a
// BindingStore, written by the BindingWriter before a REGISTER is answered.
//
// Memory: a million bindings must fit in well under 512 bytes each (issue 8). An AOR is one hash-set
// node holding one pointer to one packed block: the AOR's name, then per binding its numbers and its
// strings back to back (no std::string, no vector, no per-field allocation). Lookups and updates unpack
// the few bindings of one AOR into Binding values; nothing outside this class sees the packing.
//
// Thread: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "registrar/binding.hpp"

namespace sw::registrar {

class LocationService {
public:
    explicit LocationService(std::size_t shards = 64);

    // Runs f(bindings) for one AOR under its shard's lock; f may change the vector (an empty vector
    // removes the AOR). Keep f short and never call into another layer from it.
    void update(const std::string& aor, const std::function<void(std::vector<Binding>&)>& f);
    // The AOR's bindings that have not expired at `now`, highest q first.
    std::vector<Binding> lookup(std::string_view aor, std::int64_t now) const;
    // Removes and returns every binding expired at `now`.
    std::vector<Binding> remove_expired(std::int64_t now);
    // The same for the next `shards` shards only, round robin: the periodic sweep visits a slice each
    // second instead of every binding (lookups and the registrar already ignore an expired binding).
    std::vector<Binding> sweep_expired(std::int64_t now, std::size_t shards);
    // Removes every binding of the AORs whose user part `keep` refuses (users removed or disabled).
    std::vector<Binding> remove_if_user(const std::function<bool(std::string_view user)>& drop);
    // Start-up: the bindings read back from the store (expired ones are skipped).
    void restore(std::vector<Binding> bindings, std::int64_t now);
    void restore_one(Binding binding, std::int64_t now);
    // A change that could not be written (the REGISTER got a 500): puts back what the store holds for
    // that one binding, but only if memory still holds what the change made of it; a later change to the
    // same binding is queued behind this one and decides. `durable`: the store's row (nullopt: no row);
    // `known` false when the store could not be read either: an upserted binding is then dropped (the
    // phone was told it is not registered), a removed one stays removed. True when memory was changed.
    bool revert(const BindingChange& change, const std::optional<Binding>& durable, bool known);
    std::size_t size() const;
    std::size_t aor_count() const;
    std::vector<Binding> all() const;

private:
    // One AOR: its packed block (layout in location_service.cpp). `block` is replaced in place by
    // update(); the AOR, hence the hash, stays.
    struct Packed {
        mutable std::unique_ptr<char[]> block;
        std::string_view aor() const;
    };
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view aor) const { return std::hash<std::string_view>{}(aor); }
        std::size_t operator()(const Packed& p) const { return (*this)(p.aor()); }
    };
    struct Equal {
        using is_transparent = void;
        bool operator()(const Packed& a, const Packed& b) const { return a.aor() == b.aor(); }
        bool operator()(std::string_view a, const Packed& b) const { return a == b.aor(); }
        bool operator()(const Packed& a, std::string_view b) const { return a.aor() == b; }
    };
    struct Shard {
        mutable std::mutex mutex;
        std::unordered_set<Packed, Hash, Equal> aors;
    };
    Shard& shard(std::string_view aor) const;
    static void sweep_shard(Shard& s, std::int64_t now, std::vector<Binding>& removed);
    std::vector<std::unique_ptr<Shard>> shards_;
    std::mutex sweep_mutex_;
    std::size_t sweep_next_ = 0;
};

// The user part of an AOR ("201@example.com" -> "201").
std::string_view aor_user(std::string_view aor);

}  // namespace sw::registrar
