// The location service (RFC 3261 10.3): address of record -> bindings. In memory for speed, sharded by
// AOR with one lock per shard: REGISTERs for one AOR can come from phones whose Call-IDs live on
// different workers, so the shard lock (never a global one) orders them. The durable copy is in a
// BindingStore, written by the BindingWriter before a REGISTER is answered.
//
// Thread: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
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
    // Removes every binding of the AORs whose user part `keep` refuses (users removed or disabled).
    std::vector<Binding> remove_if_user(const std::function<bool(std::string_view user)>& drop);
    // Start-up: the bindings read back from the store (expired ones are skipped).
    void restore(std::vector<Binding> bindings, std::int64_t now);
    std::size_t size() const;
    std::vector<Binding> all() const;

private:
    struct Shard {
        mutable std::mutex mutex;
        std::unordered_map<std::string, std::vector<Binding>> aors;
    };
    Shard& shard(std::string_view aor) const;
    std::vector<std::unique_ptr<Shard>> shards_;
};

// The user part of an AOR ("201@example.com" -> "201").
std::string_view aor_user(std::string_view aor);

}  // namespace sw::registrar
