// RFC 3261 17 timers and their values (table 4 of RFC 3261 appendix A), configurable T1/T2/T4.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace sw::transaction {

using Duration = std::chrono::milliseconds;

// Timer names of RFC 3261 17 and RFC 6026 (L, M). Trying: how long a server INVITE transaction waits
// for its TU's first response before it sends a 100 (Trying) of its own (17.2.1).
enum class Timer : std::uint8_t { A, B, D, E, F, G, H, I, J, K, L, M, Trying };
std::string_view timer_name(Timer t);

struct TimerConfig {
    Duration t1{500};   // RTT estimate
    Duration t2{4000};  // maximum retransmit interval for non-INVITE requests and INVITE responses
    Duration t4{5000};  // maximum duration a message remains in the network
    Duration d{32000};  // Timer D on unreliable transports (at least 32 s)

    Duration timeout() const { return t1 * 64; }  // Timers B, F, H, J, L, M
    // 17.2.1: a 100 (Trying) is needed unless the TU answers within 200 ms; well inside that, and
    // before the client's first retransmission (T1), so that a retransmission is never the reason.
    Duration trying() const { return std::min(t1 / 5, Duration{100}); }
};

}  // namespace sw::transaction
