// REGISTER processing (RFC 3261 10.3) for an already authenticated request: which bindings to add,
// refresh or remove, and the answer. The caller persists `changes` (BindingWriter) before sending a 200.
//
// Thread: any worker; the LocationService serialises updates of one AOR.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "registrar/binding.hpp"
#include "registrar/location_service.hpp"
#include "sip/message.hpp"

namespace sw::registrar {

struct RegistrarConfig {
    std::uint32_t min_expires = 60;        // shorter asks get 423 Interval Too Brief (RFC 3261 10.3 step 7)
    std::uint32_t max_expires = 7200;      // longer asks are shortened to this
    std::uint32_t default_expires = 3600;  // neither an expires parameter nor an Expires header
    std::size_t max_contacts = 10;         // bindings one address of record may hold
    std::vector<std::string> domains;      // empty: any domain
    // A refresh that changes nothing but a binding's expiry (and its Call-ID and CSeq) may be answered
    // before it is on disk (RegisterOutcome::deferrable) when the stored expiry is still at least this
    // far away: a crash that loses the refresh then restores the binding with its old expiry (the phone
    // is unreachable from then until its next refresh, planned from the new one).
    // 0: every change is written before its 200.
    std::uint32_t defer_margin_s = 31;  // 30 s + the writer's default 1 s (run_command derives it)
};

// Where the REGISTER came from, kept with each binding to reach a phone behind NAT.
struct RegisterSource {
    std::string source;  // "udp:192.0.2.1:5060", "tls:[2001:db8::1]:40001"
    std::uint64_t connection = 0;
};

struct RegisterOutcome {
    int status = 500;
    std::string reason;  // empty: the standard reason phrase
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<BindingChange> changes;  // 200 only: write these before answering
    // 200 only: every change is a refresh of a live binding that keeps its contact, source, connection,
    // path, q, instance and User-Agent, extends its expiry, and whose previous expiry is at least
    // defer_margin_s away. Losing such a change loses no binding before that expiry (and a restored
    // older Call-ID or CSeq refuses no later REGISTER), so it may be written after the 200 (when the
    // BindingWriter agrees: it refuses while memory may be ahead of the disk).
    bool deferrable = false;
};

// "user@domain" with the domain lowercased: the key of an address of record (RFC 3261 10.3 step 5).
std::string aor_of(const sip::Uri& uri);
// RFC 1123 date for the Date header of a 200 to REGISTER (RFC 3261 10.3 step 8).
std::string http_date(std::int64_t unix_seconds);

class Registrar {
public:
    Registrar(RegistrarConfig config, LocationService& location)
        : config_(std::move(config)), location_(location) {}

    // Runs on a 200 while the AOR's lock is still held, with the outcome complete: whoever persists
    // `changes` submits them here, so two REGISTERs of one AOR reach the BindingWriter in the order they
    // changed memory (and a failed commit can put memory back, BindingWriter). Keep it short.
    using Accepted = std::function<void(RegisterOutcome&)>;

    // authenticated_user: the digest username that proved itself for this request.
    RegisterOutcome handle(const sip::Message& request, std::string_view authenticated_user,
                           const RegisterSource& from, std::int64_t now, const Accepted& accepted = {});
    const RegistrarConfig& config() const { return config_; }

private:
    RegistrarConfig config_;
    LocationService& location_;
};

}  // namespace sw::registrar
