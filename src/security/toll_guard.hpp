// TollGuard (issue 7 part 5): limits on each user's external calls and a detector of unusual calling.
//
// Limits, per user (CallLimits; the server's defaults, each replaceable per user): calls out at the same
// time, call attempts per minute and per hour (sliding windows over the admitted calls), and minutes of
// international calls per calendar day (answered time of ended calls plus the elapsed time of those still
// going; the day is the caller's local day, given as a day number). A call over a limit is refused with a
// reason; an admitted international call is told how long it may still last (the day's remaining minutes),
// so a call cannot run past the budget either.
//
// Detector: it learns each user's normal external calling from the call history (learn(), given the last
// weeks of call records at start) and from every admitted call once it is older than the detection
// window: the hours of the day they call at, the countries they call, their peak rate. It flags, per
// user and at most once per kind and window:
//   - "burst": admitted calls within burst_window_s above max(burst_min, burst_factor x the user's peak
//     in any such window of the history);
//   - "new countries": calls to at least new_countries distinct countries the history never had, within
//     one hour (a hijacked account dials many countries; one new country is ordinary);
//   - "off hours": calls outside business hours (or at night, 22:00-06:00, without a schedule) within one
//     hour above max(off_hours_min, off_hours_factor x the user's peak off-hours calls in an hour of the
//     history).
// A flag is an Alert (taken by the control loop: logged once, stored as an event) and, with
// suspend_on_alert, suspends the user's external calling: refused until set_suspended() clears it (the
// administrator's `sipwarden user unsuspend`).
//
// Memory: per user a bounded window of recent calls (at most max_recent) and a bounded set of countries
// (at most 256); users are few (the store's), so no eviction.
//
// Thread: thread-safe; every worker calls admit/answered/ended, the control loop calls learn,
// set_suspended and take_alerts. One mutex per stripe of users (kStripes); a ticket names its stripe.
// Lock order: a stripe's mutex, then the alerts' mutex (admit raises an alert under its stripe lock);
// never the other way round, and never two stripes at once. The control loop records the suspensions of
// the alerts it takes before it next calls set_suspended (else that call would lift them again).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sw::security {

struct CallLimits {
    int max_concurrent = 4;           // external calls at once
    int per_minute = 10;              // external call attempts admitted within any 60 s
    int per_hour = 60;                // ... within any 3600 s
    int international_minutes = 120;  // international minutes per day
    // <= 0 in any field: no limit of that kind.
};

struct DetectorConfig {
    bool enabled = true;
    bool suspend_on_alert = true;
    std::int64_t burst_window_s = 600;
    int burst_min = 10;
    double burst_factor = 5.0;
    int new_countries = 3;  // distinct never-seen countries within an hour
    int off_hours_min = 5;
    double off_hours_factor = 5.0;
    // Recent calls remembered per user; at least the user's per_hour and per_minute limits, so that those
    // windows stay exact. A burst above it cannot be seen.
    std::size_t max_recent = 512;
    // <= 0 in burst_window_s, burst_min, new_countries or off_hours_min: that kind is not detected.
};

// One external call as the guard sees it (the engine classifies it first: calling_rights.hpp).
struct ExternalCall {
    std::string user;
    std::string country;  // country calling code, empty if unknown (a local or national number)
    bool international = false;
    bool off_hours = false;    // outside business hours (or at night without a schedule)
    std::int64_t time_ms = 0;  // Unix ms
    std::int64_t day = 0;      // the caller's local calendar day (any day number; it changes at midnight)
};

// A past call for learn(): from the call records.
struct PastCall {
    std::string user;
    std::string country;
    bool off_hours = false;
    std::int64_t time_ms = 0;
};

struct Alert {
    std::int64_t time_ms = 0;
    std::string user;
    std::string kind;    // "burst", "new countries", "off hours"
    std::string detail;  // e.g. "14 calls in 600 s (normal peak 2)", "new countries 53, 252, 881 within 1 h"
    bool suspended = false;  // the user's external calling was suspended by this alert
};

struct Admission {
    bool allowed = false;
    std::string reason;   // when refused: "external calls suspended (burst: ...)", "limit: 4 concurrent
                          // external calls", ...
    std::string verdict;  // for the CDR: "allowed", "flagged: burst", "refused: suspended",
                          // "refused: limit concurrent", "refused: limit per minute", "refused: limit per
                          // hour", "refused: limit international minutes"
    std::uint64_t ticket = 0;  // when allowed: for answered()/ended() (never 0)
    // When allowed and international with a minutes limit: the seconds the call may last at most (the
    // day's remaining budget); else -1.
    std::int64_t max_duration_s = -1;
};

class TollGuard {
public:
    TollGuard(CallLimits defaults, DetectorConfig detector);
    ~TollGuard();  // out of line: Stripe is complete only in toll_guard.cpp
    TollGuard(const TollGuard&) = delete;
    TollGuard& operator=(const TollGuard&) = delete;

    // Replaces the history-learned baselines (call at start, before traffic; calls older than the
    // detection windows).
    void learn(const std::vector<PastCall>& history);
    // The limits of users who have their own (users not named use the defaults).
    void set_user_limits(std::map<std::string, CallLimits, std::less<>> limits);
    // Users whose external calling is suspended as the store says. A user suspended by an alert that
    // take_alerts has not handed out yet stays suspended whatever this says.
    void set_suspended(const std::set<std::string, std::less<>>& users);
    bool suspended(std::string_view user) const;

    // A call about to go out: checks suspension and limits; when allowed counts it (concurrent, windows)
    // and runs the detector, which may flag (an alert; the call that flags is still admitted unless
    // suspension is on, then it is refused as the first suspended one).
    Admission admit(const ExternalCall& call);
    // The admitted call was answered / has ended (answered or not). Unknown or repeated tickets are ignored.
    void answered(std::uint64_t ticket, std::int64_t now_ms);
    void ended(std::uint64_t ticket, std::int64_t now_ms);

    // Alerts raised since the last call, oldest first.
    std::vector<Alert> take_alerts();
    // Calls admitted and not ended (all users): for tests and counters.
    std::size_t active_calls() const;

private:
    static constexpr std::size_t kStripes = 8;
    // Implementation defined in toll_guard.cpp.
    struct UserState;
    struct Stripe;
    struct Finding;
    // A suspension by an alert that take_alerts has not handed out yet (set_suspended leaves it alone).
    struct PendingAlert {
        std::string user;
        std::uint64_t seq = 0;
    };

    std::size_t stripe_index(std::string_view user) const;
    // Refused by a limit, or allowed (no ticket yet) with its max_duration_s.
    Admission check_limits(const UserState& u, const ExternalCall& call) const;
    // Queues the alerts of `findings` (stripe lock held; takes alerts_mu_ after it) and, with
    // suspend_on_alert, suspends the user.
    void raise_alerts(UserState& u, const ExternalCall& call, const std::vector<Finding>& findings);

    std::array<std::unique_ptr<Stripe>, kStripes> stripes_;
    CallLimits defaults_;
    DetectorConfig detector_;
    mutable std::mutex alerts_mu_;  // guards the three below; taken after a stripe's, never before
    std::vector<Alert> alerts_;
    std::vector<PendingAlert> pending_;
    std::uint64_t alert_seq_ = 0;
};

}  // namespace sw::security
