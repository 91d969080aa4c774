// The response context of the stateful proxy (RFC 3261 16.7): what goes upstream at once, when the
// other branches are cancelled, which final response wins, and how a serial fork moves on.
#include "proxy/response_selection.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <vector>

using sw::proxy::ResponseContext;
using sw::proxy::upstream_status;
using State = ResponseContext::BranchState;
using Indices = std::vector<std::size_t>;

namespace {

// A context with n branches, the initial ones already started.
ResponseContext started(bool invite, bool serial, std::size_t n) {
    ResponseContext ctx(invite, serial);
    for (std::size_t i = 0; i < n; ++i)
        EXPECT_EQ(ctx.add_branch(), i);
    (void)ctx.initial_branches();
    return ctx;
}

}  // namespace

TEST(ResponseContextTest, ParallelForkStartsEveryBranchOnce) {
    ResponseContext ctx(true, false);
    EXPECT_EQ(ctx.add_branch(), 0u);
    EXPECT_EQ(ctx.add_branch(), 1u);
    EXPECT_EQ(ctx.add_branch(), 2u);
    EXPECT_EQ(ctx.size(), 3u);
    EXPECT_EQ(ctx.state(0), State::Waiting);
    EXPECT_TRUE(ctx.pending());
    EXPECT_EQ(ctx.initial_branches(), (Indices{0, 1, 2}));
    for (std::size_t i = 0; i < 3; ++i)
        EXPECT_EQ(ctx.state(i), State::Trying) << i;
    EXPECT_TRUE(ctx.initial_branches().empty());  // already started
    EXPECT_FALSE(ctx.best());                     // nothing final yet
}

TEST(ResponseContextTest, ProvisionalOtherThan100IsForwarded) {
    ResponseContext ctx = started(true, false, 2);
    // RFC 3261 16.7 step 5: 100 Trying is hop by hop.
    auto v = ctx.on_response(0, 100);
    EXPECT_FALSE(v.forward_now);
    EXPECT_FALSE(v.cancel_others);
    EXPECT_FALSE(v.final_ready);
    EXPECT_FALSE(v.start_branch);
    EXPECT_EQ(ctx.state(0), State::Proceeding);
    EXPECT_EQ(ctx.status(0), 100);

    v = ctx.on_response(0, 180);
    EXPECT_TRUE(v.forward_now);
    EXPECT_FALSE(v.cancel_others);
    EXPECT_FALSE(v.final_ready);
    EXPECT_EQ(ctx.status(0), 180);

    v = ctx.on_response(1, 183);
    EXPECT_TRUE(v.forward_now);
    EXPECT_EQ(ctx.state(1), State::Proceeding);
    EXPECT_FALSE(ctx.best());  // provisionals are never the best final response
}

TEST(ResponseContextTest, InviteTwoHundredIsForwardedAtOnceAndCancelsTheOthers) {
    ResponseContext ctx = started(true, false, 3);
    EXPECT_TRUE(ctx.on_response(1, 180).forward_now);

    auto v = ctx.on_response(0, 200);
    EXPECT_TRUE(v.forward_now);
    EXPECT_TRUE(v.cancel_others);
    EXPECT_FALSE(v.final_ready);  // the 2xx itself went up; nothing stored to send
    EXPECT_FALSE(v.start_branch);
    EXPECT_TRUE(ctx.final_sent());
    EXPECT_EQ(ctx.state(0), State::Done);

    // After a final response went up, provisionals of the other branches stay here.
    v = ctx.on_response(1, 183);
    EXPECT_FALSE(v.forward_now);
    // The cancelled branch ends with 487: neither forwarded nor a reason to send a final response.
    v = ctx.on_response(1, 487);
    EXPECT_FALSE(v.forward_now);
    EXPECT_FALSE(v.final_ready);
    EXPECT_FALSE(v.cancel_others);

    // RFC 3261 16.7 step 5: a later 2xx on another branch still goes up (the caller ACKs and BYEs it).
    v = ctx.on_response(2, 200);
    EXPECT_TRUE(v.forward_now);
    EXPECT_FALSE(v.final_ready);
    // And so does a retransmitted 2xx on the branch that already ended.
    v = ctx.on_response(0, 200);
    EXPECT_TRUE(v.forward_now);
    EXPECT_FALSE(v.final_ready);
    EXPECT_FALSE(ctx.pending());
}

TEST(ResponseContextTest, SixHundredCancelsTheOthersAndWinsBest) {
    ResponseContext ctx = started(true, false, 3);
    auto v = ctx.on_response(0, 486);
    EXPECT_FALSE(v.forward_now);
    EXPECT_FALSE(v.cancel_others);
    EXPECT_FALSE(v.final_ready);

    v = ctx.on_response(1, 603);
    EXPECT_FALSE(v.forward_now);  // stored: the best is chosen once every branch has ended
    EXPECT_TRUE(v.cancel_others);
    EXPECT_FALSE(v.final_ready);  // branch 2 is still trying
    EXPECT_FALSE(ctx.final_sent());

    v = ctx.on_response(2, 487);
    EXPECT_FALSE(v.forward_now);
    EXPECT_TRUE(v.final_ready);
    // RFC 3261 16.7 step 6: a 6xx beats every other class, the 486 that came first included.
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(1));
    EXPECT_EQ(upstream_status(ctx.status(*ctx.best())), 603);
}

TEST(ResponseContextTest, SixHundredBeatsLowerClassesThatArrivedLater) {
    ResponseContext ctx = started(true, false, 3);
    EXPECT_TRUE(ctx.on_response(2, 600).cancel_others);
    (void)ctx.on_response(0, 302);
    EXPECT_TRUE(ctx.on_response(1, 404).final_ready);
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(2));
}

TEST(ResponseContextTest, BestPicksTheLowestClass) {
    ResponseContext ctx = started(true, false, 4);
    (void)ctx.on_response(0, 503);
    (void)ctx.on_response(1, 486);
    (void)ctx.on_response(2, 302);
    EXPECT_TRUE(ctx.on_response(3, 404).final_ready);
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(2));  // 3xx before 4xx before 5xx
}

TEST(ResponseContextTest, TimeoutLosesWithinItsClass) {
    ResponseContext ctx = started(true, false, 2);
    (void)ctx.on_failure(0, 408);  // Timer B
    EXPECT_TRUE(ctx.on_response(1, 480).final_ready);
    // The 408 came first, but a real answer of the same class beats a timeout.
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(1));
}

TEST(ResponseContextTest, TimeoutStillBeatsAHigherClass) {
    ResponseContext ctx = started(true, false, 2);
    (void)ctx.on_response(0, 503);
    EXPECT_TRUE(ctx.on_failure(1, 408).final_ready);
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(1));  // 4xx before 5xx, timeout or not
}

TEST(ResponseContextTest, TiesGoToTheFirstArrivalNotTheLowestIndex) {
    ResponseContext ctx = started(true, false, 3);
    (void)ctx.on_response(2, 404);  // first
    (void)ctx.on_response(0, 486);
    EXPECT_TRUE(ctx.on_response(1, 480).final_ready);
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(2));
}

TEST(ResponseContextTest, FinalReadyOnlyWhenNoBranchIsPending) {
    ResponseContext ctx = started(true, false, 3);
    EXPECT_FALSE(ctx.on_response(0, 404).final_ready);
    EXPECT_TRUE(ctx.pending());
    EXPECT_FALSE(ctx.on_response(1, 404).final_ready);
    EXPECT_TRUE(ctx.on_response(2, 180).forward_now);
    EXPECT_TRUE(ctx.pending());  // a proceeding branch is pending too
    auto v = ctx.on_response(2, 486);
    EXPECT_TRUE(v.final_ready);
    EXPECT_FALSE(v.forward_now);
    EXPECT_FALSE(ctx.pending());
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(0));
}

TEST(ResponseContextTest, NoFinalReadyOnceTheFinalResponseWasSent) {
    ResponseContext ctx = started(true, false, 2);
    EXPECT_FALSE(ctx.on_response(0, 404).final_ready);
    ctx.mark_final_sent();  // e.g. Timer C: the proxy answered upstream itself
    EXPECT_TRUE(ctx.final_sent());
    auto v = ctx.on_response(1, 486);
    EXPECT_FALSE(v.final_ready);
    EXPECT_FALSE(v.forward_now);
    EXPECT_FALSE(ctx.on_response(1, 180).forward_now);
}

TEST(ResponseContextTest, SerialForkStartsTheNextBranchAfterAFailure) {
    ResponseContext ctx(true, true);
    for (int i = 0; i < 3; ++i)
        (void)ctx.add_branch();
    EXPECT_EQ(ctx.initial_branches(), Indices{0});
    EXPECT_EQ(ctx.state(1), State::Waiting);
    EXPECT_EQ(ctx.state(2), State::Waiting);

    EXPECT_TRUE(ctx.on_response(0, 180).forward_now);
    auto v = ctx.on_response(0, 486);
    EXPECT_EQ(v.start_branch, std::optional<std::size_t>(1));
    EXPECT_FALSE(v.final_ready);
    EXPECT_FALSE(v.forward_now);
    EXPECT_EQ(ctx.state(1), State::Trying);
    EXPECT_EQ(ctx.state(2), State::Waiting);

    v = ctx.on_failure(1, 503);  // a 5xx moves on too
    EXPECT_EQ(v.start_branch, std::optional<std::size_t>(2));
    EXPECT_FALSE(v.final_ready);

    v = ctx.on_response(2, 404);
    EXPECT_FALSE(v.start_branch);  // none left
    EXPECT_TRUE(v.final_ready);
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(0));  // the first 4xx
}

TEST(ResponseContextTest, SerialForkStopsAfterATwoHundred) {
    ResponseContext ctx(true, true);
    for (int i = 0; i < 3; ++i)
        (void)ctx.add_branch();
    EXPECT_EQ(ctx.initial_branches(), Indices{0});
    auto v = ctx.on_response(0, 200);
    EXPECT_TRUE(v.forward_now);
    EXPECT_FALSE(v.start_branch);
    EXPECT_EQ(ctx.state(1), State::Done);  // never to be started
    EXPECT_EQ(ctx.state(2), State::Done);
    EXPECT_FALSE(ctx.pending());
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(0));
}

TEST(ResponseContextTest, SerialForkStopsAfterASixHundred) {
    ResponseContext ctx(true, true);
    for (int i = 0; i < 3; ++i)
        (void)ctx.add_branch();
    EXPECT_EQ(ctx.initial_branches(), Indices{0});
    auto v = ctx.on_response(0, 603);
    EXPECT_FALSE(v.start_branch);
    EXPECT_TRUE(v.final_ready);  // nothing else is pending: the 603 goes up now
    EXPECT_EQ(ctx.state(1), State::Done);
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(0));
}

// RFC 3261 16.7 step 5: once a 6xx has been received no new branch is created, for any method.
TEST(ResponseContextTest, SerialForkOfANonInviteStopsAfterASixHundred) {
    ResponseContext ctx(false, true);
    for (int i = 0; i < 2; ++i)
        (void)ctx.add_branch();
    EXPECT_EQ(ctx.initial_branches(), Indices{0});
    auto v = ctx.on_response(0, 603);
    EXPECT_FALSE(v.cancel_others);  // nothing to cancel for a non-INVITE
    EXPECT_FALSE(v.start_branch);
    EXPECT_NE(ctx.state(1), State::Trying);
    EXPECT_TRUE(v.final_ready);
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(0));
}

TEST(ResponseContextTest, StopWaitingEndsBranchesNotYetStarted) {
    ResponseContext ctx(true, true);
    for (int i = 0; i < 3; ++i)
        (void)ctx.add_branch();
    EXPECT_EQ(ctx.initial_branches(), Indices{0});
    ctx.stop_waiting();                      // a CANCEL from upstream, or Timer C
    EXPECT_EQ(ctx.state(0), State::Trying);  // the running branch is cancelled, not ended
    EXPECT_EQ(ctx.state(1), State::Done);
    EXPECT_EQ(ctx.state(2), State::Done);
    EXPECT_TRUE(ctx.pending());
    EXPECT_FALSE(ctx.best());  // a branch never tried is no candidate

    auto v = ctx.on_response(0, 487);
    EXPECT_FALSE(v.start_branch);  // stopped: the serial fork does not go on
    EXPECT_TRUE(v.final_ready);
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(0));
}

TEST(ResponseContextTest, StopWaitingInAParallelForkKeepsRunningBranches) {
    ResponseContext ctx = started(true, false, 2);
    ctx.stop_waiting();
    EXPECT_EQ(ctx.state(0), State::Trying);
    EXPECT_EQ(ctx.state(1), State::Trying);
    EXPECT_FALSE(ctx.on_response(0, 487).final_ready);
    EXPECT_TRUE(ctx.on_response(1, 487).final_ready);
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(0));
}

TEST(ResponseContextTest, NonInviteSecondTwoHundredIsNotForwarded) {
    ResponseContext ctx = started(false, false, 2);
    auto v = ctx.on_response(0, 200);
    EXPECT_TRUE(v.forward_now);
    EXPECT_FALSE(v.cancel_others);  // RFC 3261 16.7 step 10: only INVITE branches are cancelled
    EXPECT_TRUE(ctx.final_sent());
    EXPECT_EQ(ctx.state(1), State::Trying);

    v = ctx.on_response(1, 202);
    EXPECT_FALSE(v.forward_now);
    EXPECT_FALSE(v.final_ready);
    // Retransmission of the first 2xx: not for INVITE, so nothing goes up again.
    EXPECT_FALSE(ctx.on_response(0, 200).forward_now);
}

TEST(ResponseContextTest, NonInviteSixHundredCancelsNothing) {
    ResponseContext ctx = started(false, false, 2);
    auto v = ctx.on_response(0, 603);
    EXPECT_FALSE(v.cancel_others);
    EXPECT_FALSE(v.forward_now);
    EXPECT_FALSE(v.final_ready);
    EXPECT_TRUE(ctx.on_response(1, 404).final_ready);
    EXPECT_EQ(ctx.best(), std::optional<std::size_t>(0));
}

TEST(ResponseContextTest, UnknownBranchIsIgnored) {
    ResponseContext ctx = started(true, false, 1);
    auto v = ctx.on_response(7, 200);
    EXPECT_FALSE(v.forward_now);
    EXPECT_FALSE(v.cancel_others);
    EXPECT_FALSE(v.final_ready);
    EXPECT_FALSE(ctx.final_sent());
    EXPECT_EQ(ctx.state(0), State::Trying);
}

TEST(ResponseContextTest, UpstreamStatusTurns503Into500) {
    EXPECT_EQ(upstream_status(503), 500);
    EXPECT_EQ(upstream_status(500), 500);
    EXPECT_EQ(upstream_status(502), 502);
    EXPECT_EQ(upstream_status(486), 486);
    EXPECT_EQ(upstream_status(603), 603);
}
