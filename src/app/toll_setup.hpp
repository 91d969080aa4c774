// The toll-fraud guard as the server runs it (issue 7 parts 4-5): the settings of `run`, the policy the
// workers share (numbering plan, high-risk list, time rule, every user's rights, the TollGuard), the
// judgement of one outbound call, and the control loop's part (learning from the call records, storing
// alerts and suspensions).
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "b2bua/dial_plan.hpp"
#include "common/result.hpp"
#include "security/calling_rights.hpp"
#include "security/toll_guard.hpp"
#include "storage/sqlite/rights_store.hpp"

namespace sw::storage {
class Database;
}

namespace sw::app {

// `run` settings ([calling], [limits] and [detector] in the config file; some also as flags).
struct TollOptions {
    std::string default_class = "national";  // of users without a class of their own
    std::string country_code;                // ours, e.g. "49"; empty: unknown
    std::string international_prefix = "00";
    std::string national_prefix = "0";
    std::vector<std::string> emergency{"112", "911", "999", "110", "000", "118", "119"};
    std::vector<std::string> high_risk_add;     // more fraud prefixes ("+881", "53")
    std::vector<std::string> premium_add;       // more premium-rate prefixes
    std::vector<std::string> high_risk_remove;  // built-in entries to drop
    std::string business_hours;                 // "Mon-Fri 08:00-18:00"; empty: no schedule
    std::string after_hours_group;              // outside business hours only this group calls out
    security::CallLimits limits;
    security::DetectorConfig detector;
    int history_days = 28;  // call records the detector learns from at start
};

// Checks the settings; the error names the one at fault.
sw::Result<bool, std::string> check_toll_options(const TollOptions& o);

// What the workers share. Thread-safe: the rights snapshot is swapped under a mutex by the control loop
// and copied out by the workers; the rest is immutable or thread-safe itself (TollGuard).
class TollPolicy {
public:
    explicit TollPolicy(const TollOptions& o);

    const security::NumberingPlan& plan() const { return plan_; }
    const security::HighRiskList& high_risk() const { return high_risk_; }
    const security::TimeRule& time_rule() const { return rule_; }
    security::TollGuard& guard() { return guard_; }

    // From the store's rows (control loop): rights, per-user limits and suspensions. Suspensions the
    // detector made and the store did not take yet (a failed write, retried) are kept.
    void set_rights(const std::vector<storage::RightsRecord>& rows);
    security::UserRights rights_of(std::string_view user) const;
    // Outside business hours, or at night (22:00-06:00) when there is no schedule: for the detector.
    bool off_hours(const std::tm& local) const;

private:
    security::NumberingPlan plan_;
    security::HighRiskList high_risk_;
    security::TimeRule rule_;
    security::CallClass default_class_;
    security::CallLimits limits_;
    security::TollGuard guard_;
    struct Unstored {
        std::string user;
        std::string reason;
        std::int64_t time_s = 0;
    };
    std::vector<Unstored> unstored_;  // control loop only: suspensions whose write failed, retried
    friend std::size_t store_alerts(TollPolicy& policy, storage::SqliteRightsStore& store);
    mutable std::mutex mu_;
    std::shared_ptr<const std::map<std::string, security::UserRights, std::less<>>> rights_;
};

struct TollDecision {
    bool allowed = true;
    std::string reason;                 // when refused: the 403's Reason text
    std::string verdict;                // for the CDR
    std::uint64_t ticket = 0;           // TollGuard ticket when allowed and counted (0: not counted)
    std::int64_t max_duration_s = -1;   // the call's budget (international minutes), -1: none
    security::Destination destination;  // points into the policy's high-risk list
};

// Judges the outbound call of `user` to `first` (the dial plan's best route and the number it sends)
// at `now_ms`: calling rights first (class, premium, high-risk list, time rule), then the TollGuard's
// suspension, limits and detector. Emergency numbers are always allowed and not counted.
// `dialled` is the number as the user dialled it (normalized): an emergency number is one as dialled or
// as sent.
TollDecision judge_outbound(TollPolicy& policy, std::string_view user, std::string_view dialled,
                            const b2bua::DialChoice& first, std::int64_t now_ms);

// The detector learns the last `days` of outbound calls from the call records (at start, before the
// CdrWriter has anything to write). Each record's number goes through `plan` (when given) as a call
// would, so that history and live calls have the same countries. Refused and flagged calls teach
// nothing. Returns how many calls it learned from.
std::size_t learn_from_records(TollPolicy& policy, storage::Database& cdr_db, std::int64_t now_ms, int days,
                               const b2bua::DialPlan* plan);

// Alerts raised by the workers: logged (once each), stored as fraud events, and their suspensions
// written to calling_rights (control loop). Returns how many.
std::size_t store_alerts(TollPolicy& policy, storage::SqliteRightsStore& store);

}  // namespace sw::app
