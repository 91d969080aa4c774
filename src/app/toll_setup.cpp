#include "app/toll_setup.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <set>
#include <utility>

#include "common/text.hpp"
#include "storage/sqlite/cdr_store.hpp"

namespace sw::app {

namespace {

// Digits of at most `max`, not empty.
bool digits_up_to(std::string_view s, std::size_t max) {
    return s.size() <= max && sw::all_digits(s);
}

// The country code without a leading + ("+49" and "49" are the same).
std::string country_digits(std::string_view cc) {
    if (cc.starts_with('+')) cc.remove_prefix(1);
    return std::string(cc);
}

std::tm local_time(std::int64_t now_ms) {
    const std::time_t t = static_cast<std::time_t>(now_ms / 1000);
    std::tm tm{};
    localtime_r(&t, &tm);
    return tm;
}

// The local calendar day as a number (changes at local midnight).
std::int64_t local_day(std::int64_t now_ms, const std::tm& local) {
    const std::int64_t s = now_ms / 1000 + local.tm_gmtoff;
    return s >= 0 ? s / 86400 : (s - 86399) / 86400;
}

bool international(const security::Destination& d, const security::NumberingPlan& plan) {
    if (d.cls == security::CallClass::International) return true;
    return !d.country.empty() && !plan.country_code.empty() && d.country != plan.country_code;
}

security::CallLimits limits_of(const storage::RightsRecord& r, const security::CallLimits& defaults) {
    security::CallLimits l = defaults;
    if (r.max_concurrent >= 0) l.max_concurrent = r.max_concurrent;
    if (r.per_minute >= 0) l.per_minute = r.per_minute;
    if (r.per_hour >= 0) l.per_hour = r.per_hour;
    if (r.intl_minutes >= 0) l.international_minutes = r.intl_minutes;
    return l;
}

}  // namespace

sw::Result<bool, std::string> check_toll_options(const TollOptions& o) {
    auto cls = security::parse_class(o.default_class);
    if (!cls || *cls == security::CallClass::Premium)
        return sw::unexpected("default class " + o.default_class +
                              ": internal, local, national or international");
    if (!o.country_code.empty() && !digits_up_to(country_digits(o.country_code), 3))
        return sw::unexpected("country code " + o.country_code + ": 1 to 3 digits, such as 49");
    if (!o.international_prefix.empty() && !digits_up_to(o.international_prefix, 4))
        return sw::unexpected("international prefix " + o.international_prefix + ": digits, such as 00");
    if (!o.national_prefix.empty() && !digits_up_to(o.national_prefix, 4))
        return sw::unexpected("national prefix " + o.national_prefix + ": digits, such as 0");
    for (const auto* list : {&o.high_risk_add, &o.premium_add, &o.high_risk_remove})
        for (const auto& p : *list)
            if (!security::high_risk_prefix(p))
                return sw::unexpected("high-risk prefix " + p +
                                      ": digits of an international number, such as +881");
    std::string why;
    if (!security::BusinessHours::parse(o.business_hours, &why))
        return sw::unexpected("business hours \"" + o.business_hours + "\": " + why);
    return true;
}

TollPolicy::TollPolicy(const TollOptions& o)
    : high_risk_(security::HighRiskList::builtin()),
      default_class_(security::parse_class(o.default_class).value_or(security::CallClass::National)),
      limits_(o.limits),
      guard_(o.limits, o.detector),
      rights_(std::make_shared<const std::map<std::string, security::UserRights, std::less<>>>()) {
    plan_.country_code = country_digits(o.country_code);
    plan_.international_prefix = o.international_prefix;
    plan_.national_prefix = o.national_prefix;
    plan_.emergency = o.emergency;
    for (const auto& p : o.high_risk_remove)
        high_risk_.remove(security::high_risk_prefix(p).value_or(""));
    for (const auto& p : o.high_risk_add)
        high_risk_.add(
            {security::high_risk_prefix(p).value_or(""), false, "configured high-risk destination"});
    for (const auto& p : o.premium_add)
        high_risk_.add({security::high_risk_prefix(p).value_or(""), true, "configured premium rate"});
    rule_.hours = security::BusinessHours::parse(o.business_hours).value_or(security::BusinessHours{});
    rule_.group = o.after_hours_group;
}

void TollPolicy::set_rights(const std::vector<storage::RightsRecord>& rows) {
    auto fresh = std::make_shared<std::map<std::string, security::UserRights, std::less<>>>();
    std::map<std::string, security::CallLimits, std::less<>> limits;
    std::set<std::string, std::less<>> suspended;
    for (const auto& r : rows) {
        security::UserRights u;
        u.max_class = security::parse_class(r.call_class).value_or(default_class_);
        u.premium = r.premium;
        u.allowed_prefixes = r.allowed_prefixes;
        u.groups = r.groups;
        fresh->emplace(r.user, std::move(u));
        if (r.max_concurrent >= 0 || r.per_minute >= 0 || r.per_hour >= 0 || r.intl_minutes >= 0)
            limits.emplace(r.user, limits_of(r, limits_));
        if (r.suspended) suspended.insert(r.user);
    }
    for (const auto& u : unstored_)
        suspended.insert(u.user);
    guard_.set_user_limits(std::move(limits));
    guard_.set_suspended(suspended);
    std::lock_guard lock(mu_);
    rights_ = std::move(fresh);
}

security::UserRights TollPolicy::rights_of(std::string_view user) const {
    std::shared_ptr<const std::map<std::string, security::UserRights, std::less<>>> snapshot;
    {
        std::lock_guard lock(mu_);
        snapshot = rights_;
    }
    if (auto it = snapshot->find(user); it != snapshot->end()) return it->second;
    security::UserRights d;
    d.max_class = default_class_;
    return d;
}

bool TollPolicy::off_hours(const std::tm& local) const {
    if (!rule_.hours.always_open()) return !rule_.hours.open(local);
    return local.tm_hour >= 22 || local.tm_hour < 6;
}

TollDecision judge_outbound(TollPolicy& policy, std::string_view user, std::string_view dialled,
                            const b2bua::DialChoice& first, std::int64_t now_ms) {
    TollDecision d;
    std::optional<security::CallClass> route_class;
    if (!first.route.call_class.empty()) route_class = security::parse_class(first.route.call_class);
    d.destination = security::classify(first.number, route_class, policy.plan(), policy.high_risk());
    // A route that prepends a country code to everything must not make 112 a number like any other.
    const auto& emergency = policy.plan().emergency;
    if (!d.destination.emergency &&
        std::find(emergency.begin(), emergency.end(), dialled) != emergency.end()) {
        d.destination.emergency = true;
        d.destination.cls = security::CallClass::Local;
    }
    const std::tm local = local_time(now_ms);
    const security::RightsVerdict rights =
        security::check_rights(policy.rights_of(user), d.destination, policy.time_rule(), local);
    d.verdict = rights.verdict;
    if (!rights.allowed) {
        d.allowed = false;
        d.reason = rights.reason;
        return d;
    }
    if (d.destination.emergency) return d;  // never counted, never refused
    security::ExternalCall call;
    call.user = std::string(user);
    call.international = international(d.destination, policy.plan());
    call.country = call.international ? d.destination.country : std::string();  // countries abroad only
    call.off_hours = policy.off_hours(local);
    call.time_ms = now_ms;
    call.day = local_day(now_ms, local);
    security::Admission a = policy.guard().admit(call);
    d.allowed = a.allowed;
    d.reason = a.reason;
    d.verdict = a.verdict;
    d.ticket = a.ticket;
    d.max_duration_s = a.max_duration_s;
    return d;
}

std::size_t learn_from_records(TollPolicy& policy, storage::Database& cdr_db, std::int64_t now_ms, int days,
                               const b2bua::DialPlan* plan) {
    storage::SqliteCdrStore store(cdr_db);
    storage::CdrFilter filter;
    filter.since_ms = now_ms - static_cast<std::int64_t>(days) * 86400 * 1000;
    filter.external_only = true;
    auto records = store.query(filter);
    if (!records) {
        spdlog::warn("toll-fraud detector: call records not read ({}); it starts without a history",
                     records.error());
        return 0;
    }
    std::vector<security::PastCall> history;
    for (const auto& r : *records) {
        if (r.direction != "outbound" || r.verdict.starts_with("refused") ||
            r.verdict.starts_with("flagged") || r.caller.empty())
            continue;
        std::string number = r.callee;
        std::optional<security::CallClass> route_class;
        if (plan != nullptr) {
            if (auto choices = plan->match(r.callee); !choices.empty()) {
                number = choices.front().number;
                if (!choices.front().route.call_class.empty())
                    route_class = security::parse_class(choices.front().route.call_class);
            }
        }
        const auto dest = security::classify(number, route_class, policy.plan(), policy.high_risk());
        security::PastCall p;
        p.user = r.caller;
        p.country = international(dest, policy.plan()) ? dest.country : std::string();
        p.off_hours = policy.off_hours(local_time(r.start_ms));
        p.time_ms = r.start_ms;
        history.push_back(std::move(p));
    }
    policy.guard().learn(history);
    return history.size();
}

std::size_t store_alerts(TollPolicy& policy, storage::SqliteRightsStore& store) {
    // Suspensions that did not reach the store last time (the CLI held the write lock): again first.
    auto retry = std::exchange(policy.unstored_, {});
    for (auto& u : retry)
        if (auto done = store.set_suspended(u.user, true, u.reason, u.time_s); !done)
            policy.unstored_.push_back(std::move(u));
    auto alerts = policy.guard().take_alerts();
    for (const auto& a : alerts) {
        spdlog::error(
            "ALERT toll fraud: user {}: {}: {}{}", a.user, a.kind, a.detail,
            a.suspended ? "; external calls suspended until `sipwarden user unsuspend " + a.user + "`" : "");
        storage::FraudEvent e;
        e.time_ms = a.time_ms;
        e.user = a.user;
        e.kind = a.kind;
        e.detail = a.detail;
        e.action = a.suspended ? "suspended" : "alert only";
        if (auto ok = store.add_event(e); !ok) spdlog::warn("toll-fraud event not stored: {}", ok.error());
        if (a.suspended) {
            std::string reason = a.kind + ": " + a.detail;
            auto done = store.set_suspended(a.user, true, reason, a.time_ms / 1000);
            if (!done) {
                // Kept suspended in memory (set_rights) and written again at the next poll.
                spdlog::warn("suspension of {} not stored yet: {}", a.user, done.error());
                policy.unstored_.push_back({a.user, std::move(reason), a.time_ms / 1000});
            }
        }
    }
    return alerts.size();
}

}  // namespace sw::app
