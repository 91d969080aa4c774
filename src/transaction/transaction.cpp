#include "transaction/transaction.hpp"

#include <algorithm>

#include "sip/builder.hpp"

namespace sw::transaction {

std::string_view timer_name(Timer t) {
    static constexpr std::string_view kNames[] = {"A", "B", "D", "E", "F", "G",     "H",
                                                  "I", "J", "K", "L", "M", "Trying"};
    return kNames[static_cast<int>(t)];
}

std::string_view state_name(State s) {
    static constexpr std::string_view kNames[] = {"Calling",   "Trying",   "Proceeding", "Completed",
                                                  "Confirmed", "Accepted", "Terminated"};
    return kNames[static_cast<int>(s)];
}

Transaction::Transaction(Kind kind, std::string request_bytes, bool reliable, const TimerConfig& timers,
                         Effects& fx)
    : kind_(kind),
      state_(kind == Kind::ClientInvite   ? State::Calling
             : kind == Kind::ServerInvite ? State::Proceeding
                                          : State::Trying),
      reliable_(reliable),
      timers_(timers),
      fx_(fx),
      request_(std::move(request_bytes)) {}

void Transaction::enter(State s) {
    state_ = s;
}

void Transaction::terminate() {
    if (state_ == State::Terminated) return;
    state_ = State::Terminated;
    fx_.terminated();
}

void Transaction::on_event(const Event& e) {
    if (state_ == State::Terminated) return;
    if (e.kind == EventKind::TransportError) {
        // RFC 3261 17.1.4 / 17.2.4: the TU is told, the transaction ends.
        fx_.transport_error();
        terminate();
        return;
    }
    switch (kind_) {
        case Kind::ClientInvite:
            client_invite(e);
            break;
        case Kind::ClientNonInvite:
            client_non_invite(e);
            break;
        case Kind::ServerInvite:
            server_invite(e);
            break;
        case Kind::ServerNonInvite:
            server_non_invite(e);
            break;
    }
}

// ---- RFC 3261 17.1.1, RFC 6026 7.2: client INVITE ----
void Transaction::client_invite(const Event& e) {
    switch (e.kind) {
        case EventKind::Start:
            if (state_ == State::Calling) send_request_and_arm(Timer::A, Timer::B);
            return;
        case EventKind::TimerFired:
            if (e.timer == Timer::A && state_ == State::Calling) {
                // 17.1.1.2: retransmit, doubling the interval each time.
                fx_.send(request_);
                interval_ *= 2;
                fx_.start_timer(Timer::A, interval_);
            } else if (e.timer == Timer::B && state_ == State::Calling) {
                fx_.timed_out();
                terminate();
            } else if ((e.timer == Timer::D && state_ == State::Completed) ||
                       (e.timer == Timer::M && state_ == State::Accepted)) {
                terminate();
            }
            return;
        case EventKind::Response: {
            const int status = e.message->status();
            if (state_ == State::Calling || state_ == State::Proceeding) {
                // Any response ends Calling: Timers A and B only run there (17.1.1.2).
                if (state_ == State::Calling) {
                    fx_.stop_timer(Timer::A);
                    fx_.stop_timer(Timer::B);
                }
                if (status < 200) {
                    enter(State::Proceeding);
                    fx_.pass_response(*e.message);
                } else if (status < 300) {
                    // RFC 6026 7.2: 2xx moves to Accepted; retransmissions of the 2xx reach the TU.
                    enter(State::Accepted);
                    fx_.start_timer(Timer::M, timers_.timeout());
                    fx_.pass_response(*e.message);
                } else {
                    send_ack_for(*e.message);
                    enter(State::Completed);
                    fx_.pass_response(*e.message);
                    if (reliable_) {
                        terminate();  // Timer D is zero on reliable transports
                    } else {
                        fx_.start_timer(Timer::D, timers_.d);
                    }
                }
            } else if (state_ == State::Completed) {
                // 17.1.1.2: a retransmitted final response is answered with the same ACK, not passed up.
                if (status >= 300) fx_.send(ack_);
            } else if (state_ == State::Accepted) {
                if (status >= 200 && status < 300) fx_.pass_response(*e.message);
            }
            return;
        }
        default:
            return;
    }
}

// ---- RFC 3261 17.1.2: client non-INVITE ----
void Transaction::client_non_invite(const Event& e) {
    switch (e.kind) {
        case EventKind::Start:
            if (state_ == State::Trying) send_request_and_arm(Timer::E, Timer::F);
            return;
        case EventKind::TimerFired:
            if (e.timer == Timer::E && (state_ == State::Trying || state_ == State::Proceeding)) {
                // 17.1.2.2: double up to T2 while Trying; every T2 once Proceeding.
                fx_.send(request_);
                interval_ = state_ == State::Trying ? std::min(interval_ * 2, timers_.t2) : timers_.t2;
                fx_.start_timer(Timer::E, interval_);
            } else if (e.timer == Timer::F && (state_ == State::Trying || state_ == State::Proceeding)) {
                fx_.timed_out();
                terminate();
            } else if (e.timer == Timer::K && state_ == State::Completed) {
                terminate();
            }
            return;
        case EventKind::Response: {
            if (state_ != State::Trying && state_ != State::Proceeding) return;  // Completed absorbs
            const int status = e.message->status();
            if (status < 200) {
                enter(State::Proceeding);
                fx_.pass_response(*e.message);
                return;
            }
            fx_.stop_timer(Timer::E);
            fx_.stop_timer(Timer::F);
            enter(State::Completed);
            fx_.pass_response(*e.message);
            if (reliable_) {
                terminate();  // Timer K is zero on reliable transports
            } else {
                fx_.start_timer(Timer::K, timers_.t4);
            }
            return;
        }
        default:
            return;
    }
}

// ---- RFC 3261 17.2.1, RFC 6026 7.1: server INVITE ----
void Transaction::server_invite(const Event& e) {
    switch (e.kind) {
        case EventKind::Start:
            // 17.2.1: a 100 Trying stops the client's retransmissions, but is needed only if the TU does
            // not answer soon. A proxy's TU usually relays the callee's 100/180 within milliseconds, so
            // the 100 is built now and sent only if nothing else was sent by Timer Trying (T1/5, at most 100
            // ms), or at once to a retransmission.
            if (e.message != nullptr && state_ == State::Proceeding && last_response_.empty()) {
                last_response_ = sip::ResponseBuilder(*e.message, 100).build();
                if (e.message->has(sip::HeaderId::Timestamp)) {
                    // 8.2.6.1: the copied Timestamp would need the delay added; answer without one.
                    fx_.send(last_response_);
                } else {
                    trying_pending_ = true;
                    fx_.start_timer(Timer::Trying, timers_.trying());
                }
            }
            return;
        case EventKind::Request: {
            const bool ack = e.message->method_id() == sip::Method::Ack;
            if (state_ == State::Proceeding) {
                if (!ack && !last_response_.empty()) {
                    send_trying_or_last();
                }
            } else if (state_ == State::Completed) {
                if (ack) {
                    fx_.stop_timer(Timer::G);
                    fx_.stop_timer(Timer::H);
                    enter(State::Confirmed);
                    if (reliable_) {
                        terminate();  // Timer I is zero on reliable transports
                    } else {
                        fx_.start_timer(Timer::I, timers_.t4);
                    }
                } else {
                    fx_.send(last_response_);
                }
            } else if (state_ == State::Accepted) {
                // RFC 6026 7.1: INVITE retransmissions are absorbed; ACKs for the 2xx go to the TU.
                if (ack) fx_.pass_ack(*e.message);
            }
            // Confirmed absorbs everything.
            return;
        }
        case EventKind::TuResponse: {
            const int status = e.status != 0 ? e.status : e.message->status();
            if (state_ == State::Proceeding) {
                if (trying_pending_) {
                    trying_pending_ = false;  // the TU answered: no 100 of our own
                    fx_.stop_timer(Timer::Trying);
                }
                last_response_ = std::string(e.bytes);
                fx_.send(last_response_);
                if (status >= 200 && status < 300) {
                    enter(State::Accepted);
                    fx_.start_timer(Timer::L, timers_.timeout());
                } else if (status >= 300) {
                    enter(State::Completed);
                    if (!reliable_) {
                        interval_ = timers_.t1;
                        fx_.start_timer(Timer::G, interval_);
                    }
                    fx_.start_timer(Timer::H, timers_.timeout());
                }
            } else if (state_ == State::Accepted && status >= 200 && status < 300) {
                fx_.send(e.bytes);  // the TU retransmits its 2xx (RFC 6026 7.1)
            }
            return;
        }
        case EventKind::TimerFired:
            if (e.timer == Timer::Trying) {
                if (state_ == State::Proceeding && trying_pending_) send_trying_or_last();
            } else if (e.timer == Timer::G && state_ == State::Completed) {
                fx_.send(last_response_);
                interval_ = std::min(interval_ * 2, timers_.t2);
                fx_.start_timer(Timer::G, interval_);
            } else if (e.timer == Timer::H && state_ == State::Completed) {
                // 17.2.1: no ACK arrived; the final response was lost or the client is gone.
                fx_.timed_out();
                terminate();
            } else if ((e.timer == Timer::I && state_ == State::Confirmed) ||
                       (e.timer == Timer::L && state_ == State::Accepted)) {
                terminate();
            }
            return;
        default:
            return;
    }
}

void Transaction::send_trying_or_last() {
    if (trying_pending_) {
        trying_pending_ = false;
        fx_.stop_timer(Timer::Trying);
    }
    fx_.send(last_response_);
}

// ---- RFC 3261 17.2.2: server non-INVITE ----
void Transaction::server_non_invite(const Event& e) {
    switch (e.kind) {
        case EventKind::Request:
            // Trying absorbs (nothing to resend yet); Proceeding and Completed resend the last response.
            if ((state_ == State::Proceeding || state_ == State::Completed) && !last_response_.empty()) {
                fx_.send(last_response_);
            }
            return;
        case EventKind::TuResponse: {
            if (state_ != State::Trying && state_ != State::Proceeding) return;
            last_response_ = std::string(e.bytes);
            fx_.send(last_response_);
            if ((e.status != 0 ? e.status : e.message->status()) < 200) {
                enter(State::Proceeding);
                return;
            }
            enter(State::Completed);
            if (reliable_) {
                terminate();  // Timer J is zero on reliable transports
            } else {
                fx_.start_timer(Timer::J, timers_.timeout());
            }
            return;
        }
        case EventKind::TimerFired:
            if (e.timer == Timer::J && state_ == State::Completed) terminate();
            return;
        default:
            return;
    }
}

void Transaction::send_request_and_arm(Timer retransmit, Timer timeout) {
    fx_.send(request_);
    if (!reliable_) {
        interval_ = timers_.t1;
        fx_.start_timer(retransmit, interval_);
    }
    fx_.start_timer(timeout, timers_.timeout());
}

void Transaction::send_ack_for(const sip::Message& response) {
    auto invite = sip::Message::parse(request_);
    if (!invite) return;  // we built or accepted this request: it parses
    ack_ = build_ack_for_non_2xx(*invite, response);
    fx_.send(ack_);
}

std::string build_same_branch_request(const sip::Message& invite, std::string_view method,
                                      std::string_view to) {
    std::string out;
    out.reserve(512);
    out.append(method).append(" ").append(invite.request_uri().raw).append(" SIP/2.0\r\n");
    // Only the top Via of the request (17.1.1.3, 9.1).
    for (const auto& f : invite.headers()) {
        if (f.id != sip::HeaderId::Via) continue;
        sip::for_each_list_element(f.value, [&](std::string_view first) {
            out.append("Via: ").append(first).append("\r\n");
            return false;
        });
        break;
    }
    out.append("Max-Forwards: 70\r\n");
    out.append("From: ").append(invite.header(sip::HeaderId::From)).append("\r\n");
    out.append("To: ").append(to).append("\r\n");
    out.append("Call-ID: ").append(invite.call_id()).append("\r\n");
    out.append("CSeq: ")
        .append(std::to_string(invite.cseq().number))
        .append(" ")
        .append(method)
        .append("\r\n");
    for (const auto& f : invite.headers()) {
        if (f.id == sip::HeaderId::Route) out.append("Route: ").append(f.value).append("\r\n");
    }
    out.append("Content-Length: 0\r\n\r\n");
    return out;
}

std::string build_ack_for_non_2xx(const sip::Message& invite, const sip::Message& response) {
    return build_same_branch_request(invite, "ACK", response.header(sip::HeaderId::To));
}

}  // namespace sw::transaction
