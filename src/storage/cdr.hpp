// Call detail records (issue 7 part 6): what the engine reports about a call attempt, and the record the
// store keeps of it. Plain values; no I/O. The engine reports three moments of a call - its start (the
// INVITE was accepted for routing), its answer (the 2xx) and its end (the last final answer or hang-up) -
// as CdrEvents through a CdrWriter (storage/cdr_writer.hpp), which must never make a worker wait; a
// CdrStore (storage/sqlite/cdr_store.hpp) folds the events of one call into one row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.hpp"

namespace sw::storage {

// Where a call goes: between two users of ours, out through a trunk, or in from a trunk.
enum class CdrDirection : std::uint8_t { Internal, Outbound, Inbound };

// "internal", "outbound", "inbound": the text stored in the cdrs table and shown by `sipwarden cdr`.
std::string_view direction_name(CdrDirection d);

// What the engine knows when a call starts.
struct CdrCall {
    std::string caller;   // the calling extension, or the calling number of an inbound call
    std::string callee;   // the extension rung, or the number called out through a trunk
    std::string dialled;  // the Request-URI's user part as dialled (before aliases and the dial plan)
    CdrDirection direction = CdrDirection::Internal;
    std::string trunk;       // the trunk of an outbound or inbound call; empty for internal calls
    std::string source;      // where the INVITE came from: "udp:192.0.2.1:5060", "tls:[2001:db8::1]:5061"
    std::string user_agent;  // the INVITE's User-Agent
    std::string verdict;     // the toll-fraud guard's verdict as text; empty: none given
};

struct CdrEvent {
    enum class Kind : std::uint8_t { Start, Answer, End };

    Kind kind = Kind::Start;
    // Unique per call attempt, the same for its three events. The engine makes it as
    // "<worker>-<counter>-<random>" (a SIP Call-ID is not unique enough: a forked or retried call reuses it).
    std::string call;
    std::int64_t time_ms = 0;  // Unix time in milliseconds
    CdrCall start;             // Start only
    int result = 0;            // End only: the SIP status of the final answer (200 for an answered call)
    std::string reason;  // End only: "caller hung up", "callee hung up", "487 cancelled", "max duration"

    static CdrEvent started(std::string call, std::int64_t time_ms, CdrCall details);
    static CdrEvent answered(std::string call, std::int64_t time_ms);
    static CdrEvent ended(std::string call, std::int64_t time_ms, int result, std::string reason);
};

// One row of the cdrs table: every event of one call folded together. A time that is not known is 0
// (Unix time 0 never is a call's time): answer_ms for a call never answered, end_ms for a call still going
// (or whose end was lost in a crash).
struct CdrRecord {
    std::int64_t id = 0;
    std::string call;
    // The start event's time; for a call whose start event never arrived (dropped under overload), the
    // time of its first event, with caller, callee... empty.
    std::int64_t start_ms = 0;
    std::int64_t answer_ms = 0;
    std::int64_t end_ms = 0;
    std::int64_t duration_ms = 0;  // end_ms - answer_ms; 0 if never answered or not ended
    std::string caller;
    std::string callee;
    std::string dialled;
    std::string direction;  // "internal", "outbound", "inbound" (empty without a start event)
    std::string trunk;
    std::string source;
    std::string user_agent;
    int result = 0;  // 0: no end event yet
    std::string reason;
    std::string verdict;
};

// Which records a query returns, newest start first.
struct CdrFilter {
    std::int64_t since_ms = 0;   // start_ms >= since_ms
    std::string user;            // when not empty: caller == user or callee == user
    bool external_only = false;  // only direction outbound or inbound
    std::size_t limit = 0;       // at most this many; 0: all
};

// Where a CdrWriter puts its batches. Thread: one thread at a time (the writer's).
class CdrStore {
public:
    virtual ~CdrStore() = default;
    // Every event in one transaction, in order: all applied or none.
    virtual Status apply(const std::vector<CdrEvent>& events) = 0;
};

}  // namespace sw::storage
