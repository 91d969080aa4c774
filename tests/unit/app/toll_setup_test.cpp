// judge_outbound and the control loop's part of the toll-fraud guard: calling rights from the store's
// rows, the guard's limits and detector, alerts stored as events and suspensions, learning from the
// call records. Real SQLite files; the time is the real clock (the rules that depend on the hour are
// given schedules that do or do not contain "now").
#include "app/toll_setup.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "../storage/temp_dir.hpp"
#include "storage/sqlite/cdr_store.hpp"
#include "storage/sqlite/database.hpp"

namespace sw::app {
namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

b2bua::DialChoice choice(std::string number, std::string cls = "") {
    b2bua::DialChoice c;
    c.route.pattern = "X.";
    c.route.trunk = "prov";
    c.route.call_class = std::move(cls);
    c.number = std::move(number);
    return c;
}

TollOptions options() {
    TollOptions o;
    o.country_code = "49";
    o.history_days = 0;
    return o;
}

storage::RightsRecord row(std::string user, std::string cls) {
    storage::RightsRecord r;
    r.user = std::move(user);
    r.call_class = std::move(cls);
    return r;
}

// A schedule open all week except today's local weekday (so "now" is outside business hours).
std::string hours_without_today() {
    static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    std::string out;
    for (int d = 0; d < 7; ++d)
        if (d != tm.tm_wday && d != (tm.tm_wday + 1) % 7)
            out += (out.empty() ? "" : ", ") + std::string(kDays[d]) + " 00:00-24:00";
    return out;
}

TEST(JudgeOutbound, ClassOfServiceFromTheRowsElseTheDefault) {
    TollPolicy policy(options());
    policy.set_rights({row("202", "internal"), row("203", "international")});
    auto d = judge_outbound(policy, "202", "+49301234567", choice("+49301234567"), now_ms());
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.verdict, "refused: class");
    EXPECT_FALSE(d.reason.empty());
    // 201 has no row: the default class, national.
    d = judge_outbound(policy, "201", "+49301234567", choice("+49301234567"), now_ms());
    EXPECT_TRUE(d.allowed) << d.reason;
    EXPECT_EQ(d.verdict, "allowed");
    EXPECT_NE(d.ticket, 0u);
    d = judge_outbound(policy, "201", "+44201234567", choice("+44201234567"), now_ms());
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.verdict, "refused: class");
    d = judge_outbound(policy, "203", "+44201234567", choice("+44201234567"), now_ms());
    EXPECT_TRUE(d.allowed) << d.reason;
    // A route that says its numbers are international makes them so, whatever they look like.
    d = judge_outbound(policy, "201", "0301234567", choice("0301234567", "international"), now_ms());
    EXPECT_FALSE(d.allowed);
}

TEST(JudgeOutbound, EmergencyNumbersAlwaysGoAndAreNotCounted) {
    TollOptions o = options();
    o.limits.max_concurrent = 1;
    TollPolicy policy(o);
    auto s = row("202", "internal");
    s.suspended = true;
    policy.set_rights({s});
    for (int i = 0; i < 3; ++i) {
        auto d = judge_outbound(policy, "202", "112", choice("112"), now_ms());
        EXPECT_TRUE(d.allowed) << d.reason;
        EXPECT_EQ(d.verdict, "emergency");
        EXPECT_EQ(d.ticket, 0u);
    }
    EXPECT_EQ(policy.guard().active_calls(), 0u);
}

TEST(JudgeOutbound, AnEmergencyNumberAsDialledGoesOutWhateverTheRouteMakesOfIt) {
    TollPolicy policy(options());
    policy.set_rights({row("202", "internal")});
    auto d = judge_outbound(policy, "202", "112", choice("+49112"), now_ms());
    EXPECT_TRUE(d.allowed) << d.reason;
    EXPECT_EQ(d.verdict, "emergency");
}

TEST(JudgeOutbound, ThePremiumRightDoesNotWidenTheClass) {
    TollPolicy policy(options());
    auto national = row("204", "national");
    national.premium = true;
    auto international = row("205", "international");
    international.premium = true;
    policy.set_rights({national, international});
    // A UK premium number from Germany: premium and international.
    auto d = judge_outbound(policy, "204", "+449012345678", choice("+449012345678"), now_ms());
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.verdict, "refused: class");
    EXPECT_TRUE(judge_outbound(policy, "205", "+449012345678", choice("+449012345678"), now_ms()).allowed);
    // A German one is national: the premium right is enough.
    EXPECT_TRUE(judge_outbound(policy, "204", "+499001234567", choice("+499001234567"), now_ms()).allowed);
}

TEST(JudgeOutbound, HighRiskAndPremiumNeedTheirRights) {
    TollPolicy policy(options());
    auto allowed = row("201", "international");
    allowed.allowed_prefixes = {"881"};
    auto premium = row("204", "national");
    premium.premium = true;
    policy.set_rights({allowed, row("203", "international"), premium});
    auto d = judge_outbound(policy, "203", "+8816123456", choice("+8816123456"), now_ms());
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.verdict, "refused: high-risk");
    EXPECT_TRUE(judge_outbound(policy, "201", "+8816123456", choice("+8816123456"), now_ms()).allowed);
    d = judge_outbound(policy, "203", "+499001234567", choice("+499001234567"), now_ms());
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.verdict, "refused: premium");
    EXPECT_TRUE(judge_outbound(policy, "204", "+499001234567", choice("+499001234567"), now_ms()).allowed);
}

TEST(JudgeOutbound, ConfiguredPrefixesJoinAndLeaveTheList) {
    TollOptions o = options();
    o.high_risk_add = {"+4922"};
    o.high_risk_remove = {"53"};
    TollPolicy policy(o);
    policy.set_rights({row("203", "international")});
    EXPECT_EQ(judge_outbound(policy, "203", "+492211234", choice("+492211234"), now_ms()).verdict,
              "refused: high-risk");
    EXPECT_TRUE(judge_outbound(policy, "203", "+5371234567", choice("+5371234567"), now_ms()).allowed);
}

TEST(JudgeOutbound, OutsideBusinessHoursOnlyTheGroup) {
    TollOptions o = options();
    o.business_hours = hours_without_today();
    o.after_hours_group = "night";
    ASSERT_TRUE(check_toll_options(o)) << o.business_hours;
    TollPolicy policy(o);
    auto member = row("203", "");
    member.groups = {"night"};
    policy.set_rights({member});
    auto d = judge_outbound(policy, "201", "+49301234567", choice("+49301234567"), now_ms());
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.verdict, "refused: after hours");
    EXPECT_TRUE(judge_outbound(policy, "203", "+49301234567", choice("+49301234567"), now_ms()).allowed);
}

TEST(JudgeOutbound, PerUserLimitsFromTheRowsAndSuspensions) {
    TollPolicy policy(options());
    auto one = row("205", "");
    one.max_concurrent = 1;
    policy.set_rights({one});
    auto first = judge_outbound(policy, "205", "+49301234567", choice("+49301234567"), now_ms());
    ASSERT_TRUE(first.allowed);
    auto second = judge_outbound(policy, "205", "+49301234568", choice("+49301234568"), now_ms());
    EXPECT_FALSE(second.allowed);
    EXPECT_EQ(second.verdict, "refused: limit concurrent");
    policy.guard().ended(first.ticket, now_ms());
    EXPECT_TRUE(judge_outbound(policy, "205", "+49301234568", choice("+49301234568"), now_ms()).allowed);
    // The store says 205 is suspended; lifted when the rows say so again.
    one.suspended = true;
    policy.set_rights({one});
    EXPECT_EQ(judge_outbound(policy, "205", "+49301234569", choice("+49301234569"), now_ms()).verdict,
              "refused: suspended");
    one.suspended = false;
    policy.set_rights({one});
    EXPECT_NE(judge_outbound(policy, "205", "+49301234569", choice("+49301234569"), now_ms()).verdict,
              "refused: suspended");
}

TEST(TollAlerts, StoredAsEventsWithTheSuspension) {
    storage::test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    auto db = storage::Database::open(dir.file("sipwarden.db"));
    ASSERT_TRUE(db) << db.error();
    storage::SqliteRightsStore store(**db);
    TollOptions o = options();
    o.detector.burst_min = 2;
    o.limits.per_minute = 0;
    TollPolicy policy(o);
    ASSERT_TRUE(store.put(row("206", "international")));
    policy.set_rights({row("206", "international")});
    std::vector<TollDecision> seen;
    for (int i = 0; i < 3; ++i)
        seen.push_back(judge_outbound(policy, "206", "+4420712340", choice("+4420712340" + std::to_string(i)),
                                      now_ms()));
    EXPECT_TRUE(seen[0].allowed && seen[1].allowed);
    EXPECT_FALSE(seen[2].allowed);
    EXPECT_EQ(seen[2].verdict, "refused: suspended");
    EXPECT_EQ(store_alerts(policy, store), 1u);
    EXPECT_EQ(store_alerts(policy, store), 0u) << "each alert is stored once";
    auto events = store.events("206", 0, 0);
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ(events->front().kind, "burst");
    EXPECT_EQ(events->front().action, "suspended");
    auto r = store.find("206");
    ASSERT_TRUE(r && *r);
    EXPECT_TRUE((*r)->suspended);
    EXPECT_NE((*r)->suspended_reason.find("burst"), std::string::npos);
    EXPECT_EQ((*r)->call_class, "international") << "the suspension keeps the rights";
    // The store's rows (read back after another process changed something) keep the user suspended.
    auto rows = store.load_all();
    ASSERT_TRUE(rows);
    policy.set_rights(*rows);
    EXPECT_EQ(judge_outbound(policy, "206", "+49301234567", choice("+49301234567"), now_ms()).verdict,
              "refused: suspended");
}

TEST(TollLearning, TheHistoryRaisesTheBurstThreshold) {
    storage::test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    auto cdr_db = storage::open_cdr_database(dir.file("cdr.db"));
    ASSERT_TRUE(cdr_db) << cdr_db.error();
    storage::SqliteCdrStore cdrs(**cdr_db);
    // A week ago, 206 made four calls to the UK within ten minutes: that is its normal peak.
    const std::int64_t week_ago = now_ms() - 7 * 86400 * 1000LL;
    std::vector<storage::CdrEvent> events;
    for (int i = 0; i < 4; ++i) {
        storage::CdrCall c{"206",           "+44207123400" + std::to_string(i),
                           "0044207123400", storage::CdrDirection::Outbound,
                           "prov",          "udp:127.0.0.1:5062",
                           "phone",         "allowed"};
        events.push_back(storage::CdrEvent::started("c" + std::to_string(i), week_ago + i * 1000, c));
        events.push_back(
            storage::CdrEvent::ended("c" + std::to_string(i), week_ago + i * 1000 + 500, 486, "486"));
    }
    ASSERT_TRUE(cdrs.apply(events));
    TollOptions o = options();
    o.detector.burst_min = 2;
    o.limits.per_minute = 0;
    TollPolicy policy(o);
    policy.set_rights({row("206", "international")});
    EXPECT_EQ(learn_from_records(policy, **cdr_db, now_ms(), 28, nullptr), 4u);
    // Threshold max(2, 5 x 4) = 20: three calls now are normal for this user.
    for (int i = 0; i < 3; ++i) {
        auto d =
            judge_outbound(policy, "206", "+4420712340", choice("+4420712340" + std::to_string(i)), now_ms());
        EXPECT_TRUE(d.allowed) << i << ": " << d.reason;
    }
    EXPECT_TRUE(policy.guard().take_alerts().empty());
}

TEST(TollOptionsCheck, NamesTheBadSetting) {
    TollOptions o = options();
    o.default_class = "premium";
    EXPECT_FALSE(check_toll_options(o));
    o = options();
    o.country_code = "4x";
    EXPECT_FALSE(check_toll_options(o));
    o = options();
    o.business_hours = "Mon-Fru 08:00-18:00";
    auto r = check_toll_options(o);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("business hours"), std::string::npos);
    o = options();
    o.high_risk_add = {"+88a"};
    EXPECT_FALSE(check_toll_options(o));
    EXPECT_TRUE(check_toll_options(options()));
}

}  // namespace
}  // namespace sw::app
