// One registration binding (RFC 3261 10.3): an address of record bound to a contact, with what a proxy
// needs to reach a phone behind NAT (the source address, transport and connection it registered from).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sw::registrar {

struct Binding {
    std::string aor;      // "user@domain", lowercased domain: the key of the address of record
    std::string contact;  // the Contact URI as registered (without the angle brackets)
    std::string call_id;  // RFC 3261 10.3 step 7: Call-ID and CSeq order the updates of a binding
    std::uint32_t cseq = 0;
    int q = 1000;                 // q-value times 1000 (0..1000); 1000 when absent
    std::int64_t expires_at = 0;  // unix seconds
    std::int64_t registered_at = 0;
    std::string path;    // RFC 3327 Path header values, comma-joined, in received order; may be empty
    std::string source;  // where the REGISTER came from: "udp:192.0.2.1:5060", "tcp:[2001:db8::1]:40001"
    std::uint64_t connection = 0;  // stream transports: the connection id (not meaningful after a restart)
    std::string user_agent;
    std::string instance;  // +sip.instance (RFC 5626), may be empty
};

// A change to the durable copy of the location service.
struct BindingChange {
    // Expire: the sweep found the binding expired at binding.expires_at; its row goes only if it has not
    // been refreshed since (its stored expiry is no later), so a REGISTER racing the sweep is never lost.
    enum class Kind : std::uint8_t { Upsert, Remove, Expire } kind = Kind::Upsert;
    Binding binding;  // Remove, Expire: aor and contact name the binding
};

// The durable copy of the location service. The in-memory LocationService is the truth while running;
// every change is written here before the REGISTER is answered, and load_all() restores it on start.
// Thread: called from one writer thread at a time.
class BindingStore {
public:
    virtual ~BindingStore() = default;
    // All changes in one transaction: all applied or none. false on a storage error (logged by the store).
    virtual bool apply(const std::vector<BindingChange>& changes) = 0;
    virtual std::vector<Binding> load_all() = 0;
    // The same one binding at a time (a million bindings are not first copied into one vector).
    virtual bool for_each(const std::function<void(Binding&&)>& f) {
        for (auto& b : load_all())
            f(std::move(b));
        return true;
    }
    // Removes every binding that expired at or before `now` (unix seconds); returns how many.
    virtual std::size_t remove_expired(std::int64_t now) = 0;
    // The stored row of one binding, by its exact AOR and contact text: `out` is nullopt when there is
    // none. false when the store could not be read.
    virtual bool find(const std::string& aor, const std::string& contact, std::optional<Binding>& out) {
        out.reset();
        for (auto& b : load_all()) {
            if (b.aor == aor && b.contact == contact) {
                out = std::move(b);
                break;
            }
        }
        return true;
    }
};

}  // namespace sw::registrar
