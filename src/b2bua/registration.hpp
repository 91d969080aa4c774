// The REGISTER client of a registering trunk (RFC 3261 10.2 as a UAC): registers sipwarden's contact
// with the provider, answers its digest challenge, refreshes before the binding runs out, and backs off
// when the provider refuses. Pure: the engine sends what it builds, feeds it the responses and
// timeouts, and runs the timers it asks for.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "b2bua/trunk.hpp"
#include "sip/message.hpp"

namespace sw::b2bua {

class RegistrationClient {
public:
    // call_id and tag stay the same for every REGISTER of this client (RFC 3261 10.2.4: refreshes reuse
    // the Call-ID, with increasing CSeq).
    RegistrationClient(Trunk trunk, std::string call_id, std::string tag);

    // The next REGISTER: Request-URI sip:DOMAIN, From/To <sip:USER@DOMAIN>, our Via and Contact, Expires,
    // and the answer to the last challenge when there was one. `expires` 0 unregisters.
    std::string build(const std::string& via, const std::string& contact, std::string_view cnonce);

    enum class Next : std::uint8_t {
        Wait,     // a provisional response: the final one is still to come
        SendNow,  // send build() again at once (credentials, or a longer Expires after 423)
        Refresh,  // registered: send build() again after `after`
        Retry,    // failed: try again after `after`
    };
    struct Outcome {
        Next next = Next::Retry;
        std::chrono::seconds after{0};
    };
    Outcome on_response(const sip::Message& response, std::int64_t now);
    // The transaction timed out or the transport failed.
    Outcome on_failure(std::string_view why, std::int64_t now);

    const TrunkStatus& status() const { return status_; }
    const Trunk& trunk() const { return trunk_; }
    std::uint32_t cseq() const { return cseq_; }

private:
    Outcome failed(std::string detail, std::int64_t now);

    Trunk trunk_;
    std::string call_id_;
    std::string tag_;
    std::uint32_t cseq_ = 0;
    std::uint32_t expires_;
    std::optional<std::string> challenge_;  // the last 401/407, kept to answer it in the next REGISTER
    std::uint32_t nonce_count_ = 0;
    bool credentials_sent_ = false;  // the last REGISTER answered the kept challenge
    unsigned failures_ = 0;
    TrunkStatus status_;
};

// Back-off after the n-th failure in a row (n >= 1): 5 s, 10 s, 20 s ... at most 300 s.
std::chrono::seconds registration_backoff(unsigned failures);

}  // namespace sw::b2bua
