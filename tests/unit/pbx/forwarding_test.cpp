#include "pbx/forwarding.hpp"

#include <gtest/gtest.h>

namespace sw::pbx {
namespace {

TEST(ForwardingTest, KindsHaveTheirNamesReasonsAndCauses) {
    for (ForwardKind k :
         {ForwardKind::Always, ForwardKind::Busy, ForwardKind::NoAnswer, ForwardKind::Unavailable})
        EXPECT_EQ(kind_from(kind_name(k)), std::optional<ForwardKind>(k));
    EXPECT_FALSE(kind_from("sometimes"));
    // RFC 5806 Diversion reasons and RFC 4458 / RFC 7044 causes.
    EXPECT_EQ(diversion_reason(ForwardKind::Always), "unconditional");
    EXPECT_EQ(diversion_reason(ForwardKind::Busy), "user-busy");
    EXPECT_EQ(diversion_reason(ForwardKind::NoAnswer), "no-answer");
    EXPECT_EQ(diversion_reason(ForwardKind::Unavailable), "unavailable");
    EXPECT_EQ(history_cause(ForwardKind::Always), 302);
    EXPECT_EQ(history_cause(ForwardKind::Busy), 486);
    EXPECT_EQ(history_cause(ForwardKind::NoAnswer), 408);
    EXPECT_EQ(history_cause(ForwardKind::Unavailable), 480);
}

TEST(ForwardingTest, TargetsAreExtensionsNamesOrNumbers) {
    EXPECT_FALSE(check_target("202"));
    EXPECT_FALSE(check_target("alice.smith"));
    EXPECT_FALSE(check_target("+4930123456"));
    EXPECT_TRUE(check_target(""));
    EXPECT_TRUE(check_target("+"));
    EXPECT_TRUE(check_target("+49-30"));
    EXPECT_TRUE(check_target("sip:202@example.com"));
    EXPECT_TRUE(check_target(std::string(65, '1')));
}

TEST(ForwardingTest, TableHoldsOneRulePerKindAndUser) {
    const ForwardingTable t({{"201", ForwardKind::Busy, "202", 0},
                             {"201", ForwardKind::NoAnswer, "203", 15},
                             {"204", ForwardKind::Always, "205", 0}});
    EXPECT_EQ(t.size(), 2u);
    const ForwardSet* s = t.find("201");
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(s->busy && s->no_answer && !s->always && !s->unavailable);
    EXPECT_EQ(s->get(ForwardKind::NoAnswer)->seconds, 15u);
    EXPECT_EQ(t.find("205"), nullptr);
}

}  // namespace
}  // namespace sw::pbx

TEST(ForwardingTest, KindAfterAFailedCallFollowsTheFinalStatus) {
    using sw::pbx::ForwardKind;
    using sw::pbx::kind_after;
    EXPECT_EQ(kind_after(486, false), ForwardKind::Busy);
    EXPECT_EQ(kind_after(600, false), ForwardKind::Busy);
    for (int s : {408, 480, 503})
        EXPECT_EQ(kind_after(s, false), ForwardKind::Unavailable) << s;
    for (int s : {404, 487, 488, 500, 603})
        EXPECT_FALSE(kind_after(s, false)) << s;
    // The ringing time ran out: no answer, whatever the cancelled phones said last.
    EXPECT_EQ(kind_after(487, true), ForwardKind::NoAnswer);
    EXPECT_EQ(kind_after(486, true), ForwardKind::NoAnswer);
}
