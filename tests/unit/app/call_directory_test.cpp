#include "app/call_directory.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace {

using sw::app::CallDirectory;

TEST(CallDirectory, TheFirstWorkerToRouteACallIdOwnsItForLaterMessages) {
    CallDirectory d(sw::SipKey{1, 2});
    const auto k = d.key("call-1@host");
    EXPECT_EQ(d.route(k, 1), 1u);  // a new request on worker 1
    EXPECT_EQ(d.route(k, 0), 1u);  // its response, received by worker 0, goes to 1
    EXPECT_EQ(d.route(k, 3), 1u);
    EXPECT_EQ(d.route(d.key("call-2@host"), 0), 0u);
    EXPECT_EQ(d.size(), 2u);
    EXPECT_NE(d.key("call-1@host"), d.key("call-2@host"));
    EXPECT_NE(CallDirectory(sw::SipKey{3, 4}).key("call-1@host"), k);  // keyed: not predictable by a peer
}

TEST(CallDirectory, ALeaseLastsWhileMessagesComeAndEndsAfterTheyStop) {
    CallDirectory d(sw::SipKey{1, 2});
    const auto k = d.key("c");
    d.route(k, 1);
    for (int i = 0; i < 5; ++i) {
        d.advance_for_test(CallDirectory::kLease - 1);
        EXPECT_EQ(d.route(k, 0), 1u) << i;  // each message renews it
    }
    d.advance_for_test(CallDirectory::kLease + 1);
    EXPECT_EQ(d.sweep(), 0u);
    EXPECT_EQ(d.route(k, 0), 0u);  // gone: the next message's worker takes it
}

TEST(CallDirectory, AnExpiredLeaseNotYetSweptIsTakenOverToo) {
    CallDirectory d(sw::SipKey{1, 2});
    const auto k = d.key("c");
    d.route(k, 1);
    d.advance_for_test(CallDirectory::kLease + 1);
    EXPECT_EQ(d.route(k, 0), 0u);
    EXPECT_EQ(d.route(k, 1), 0u);
}

TEST(CallDirectory, HoldKeepsACallPastTheLeaseAndReleaseEndsItAfterOneLease) {
    CallDirectory d(sw::SipKey{1, 2});
    const auto answered = d.key("answered");
    const auto b2bua = d.key("b2bua");
    d.route(answered, 1);
    d.hold(answered, 1, 3600);                  // an answered call, until its BYE
    d.hold(b2bua, 1, CallDirectory::kForever);  // nobody routed it yet: held all the same
    d.advance_for_test(1800);
    EXPECT_EQ(d.sweep(), 2u);
    EXPECT_EQ(d.route(answered, 0), 1u);
    EXPECT_EQ(d.route(b2bua, 0), 1u);
    d.hold(answered, 1, 10);  // a shorter hold never shortens a longer one
    d.advance_for_test(1000);
    EXPECT_EQ(d.route(answered, 0), 1u);
    d.release(answered);  // the BYE: its own transaction still needs the lease, no longer
    d.release(b2bua);
    d.advance_for_test(CallDirectory::kLease - 1);
    EXPECT_EQ(d.route(b2bua, 0), 1u);
    d.advance_for_test(CallDirectory::kLease + 1);
    EXPECT_EQ(d.route(answered, 0), 0u);
    EXPECT_EQ(d.route(b2bua, 2), 2u);
}

TEST(CallDirectory, HoldByAnotherWorkerMovesTheCall) {
    // Only the worker a Call-ID is routed to holds it; if the table had lost it meanwhile (full), the
    // worker that now keeps the state is where it goes.
    CallDirectory d(sw::SipKey{1, 2});
    const auto k = d.key("c");
    d.route(k, 0);
    d.hold(k, 1, 100);
    EXPECT_EQ(d.route(k, 0), 1u);
}

TEST(CallDirectory, BeyondItsCapacityNewCallIdsAreNotEnteredButStillRouted) {
    CallDirectory d(sw::SipKey{1, 2}, CallDirectory::kStripes * 4);  // 4 per stripe
    for (int i = 0; i < 10'000; ++i)
        EXPECT_EQ(d.route(d.key("flood-" + std::to_string(i)), 1), 1u);
    EXPECT_LE(d.size(), CallDirectory::kStripes * 4);
    EXPECT_GE(d.size(), CallDirectory::kStripes * 3);
    // Those not entered go to whoever asks.
    int moved = 0;
    for (int i = 0; i < 10'000; ++i)
        moved += d.route(d.key("flood-" + std::to_string(i)), 0) == 0 ? 1 : 0;
    EXPECT_EQ(moved, 10'000 - static_cast<int>(d.size()));
}

TEST(CallDirectory, WorkersRacingForOneCallIdAllSeeTheSameOwner) {
    CallDirectory d(sw::SipKey{1, 2});
    constexpr int kCalls = 20'000;
    std::vector<std::vector<std::size_t>> seen(4, std::vector<std::size_t>(kCalls));
    std::vector<std::thread> threads;
    for (std::size_t w = 0; w < 4; ++w) {
        threads.emplace_back([&, w] {
            for (int i = 0; i < kCalls; ++i)
                seen[w][i] = d.route(d.key("race-" + std::to_string(i)), w);
        });
    }
    for (auto& t : threads)
        t.join();
    for (int i = 0; i < kCalls; ++i) {
        for (std::size_t w = 1; w < 4; ++w)
            ASSERT_EQ(seen[w][i], seen[0][i]) << i;
    }
    EXPECT_EQ(d.size(), static_cast<std::size_t>(kCalls));
}

}  // namespace
