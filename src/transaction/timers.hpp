// RFC 3261 17 timers and their values (table 4 of RFC 3261 appendix A), configurable T1/T2/T4.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace sw::transaction {

using Duration = std::chrono::milliseconds;

// Timer names of RFC 3261 17 and RFC 6026 (L, M).
enum class Timer : std::uint8_t { A, B, D, E, F, G, H, I, J, K, L, M };
std::string_view timer_name(Timer t);

struct TimerConfig {
    Duration t1{500};   // RTT estimate
    Duration t2{4000};  // maximum retransmit interval for non-INVITE requests and INVITE responses
    Duration t4{5000};  // maximum duration a message remains in the network
    Duration d{32000};  // Timer D on unreliable transports (at least 32 s)

    Duration timeout() const { return t1 * 64; }  // Timers B, F, H, J, L, M
};

}  // namespace sw::transaction
