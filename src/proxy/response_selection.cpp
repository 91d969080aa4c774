#include "proxy/response_selection.hpp"

namespace sw::proxy {

std::size_t ResponseContext::add_branch() {
    branches_.push_back(Branch{});
    return branches_.size() - 1;
}

std::vector<std::size_t> ResponseContext::initial_branches() {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < branches_.size(); ++i) {
        if (branches_[i].state != BranchState::Waiting) continue;
        branches_[i].state = BranchState::Trying;
        out.push_back(i);
        if (serial_) break;
    }
    return out;
}

std::optional<std::size_t> ResponseContext::next_waiting() const {
    for (std::size_t i = 0; i < branches_.size(); ++i)
        if (branches_[i].state == BranchState::Waiting) return i;
    return std::nullopt;
}

bool ResponseContext::pending() const {
    for (const auto& b : branches_)
        if (b.state != BranchState::Done) return true;
    return false;
}

void ResponseContext::forget_finished() {
    for (auto& b : branches_)
        if (b.state == BranchState::Done) b.status = 0;
}

void ResponseContext::stop_waiting() {
    stopped_ = true;
    for (auto& b : branches_) {
        if (b.state == BranchState::Waiting) {
            b.state = BranchState::Done;
            b.status = 0;  // never tried: not a candidate for the best response
        }
    }
}

ResponseContext::Verdict ResponseContext::on_response(std::size_t branch, int status) {
    Verdict v;
    if (branch >= branches_.size()) return v;
    Branch& b = branches_[branch];
    if (b.state == BranchState::Done) {
        // RFC 3261 16.7 step 5: later 2xx responses to an INVITE (other forks, retransmissions) still go up.
        v.forward_now = invite_ && status >= 200 && status < 300;
        return v;
    }
    if (status < 200) {
        b.state = BranchState::Proceeding;
        b.status = status;
        // 100 Trying is hop by hop (16.7 step 5); other provisionals go up until a final response has.
        v.forward_now = status > 100 && !final_sent_;
        return v;
    }
    b.state = BranchState::Done;
    b.status = status;
    b.order = ++finals_;
    if (status < 300) {
        v.forward_now = invite_ || !final_sent_;
        if (invite_) {
            v.cancel_others = true;
            stop_waiting();
        }
        final_sent_ = true;
        return v;
    }
    if (status >= 600) {
        // RFC 3261 16.7 step 5: no new branches after a 6xx, whatever the method; INVITE branches that
        // are still ringing are cancelled.
        v.cancel_others = invite_;
        stop_waiting();
    }
    if (serial_ && !stopped_) {
        if (auto next = next_waiting()) {
            branches_[*next].state = BranchState::Trying;
            v.start_branch = next;
            return v;
        }
    }
    if (!pending() && !final_sent_) v.final_ready = true;
    return v;
}

std::optional<std::size_t> ResponseContext::best() const {
    std::optional<std::size_t> pick;
    auto rank = [](const Branch& b) {
        const int cls = b.status / 100;
        // 6xx first, then the lowest class (RFC 3261 16.7 step 6); a timeout loses within its class.
        const int class_rank = cls == 6 ? 0 : cls;
        return class_rank * 10 + (b.status == 408 ? 1 : 0);
    };
    for (std::size_t i = 0; i < branches_.size(); ++i) {
        const Branch& b = branches_[i];
        if (b.state != BranchState::Done || b.status < 200) continue;
        if (!pick) {
            pick = i;
            continue;
        }
        const Branch& p = branches_[*pick];
        if (rank(b) < rank(p) || (rank(b) == rank(p) && b.order < p.order)) pick = i;
    }
    return pick;
}

}  // namespace sw::proxy
