// Every transition of the four RFC 3261 17 state machines (with the RFC 6026 Accepted state), driven by
// events with a recording Effects: no sockets, no clock.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "sip/builder.hpp"
#include "transaction/matching.hpp"
#include "transaction/transaction.hpp"

using namespace sw::transaction;
using sw::sip::Message;

namespace {

const std::string kInvite =
    "INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP a.example:5060;branch=z9hG4bKinv1\r\n"
    "Max-Forwards: 70\r\nFrom: <sip:alice@a.example>;tag=f1\r\nTo: <sip:bob@b.example>\r\nCall-ID: c1\r\n"
    "CSeq: 7 INVITE\r\nRoute: <sip:p1.example;lr>\r\nContent-Length: 0\r\n\r\n";
const std::string kOptions =
    "OPTIONS sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP a.example;branch=z9hG4bKopt1\r\n"
    "From: <sip:alice@a.example>;tag=f1\r\nTo: <sip:bob@b.example>\r\nCall-ID: c2\r\nCSeq: 1 OPTIONS\r\n"
    "Content-Length: 0\r\n\r\n";

struct Recorder : Effects {
    std::vector<std::string> sent;
    std::map<Timer, Duration> running;
    std::vector<int> passed;  // statuses passed to the TU
    int acks_passed = 0, timeouts = 0, transport_errors = 0, terminations = 0;

    void send(std::string_view b) override { sent.emplace_back(b); }
    void start_timer(Timer t, Duration d) override { running[t] = d; }
    void stop_timer(Timer t) override { running.erase(t); }
    void pass_response(const Message& r) override { passed.push_back(r.status()); }
    void pass_ack(const Message&) override { ++acks_passed; }
    void timed_out() override { ++timeouts; }
    void transport_error() override { ++transport_errors; }
    void terminated() override { ++terminations; }
};

Message msg(const std::string& s) {
    return std::move(Message::parse(s)).value();
}
Message response_to(const std::string& request, int status, const char* tag = "t1") {
    auto req = msg(request);
    return msg(sw::sip::ResponseBuilder(req, status).to_tag(tag).build());
}
Event start(const Message* m = nullptr) {
    return Event{EventKind::Start, m, {}, Timer::A};
}
Event fire(Timer t) {
    return Event{EventKind::TimerFired, nullptr, {}, t};
}
Event response(const Message& m) {
    return Event{EventKind::Response, &m, {}, Timer::A};
}
Event request(const Message& m) {
    return Event{EventKind::Request, &m, {}, Timer::A};
}
Event transport_error() {
    return Event{EventKind::TransportError, nullptr, {}, Timer::A};
}

struct TuResponse {
    Message m;
    std::string bytes;
    Event event() const { return Event{EventKind::TuResponse, &m, bytes, Timer::A}; }
};
TuResponse tu(const std::string& request, int status) {
    auto req = msg(request);
    std::string b = sw::sip::ResponseBuilder(req, status).to_tag("srv").build();
    return TuResponse{msg(b), b};
}

TimerConfig timers() {
    return TimerConfig{};
}

}  // namespace

// ---------------- client INVITE ----------------

TEST(ClientInvite, CallingRetransmitsWithDoublingTimerAUnreliable) {
    Recorder r;
    Transaction t(Kind::ClientInvite, kInvite, false, timers(), r);
    t.on_event(start());
    EXPECT_EQ(t.state(), State::Calling);
    ASSERT_EQ(r.sent.size(), 1u);
    EXPECT_EQ(r.running.at(Timer::A), Duration(500));
    EXPECT_EQ(r.running.at(Timer::B), Duration(32000));
    t.on_event(fire(Timer::A));
    EXPECT_EQ(r.sent.size(), 2u);
    EXPECT_EQ(r.running.at(Timer::A), Duration(1000));
    t.on_event(fire(Timer::A));
    EXPECT_EQ(r.running.at(Timer::A), Duration(2000));
    EXPECT_EQ(r.sent.back(), kInvite);
}

TEST(ClientInvite, ReliableHasNoTimerA) {
    Recorder r;
    Transaction t(Kind::ClientInvite, kInvite, true, timers(), r);
    t.on_event(start());
    EXPECT_FALSE(r.running.count(Timer::A));
    EXPECT_TRUE(r.running.count(Timer::B));
}

TEST(ClientInvite, TimerBTimesOutInCalling) {
    Recorder r;
    Transaction t(Kind::ClientInvite, kInvite, false, timers(), r);
    t.on_event(start());
    t.on_event(fire(Timer::B));
    EXPECT_EQ(r.timeouts, 1);
    EXPECT_EQ(t.state(), State::Terminated);
    EXPECT_EQ(r.terminations, 1);
}

TEST(ClientInvite, ProvisionalMovesToProceedingAndStopsRetransmission) {
    Recorder r;
    Transaction t(Kind::ClientInvite, kInvite, false, timers(), r);
    t.on_event(start());
    auto ringing = response_to(kInvite, 180);
    t.on_event(response(ringing));
    EXPECT_EQ(t.state(), State::Proceeding);
    EXPECT_FALSE(r.running.count(Timer::A));
    EXPECT_FALSE(r.running.count(Timer::B));
    EXPECT_EQ(r.passed, std::vector<int>{180});
    t.on_event(fire(Timer::A));  // a stale timer does nothing
    EXPECT_EQ(r.sent.size(), 1u);
    t.on_event(response(ringing));
    EXPECT_EQ(r.passed.size(), 2u);  // further provisionals reach the TU
}

TEST(ClientInvite, FinalErrorSendsAckCompletedThenTimerD) {
    Recorder r;
    Transaction t(Kind::ClientInvite, kInvite, false, timers(), r);
    t.on_event(start());
    auto busy = response_to(kInvite, 486);
    t.on_event(response(busy));
    EXPECT_EQ(t.state(), State::Completed);
    EXPECT_EQ(r.passed, std::vector<int>{486});
    ASSERT_EQ(r.sent.size(), 2u);
    auto ack = msg(r.sent[1]);
    EXPECT_EQ(ack.method_id(), sw::sip::Method::Ack);
    EXPECT_EQ(ack.cseq().number, 7u);
    EXPECT_EQ(ack.cseq().method, "ACK");
    EXPECT_EQ(ack.to().tag, "t1");
    EXPECT_EQ(ack.top_via().branch, "z9hG4bKinv1");
    EXPECT_EQ(ack.request_uri().raw, "sip:bob@b.example");
    EXPECT_EQ(ack.header(sw::sip::HeaderId::Route), "<sip:p1.example;lr>");
    EXPECT_EQ(r.running.at(Timer::D), Duration(32000));
    // A retransmitted 486 is answered with the same ACK and not passed up again.
    t.on_event(response(busy));
    EXPECT_EQ(r.sent.size(), 3u);
    EXPECT_EQ(r.sent[2], r.sent[1]);
    EXPECT_EQ(r.passed.size(), 1u);
    t.on_event(fire(Timer::D));
    EXPECT_EQ(t.state(), State::Terminated);
}

TEST(ClientInvite, FinalErrorOnReliableTerminatesAtOnce) {
    Recorder r;
    Transaction t(Kind::ClientInvite, kInvite, true, timers(), r);
    t.on_event(start());
    t.on_event(response(response_to(kInvite, 404)));
    EXPECT_EQ(t.state(), State::Terminated);
    EXPECT_EQ(r.sent.size(), 2u);  // INVITE and ACK
}

TEST(ClientInvite, SuccessGoesToAcceptedAndPassesRetransmissions) {
    Recorder r;
    Transaction t(Kind::ClientInvite, kInvite, false, timers(), r);
    t.on_event(start());
    t.on_event(response(response_to(kInvite, 180)));
    auto ok = response_to(kInvite, 200);
    t.on_event(response(ok));
    EXPECT_EQ(t.state(), State::Accepted);
    EXPECT_EQ(r.running.at(Timer::M), Duration(32000));
    EXPECT_EQ(r.sent.size(), 1u);  // no ACK from the transaction for a 2xx
    t.on_event(response(ok));
    EXPECT_EQ(r.passed, (std::vector<int>{180, 200, 200}));
    t.on_event(response(response_to(kInvite, 486)));  // nonsense after a 2xx: ignored
    EXPECT_EQ(r.passed.size(), 3u);
    t.on_event(fire(Timer::M));
    EXPECT_EQ(t.state(), State::Terminated);
}

TEST(ClientInvite, TransportErrorEndsTheTransaction) {
    Recorder r;
    Transaction t(Kind::ClientInvite, kInvite, false, timers(), r);
    t.on_event(start());
    t.on_event(transport_error());
    EXPECT_EQ(r.transport_errors, 1);
    EXPECT_EQ(t.state(), State::Terminated);
    t.on_event(fire(Timer::A));  // nothing happens after termination
    EXPECT_EQ(r.sent.size(), 1u);
    EXPECT_EQ(r.terminations, 1);
}

// ---------------- client non-INVITE ----------------

TEST(ClientNonInvite, TimerECapsAtT2AndTimerFTimesOut) {
    Recorder r;
    Transaction t(Kind::ClientNonInvite, kOptions, false, timers(), r);
    t.on_event(start());
    EXPECT_EQ(t.state(), State::Trying);
    std::vector<Duration> intervals;
    for (int i = 0; i < 5; ++i) {
        t.on_event(fire(Timer::E));
        intervals.push_back(r.running.at(Timer::E));
    }
    EXPECT_EQ(intervals, (std::vector<Duration>{Duration(1000), Duration(2000), Duration(4000),
                                                Duration(4000), Duration(4000)}));
    EXPECT_EQ(r.sent.size(), 6u);
    t.on_event(fire(Timer::F));
    EXPECT_EQ(r.timeouts, 1);
    EXPECT_EQ(t.state(), State::Terminated);
}

TEST(ClientNonInvite, ProceedingRetransmitsEveryT2) {
    Recorder r;
    Transaction t(Kind::ClientNonInvite, kOptions, false, timers(), r);
    t.on_event(start());
    t.on_event(response(response_to(kOptions, 100)));
    EXPECT_EQ(t.state(), State::Proceeding);
    t.on_event(fire(Timer::E));
    EXPECT_EQ(r.running.at(Timer::E), Duration(4000));
    EXPECT_EQ(r.passed, std::vector<int>{100});
}

TEST(ClientNonInvite, FinalCompletesThenTimerK) {
    Recorder r;
    Transaction t(Kind::ClientNonInvite, kOptions, false, timers(), r);
    t.on_event(start());
    auto ok = response_to(kOptions, 200);
    t.on_event(response(ok));
    EXPECT_EQ(t.state(), State::Completed);
    EXPECT_FALSE(r.running.count(Timer::E));
    EXPECT_FALSE(r.running.count(Timer::F));
    EXPECT_EQ(r.running.at(Timer::K), Duration(5000));
    t.on_event(response(ok));  // absorbed
    EXPECT_EQ(r.passed.size(), 1u);
    t.on_event(fire(Timer::K));
    EXPECT_EQ(t.state(), State::Terminated);
}

TEST(ClientNonInvite, ReliableFinalTerminatesAtOnce) {
    Recorder r;
    Transaction t(Kind::ClientNonInvite, kOptions, true, timers(), r);
    t.on_event(start());
    EXPECT_FALSE(r.running.count(Timer::E));
    t.on_event(response(response_to(kOptions, 404)));
    EXPECT_EQ(t.state(), State::Terminated);
}

// ---------------- server INVITE ----------------

TEST(ServerInvite, SendsTryingAndAbsorbsRetransmissions) {
    Recorder r;
    auto inv = msg(kInvite);
    Transaction t(Kind::ServerInvite, kInvite, false, timers(), r);
    t.on_event(start(&inv));
    EXPECT_EQ(t.state(), State::Proceeding);
    // 17.2.1: the 100 waits for Timer Trying (T1/5) in case the TU answers first.
    EXPECT_TRUE(r.sent.empty());
    EXPECT_EQ(r.running.at(Timer::Trying), Duration(100));
    t.on_event(fire(Timer::Trying));
    ASSERT_EQ(r.sent.size(), 1u);
    EXPECT_EQ(msg(r.sent[0]).status(), 100);
    EXPECT_FALSE(r.running.count(Timer::Trying));
    // RFC 3261 17.2.1: each retransmission is answered with the last provisional, no new transaction.
    t.on_event(request(inv));
    t.on_event(request(inv));
    EXPECT_EQ(r.sent.size(), 3u);
    EXPECT_EQ(r.sent[2], r.sent[0]);
    auto ringing = tu(kInvite, 180);
    t.on_event(ringing.event());
    t.on_event(request(inv));
    EXPECT_EQ(r.sent.back(), ringing.bytes);
}

TEST(ServerInvite, NoTryingWhenTheTuAnswersFirst) {
    for (int status : {180, 183, 200, 404}) {
        Recorder r;
        auto inv = msg(kInvite);
        Transaction t(Kind::ServerInvite, kInvite, false, timers(), r);
        t.on_event(start(&inv));
        auto answer = tu(kInvite, status);
        t.on_event(answer.event());
        ASSERT_EQ(r.sent, std::vector<std::string>{answer.bytes}) << status;
        EXPECT_FALSE(r.running.count(Timer::Trying)) << status;
        t.on_event(fire(Timer::Trying));  // a stale timer, should one still fire: nothing
        EXPECT_EQ(r.sent.size(), 1u) << status;
        if (status == 180) {
            t.on_event(request(inv));  // a retransmission gets the 180, not a 100
            EXPECT_EQ(r.sent.back(), answer.bytes);
        }
    }
}

TEST(ServerInvite, ARetransmissionBeforeTimerTryingGetsTheTryingAtOnce) {
    Recorder r;
    auto inv = msg(kInvite);
    TimerConfig fast = timers();
    fast.t1 = Duration(250);
    Transaction t(Kind::ServerInvite, kInvite, true, fast, r);
    t.on_event(start(&inv));
    EXPECT_EQ(r.running.at(Timer::Trying), Duration(50));
    t.on_event(request(inv));
    ASSERT_EQ(r.sent.size(), 1u);
    EXPECT_EQ(msg(r.sent[0]).status(), 100);
    EXPECT_FALSE(r.running.count(Timer::Trying));
    t.on_event(fire(Timer::Trying));
    EXPECT_EQ(r.sent.size(), 1u) << "the 100 once, not again at the timer";
    auto ringing = tu(kInvite, 180);
    t.on_event(ringing.event());
    EXPECT_EQ(r.sent.back(), ringing.bytes);
}

TEST(ServerInvite, TryingWaitsAtMost100MsAndNotForARequestWithTimestamp) {
    Recorder r;
    auto inv = msg(kInvite);
    TimerConfig slow = timers();
    slow.t1 = Duration(2000);
    Transaction t(Kind::ServerInvite, kInvite, false, slow, r);
    t.on_event(start(&inv));
    EXPECT_EQ(r.running.at(Timer::Trying), Duration(100)) << "17.2.1's 200 ms holds whatever T1 is";
    // With a Timestamp the 100 goes at once (8.2.6.1 would want the delay added to a late one).
    std::string stamped = kInvite;
    stamped.insert(stamped.find("Content-Length"), "Timestamp: 54\r\n");
    auto st = msg(stamped);
    Recorder r2;
    Transaction t2(Kind::ServerInvite, stamped, false, timers(), r2);
    t2.on_event(start(&st));
    ASSERT_EQ(r2.sent.size(), 1u);
    EXPECT_EQ(msg(r2.sent[0]).status(), 100);
    EXPECT_EQ(msg(r2.sent[0]).header(sw::sip::HeaderId::Timestamp), "54");
    EXPECT_FALSE(r2.running.count(Timer::Trying));
}

TEST(ServerInvite, ErrorResponseRetransmitsOnTimerGUntilAck) {
    Recorder r;
    auto inv = msg(kInvite);
    Transaction t(Kind::ServerInvite, kInvite, false, timers(), r);
    t.on_event(start(&inv));
    auto busy = tu(kInvite, 486);
    t.on_event(busy.event());
    EXPECT_EQ(t.state(), State::Completed);
    EXPECT_EQ(r.running.at(Timer::G), Duration(500));
    EXPECT_EQ(r.running.at(Timer::H), Duration(32000));
    t.on_event(fire(Timer::G));
    EXPECT_EQ(r.running.at(Timer::G), Duration(1000));
    t.on_event(fire(Timer::G));
    t.on_event(fire(Timer::G));
    t.on_event(fire(Timer::G));
    EXPECT_EQ(r.running.at(Timer::G), Duration(4000));  // capped at T2
    EXPECT_EQ(r.sent.back(), busy.bytes);
    t.on_event(request(inv));  // INVITE retransmission: the final response again
    EXPECT_EQ(r.sent.back(), busy.bytes);
    auto ack = msg(build_ack_for_non_2xx(inv, busy.m));
    t.on_event(request(ack));
    EXPECT_EQ(t.state(), State::Confirmed);
    EXPECT_FALSE(r.running.count(Timer::G));
    EXPECT_EQ(r.running.at(Timer::I), Duration(5000));
    const auto sent = r.sent.size();
    t.on_event(request(ack));  // absorbed
    t.on_event(request(inv));  // absorbed
    EXPECT_EQ(r.sent.size(), sent);
    t.on_event(fire(Timer::I));
    EXPECT_EQ(t.state(), State::Terminated);
}

TEST(ServerInvite, TimerHWithoutAckTimesOut) {
    Recorder r;
    auto inv = msg(kInvite);
    Transaction t(Kind::ServerInvite, kInvite, false, timers(), r);
    t.on_event(start(&inv));
    t.on_event(tu(kInvite, 603).event());
    t.on_event(fire(Timer::H));
    EXPECT_EQ(r.timeouts, 1);
    EXPECT_EQ(t.state(), State::Terminated);
}

TEST(ServerInvite, ReliableErrorHasNoTimerGAndAckTerminates) {
    Recorder r;
    auto inv = msg(kInvite);
    Transaction t(Kind::ServerInvite, kInvite, true, timers(), r);
    t.on_event(start(&inv));
    auto busy = tu(kInvite, 486);
    t.on_event(busy.event());
    EXPECT_FALSE(r.running.count(Timer::G));
    EXPECT_TRUE(r.running.count(Timer::H));
    t.on_event(request(msg(build_ack_for_non_2xx(inv, busy.m))));
    EXPECT_EQ(t.state(), State::Terminated);
}

TEST(ServerInvite, SuccessIsAcceptedAbsorbsInvitesPassesAcks) {
    Recorder r;
    auto inv = msg(kInvite);
    Transaction t(Kind::ServerInvite, kInvite, false, timers(), r);
    t.on_event(start(&inv));
    auto ok = tu(kInvite, 200);
    t.on_event(ok.event());
    EXPECT_EQ(t.state(), State::Accepted);
    EXPECT_EQ(r.running.at(Timer::L), Duration(32000));
    const auto sent = r.sent.size();
    t.on_event(request(inv));  // RFC 6026: absorbed, the TU retransmits 2xx itself
    EXPECT_EQ(r.sent.size(), sent);
    t.on_event(ok.event());  // the TU's 2xx retransmission goes out
    EXPECT_EQ(r.sent.size(), sent + 1);
    auto ack =
        msg("ACK sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP a.example:5060;branch=z9hG4bKack2\r\n"
            "From: <sip:alice@a.example>;tag=f1\r\nTo: <sip:bob@b.example>;tag=srv\r\nCall-ID: c1\r\n"
            "CSeq: 7 ACK\r\nContent-Length: 0\r\n\r\n");
    t.on_event(request(ack));
    EXPECT_EQ(r.acks_passed, 1);
    t.on_event(fire(Timer::L));
    EXPECT_EQ(t.state(), State::Terminated);
}

// ---------------- server non-INVITE ----------------

TEST(ServerNonInvite, TryingAbsorbsThenResendsLastResponse) {
    Recorder r;
    auto opt = msg(kOptions);
    Transaction t(Kind::ServerNonInvite, kOptions, false, timers(), r);
    t.on_event(start(&opt));
    EXPECT_EQ(t.state(), State::Trying);
    t.on_event(request(opt));
    EXPECT_TRUE(r.sent.empty());  // nothing to resend while Trying
    auto trying = tu(kOptions, 100);
    t.on_event(trying.event());
    EXPECT_EQ(t.state(), State::Proceeding);
    t.on_event(request(opt));
    EXPECT_EQ(r.sent.back(), trying.bytes);
    auto ok = tu(kOptions, 200);
    t.on_event(ok.event());
    EXPECT_EQ(t.state(), State::Completed);
    EXPECT_EQ(r.running.at(Timer::J), Duration(32000));
    t.on_event(request(opt));
    EXPECT_EQ(r.sent.back(), ok.bytes);
    const auto sent = r.sent.size();
    t.on_event(tu(kOptions, 500).event());  // a second final response is ignored
    EXPECT_EQ(r.sent.size(), sent);
    t.on_event(fire(Timer::J));
    EXPECT_EQ(t.state(), State::Terminated);
}

TEST(ServerNonInvite, ReliableFinalTerminatesAtOnce) {
    Recorder r;
    Transaction t(Kind::ServerNonInvite, kOptions, true, timers(), r);
    t.on_event(tu(kOptions, 200).event());
    EXPECT_EQ(t.state(), State::Terminated);
    EXPECT_EQ(r.sent.size(), 1u);
}

TEST(Timers, ConfigurableT1ScalesTimeouts) {
    Recorder r;
    TimerConfig fast;
    fast.t1 = Duration(100);
    Transaction t(Kind::ClientNonInvite, kOptions, false, fast, r);
    t.on_event(start());
    EXPECT_EQ(r.running.at(Timer::E), Duration(100));
    EXPECT_EQ(r.running.at(Timer::F), Duration(6400));
    EXPECT_EQ(timer_name(Timer::M), "M");
    EXPECT_EQ(timer_name(Timer::Trying), "Trying");
    EXPECT_EQ(state_name(State::Accepted), "Accepted");
}

// ---------------- matching ----------------

TEST(Matching, AckAndRetransmissionFindTheInviteCancelTargetsIt) {
    auto inv = msg(kInvite);
    auto again = msg(kInvite);
    EXPECT_EQ(server_key(inv), server_key(again));
    auto ack = msg(build_ack_for_non_2xx(inv, response_to(kInvite, 486)));
    EXPECT_EQ(server_key(ack), server_key(inv));
    auto cancel = msg(
        "CANCEL sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP a.example:5060;branch=z9hG4bKinv1\r\n"
        "From: <sip:alice@a.example>;tag=f1\r\nTo: <sip:bob@b.example>\r\nCall-ID: c1\r\nCSeq: 7 CANCEL\r\n"
        "Content-Length: 0\r\n\r\n");
    EXPECT_NE(server_key(cancel), server_key(inv));  // CANCEL is its own transaction
    EXPECT_EQ(cancel_target_key(cancel), server_key(inv));
    auto other_host = msg(std::string(kInvite).replace(kInvite.find("a.example:5060"), 14, "c.example:5060"));
    EXPECT_NE(server_key(other_host), server_key(inv));  // same branch, other sent-by
}

TEST(Matching, Rfc2543Fallback) {
    const std::string old =
        "INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP a.example\r\nFrom: "
        "<sip:alice@a.example>;tag=f1\r\n"
        "To: <sip:bob@b.example>\r\nCall-ID: c9\r\nCSeq: 3 INVITE\r\nContent-Length: 0\r\n\r\n";
    auto inv = msg(old);
    auto ack = msg(build_ack_for_non_2xx(inv, response_to(old, 404)));
    EXPECT_EQ(server_key(ack), server_key(inv));
    auto later = msg(std::string(old).replace(old.find("CSeq: 3"), 7, "CSeq: 4"));
    EXPECT_NE(server_key(later), server_key(inv));
}

TEST(Matching, ClientKeyAndMergedRequests) {
    auto resp = response_to(kOptions, 200);
    EXPECT_EQ(client_key(resp), "c|z9hG4bKopt1|OPTIONS");
    auto a = msg(kOptions);
    auto forked = msg(std::string(kOptions).replace(kOptions.find("z9hG4bKopt1"), 11, "z9hG4bKopt2"));
    EXPECT_NE(server_key(a), server_key(forked));
    EXPECT_EQ(merge_key(a), merge_key(forked));  // same request arriving twice by two paths: 482
    auto in_dialog = msg(std::string(kOptions).replace(kOptions.find("<sip:bob@b.example>\r\n"), 21,
                                                       "<sip:bob@b.example>;tag=x\r\n"));
    EXPECT_FALSE(merge_key(in_dialog).has_value());
}
