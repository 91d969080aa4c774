// BanList and AccessList: bans with expiry, allow/deny networks, the size bound, and the hand-over to and
// from the store.
#include "security/ban_list.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace sw::security {
namespace {

constexpr SipKey kKey{42, 4242};

AddressKey addr(const char* text) {
    auto a = AddressKey::from_text(text);
    EXPECT_TRUE(a) << text;
    return a.value_or(AddressKey{});
}

std::shared_ptr<const AccessList> acl(const std::vector<AclRecord>& records) {
    std::vector<std::string> bad;
    auto list = std::make_shared<AccessList>(AccessList::from_records(records, &bad));
    EXPECT_TRUE(bad.empty());
    return list;
}

TEST(BanList, ABanHoldsUntilItsExpiry) {
    BanList bans(kKey);
    const auto a = addr("192.0.2.7");
    EXPECT_EQ(bans.check(a, 1000), Verdict::Allowed);
    ASSERT_TRUE(bans.ban(a, 1060, "auth failures", 1000));
    EXPECT_TRUE(bans.banned(a, 1000));
    EXPECT_EQ(bans.check(a, 1059), Verdict::Banned);
    EXPECT_EQ(bans.check(a, 1060), Verdict::Allowed);
    EXPECT_FALSE(bans.banned(a, 1060));
    // The mapped form of the same peer is banned too; a neighbour is not.
    EXPECT_TRUE(bans.banned(addr("::ffff:192.0.2.7"), 1001));
    EXPECT_FALSE(bans.banned(addr("192.0.2.8"), 1001));
    EXPECT_EQ(bans.size(), 1u);
    EXPECT_EQ(bans.prune(1059), 0u);
    EXPECT_EQ(bans.prune(1060), 1u);
    EXPECT_EQ(bans.size(), 0u);
    EXPECT_FALSE(bans.find(a));
}

TEST(BanList, BanningAgainExtendsNeverShortensAndCounts) {
    BanList bans(kKey);
    const auto a = addr("2001:db8::5");
    ASSERT_TRUE(bans.ban(a, 2000, "scanner", 1000));
    ASSERT_TRUE(bans.ban(a, 1500, "flood", 1100));
    auto r = bans.find(a);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->until, 2000);
    EXPECT_EQ(r->count, 2u);
    EXPECT_EQ(r->reason, "flood");
    EXPECT_EQ(r->created, 1000);
    EXPECT_EQ(r->address, "2001:db8::5");
    ASSERT_TRUE(bans.ban(a, 3000, "flood", 1200));
    EXPECT_EQ(bans.find(a)->until, 3000);
    // After it ended, a new ban starts from its own end.
    ASSERT_TRUE(bans.ban(a, 3100, "again", 3050));
    EXPECT_EQ(bans.find(a)->until, 3100);
    EXPECT_EQ(bans.find(a)->count, 4u);
    EXPECT_FALSE(bans.ban(a, 3050, "ends now", 3050));
    EXPECT_EQ(bans.find(a)->until, 3100);
}

TEST(BanList, UnbanLiftsOnlyThatAddress) {
    BanList bans(kKey);
    ASSERT_TRUE(bans.ban(addr("192.0.2.1"), 100, "x", 0));
    ASSERT_TRUE(bans.ban(addr("192.0.2.2"), 100, "x", 0));
    EXPECT_TRUE(bans.unban(addr("192.0.2.1")));
    EXPECT_FALSE(bans.unban(addr("192.0.2.1")));
    EXPECT_FALSE(bans.banned(addr("192.0.2.1"), 10));
    EXPECT_TRUE(bans.banned(addr("192.0.2.2"), 10));
}

TEST(BanList, AllowNetworksAreExemptDenyNetworksDenied) {
    BanList bans(kKey);
    ASSERT_TRUE(bans.ban(addr("10.1.2.3"), 100, "before the allow entry", 0));
    bans.set_access_list(acl({{"10.0.0.0/8", AclKind::Allow, ""},
                              {"192.0.2.0/24", AclKind::Deny, ""},
                              {"2001:db8:bad::/48", AclKind::Deny, ""}}));
    EXPECT_EQ(bans.check(addr("10.1.2.3"), 10), Verdict::Exempt);  // the old ban has no effect
    EXPECT_EQ(bans.check(addr("::ffff:10.9.9.9"), 10), Verdict::Exempt);
    EXPECT_EQ(bans.check(addr("192.0.2.200"), 10), Verdict::Denied);
    EXPECT_EQ(bans.check(addr("2001:db8:bad::1"), 10), Verdict::Denied);
    EXPECT_EQ(bans.check(addr("2001:db8:900d::1"), 10), Verdict::Allowed);
    EXPECT_EQ(bans.check(addr("198.51.100.1"), 10), Verdict::Allowed);
    // Exempt addresses are never banned.
    EXPECT_FALSE(bans.ban(addr("10.5.5.5"), 100, "flood", 0));
    EXPECT_FALSE(bans.find(addr("10.5.5.5")));
    ASSERT_TRUE(bans.ban(addr("198.51.100.1"), 100, "flood", 0));
    EXPECT_EQ(bans.check(addr("198.51.100.1"), 10), Verdict::Banned);
    // A denied address stays Denied whether banned or not.
    ASSERT_TRUE(bans.ban(addr("192.0.2.200"), 100, "flood", 0));
    EXPECT_EQ(bans.check(addr("192.0.2.200"), 10), Verdict::Denied);
    // Taking the list away lifts it.
    bans.set_access_list(nullptr);
    EXPECT_EQ(bans.check(addr("10.1.2.3"), 10), Verdict::Banned);
    EXPECT_EQ(bans.check(addr("10.9.9.9"), 10), Verdict::Allowed);
}

TEST(AccessList, AllowWinsOverDenySoAnAllowListCanBeWritten) {
    const auto list = acl({{"0.0.0.0/0", AclKind::Deny, ""},
                           {"::/0", AclKind::Deny, ""},
                           {"203.0.113.0/24", AclKind::Allow, ""}});
    EXPECT_TRUE(list->exempt(addr("203.0.113.9")));
    EXPECT_FALSE(list->exempt(addr("203.0.114.9")));
    EXPECT_TRUE(list->denied(addr("203.0.114.9")));
    EXPECT_TRUE(list->denied(addr("2001:db8::1")));
    BanList bans(kKey);
    bans.set_access_list(list);
    EXPECT_EQ(bans.check(addr("203.0.113.9"), 0), Verdict::Exempt);
    EXPECT_EQ(bans.check(addr("8.8.8.8"), 0), Verdict::Denied);
}

TEST(AccessList, PerUserNetworks) {
    const auto list = acl({{"10.0.0.0/8", AclKind::Allow, "201"},
                           {"2001:db8::/32", AclKind::Allow, "201"},
                           {"192.0.2.0/24", AclKind::Deny, "203"}});
    EXPECT_TRUE(list->user_allowed("201", addr("10.20.30.40")));
    EXPECT_TRUE(list->user_allowed("201", addr("2001:db8::99")));
    EXPECT_FALSE(list->user_allowed("201", addr("192.0.2.1")));
    EXPECT_TRUE(list->user_allowed("202", addr("192.0.2.1")));  // no rules: anywhere
    EXPECT_FALSE(list->user_allowed("203", addr("192.0.2.1")));
    EXPECT_TRUE(list->user_allowed("203", addr("198.51.100.1")));
    // Per-user entries say nothing about the global verdict.
    EXPECT_FALSE(list->exempt(addr("10.20.30.40")));
    EXPECT_FALSE(list->denied(addr("192.0.2.1")));
    BanList bans(kKey);
    EXPECT_TRUE(bans.user_allowed("201", addr("192.0.2.1")));  // no list yet
    bans.set_access_list(list);
    EXPECT_FALSE(bans.user_allowed("201", addr("192.0.2.1")));
    EXPECT_TRUE(bans.user_allowed("201", addr("10.0.0.1")));
}

TEST(AccessList, ExtraExemptNetworksAndBadRows) {
    std::vector<std::string> bad;
    auto list = AccessList::from_records(
        {{"10.0.0.0/33", AclKind::Allow, ""}, {"nonsense", AclKind::Deny, ""}}, &bad);
    EXPECT_EQ(bad, (std::vector<std::string>{"10.0.0.0/33", "nonsense"}));
    EXPECT_TRUE(list.empty());
    list.add_exempt(*sw::Cidr::parse("127.0.0.3/32"));  // a trunk's address
    EXPECT_TRUE(list.exempt(addr("127.0.0.3")));
    EXPECT_FALSE(list.exempt(addr("127.0.0.4")));
}

TEST(BanList, AFullListDropsTheBanNearestToExpiry) {
    BanList bans(kKey, 3);
    ASSERT_TRUE(bans.ban(addr("192.0.2.1"), 300, "a", 0));
    ASSERT_TRUE(bans.ban(addr("192.0.2.2"), 100, "b", 0));
    ASSERT_TRUE(bans.ban(addr("192.0.2.3"), 200, "c", 0));
    (void)bans.take_writes();
    ASSERT_TRUE(bans.ban(addr("192.0.2.4"), 400, "d", 0));
    EXPECT_EQ(bans.size(), 3u);
    EXPECT_FALSE(bans.find(addr("192.0.2.2")));
    EXPECT_TRUE(bans.find(addr("192.0.2.1")));
    EXPECT_TRUE(bans.find(addr("192.0.2.3")));
    EXPECT_TRUE(bans.find(addr("192.0.2.4")));
    // Extending a ban does not take a place.
    ASSERT_TRUE(bans.ban(addr("192.0.2.3"), 500, "c", 0));
    EXPECT_EQ(bans.size(), 3u);
    EXPECT_TRUE(bans.find(addr("192.0.2.1")));
    // The store is told to drop the dropped one.
    const auto w = bans.take_writes();
    EXPECT_EQ(w.removals, std::vector<std::string>{"192.0.2.2"});
    ASSERT_EQ(w.upserts.size(), 2u);
    EXPECT_EQ(w.upserts[0].address, "192.0.2.3");
    EXPECT_EQ(w.upserts[1].address, "192.0.2.4");
}

TEST(BanList, LoadReplacesEverythingAndLeavesNothingPending) {
    BanList bans(kKey, 2);
    ASSERT_TRUE(bans.ban(addr("198.51.100.9"), 500, "old", 0));
    const auto before = bans.change_count();
    bans.load({{"192.0.2.1", 50, "expired", 0, 1},
               {"not an address", 500, "bad", 0, 1},
               {"192.0.2.2", 300, "kept", 10, 3},
               {"::ffff:192.0.2.3", 400, "kept", 10, 1},
               {"192.0.2.4", 200, "left out: nearest to expiry", 10, 1}},
              100);
    EXPECT_EQ(bans.change_count(), before);
    EXPECT_EQ(bans.size(), 2u);
    EXPECT_FALSE(bans.find(addr("198.51.100.9")));
    EXPECT_FALSE(bans.banned(addr("192.0.2.1"), 100));
    EXPECT_FALSE(bans.banned(addr("192.0.2.4"), 100));
    EXPECT_TRUE(bans.banned(addr("192.0.2.3"), 100));
    const auto snap = bans.snapshot();
    ASSERT_EQ(snap.size(), 2u);
    EXPECT_EQ(snap[0], (BanRecord{"192.0.2.2", 300, "kept", 10, 3}));
    EXPECT_EQ(snap[1], (BanRecord{"192.0.2.3", 400, "kept", 10, 1}));
    EXPECT_TRUE(bans.take_writes().empty());
}

TEST(BanList, TakeWritesHandsOverEachChangeOnce) {
    BanList bans(kKey);
    const auto c0 = bans.change_count();
    ASSERT_TRUE(bans.ban(addr("192.0.2.1"), 100, "scanner", 0));
    ASSERT_TRUE(bans.ban(addr("192.0.2.2"), 100, "scanner", 0));
    EXPECT_GT(bans.change_count(), c0);
    auto w = bans.take_writes();
    ASSERT_EQ(w.upserts.size(), 2u);
    EXPECT_EQ(w.upserts[0], (BanRecord{"192.0.2.1", 100, "scanner", 0, 1}));
    EXPECT_TRUE(w.removals.empty());
    EXPECT_TRUE(bans.take_writes().empty());

    const auto c1 = bans.change_count();
    ASSERT_TRUE(bans.unban(addr("192.0.2.1")));
    EXPECT_GT(bans.change_count(), c1);
    w = bans.take_writes();
    EXPECT_TRUE(w.upserts.empty());
    EXPECT_EQ(w.removals, std::vector<std::string>{"192.0.2.1"});

    // A failed write is put back and handed over again.
    ASSERT_TRUE(bans.ban(addr("192.0.2.3"), 100, "flood", 0));
    ASSERT_TRUE(bans.unban(addr("192.0.2.2")));
    w = bans.take_writes();
    ASSERT_FALSE(w.empty());
    const auto c2 = bans.change_count();
    bans.retry(w);
    EXPECT_GT(bans.change_count(), c2);
    const auto again = bans.take_writes();
    ASSERT_EQ(again.upserts.size(), 1u);
    EXPECT_EQ(again.upserts[0].address, "192.0.2.3");
    EXPECT_EQ(again.removals, std::vector<std::string>{"192.0.2.2"});
}

TEST(BanList, MergeTakesTheStoresChangesWithoutLosingOurs) {
    BanList bans(kKey);
    bans.load({{"192.0.2.1", 1000, "stored", 0, 1}, {"192.0.2.2", 1000, "stored", 0, 1}}, 0);
    ASSERT_TRUE(bans.ban(addr("192.0.2.9"), 1000, "made here, not written yet", 0));
    ASSERT_TRUE(bans.unban(addr("192.0.2.2")));  // removed here, still in the store
    // Meanwhile `sipwarden ban` removed .1, added .3 and changed nothing else.
    bans.merge({{"192.0.2.2", 1000, "stored", 0, 1}, {"192.0.2.3", 2000, "manual", 5, 1}}, 10);
    EXPECT_FALSE(bans.banned(addr("192.0.2.1"), 10)) << "removed in the store";
    EXPECT_FALSE(bans.banned(addr("192.0.2.2"), 10)) << "removed here: stays removed";
    EXPECT_TRUE(bans.banned(addr("192.0.2.3"), 10)) << "added in the store";
    EXPECT_TRUE(bans.banned(addr("192.0.2.9"), 10)) << "made here";
    EXPECT_EQ(bans.find(addr("192.0.2.3"))->reason, "manual");
    const auto w = bans.take_writes();
    ASSERT_EQ(w.upserts.size(), 1u);
    EXPECT_EQ(w.upserts[0].address, "192.0.2.9");
    EXPECT_EQ(w.removals, std::vector<std::string>{"192.0.2.2"});
    // Once written, a ban missing from the store was removed there.
    bans.merge({{"192.0.2.3", 3000, "extended by hand", 5, 2}}, 20);
    EXPECT_FALSE(bans.banned(addr("192.0.2.9"), 20));
    EXPECT_EQ(bans.find(addr("192.0.2.3"))->until, 3000);
    EXPECT_EQ(bans.size(), 1u);
}

TEST(BanList, ChecksRunWhileAnotherThreadBans) {
    auto key_of = [](std::uint32_t i) {
        return AddressKey::from_v4({10, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)});
    };
    constexpr std::uint32_t kBans = 20000;
    BanList bans(kKey, 100000);
    std::atomic<bool> stop{false};
    std::vector<std::thread> readers;
    std::atomic<std::uint64_t> wrong{0};
    for (int t = 0; t < 3; ++t) {
        readers.emplace_back([&] {
            std::uint32_t i = 0;
            while (!stop.load()) {
                // Never banned: a reader must never see these as banned while the writer works.
                if (bans.check(AddressKey::from_v4({172, 16, 0, static_cast<std::uint8_t>(i)}), 0) !=
                    Verdict::Allowed)
                    wrong.fetch_add(1);
                (void)bans.check(key_of(i % kBans), 0);
                ++i;
            }
        });
    }
    for (std::uint32_t i = 0; i < kBans; ++i)
        ASSERT_TRUE(bans.ban(key_of(i), 100, "flood", 0));
    stop.store(true);
    for (auto& r : readers)
        r.join();
    EXPECT_EQ(wrong.load(), 0u);
    EXPECT_EQ(bans.size(), kBans);
    for (std::uint32_t i = 0; i < kBans; ++i)
        ASSERT_TRUE(bans.banned(key_of(i), 0)) << i;
}

}  // namespace
}  // namespace sw::security
