#include "security/toll_guard.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>

namespace sw::security {

namespace {

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::size_t kMaxCountries = 256;

// The detector's kinds, in the order they are checked (and named in a verdict).
enum Kind : std::size_t { kBurst, kNewCountries, kOffHours, kKinds };
constexpr std::array<std::string_view, kKinds> kKindNames{"burst", "new countries", "off hours"};

struct RecentCall {
    std::int64_t time_ms = 0;
    std::string country;
    bool off_hours = false;
    // Part of a set the detector flagged (or would have, but for the once-per-window rule): it teaches the
    // baseline nothing when it ages, so a fraud that went on for an hour does not become the new normal.
    bool unusual = false;
};

struct ActiveCall {
    std::uint64_t ticket = 0;
    bool international = false;
    std::int64_t day = 0;
    bool answered = false;
    std::int64_t answered_ms = 0;
};

bool within(std::int64_t now_ms, std::int64_t then_ms, std::int64_t window_ms) {
    return now_ms - then_ms < window_ms;
}

// Sliding window by two pointers: `tail` holds the times fed so far (in order) that lie within window_ms
// of the newest; returns how many there are with `t`. At most `cap` are kept (a peak above it counts as
// the cap: the detector's windows cannot see more either).
std::int64_t slide(std::deque<std::int64_t>& tail, std::int64_t t, std::int64_t window_ms, std::size_t cap) {
    tail.push_back(t);
    while (!within(t, tail.front(), window_ms))
        tail.pop_front();
    while (tail.size() > cap)
        tail.pop_front();
    return static_cast<std::int64_t>(tail.size());
}

std::string suspension_reason(std::string_view suspended_by) {
    return "external calls suspended (" +
           std::string(suspended_by.empty() ? std::string_view("by the administrator") : suspended_by) + ")";
}

Admission refusal(std::string verdict, std::string reason) {
    Admission a;
    a.verdict = std::move(verdict);
    a.reason = std::move(reason);
    return a;
}

}  // namespace

struct TollGuard::Finding {
    std::size_t kind = kBurst;
    std::string detail;
};

struct TollGuard::UserState {
    std::optional<CallLimits> own_limits;  // set_user_limits; else the defaults

    // Limits.
    std::vector<ActiveCall> active;  // admitted and not ended
    std::deque<RecentCall> recent;   // admitted within the last hour, in order of admission
    std::map<std::int64_t, std::int64_t> international_ms;  // day -> answered ms of ended calls

    // Baseline: learn() and the recent calls that aged without being unusual.
    std::set<std::string, std::less<>> known_countries;
    std::int64_t peak_burst = 0;              // most calls in any burst window
    std::int64_t peak_off_hours = 0;          // most off-hours calls in any hour
    std::deque<std::int64_t> burst_tail;      // the learned calls within a burst window of the newest
    std::deque<std::int64_t> off_hours_tail;  // the learned off-hours calls within an hour of the newest

    // Detector and suspension.
    std::array<std::optional<std::int64_t>, kKinds> last_alert_ms;
    bool suspended = false;
    std::string suspended_by;         // "burst: ..." of the alert; empty: by the administrator
    std::uint64_t pending_alert = 0;  // the alert's seq while take_alerts has not handed it out

    void reset_baseline() {
        known_countries.clear();
        peak_burst = peak_off_hours = 0;
        burst_tail.clear();
        off_hours_tail.clear();
    }

    // One call of the user's normal calling, fed in time order.
    void learn(std::int64_t time_ms, std::string_view country, bool off_hours, const DetectorConfig& cfg) {
        if (!country.empty() && known_countries.size() < kMaxCountries) known_countries.emplace(country);
        if (cfg.burst_window_s > 0)
            peak_burst =
                std::max(peak_burst, slide(burst_tail, time_ms, cfg.burst_window_s * 1000, cfg.max_recent));
        if (off_hours)
            peak_off_hours =
                std::max(peak_off_hours, slide(off_hours_tail, time_ms, kHourMs, cfg.max_recent));
    }

    // Calls older than the hour leave the window; those that were not unusual join the baseline.
    void age(std::int64_t now_ms, const DetectorConfig& cfg) {
        while (!recent.empty() && !within(now_ms, recent.front().time_ms, kHourMs)) {
            const RecentCall& old = recent.front();
            if (!old.unusual) learn(old.time_ms, old.country, old.off_hours, cfg);
            recent.pop_front();
        }
    }

    // The budget of a day starts empty: older days are forgotten when a newer one shows up.
    void forget_days_before(std::int64_t day) {
        international_ms.erase(international_ms.begin(), international_ms.lower_bound(day));
    }

    std::int64_t calls_within(std::int64_t now_ms, std::int64_t window_ms) const {
        return std::count_if(recent.begin(), recent.end(),
                             [&](const RecentCall& r) { return within(now_ms, r.time_ms, window_ms); });
    }

    // Ended answered international calls of `day` plus the elapsed time of those still going that began on
    // it (a call counts towards the day it began on, also when it runs past midnight).
    std::int64_t international_ms_on(std::int64_t day, std::int64_t now_ms) const {
        std::int64_t ms = 0;
        if (auto it = international_ms.find(day); it != international_ms.end()) ms = it->second;
        for (const ActiveCall& c : active)
            if (c.international && c.answered && c.day == day)
                ms += std::max<std::int64_t>(0, now_ms - c.answered_ms);
        return ms;
    }

    std::optional<Finding> find_burst(std::int64_t now_ms, const DetectorConfig& cfg) {
        if (cfg.burst_window_s <= 0 || cfg.burst_min <= 0) return std::nullopt;
        const std::int64_t window_ms = cfg.burst_window_s * 1000;
        const std::int64_t count = calls_within(now_ms, window_ms);
        const double threshold = std::max<double>(cfg.burst_min, cfg.burst_factor * peak_burst);
        if (static_cast<double>(count) <= threshold) return std::nullopt;
        for (RecentCall& r : recent)
            if (within(now_ms, r.time_ms, window_ms)) r.unusual = true;
        return Finding{kBurst, std::to_string(count) + " calls in " + std::to_string(cfg.burst_window_s) +
                                   " s (normal peak " + std::to_string(peak_burst) + ")"};
    }

    std::optional<Finding> find_new_countries(std::int64_t now_ms, const DetectorConfig& cfg) {
        if (cfg.new_countries <= 0) return std::nullopt;
        std::vector<std::string_view> fresh;  // in the order first called
        for (const RecentCall& r : recent)
            if (within(now_ms, r.time_ms, kHourMs) && !r.country.empty() &&
                !known_countries.contains(r.country) &&
                std::find(fresh.begin(), fresh.end(), r.country) == fresh.end())
                fresh.push_back(r.country);
        if (fresh.size() < static_cast<std::size_t>(cfg.new_countries)) return std::nullopt;
        std::string detail = "new countries ";
        for (std::size_t i = 0; i < fresh.size(); ++i)
            detail.append(i == 0 ? "" : ", ").append(fresh[i]);
        detail += " within 1 h";
        for (RecentCall& r : recent)
            if (within(now_ms, r.time_ms, kHourMs) &&
                std::find(fresh.begin(), fresh.end(), r.country) != fresh.end())
                r.unusual = true;
        return Finding{kNewCountries, std::move(detail)};
    }

    std::optional<Finding> find_off_hours(std::int64_t now_ms, const DetectorConfig& cfg) {
        if (cfg.off_hours_min <= 0) return std::nullopt;
        const std::int64_t count = std::count_if(recent.begin(), recent.end(), [&](const RecentCall& r) {
            return r.off_hours && within(now_ms, r.time_ms, kHourMs);
        });
        const double threshold = std::max<double>(cfg.off_hours_min, cfg.off_hours_factor * peak_off_hours);
        if (static_cast<double>(count) <= threshold) return std::nullopt;
        for (RecentCall& r : recent)
            if (r.off_hours && within(now_ms, r.time_ms, kHourMs)) r.unusual = true;
        return Finding{kOffHours, std::to_string(count) +
                                      " calls outside business hours in 1 h (normal peak " +
                                      std::to_string(peak_off_hours) + ")"};
    }

    // The findings about the call just recorded that are to be alerted: each kind at most once per its
    // window (the calls go on being marked unusual meanwhile).
    std::vector<Finding> detect(std::int64_t now_ms, const DetectorConfig& cfg) {
        std::array<std::optional<Finding>, kKinds> found{
            find_burst(now_ms, cfg), find_new_countries(now_ms, cfg), find_off_hours(now_ms, cfg)};
        const std::array<std::int64_t, kKinds> window_ms{cfg.burst_window_s * 1000, kHourMs, kHourMs};
        std::vector<Finding> out;
        for (std::size_t k = 0; k < kKinds; ++k) {
            if (!found[k]) continue;
            if (last_alert_ms[k] && within(now_ms, *last_alert_ms[k], window_ms[k])) continue;
            last_alert_ms[k] = now_ms;
            out.push_back(std::move(*found[k]));
        }
        return out;
    }

    // The most recent calls kept: at least the hourly and per-minute limits, so that they count exactly.
    std::size_t recent_cap(const CallLimits& limits, const DetectorConfig& cfg) const {
        return std::max({cfg.max_recent, static_cast<std::size_t>(std::max(limits.per_hour, 0)),
                         static_cast<std::size_t>(std::max(limits.per_minute, 0))});
    }
};

// Users are never erased (there is no eviction: users are the store's, and few), so a ticket may point at
// its user's state.
struct TollGuard::Stripe {
    mutable std::mutex mu;
    std::map<std::string, UserState, std::less<>> users;
    std::unordered_map<std::uint64_t, UserState*> tickets;
    std::uint64_t next_ticket = 1;  // per stripe; the ticket is next_ticket * kStripes + stripe, never 0
};

TollGuard::TollGuard(CallLimits defaults, DetectorConfig detector)
    : defaults_(defaults), detector_(detector) {
    detector_.max_recent = std::max<std::size_t>(detector_.max_recent, 1);
    for (auto& s : stripes_)
        s = std::make_unique<Stripe>();
}

TollGuard::~TollGuard() = default;

std::size_t TollGuard::stripe_index(std::string_view user) const {
    return std::hash<std::string_view>{}(user) % kStripes;
}

void TollGuard::learn(const std::vector<PastCall>& history) {
    // The two-pointer peaks need each user's calls in time order.
    std::map<std::string_view, std::vector<const PastCall*>> by_user;
    for (const PastCall& c : history)
        by_user[c.user].push_back(&c);
    for (auto& [user, calls] : by_user)
        std::stable_sort(calls.begin(), calls.end(),
                         [](const PastCall* a, const PastCall* b) { return a->time_ms < b->time_ms; });
    for (std::size_t i = 0; i < kStripes; ++i) {
        Stripe& s = *stripes_[i];
        std::lock_guard lock(s.mu);
        for (auto& [name, u] : s.users)
            u.reset_baseline();
        for (const auto& [user, calls] : by_user) {
            if (stripe_index(user) != i) continue;
            UserState& u = s.users.try_emplace(std::string(user)).first->second;
            for (const PastCall* c : calls)
                u.learn(c->time_ms, c->country, c->off_hours, detector_);
        }
    }
}

void TollGuard::set_user_limits(std::map<std::string, CallLimits, std::less<>> limits) {
    // One stripe at a time, each under one lock: a user never sees a mix of old and new limits.
    for (std::size_t i = 0; i < kStripes; ++i) {
        Stripe& s = *stripes_[i];
        std::lock_guard lock(s.mu);
        for (auto& [name, u] : s.users)
            u.own_limits.reset();
        for (const auto& [user, l] : limits)
            if (stripe_index(user) == i) s.users.try_emplace(user).first->second.own_limits = l;
    }
}

void TollGuard::set_suspended(const std::set<std::string, std::less<>>& users) {
    for (std::size_t i = 0; i < kStripes; ++i) {
        Stripe& s = *stripes_[i];
        std::lock_guard lock(s.mu);
        for (const std::string& user : users)
            if (stripe_index(user) == i) s.users.try_emplace(user);
        for (auto& [name, u] : s.users) {
            // The store has not heard of this alert's suspension yet: the store's view is older than it.
            if (u.pending_alert != 0) continue;
            if (!users.contains(name)) {
                u.suspended = false;
                u.suspended_by.clear();
            } else if (!u.suspended) {
                u.suspended = true;
                u.suspended_by.clear();  // by the administrator
            }
        }
    }
}

bool TollGuard::suspended(std::string_view user) const {
    const Stripe& s = *stripes_[stripe_index(user)];
    std::lock_guard lock(s.mu);
    auto it = s.users.find(user);
    return it != s.users.end() && it->second.suspended;
}

Admission TollGuard::check_limits(const UserState& u, const ExternalCall& call) const {
    const CallLimits& limits = u.own_limits ? *u.own_limits : defaults_;
    if (limits.max_concurrent > 0 && u.active.size() >= static_cast<std::size_t>(limits.max_concurrent))
        return refusal("refused: limit concurrent",
                       "limit: " + std::to_string(limits.max_concurrent) + " concurrent external calls");
    if (limits.per_minute > 0 && u.calls_within(call.time_ms, kMinuteMs) >= limits.per_minute)
        return refusal("refused: limit per minute",
                       "limit: " + std::to_string(limits.per_minute) + " external calls per minute");
    if (limits.per_hour > 0 && u.calls_within(call.time_ms, kHourMs) >= limits.per_hour)
        return refusal("refused: limit per hour",
                       "limit: " + std::to_string(limits.per_hour) + " external calls per hour");
    Admission ok;
    ok.allowed = true;
    ok.verdict = "allowed";
    if (call.international && limits.international_minutes > 0) {
        // Whole seconds, the used ones rounded up: an admitted call always gets at least one second, and
        // the calls of a day never exceed its budget by a rounding.
        const std::int64_t budget_s = std::int64_t{limits.international_minutes} * 60;
        const std::int64_t used_s = (u.international_ms_on(call.day, call.time_ms) + 999) / 1000;
        if (used_s >= budget_s)
            return refusal(
                "refused: limit international minutes",
                "limit: " + std::to_string(limits.international_minutes) + " international minutes per day");
        // Each concurrent international call is given the whole remainder: together they may overrun it
        // until the next call is refused (concurrency is limited too).
        ok.max_duration_s = budget_s - used_s;
    }
    return ok;
}

void TollGuard::raise_alerts(UserState& u, const ExternalCall& call, const std::vector<Finding>& findings) {
    const bool suspend = detector_.suspend_on_alert;
    std::lock_guard lock(alerts_mu_);
    for (const Finding& f : findings)
        alerts_.push_back(Alert{call.time_ms, call.user, std::string(kKindNames[f.kind]), f.detail, suspend});
    if (!suspend) return;
    u.suspended = true;
    u.suspended_by = std::string(kKindNames[findings.front().kind]) + ": " + findings.front().detail;
    u.pending_alert = ++alert_seq_;
    pending_.push_back(PendingAlert{call.user, u.pending_alert});
}

Admission TollGuard::admit(const ExternalCall& call) {
    const std::size_t index = stripe_index(call.user);
    Stripe& s = *stripes_[index];
    std::lock_guard lock(s.mu);
    UserState& u = s.users.try_emplace(call.user).first->second;
    u.age(call.time_ms, detector_);
    u.forget_days_before(call.day);
    if (u.suspended) return refusal("refused: suspended", suspension_reason(u.suspended_by));
    Admission out = check_limits(u, call);
    if (!out.allowed) return out;

    u.recent.push_back(RecentCall{call.time_ms, call.country, call.off_hours, false});
    if (detector_.enabled) {
        const std::vector<Finding> findings = u.detect(call.time_ms, detector_);
        if (!findings.empty()) {
            raise_alerts(u, call, findings);
            if (u.suspended) {
                // The call that flags is the first one refused: it leaves no trace in the windows.
                u.recent.pop_back();
                return refusal("refused: suspended", suspension_reason(u.suspended_by));
            }
            out.verdict = "flagged: ";
            for (std::size_t i = 0; i < findings.size(); ++i)
                out.verdict.append(i == 0 ? "" : ", ").append(kKindNames[findings[i].kind]);
        }
    }
    const CallLimits& limits = u.own_limits ? *u.own_limits : defaults_;
    // Dropped for the bound, a call is not learned: it did not age out of the window, it was pushed out.
    while (u.recent.size() > u.recent_cap(limits, detector_))
        u.recent.pop_front();

    out.ticket = s.next_ticket++ * kStripes + index;
    s.tickets.emplace(out.ticket, &u);
    u.active.push_back(ActiveCall{out.ticket, call.international, call.day, false, 0});
    return out;
}

void TollGuard::answered(std::uint64_t ticket, std::int64_t now_ms) {
    Stripe& s = *stripes_[ticket % kStripes];
    std::lock_guard lock(s.mu);
    auto it = s.tickets.find(ticket);
    if (it == s.tickets.end()) return;
    for (ActiveCall& c : it->second->active) {
        if (c.ticket != ticket || c.answered) continue;
        c.answered = true;
        c.answered_ms = now_ms;
    }
}

void TollGuard::ended(std::uint64_t ticket, std::int64_t now_ms) {
    Stripe& s = *stripes_[ticket % kStripes];
    std::lock_guard lock(s.mu);
    auto it = s.tickets.find(ticket);
    if (it == s.tickets.end()) return;
    UserState& u = *it->second;
    s.tickets.erase(it);
    auto call = std::find_if(u.active.begin(), u.active.end(),
                             [&](const ActiveCall& c) { return c.ticket == ticket; });
    if (call == u.active.end()) return;
    if (call->international && call->answered)
        u.international_ms[call->day] += std::max<std::int64_t>(0, now_ms - call->answered_ms);
    u.active.erase(call);
}

std::vector<Alert> TollGuard::take_alerts() {
    std::vector<Alert> out;
    std::vector<PendingAlert> handed_out;
    {
        std::lock_guard lock(alerts_mu_);
        out.swap(alerts_);
        handed_out.swap(pending_);
    }
    // alerts_mu_ is released before a stripe is locked (the lock order is stripe, then alerts_mu_). A newer
    // alert of the same user has another seq and stays pending.
    for (const PendingAlert& p : handed_out) {
        Stripe& s = *stripes_[stripe_index(p.user)];
        std::lock_guard lock(s.mu);
        auto it = s.users.find(p.user);
        if (it != s.users.end() && it->second.pending_alert == p.seq) it->second.pending_alert = 0;
    }
    return out;
}

std::size_t TollGuard::active_calls() const {
    std::size_t n = 0;
    for (const auto& s : stripes_) {
        std::lock_guard lock(s->mu);
        n += s->tickets.size();
    }
    return n;
}

}  // namespace sw::security
