// TollGuard: per-user limits on external calls (concurrent, per minute, per hour, international minutes per
// day) and the detector of unusual calling (burst, new countries, off hours) with its suspensions.
#include "security/toll_guard.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace sw::security {
namespace {

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kT0 = 1'700'000'000'000;  // some Unix ms

CallLimits no_limits() {
    return CallLimits{0, 0, 0, 0};
}

DetectorConfig no_detector() {
    DetectorConfig d;
    d.enabled = false;
    return d;
}

DetectorConfig watch_only() {
    DetectorConfig d;
    d.suspend_on_alert = false;
    return d;
}

ExternalCall local(std::string user, std::int64_t time_ms, std::int64_t day = 0) {
    ExternalCall c;
    c.user = std::move(user);
    c.time_ms = time_ms;
    c.day = day;
    return c;
}

ExternalCall abroad(std::string user, std::string country, std::int64_t time_ms, std::int64_t day = 0) {
    ExternalCall c = local(std::move(user), time_ms, day);
    c.country = std::move(country);
    c.international = true;
    return c;
}

ExternalCall at_night(std::string user, std::int64_t time_ms) {
    ExternalCall c = local(std::move(user), time_ms);
    c.off_hours = true;
    return c;
}

// `n` calls of `user`, one a second from `from`; the admission of the last.
Admission call_times(TollGuard& g, const std::string& user, int n, std::int64_t from) {
    Admission last;
    for (int i = 0; i < n; ++i)
        last = g.admit(local(user, from + i * kSecond));
    return last;
}

// ---- limits ----

TEST(TollGuardLimits, ConcurrentCallsRefusedAtTheLimitUntilOneEnds) {
    TollGuard g(CallLimits{2, 0, 0, 0}, no_detector());
    const auto a = g.admit(local("201", kT0));
    const auto b = g.admit(local("201", kT0 + 1));
    ASSERT_TRUE(a.allowed);
    ASSERT_TRUE(b.allowed);
    EXPECT_EQ(a.verdict, "allowed");
    const auto third = g.admit(local("201", kT0 + 2));
    EXPECT_FALSE(third.allowed);
    EXPECT_EQ(third.verdict, "refused: limit concurrent");
    EXPECT_EQ(third.reason, "limit: 2 concurrent external calls");
    EXPECT_EQ(third.ticket, 0u);
    // Another user has their own count.
    EXPECT_TRUE(g.admit(local("202", kT0 + 3)).allowed);
    EXPECT_EQ(g.active_calls(), 3u);
    g.ended(a.ticket, kT0 + 10);
    EXPECT_EQ(g.active_calls(), 2u);
    EXPECT_TRUE(g.admit(local("201", kT0 + 11)).allowed);
    EXPECT_FALSE(g.admit(local("201", kT0 + 12)).allowed);
}

TEST(TollGuardLimits, PerMinuteIsASlidingWindowOfSixtySeconds) {
    TollGuard g(CallLimits{0, 3, 0, 0}, no_detector());
    EXPECT_TRUE(g.admit(local("201", kT0)).allowed);
    EXPECT_TRUE(g.admit(local("201", kT0 + 20 * kSecond)).allowed);
    EXPECT_TRUE(g.admit(local("201", kT0 + 40 * kSecond)).allowed);
    const auto fourth = g.admit(local("201", kT0 + 59 * kSecond));
    EXPECT_FALSE(fourth.allowed);
    EXPECT_EQ(fourth.verdict, "refused: limit per minute");
    EXPECT_EQ(fourth.reason, "limit: 3 external calls per minute");
    // 60 s after the first, it has left the window; the second has not.
    EXPECT_TRUE(g.admit(local("201", kT0 + 60 * kSecond)).allowed);
    EXPECT_FALSE(g.admit(local("201", kT0 + 61 * kSecond)).allowed);
    EXPECT_TRUE(g.admit(local("201", kT0 + 80 * kSecond)).allowed);
}

TEST(TollGuardLimits, PerHourIsASlidingWindowOfAnHour) {
    TollGuard g(CallLimits{0, 0, 5, 0}, no_detector());
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(g.admit(local("201", kT0 + i * 10 * kMinute)).allowed) << i;
    const auto sixth = g.admit(local("201", kT0 + 59 * kMinute));
    EXPECT_FALSE(sixth.allowed);
    EXPECT_EQ(sixth.verdict, "refused: limit per hour");
    EXPECT_EQ(sixth.reason, "limit: 5 external calls per hour");
    EXPECT_TRUE(g.admit(local("201", kT0 + kHour)).allowed);
    EXPECT_FALSE(g.admit(local("201", kT0 + kHour + 1)).allowed);
}

TEST(TollGuardLimits, RefusedAttemptsDoNotCountInTheWindows) {
    TollGuard g(CallLimits{0, 2, 0, 0}, no_detector());
    EXPECT_TRUE(g.admit(local("201", kT0)).allowed);
    EXPECT_TRUE(g.admit(local("201", kT0 + 30 * kSecond)).allowed);
    for (int i = 0; i < 20; ++i)
        EXPECT_FALSE(g.admit(local("201", kT0 + 31 * kSecond + i)).allowed);
    // Only the first left the window: had the refused ones counted, this would still be refused.
    EXPECT_TRUE(g.admit(local("201", kT0 + 60 * kSecond)).allowed);
}

TEST(TollGuardLimits, AUsersOwnLimitsReplaceTheDefaults) {
    TollGuard g(CallLimits{1, 0, 0, 0}, no_detector());
    g.set_user_limits({{"boss", CallLimits{3, 0, 0, 0}}});
    for (int i = 0; i < 3; ++i)
        EXPECT_TRUE(g.admit(local("boss", kT0 + i)).allowed) << i;
    EXPECT_EQ(g.admit(local("boss", kT0 + 3)).reason, "limit: 3 concurrent external calls");
    EXPECT_TRUE(g.admit(local("201", kT0)).allowed);
    EXPECT_EQ(g.admit(local("201", kT0 + 1)).reason, "limit: 1 concurrent external calls");
    // Replaced: boss is back on the defaults (already 3 calls, the default allows 1).
    g.set_user_limits({{"201", CallLimits{2, 0, 0, 0}}});
    EXPECT_EQ(g.admit(local("boss", kT0 + 4)).reason, "limit: 1 concurrent external calls");
    EXPECT_TRUE(g.admit(local("201", kT0 + 2)).allowed);
}

TEST(TollGuardLimits, ZeroOrNegativeMeansNoLimit) {
    TollGuard g(CallLimits{0, -1, 0, -5}, no_detector());
    for (int i = 0; i < 200; ++i)
        ASSERT_TRUE(g.admit(abroad("201", "44", kT0 + i)).allowed) << i;
    const auto a = g.admit(abroad("201", "44", kT0 + 300));
    EXPECT_EQ(a.max_duration_s, -1) << "no minutes limit: no maximum duration";
    EXPECT_EQ(g.active_calls(), 201u);
    // A user's own limits may lift a default one.
    TollGuard h(CallLimits{1, 10, 60, 120}, no_detector());
    h.set_user_limits({{"trunkuser", no_limits()}});
    for (int i = 0; i < 100; ++i)
        ASSERT_TRUE(h.admit(local("trunkuser", kT0 + i)).allowed) << i;
}

TEST(TollGuardLimits, TheRecentWindowHoldsAtLeastTheHourlyLimit) {
    DetectorConfig d = no_detector();
    d.max_recent = 5;  // smaller than the limit: the limit still counts every call
    TollGuard g(CallLimits{0, 0, 20, 0}, d);
    for (int i = 0; i < 20; ++i)
        ASSERT_TRUE(g.admit(local("201", kT0 + i * kMinute)).allowed) << i;
    EXPECT_EQ(g.admit(local("201", kT0 + 30 * kMinute)).verdict, "refused: limit per hour");
}

// ---- international minutes ----

TEST(TollGuardMinutes, EndedAnsweredCallsUseTheDaysBudget) {
    TollGuard g(CallLimits{0, 0, 0, 120}, no_detector());
    const auto first = g.admit(abroad("201", "44", kT0, 7));
    ASSERT_TRUE(first.allowed);
    EXPECT_EQ(first.max_duration_s, 120 * 60);
    g.answered(first.ticket, kT0 + 10 * kSecond);
    g.ended(first.ticket, kT0 + 10 * kSecond + 100 * kMinute);
    const auto second = g.admit(abroad("201", "44", kT0 + 2 * kHour, 7));
    ASSERT_TRUE(second.allowed);
    EXPECT_EQ(second.max_duration_s, 20 * 60);
    g.answered(second.ticket, kT0 + 2 * kHour);
    g.ended(second.ticket, kT0 + 2 * kHour + 20 * kMinute);
    const auto third = g.admit(abroad("201", "44", kT0 + 3 * kHour, 7));
    EXPECT_FALSE(third.allowed);
    EXPECT_EQ(third.verdict, "refused: limit international minutes");
    EXPECT_EQ(third.reason, "limit: 120 international minutes per day");
    // National calls are not counted against it, nor told a maximum.
    const auto national = g.admit(local("201", kT0 + 3 * kHour, 7));
    EXPECT_TRUE(national.allowed);
    EXPECT_EQ(national.max_duration_s, -1);
    // Another user has their own budget.
    EXPECT_EQ(g.admit(abroad("202", "44", kT0 + 3 * kHour, 7)).max_duration_s, 120 * 60);
}

TEST(TollGuardMinutes, OngoingAnsweredCallsCountTheirElapsedTime) {
    TollGuard g(CallLimits{0, 0, 0, 60}, no_detector());
    const auto a = g.admit(abroad("201", "1", kT0));
    const auto unanswered = g.admit(abroad("201", "1", kT0));
    g.answered(a.ticket, kT0 + kMinute);
    // 35 minutes of `a` so far; the unanswered one costs nothing.
    const auto b = g.admit(abroad("201", "1", kT0 + 36 * kMinute));
    ASSERT_TRUE(b.allowed);
    EXPECT_EQ(b.max_duration_s, 25 * 60);
    g.answered(b.ticket, kT0 + 36 * kMinute);
    // 55 + 20 = 75 minutes used by the two going on: over.
    EXPECT_FALSE(g.admit(abroad("201", "1", kT0 + 56 * kMinute)).allowed);
    // Unanswered calls that end add nothing; answered ones keep their time.
    g.ended(unanswered.ticket, kT0 + 56 * kMinute);
    g.ended(b.ticket, kT0 + 40 * kMinute);  // 4 minutes
    g.ended(a.ticket, kT0 + 41 * kMinute);  // 40 minutes
    EXPECT_EQ(g.admit(abroad("201", "1", kT0 + 2 * kHour)).max_duration_s, 16 * 60);
}

TEST(TollGuardMinutes, UsedSecondsAreRoundedUp) {
    TollGuard g(CallLimits{0, 0, 0, 1}, no_detector());
    const auto a = g.admit(abroad("201", "33", kT0));
    g.answered(a.ticket, kT0);
    g.ended(a.ticket, kT0 + 500);  // half a second: one second used
    EXPECT_EQ(g.admit(abroad("201", "33", kT0 + kSecond)).max_duration_s, 59);
    TollGuard h(CallLimits{0, 0, 0, 1}, no_detector());
    const auto b = h.admit(abroad("201", "33", kT0));
    h.answered(b.ticket, kT0);
    h.ended(b.ticket, kT0 + 59 * kSecond + 1);  // 59.001 s: the last second is gone too
    const auto c = h.admit(abroad("201", "33", kT0 + kMinute));
    EXPECT_FALSE(c.allowed);
    EXPECT_EQ(c.verdict, "refused: limit international minutes");
}

TEST(TollGuardMinutes, ANewDayStartsAFullBudget) {
    TollGuard g(CallLimits{0, 0, 0, 30}, no_detector());
    const auto a = g.admit(abroad("201", "44", kT0, 100));
    g.answered(a.ticket, kT0);
    g.ended(a.ticket, kT0 + 30 * kMinute);
    EXPECT_FALSE(g.admit(abroad("201", "44", kT0 + kHour, 100)).allowed);
    const auto next_day = g.admit(abroad("201", "44", kT0 + 2 * kHour, 101));
    ASSERT_TRUE(next_day.allowed);
    EXPECT_EQ(next_day.max_duration_s, 30 * 60);
}

TEST(TollGuardMinutes, ACallPastMidnightCountsTowardsTheDayItBegan) {
    TollGuard g(CallLimits{0, 0, 0, 30}, no_detector());
    const auto late = g.admit(abroad("201", "44", kT0, 100));
    g.answered(late.ticket, kT0);
    // Day 101 begins while it is going on: its 20 minutes so far are day 100's.
    EXPECT_EQ(g.admit(abroad("201", "44", kT0 + 20 * kMinute, 101)).max_duration_s, 30 * 60);
    g.ended(late.ticket, kT0 + 25 * kMinute);
    EXPECT_EQ(g.admit(abroad("201", "44", kT0 + 26 * kMinute, 101)).max_duration_s, 30 * 60);
}

// ---- tickets ----

TEST(TollGuardTickets, DistinctNonZeroAndUnknownOrRepeatedOnesAreIgnored) {
    TollGuard g(CallLimits{0, 0, 0, 60}, no_detector());
    std::vector<std::uint64_t> tickets;
    for (int i = 0; i < 50; ++i) {
        const auto a = g.admit(abroad("u" + std::to_string(i % 9), "44", kT0 + i));
        ASSERT_TRUE(a.allowed);
        EXPECT_NE(a.ticket, 0u);
        tickets.push_back(a.ticket);
    }
    std::sort(tickets.begin(), tickets.end());
    EXPECT_EQ(std::unique(tickets.begin(), tickets.end()), tickets.end());
    EXPECT_EQ(g.active_calls(), 50u);
    g.ended(0, kT0);
    g.ended(tickets.back() + 8 * 1000, kT0);
    g.answered(12345678, kT0);
    EXPECT_EQ(g.active_calls(), 50u);
    g.ended(tickets[0], kT0 + 100);
    g.ended(tickets[0], kT0 + 100);
    EXPECT_EQ(g.active_calls(), 49u);
    for (auto t : tickets)
        g.ended(t, kT0 + 200);
    EXPECT_EQ(g.active_calls(), 0u);
}

TEST(TollGuardTickets, ARepeatedAnswerKeepsTheFirstTime) {
    TollGuard g(CallLimits{0, 0, 0, 120}, no_detector());
    const auto a = g.admit(abroad("201", "44", kT0));
    g.answered(a.ticket, kT0);
    g.answered(a.ticket, kT0 + 90 * kMinute);
    g.ended(a.ticket, kT0 + 100 * kMinute);
    g.answered(a.ticket, kT0 + 100 * kMinute);  // after the end: ignored
    g.ended(a.ticket, kT0 + 110 * kMinute);     // repeated: ignored
    EXPECT_EQ(g.admit(abroad("201", "44", kT0 + 2 * kHour)).max_duration_s, 20 * 60);
}

// ---- detector: burst ----

TEST(TollGuardBurst, WithoutHistoryMoreThanBurstMinFlag) {
    TollGuard g(no_limits(), watch_only());
    const auto tenth = call_times(g, "201", 10, kT0);
    EXPECT_EQ(tenth.verdict, "allowed");
    EXPECT_TRUE(g.take_alerts().empty());
    const auto eleventh = g.admit(local("201", kT0 + 10 * kSecond));
    EXPECT_TRUE(eleventh.allowed);
    EXPECT_EQ(eleventh.verdict, "flagged: burst");
    const auto alerts = g.take_alerts();
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0].user, "201");
    EXPECT_EQ(alerts[0].kind, "burst");
    EXPECT_EQ(alerts[0].detail, "11 calls in 600 s (normal peak 0)");
    EXPECT_EQ(alerts[0].time_ms, kT0 + 10 * kSecond);
    EXPECT_FALSE(alerts[0].suspended);
    EXPECT_FALSE(g.suspended("201"));
    EXPECT_TRUE(g.take_alerts().empty()) << "taken once";
}

TEST(TollGuardBurst, CallsSpreadBeyondTheWindowDoNotFlag) {
    TollGuard g(no_limits(), watch_only());
    for (int i = 0; i < 30; ++i)
        EXPECT_EQ(g.admit(local("201", kT0 + i * 61 * kSecond)).verdict, "allowed") << i;
    EXPECT_TRUE(g.take_alerts().empty());
}

TEST(TollGuardBurst, AHistoryPeakRaisesTheThresholdByTheFactor) {
    TollGuard g(no_limits(), watch_only());
    // Peak 3 within 600 s (sliding, given unsorted): at 1000, 1500 and 1590 s; 0 and 2200 s are apart.
    const std::int64_t past = kT0 - 30 * 86400 * kSecond;
    g.learn({{"201", "", false, past + 1590 * kSecond},
             {"201", "", false, past},
             {"201", "", false, past + 2200 * kSecond},
             {"201", "", false, past + 1000 * kSecond},
             {"201", "", false, past + 1500 * kSecond},
             {"202", "", false, past}});
    // max(10, 5 x 3) = 15.
    EXPECT_EQ(call_times(g, "201", 15, kT0).verdict, "allowed");
    EXPECT_EQ(g.admit(local("201", kT0 + 15 * kSecond)).verdict, "flagged: burst");
    const auto alerts = g.take_alerts();
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0].detail, "16 calls in 600 s (normal peak 3)");
    // 202's peak of 1 leaves the minimum in force.
    EXPECT_EQ(call_times(g, "202", 11, kT0).verdict, "flagged: burst");
}

TEST(TollGuardBurst, TheWindowIsHalfOpen) {
    // Calls exactly burst_window_s apart are not in one window, in the history as in the detection.
    DetectorConfig d = watch_only();
    d.burst_window_s = 100;
    d.burst_min = 1;
    d.burst_factor = 1.0;
    TollGuard g(no_limits(), d);
    g.learn({{"201", "", false, 0}, {"201", "", false, 100 * kSecond}, {"201", "", false, 200 * kSecond}});
    EXPECT_EQ(g.admit(local("201", kT0)).verdict, "allowed");
    EXPECT_EQ(g.admit(local("201", kT0 + 100 * kSecond)).verdict, "allowed");
    EXPECT_EQ(g.admit(local("201", kT0 + 199 * kSecond)).verdict, "flagged: burst");
    EXPECT_EQ(g.take_alerts().at(0).detail, "2 calls in 100 s (normal peak 1)");
}

TEST(TollGuardBurst, CallsThatAgeOutOfTheHourJoinTheBaseline) {
    TollGuard g(no_limits(), watch_only());
    EXPECT_EQ(call_times(g, "201", 8, kT0).verdict, "allowed");
    // Over an hour later the 8 have aged: the threshold is max(10, 5 x 8) = 40.
    EXPECT_EQ(call_times(g, "201", 40, kT0 + 2 * kHour).verdict, "allowed");
    EXPECT_EQ(g.admit(local("201", kT0 + 2 * kHour + 40 * kSecond)).verdict, "flagged: burst");
    EXPECT_EQ(g.take_alerts().at(0).detail, "41 calls in 600 s (normal peak 8)");
}

TEST(TollGuardBurst, AFlaggedBurstDoesNotBecomeTheNormal) {
    TollGuard g(no_limits(), watch_only());
    EXPECT_EQ(call_times(g, "201", 30, kT0).verdict, "allowed");  // the 11th flagged
    ASSERT_EQ(g.take_alerts().size(), 1u);
    // Those 30 calls were unusual: when they age they do not teach a peak of 30.
    EXPECT_EQ(call_times(g, "201", 11, kT0 + 2 * kHour).verdict, "flagged: burst");
    EXPECT_EQ(g.take_alerts().at(0).detail, "11 calls in 600 s (normal peak 0)");
}

TEST(TollGuardBurst, AlertsOncePerWindow) {
    TollGuard g(no_limits(), watch_only());
    EXPECT_EQ(call_times(g, "201", 11, kT0).verdict, "flagged: burst");
    // The burst goes on: no second alert until 600 s after the first.
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(g.admit(local("201", kT0 + (20 + i * 25) * kSecond)).verdict, "allowed") << i;
    EXPECT_EQ(g.take_alerts().size(), 1u);
    const auto again = g.admit(local("201", kT0 + 610 * kSecond));
    EXPECT_EQ(again.verdict, "flagged: burst");
    EXPECT_EQ(g.take_alerts().size(), 1u);
}

// ---- detector: new countries ----

TEST(TollGuardCountries, ThreeNewCountriesWithinAnHourFlag) {
    TollGuard g(no_limits(), watch_only());
    EXPECT_EQ(g.admit(abroad("201", "53", kT0)).verdict, "allowed");
    EXPECT_EQ(g.admit(abroad("201", "53", kT0 + kMinute)).verdict, "allowed");
    EXPECT_EQ(g.admit(abroad("201", "252", kT0 + 2 * kMinute)).verdict, "allowed");
    EXPECT_EQ(g.admit(local("201", kT0 + 3 * kMinute)).verdict, "allowed") << "no country: not counted";
    EXPECT_EQ(g.admit(abroad("201", "881", kT0 + 50 * kMinute)).verdict, "flagged: new countries");
    const auto alerts = g.take_alerts();
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0].kind, "new countries");
    EXPECT_EQ(alerts[0].detail, "new countries 53, 252, 881 within 1 h");
}

TEST(TollGuardCountries, NewCountriesMoreThanAnHourApartDoNotFlag) {
    TollGuard g(no_limits(), watch_only());
    EXPECT_EQ(g.admit(abroad("201", "53", kT0)).verdict, "allowed");
    EXPECT_EQ(g.admit(abroad("201", "252", kT0 + 30 * kMinute)).verdict, "allowed");
    EXPECT_EQ(g.admit(abroad("201", "881", kT0 + kHour)).verdict, "allowed");
    EXPECT_TRUE(g.take_alerts().empty());
}

TEST(TollGuardCountries, CountriesOfTheHistoryAreNotNew) {
    TollGuard g(no_limits(), watch_only());
    g.learn({{"201", "53", false, 0}, {"201", "44", false, 5}, {"202", "252", false, 0}});
    for (const char* cc : {"53", "44", "252", "881"})
        EXPECT_EQ(g.admit(abroad("201", cc, kT0)).verdict, "allowed") << cc;
    EXPECT_EQ(g.admit(abroad("201", "882", kT0 + 1)).verdict, "flagged: new countries");
    EXPECT_EQ(g.take_alerts().at(0).detail, "new countries 252, 881, 882 within 1 h");
}

TEST(TollGuardCountries, LearnReplacesTheBaseline) {
    TollGuard g(no_limits(), watch_only());
    g.learn({{"201", "53", false, 0}, {"201", "252", false, 0}});
    g.learn({{"201", "44", false, 0}});
    EXPECT_EQ(g.admit(abroad("201", "53", kT0)).verdict, "allowed");
    EXPECT_EQ(g.admit(abroad("201", "44", kT0)).verdict, "allowed");
    EXPECT_EQ(g.admit(abroad("201", "252", kT0)).verdict, "allowed");
    EXPECT_EQ(g.admit(abroad("201", "881", kT0)).verdict, "flagged: new countries");
}

TEST(TollGuardCountries, CountriesOfCallsThatAgedAreKnown) {
    TollGuard g(no_limits(), watch_only());
    EXPECT_EQ(g.admit(abroad("201", "53", kT0)).verdict, "allowed");
    EXPECT_EQ(g.admit(abroad("201", "252", kT0 + kMinute)).verdict, "allowed");
    // Aged out of the hour: 53 and 252 are the user's own now.
    EXPECT_EQ(g.admit(abroad("201", "53", kT0 + 2 * kHour)).verdict, "allowed");
    EXPECT_EQ(g.admit(abroad("201", "252", kT0 + 2 * kHour)).verdict, "allowed");
    EXPECT_EQ(g.admit(abroad("201", "881", kT0 + 2 * kHour)).verdict, "allowed");
    EXPECT_TRUE(g.take_alerts().empty());
}

TEST(TollGuardCountries, CountriesOfAFlaggedSetAreNotLearned) {
    TollGuard g(no_limits(), watch_only());
    g.admit(abroad("201", "53", kT0));
    g.admit(abroad("201", "252", kT0));
    EXPECT_EQ(g.admit(abroad("201", "881", kT0)).verdict, "flagged: new countries");
    // Within the hour after the alert, more new countries are not alerted again.
    EXPECT_EQ(g.admit(abroad("201", "882", kT0 + 30 * kMinute)).verdict, "allowed");
    EXPECT_EQ(g.take_alerts().size(), 1u);
    // Hours later the same countries are still new.
    g.admit(abroad("201", "53", kT0 + 3 * kHour));
    g.admit(abroad("201", "252", kT0 + 3 * kHour));
    EXPECT_EQ(g.admit(abroad("201", "881", kT0 + 3 * kHour)).verdict, "flagged: new countries");
}

// ---- detector: off hours ----

TEST(TollGuardOffHours, MoreThanOffHoursMinWithinAnHourFlag) {
    TollGuard g(no_limits(), watch_only());
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(g.admit(at_night("201", kT0 + i * 5 * kMinute)).verdict, "allowed") << i;
    for (int i = 0; i < 5; ++i)  // daytime calls do not count
        EXPECT_EQ(g.admit(local("201", kT0 + 30 * kMinute + i)).verdict, "allowed") << i;
    EXPECT_EQ(g.admit(at_night("201", kT0 + 55 * kMinute)).verdict, "flagged: off hours");
    const auto alerts = g.take_alerts();
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0].kind, "off hours");
    EXPECT_EQ(alerts[0].detail, "6 calls outside business hours in 1 h (normal peak 0)");
    // Once per hour.
    EXPECT_EQ(g.admit(at_night("201", kT0 + 56 * kMinute)).verdict, "allowed");
    EXPECT_TRUE(g.take_alerts().empty());
}

TEST(TollGuardOffHours, AHistoryPeakRaisesTheThreshold) {
    TollGuard g(no_limits(), watch_only());
    // Two off-hours calls within an hour at best (the third is an hour after the first; daytime ignored).
    g.learn({{"201", "", true, 0},
             {"201", "", true, 59 * kMinute},
             {"201", "", true, kHour},
             {"201", "", false, 10 * kMinute},
             {"201", "", false, 11 * kMinute}});
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(g.admit(at_night("201", kT0 + i * kMinute)).verdict, "allowed") << i;
    EXPECT_EQ(g.admit(at_night("201", kT0 + 10 * kMinute)).verdict, "flagged: off hours");
    EXPECT_EQ(g.take_alerts().at(0).detail, "11 calls outside business hours in 1 h (normal peak 2)");
}

// ---- several kinds, disabled detector ----

TEST(TollGuardDetector, SeveralKindsOnOneCallAreAllAlerted) {
    DetectorConfig d = watch_only();
    d.burst_min = 2;
    TollGuard g(no_limits(), d);
    ExternalCall c = abroad("201", "53", kT0);
    g.admit(c);
    c.country = "252";
    g.admit(c);
    c.country = "881";
    EXPECT_EQ(g.admit(c).verdict, "flagged: burst, new countries");
    const auto alerts = g.take_alerts();
    ASSERT_EQ(alerts.size(), 2u);
    EXPECT_EQ(alerts[0].kind, "burst");
    EXPECT_EQ(alerts[1].kind, "new countries");
}

TEST(TollGuardDetector, DisabledNeverFlags) {
    TollGuard g(no_limits(), no_detector());
    for (int i = 0; i < 50; ++i) {
        ExternalCall c = abroad("201", std::to_string(30 + i), kT0 + i);
        c.off_hours = true;
        const auto a = g.admit(c);
        EXPECT_TRUE(a.allowed);
        EXPECT_EQ(a.verdict, "allowed");
    }
    EXPECT_TRUE(g.take_alerts().empty());
    EXPECT_FALSE(g.suspended("201"));
}

TEST(TollGuardDetector, AKindConfiguredOffIsNotDetected) {
    DetectorConfig d = watch_only();
    d.burst_min = 0;
    d.new_countries = 0;
    d.off_hours_min = -1;
    TollGuard g(no_limits(), d);
    for (int i = 0; i < 30; ++i) {
        ExternalCall c = abroad("201", std::to_string(30 + i), kT0 + i);
        c.off_hours = true;
        EXPECT_EQ(g.admit(c).verdict, "allowed") << i;
    }
    EXPECT_TRUE(g.take_alerts().empty());
}

// ---- suspension ----

TEST(TollGuardSuspension, TheFlaggingCallAndLaterOnesAreRefused) {
    TollGuard g(no_limits(), DetectorConfig{});
    EXPECT_EQ(call_times(g, "201", 10, kT0).verdict, "allowed");
    EXPECT_EQ(g.active_calls(), 10u);
    const auto flagging = g.admit(local("201", kT0 + 10 * kSecond));
    EXPECT_FALSE(flagging.allowed);
    EXPECT_EQ(flagging.verdict, "refused: suspended");
    EXPECT_EQ(flagging.reason, "external calls suspended (burst: 11 calls in 600 s (normal peak 0))");
    EXPECT_EQ(flagging.ticket, 0u);
    EXPECT_EQ(g.active_calls(), 10u) << "the refused call is not going on";
    EXPECT_TRUE(g.suspended("201"));
    // Hours later still suspended; other users are not.
    const auto later = g.admit(local("201", kT0 + 5 * kHour));
    EXPECT_EQ(later.verdict, "refused: suspended");
    EXPECT_EQ(later.reason, flagging.reason);
    EXPECT_TRUE(g.admit(local("202", kT0 + 5 * kHour)).allowed);
}

TEST(TollGuardSuspension, TheStoresViewCannotLiftAnAlertNotYetTaken) {
    TollGuard g(no_limits(), DetectorConfig{});
    EXPECT_FALSE(call_times(g, "201", 11, kT0).allowed);
    g.set_suspended({});  // the store has not heard of it yet
    EXPECT_TRUE(g.suspended("201"));
    EXPECT_EQ(g.admit(local("201", kT0 + kMinute)).verdict, "refused: suspended");
    const auto alerts = g.take_alerts();
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_TRUE(alerts[0].suspended);
    EXPECT_EQ(alerts[0].kind, "burst");
    // The control loop stored it: the store's view now has the user, and keeps the alert's reason.
    g.set_suspended({"201"});
    EXPECT_TRUE(g.suspended("201"));
    EXPECT_EQ(g.admit(local("201", kT0 + 2 * kMinute)).reason,
              "external calls suspended (burst: 11 calls in 600 s (normal peak 0))");
    // The administrator unsuspends.
    g.set_suspended({});
    EXPECT_FALSE(g.suspended("201"));
    // Still within the burst window of the alert: no second alert, the call goes.
    const auto after = g.admit(local("201", kT0 + 3 * kMinute));
    EXPECT_TRUE(after.allowed);
    EXPECT_EQ(after.verdict, "allowed");
}

TEST(TollGuardSuspension, TakenButNotInTheStoresViewIsLifted) {
    TollGuard g(no_limits(), DetectorConfig{});
    call_times(g, "201", 11, kT0);
    ASSERT_EQ(g.take_alerts().size(), 1u);
    EXPECT_TRUE(g.suspended("201"));
    g.set_suspended({});
    EXPECT_FALSE(g.suspended("201"));
}

TEST(TollGuardSuspension, TheRefusedFlaggingCallLeavesNoTraceInTheWindows) {
    DetectorConfig d;
    d.burst_min = 2;
    TollGuard g(CallLimits{0, 4, 0, 0}, d);
    EXPECT_TRUE(g.admit(local("201", kT0)).allowed);
    EXPECT_TRUE(g.admit(local("201", kT0 + 1)).allowed);
    EXPECT_EQ(g.admit(local("201", kT0 + 2)).verdict, "refused: suspended");
    g.take_alerts();
    g.set_suspended({});
    // Two admitted in this minute, not three: two more fit the limit of 4.
    EXPECT_TRUE(g.admit(local("201", kT0 + 3)).allowed);
    EXPECT_TRUE(g.admit(local("201", kT0 + 4)).allowed);
    EXPECT_EQ(g.admit(local("201", kT0 + 5)).verdict, "refused: limit per minute");
}

TEST(TollGuardSuspension, ByTheAdministrator) {
    TollGuard g(no_limits(), DetectorConfig{});
    EXPECT_FALSE(g.suspended("201"));
    g.set_suspended({"201", "never-called"});
    EXPECT_TRUE(g.suspended("201"));
    EXPECT_TRUE(g.suspended("never-called"));
    EXPECT_FALSE(g.suspended("202"));
    const auto a = g.admit(local("201", kT0));
    EXPECT_FALSE(a.allowed);
    EXPECT_EQ(a.verdict, "refused: suspended");
    EXPECT_EQ(a.reason, "external calls suspended (by the administrator)");
    EXPECT_TRUE(g.take_alerts().empty()) << "no alert for the administrator's own decision";
    g.set_suspended({"never-called"});
    EXPECT_TRUE(g.admit(local("201", kT0 + 1)).allowed);
    EXPECT_TRUE(g.suspended("never-called"));
}

TEST(TollGuardSuspension, SuspensionComesBeforeTheLimits) {
    TollGuard g(CallLimits{1, 0, 0, 0}, no_detector());
    ASSERT_TRUE(g.admit(local("201", kT0)).allowed);
    g.set_suspended({"201"});
    EXPECT_EQ(g.admit(local("201", kT0 + 1)).verdict, "refused: suspended");
}

// ---- threads ----

TEST(TollGuardThreads, ManyWorkersLoseNoCounts) {
    // Few users, many rounds: the workers meet on the same stripes and the same users all the time.
    constexpr int kWorkers = 4;
    constexpr int kUsers = 8;
    constexpr int kRounds = 100;
    constexpr int kPerHour = 200;  // of the kWorkers x kRounds = 400 attempts per user
    TollGuard g(CallLimits{0, 0, kPerHour, 0}, no_detector());
    std::array<std::atomic<int>, kUsers> admitted{};
    std::atomic<int> ready{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w) {
        workers.emplace_back([&, w] {
            // All start together: else each may be done before the next one is even running.
            ++ready;
            while (ready.load() < kWorkers)
                std::this_thread::yield();
            std::vector<std::uint64_t> going;
            for (int r = 0; r < kRounds; ++r) {
                for (int u = 0; u < kUsers; ++u) {
                    const auto a = g.admit(local("user" + std::to_string(u), kT0 + r * kSecond + w));
                    if (!a.allowed) continue;
                    ++admitted[u];
                    going.push_back(a.ticket);
                }
                // End some now, the rest at the end: tickets of every stripe end from every thread.
                if (r % 2 == 1) {
                    for (auto t : going)
                        g.ended(t, kT0 + r * kSecond);
                    going.clear();
                }
            }
            for (auto t : going)
                g.ended(t, kT0 + kRounds * kSecond);
        });
    }
    for (auto& t : workers)
        t.join();
    for (int u = 0; u < kUsers; ++u)
        EXPECT_EQ(admitted[u].load(), kPerHour) << u;
    EXPECT_EQ(g.active_calls(), 0u);
}

TEST(TollGuardThreads, AlertsAndTheStoresViewWhileWorkersCall) {
    constexpr int kWorkers = 3;
    constexpr int kUsers = 24;
    constexpr int kRounds = 30;
    DetectorConfig d;
    d.burst_min = 3;
    TollGuard g(no_limits(), d);
    std::atomic<bool> done{false};
    std::vector<Alert> alerts;
    // The control loop: takes alerts and lifts every suspension, over and over (it must not deadlock
    // against the workers: stripe locks, then the alerts' lock).
    std::thread control([&] {
        while (!done.load()) {
            for (auto& a : g.take_alerts())
                alerts.push_back(std::move(a));
            g.set_suspended({});
            (void)g.active_calls();
        }
    });
    std::atomic<int> ready{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w) {
        workers.emplace_back([&, w] {
            ++ready;
            while (ready.load() < kWorkers)
                std::this_thread::yield();
            for (int r = 0; r < kRounds; ++r)
                for (int u = 0; u < kUsers; ++u) {
                    const auto a = g.admit(local("user" + std::to_string(u), kT0 + r * kSecond + w));
                    if (a.allowed) g.ended(a.ticket, kT0 + r * kSecond + w);
                }
        });
    }
    for (auto& t : workers)
        t.join();
    done = true;
    control.join();
    for (auto& a : g.take_alerts())
        alerts.push_back(std::move(a));
    EXPECT_EQ(g.active_calls(), 0u);
    // All calls fall in one burst window: each user is alerted exactly once, however the threads ran.
    ASSERT_EQ(alerts.size(), static_cast<std::size_t>(kUsers));
    std::set<std::string> users;
    for (const auto& a : alerts) {
        EXPECT_EQ(a.kind, "burst");
        EXPECT_EQ(a.detail, "4 calls in 600 s (normal peak 0)");
        EXPECT_TRUE(a.suspended);
        users.insert(a.user);
    }
    EXPECT_EQ(users.size(), static_cast<std::size_t>(kUsers));
}

}  // namespace
}  // namespace sw::security
