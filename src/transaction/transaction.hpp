// The four transaction state machines of RFC 3261 section 17, with the RFC 6026 corrections
// (the Accepted state of INVITE transactions, Timers L and M).
//
// The machines do no I/O and read no clock: every input is an Event given to on_event(), and every
// effect goes to the Effects interface (send bytes, start or stop a timer, hand something to the
// transaction user, report termination). The engine implements Effects with real sockets and timers;
// unit tests implement it with a recorder and drive every transition without either.
//
// Thread: a transaction lives on the worker thread that owns its Call-ID shard; no locking inside.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sip/message.hpp"
#include "transaction/timers.hpp"

namespace sw::transaction {

// What a transaction asks of the world. Implemented by the engine (and by tests).
class Effects {
public:
    virtual ~Effects() = default;
    virtual void send(std::string_view bytes) = 0;
    virtual void start_timer(Timer t, Duration after) = 0;
    virtual void stop_timer(Timer t) = 0;
    // Client transactions: a response for the TU (provisional, final, or a 2xx retransmission).
    virtual void pass_response(const sip::Message& response) = 0;
    // Server INVITE transactions in Accepted: an ACK for a 2xx, for the TU (RFC 6026 8.7).
    virtual void pass_ack(const sip::Message& ack) = 0;
    // Timer B/F/H fired (or the transport failed): the transaction gives up.
    virtual void timed_out() = 0;
    virtual void transport_error() = 0;
    virtual void terminated() = 0;
};

enum class State : std::uint8_t {
    // client INVITE: Calling Proceeding Completed Accepted Terminated
    // client non-INVITE: Trying Proceeding Completed Terminated
    // server INVITE: Proceeding Completed Confirmed Accepted Terminated
    // server non-INVITE: Trying Proceeding Completed Terminated
    Calling,
    Trying,
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
    Terminated
};
std::string_view state_name(State s);

enum class EventKind : std::uint8_t {
    Start,       // client: send the request; server: the request arrived (TU already has it)
    Response,    // client: a response matched this transaction (message set)
    Request,     // server: a retransmission of the request, or an ACK (message set)
    TuResponse,  // server: the TU sends a response (message set; bytes to send in `bytes`)
    TimerFired,  // timer set
    TransportError
};

struct Event {
    EventKind kind = EventKind::Start;
    const sip::Message* message = nullptr;
    std::string_view bytes;  // TuResponse: the serialised response
    Timer timer = Timer::A;
    int status = 0;  // TuResponse: the response's status (when 0, read from message)
};

enum class Kind : std::uint8_t { ClientInvite, ClientNonInvite, ServerInvite, ServerNonInvite };

class Transaction {
public:
    // request_bytes: the request as sent (client) or received (server). reliable: TCP/TLS.
    Transaction(Kind kind, std::string request_bytes, bool reliable, const TimerConfig& timers, Effects& fx);

    void on_event(const Event& e);

    // Server: the final response, handed over when the transaction is retired to a compact table
    // (a Completed non-INVITE server transaction only resends it until Timer J fires).
    std::string take_last_response() { return std::move(last_response_); }

    Kind kind() const { return kind_; }
    State state() const { return state_; }
    bool reliable() const { return reliable_; }

private:
    void client_invite(const Event& e);
    void client_non_invite(const Event& e);
    void server_invite(const Event& e);
    void server_non_invite(const Event& e);
    void enter(State s);
    void terminate();
    void send_ack_for(const sip::Message& response);
    // Client start: send the request, arm the retransmission timer (unreliable transports only) and the
    // 64*T1 timeout (17.1.1.2 Timers A/B, 17.1.2.2 Timers E/F).
    void send_request_and_arm(Timer retransmit, Timer timeout);
    // Server INVITE in Proceeding: sends last_response_ (our own 100 if the TU has sent nothing yet).
    void send_trying_or_last();

    Kind kind_;
    State state_;
    bool reliable_;
    TimerConfig timers_;
    Effects& fx_;
    std::string request_;          // for retransmission (client) or building the ACK
    std::string last_response_;    // server: the last response sent, resent on a retransmitted request
    std::string ack_;              // client INVITE: the ACK sent for a non-2xx final response
    Duration interval_{0};         // current Timer A/E/G interval
    bool trying_pending_ = false;  // server INVITE: last_response_ is our 100, not sent yet
};

// RFC 3261 17.1.1.3: the ACK a client INVITE transaction sends for a 3xx-6xx response: the request's
// Request-URI, Call-ID, From, CSeq number and top Via; the response's To (with its tag); the request's
// Route headers.
std::string build_ack_for_non_2xx(const sip::Message& invite, const sip::Message& response);
// What the ACK above and a CANCEL (RFC 3261 9.1) share: `method` for the same Request-URI, top Via,
// From, Call-ID, CSeq number and Route headers as the INVITE, with the given To.
std::string build_same_branch_request(const sip::Message& invite, std::string_view method,
                                      std::string_view to);

}  // namespace sw::transaction
