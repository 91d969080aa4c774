// The response context of a stateful proxy (RFC 3261 16.7): which responses of the branches go to the
// previous hop at once, when the branches are to be cancelled, and which final response wins once
// every branch has ended. Serial forking starts the next branch only when the previous one failed.
//
// Pure state: no I/O, no clock. Thread: the worker that owns the transaction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace sw::proxy {

class ResponseContext {
public:
    enum class BranchState : std::uint8_t { Waiting, Trying, Proceeding, Done };

    struct Verdict {
        bool forward_now = false;    // send this response upstream at once
        bool cancel_others = false;  // CANCEL every branch still pending (a 2xx or a 6xx to an INVITE)
        bool final_ready = false;    // no branch is pending: send the best stored response upstream
        std::optional<std::size_t> start_branch;  // serial forking: start this branch now
    };

    // invite: responses to INVITE (every 2xx is forwarded, 6xx cancels). serial: one branch at a time.
    ResponseContext(bool invite, bool serial) : invite_(invite), serial_(serial) {}

    std::size_t add_branch();
    // The branches to start now: all of them in parallel, the first in serial.
    std::vector<std::size_t> initial_branches();
    // A response received on a branch.
    Verdict on_response(std::size_t branch, int status);
    // A branch gave up with no final response: Timer B/F (408) or a transport failure (503).
    Verdict on_failure(std::size_t branch, int synthetic_status) {
        return on_response(branch, synthetic_status);
    }
    // Call forwarding: the branches that have ended are no longer candidates for the best response.
    void forget_finished();
    // Stops every branch not yet started (a CANCEL from upstream, Timer C of a serial fork ...).
    void stop_waiting();

    // RFC 3261 16.7 step 6: the branch whose final response goes upstream: a 6xx if any, else the
    // lowest class; within a class a real answer beats a timeout (408), then the first to arrive.
    std::optional<std::size_t> best() const;
    int status(std::size_t branch) const { return branches_[branch].status; }
    BranchState state(std::size_t branch) const { return branches_[branch].state; }
    std::size_t size() const { return branches_.size(); }
    bool final_sent() const { return final_sent_; }
    void mark_final_sent() { final_sent_ = true; }
    bool pending() const;  // a branch is trying, proceeding or waiting to be started

private:
    struct Branch {
        BranchState state = BranchState::Waiting;
        int status = 0;           // the last response's status
        std::uint32_t order = 0;  // when its final response arrived
    };
    std::optional<std::size_t> next_waiting() const;

    bool invite_;
    bool serial_;
    bool final_sent_ = false;
    bool stopped_ = false;  // a 2xx or 6xx arrived, or the request was cancelled: no new branches
    std::uint32_t finals_ = 0;
    std::vector<Branch> branches_;
};

// RFC 3261 16.7 step 6: a 503 chosen as the best response goes upstream as 500 (the 503 was about the
// next hop, not about us).
inline int upstream_status(int best_status) {
    return best_status == 503 ? 500 : best_status;
}

}  // namespace sw::proxy
