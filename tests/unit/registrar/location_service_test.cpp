#include "registrar/location_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

using sw::registrar::aor_user;
using sw::registrar::Binding;
using sw::registrar::LocationService;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;

Binding binding(std::string aor, std::string contact, std::int64_t expires_at, int q = 1000) {
    Binding b;
    b.aor = std::move(aor);
    b.contact = std::move(contact);
    b.expires_at = expires_at;
    b.q = q;
    return b;
}

void add(LocationService& ls, const Binding& b) {
    ls.update(b.aor, [&](std::vector<Binding>& v) { v.push_back(b); });
}

std::vector<std::string> contacts(const std::vector<Binding>& bindings) {
    std::vector<std::string> out;
    for (const auto& b : bindings)
        out.push_back(b.contact);
    return out;
}

std::vector<std::string> sorted_contacts(const std::vector<Binding>& bindings) {
    auto out = contacts(bindings);
    std::sort(out.begin(), out.end());
    return out;
}

using Strings = std::vector<std::string>;

TEST(AorUser, IsThePartBeforeTheLastAt) {
    EXPECT_EQ(aor_user("201@example.com"), "201");
    EXPECT_EQ(aor_user("a@b@example.com"), "a@b");
    EXPECT_EQ(aor_user("nodomain"), "nodomain");
    EXPECT_EQ(aor_user("@example.com"), "");
}

TEST(LocationService, LookupSkipsExpiredAndSortsByQDescending) {
    LocationService ls;
    add(ls, binding("alice@example.com", "sip:low@192.0.2.1", kNow + 100, 100));
    add(ls, binding("alice@example.com", "sip:expired@192.0.2.2", kNow - 1, 1000));
    add(ls, binding("alice@example.com", "sip:top@192.0.2.3", kNow + 100, 1000));
    add(ls,
        binding("alice@example.com", "sip:just-expired@192.0.2.4", kNow, 900));  // expires_at == now: gone
    add(ls, binding("alice@example.com", "sip:mid-a@192.0.2.5", kNow + 1, 500));
    add(ls, binding("alice@example.com", "sip:mid-b@192.0.2.6", kNow + 100, 500));
    add(ls, binding("bob@example.com", "sip:bob@192.0.2.7", kNow + 100, 1000));

    // Equal q keeps the order of registration.
    EXPECT_EQ(
        contacts(ls.lookup("alice@example.com", kNow)),
        (Strings{"sip:top@192.0.2.3", "sip:mid-a@192.0.2.5", "sip:mid-b@192.0.2.6", "sip:low@192.0.2.1"}));
    EXPECT_EQ(contacts(ls.lookup("alice@example.com", kNow + 1)),
              (Strings{"sip:top@192.0.2.3", "sip:mid-b@192.0.2.6", "sip:low@192.0.2.1"}));
    EXPECT_TRUE(ls.lookup("alice@example.com", kNow + 100).empty());
    EXPECT_TRUE(ls.lookup("carol@example.com", kNow).empty());
    // lookup does not remove anything.
    EXPECT_EQ(ls.size(), 7u);
    EXPECT_EQ(ls.all().size(), 7u);
}

TEST(LocationService, UpdateLeavingNoBindingRemovesTheAor) {
    LocationService ls;
    add(ls, binding("alice@example.com", "sip:a@192.0.2.1", kNow + 100));
    ls.update("alice@example.com", [](std::vector<Binding>& v) {
        ASSERT_EQ(v.size(), 1u);
        v.clear();
    });
    EXPECT_EQ(ls.size(), 0u);
    // Visiting an unknown AOR without adding anything creates nothing.
    bool called = false;
    ls.update("nobody@example.com", [&](std::vector<Binding>& v) {
        called = true;
        EXPECT_TRUE(v.empty());
    });
    EXPECT_TRUE(called);
    EXPECT_EQ(ls.size(), 0u);
    EXPECT_TRUE(ls.all().empty());
}

TEST(LocationService, RemoveExpiredReturnsExactlyTheExpiredOnes) {
    LocationService ls(4);
    add(ls, binding("alice@example.com", "sip:a1@192.0.2.1", kNow - 10));
    add(ls, binding("alice@example.com", "sip:a2@192.0.2.1", kNow + 10));
    add(ls, binding("alice@example.com", "sip:a3@192.0.2.1", kNow));    // at now: expired
    add(ls, binding("bob@example.com", "sip:b1@192.0.2.2", kNow - 1));  // bob's only binding
    add(ls, binding("carol@example.com", "sip:c1@192.0.2.3", kNow + 1));

    auto removed = ls.remove_expired(kNow);
    EXPECT_EQ(sorted_contacts(removed),
              (Strings{"sip:a1@192.0.2.1", "sip:a3@192.0.2.1", "sip:b1@192.0.2.2"}));
    for (const auto& b : removed)
        EXPECT_LE(b.expires_at, kNow);
    EXPECT_EQ(sorted_contacts(ls.all()), (Strings{"sip:a2@192.0.2.1", "sip:c1@192.0.2.3"}));
    EXPECT_EQ(ls.size(), 2u);
    EXPECT_TRUE(ls.lookup("bob@example.com", kNow - 100).empty());  // the AOR went with its last binding

    EXPECT_TRUE(ls.remove_expired(kNow).empty());
    EXPECT_EQ(sorted_contacts(ls.remove_expired(kNow + 10)),
              (Strings{"sip:a2@192.0.2.1", "sip:c1@192.0.2.3"}));
    EXPECT_EQ(ls.size(), 0u);
}

TEST(LocationService, RemoveIfUserDropsEveryBindingOfTheRefusedUsers) {
    LocationService ls;
    add(ls, binding("alice@example.com", "sip:a1@192.0.2.1", kNow + 100));
    add(ls, binding("alice@example.com", "sip:a2@192.0.2.1", kNow + 100));
    add(ls, binding("alice@example.org", "sip:a3@192.0.2.1", kNow + 100));
    add(ls, binding("bob@example.com", "sip:b1@192.0.2.2", kNow + 100));
    add(ls, binding("carol@example.com", "sip:c1@192.0.2.3", kNow + 100));

    std::vector<std::string> asked;
    auto removed = ls.remove_if_user([&](std::string_view user) {
        asked.emplace_back(user);
        return user == "alice" || user == "carol";
    });
    EXPECT_EQ(sorted_contacts(removed),
              (Strings{"sip:a1@192.0.2.1", "sip:a2@192.0.2.1", "sip:a3@192.0.2.1", "sip:c1@192.0.2.3"}));
    for (const auto& b : removed)
        EXPECT_FALSE(b.aor.empty());
    std::sort(asked.begin(), asked.end());
    EXPECT_EQ(asked, (Strings{"alice", "alice", "bob", "carol"}));  // once per AOR
    EXPECT_EQ(contacts(ls.all()), Strings{"sip:b1@192.0.2.2"});
    EXPECT_TRUE(ls.remove_if_user([](std::string_view) { return false; }).empty());
    EXPECT_EQ(ls.size(), 1u);
}

TEST(LocationService, RestoreSkipsExpiredBindings) {
    LocationService ls;
    std::vector<Binding> stored{
        binding("alice@example.com", "sip:a1@192.0.2.1", kNow + 100, 300),
        binding("alice@example.com", "sip:a2@192.0.2.1", kNow - 100),
        binding("alice@example.com", "sip:a3@192.0.2.1", kNow + 50, 800),
        binding("bob@example.com", "sip:b1@192.0.2.2", kNow),
        binding("carol@example.com", "sip:c1@192.0.2.3", kNow + 1),
    };
    ls.restore(stored, kNow);
    EXPECT_EQ(ls.size(), 3u);
    EXPECT_EQ(contacts(ls.lookup("alice@example.com", kNow)),
              (Strings{"sip:a3@192.0.2.1", "sip:a1@192.0.2.1"}));
    EXPECT_TRUE(ls.lookup("bob@example.com", kNow - 10).empty());
    EXPECT_EQ(contacts(ls.lookup("carol@example.com", kNow)), Strings{"sip:c1@192.0.2.3"});
    // Restored bindings are ordinary ones: update sees them.
    ls.update("alice@example.com", [](std::vector<Binding>& v) { EXPECT_EQ(v.size(), 2u); });
}

TEST(LocationService, ConcurrentUpdatesLoseNothing) {
    constexpr int kThreads = 4;
    constexpr int kAors = 1000;
    constexpr int kRounds = 5;
    LocationService ls(8);  // few shards: threads meet on the same locks often
    auto aor = [](int i) { return "user" + std::to_string(i) + "@example.com"; };

    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < kRounds; ++round) {
                // Each thread walks the AORs from a different start, so they collide on the same AORs.
                for (int k = 0; k < kAors; ++k) {
                    const int i = (k + t * kAors / kThreads) % kAors;
                    const std::string key = aor(i);
                    ls.update(key, [&](std::vector<Binding>& v) {
                        // Shared counter binding: a read-modify-write that must not lose increments.
                        auto it = std::find_if(v.begin(), v.end(),
                                               [](const Binding& b) { return b.contact == "counter"; });
                        if (it == v.end()) it = v.insert(v.end(), binding(key, "counter", kNow + 3600));
                        ++it->cseq;
                        // This thread's own binding, added once.
                        const std::string mine = "sip:t" + std::to_string(t) + "@192.0.2.1";
                        if (std::none_of(v.begin(), v.end(),
                                         [&](const Binding& b) { return b.contact == mine; })) {
                            v.push_back(binding(key, mine, kNow + 3600, 100 * (t + 1)));
                        }
                    });
                    if (k % 97 == 0) {  // readers meanwhile
                        (void)ls.lookup(key, kNow);
                        (void)ls.size();
                    }
                }
            }
        });
    }
    for (auto& th : threads)
        th.join();

    EXPECT_EQ(ls.size(), static_cast<std::size_t>(kAors * (kThreads + 1)));
    for (int i = 0; i < kAors; ++i) {
        auto v = ls.lookup(aor(i), kNow);
        ASSERT_EQ(v.size(), static_cast<std::size_t>(kThreads + 1)) << aor(i);
        auto counter =
            std::find_if(v.begin(), v.end(), [](const Binding& b) { return b.contact == "counter"; });
        ASSERT_NE(counter, v.end());
        EXPECT_EQ(counter->cseq, static_cast<std::uint32_t>(kThreads * kRounds)) << aor(i);
    }
}

}  // namespace

namespace {

bool same(const Binding& a, const Binding& b) {
    return a.aor == b.aor && a.contact == b.contact && a.call_id == b.call_id && a.cseq == b.cseq &&
           a.q == b.q && a.expires_at == b.expires_at && a.registered_at == b.registered_at &&
           a.path == b.path && a.source == b.source && a.connection == b.connection &&
           a.user_agent == b.user_agent && a.instance == b.instance;
}

}  // namespace

// The packed form keeps every field exactly: empty strings, long ones, bytes that are not text, the
// extremes of the numbers.
TEST(LocationService, EveryFieldComesBackAsStored) {
    LocationService ls;
    Binding full = binding("alice@example.com", "sip:alice@192.0.2.1:5060;transport=tcp;ob", kNow + 3600, 0);
    full.call_id = "a84b4c76e66710@pc33.example.com";
    full.cseq = 0xffffffffu;
    full.registered_at = -1;
    full.path = "<sip:edge1.example.net;lr>,<sip:edge2.example.net;lr>" + std::string(70000, 'p');
    full.source = "tcp:[2001:db8::1]:40001";
    full.connection = 0xfedcba9876543210ull;
    full.user_agent = std::string("UA\0with\xffnul", 12);
    full.instance = "\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"";
    Binding bare = binding("alice@example.com", "sip:b", kNow + 10, 1000);  // every string else empty
    add(ls, full);
    add(ls, bare);
    auto got = ls.lookup("alice@example.com", kNow);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_TRUE(same(got[0], bare));  // q 1000 first
    EXPECT_TRUE(same(got[1], full));
    // update() hands the same values to the registrar, and what it changes is kept.
    ls.update("alice@example.com", [&](std::vector<Binding>& v) {
        ASSERT_EQ(v.size(), 2u);
        EXPECT_TRUE(same(v[0], full));
        EXPECT_TRUE(same(v[1], bare));
        v[1].user_agent = "changed";
    });
    bare.user_agent = "changed";
    EXPECT_TRUE(same(ls.lookup("alice@example.com", kNow)[0], bare));
    EXPECT_EQ(ls.aor_count(), 1u);
}

// The periodic sweep visits a slice of the shards per call and every shard in turn.
TEST(LocationService, SweepVisitsEveryShardInTurn) {
    LocationService ls(8);
    for (int i = 0; i < 200; ++i)
        add(ls, binding("u" + std::to_string(i) + "@example.com", "sip:x", kNow + (i % 2 ? 100 : -1)));
    EXPECT_EQ(ls.size(), 200u);
    std::size_t removed = 0;
    std::size_t first = ls.sweep_expired(kNow, 2).size();  // 2 of 8 shards: some, not all
    EXPECT_GT(first, 0u);
    EXPECT_LT(first, 100u);
    removed += first;
    for (int k = 0; k < 3; ++k)
        removed += ls.sweep_expired(kNow, 2).size();
    EXPECT_EQ(removed, 100u);  // four calls of two shards: all eight shards once
    EXPECT_EQ(ls.size(), 100u);
    EXPECT_TRUE(ls.sweep_expired(kNow, 8).empty());
    // A slice larger than the shards is one full pass.
    EXPECT_EQ(ls.sweep_expired(kNow + 100, 1000).size(), 100u);
    EXPECT_EQ(ls.aor_count(), 0u);
}

// Restored one at a time, the bindings of one AOR end up together.
TEST(LocationService, RestoreOneGroupsTheBindingsOfAnAor) {
    LocationService ls;
    ls.restore_one(binding("alice@example.com", "sip:a1", kNow + 10, 500), kNow);
    ls.restore_one(binding("bob@example.com", "sip:b1", kNow + 10), kNow);
    ls.restore_one(binding("alice@example.com", "sip:a2", kNow + 10, 900), kNow);
    ls.restore_one(binding("alice@example.com", "sip:old", kNow), kNow);  // expired: skipped
    EXPECT_EQ(ls.aor_count(), 2u);
    EXPECT_EQ(contacts(ls.lookup("alice@example.com", kNow)), (Strings{"sip:a2", "sip:a1"}));
}

namespace {

using sw::registrar::BindingChange;

BindingChange change(BindingChange::Kind kind, Binding b) {
    return BindingChange{kind, std::move(b)};
}

// The one binding of `contact` at the AOR, or an empty contact when there is none.
Binding only(const LocationService& ls, const std::string& aor, const std::string& contact) {
    for (auto& b : ls.lookup(aor, kNow)) {
        if (b.contact == contact) return b;
    }
    return Binding{};
}

}  // namespace

TEST(LocationServiceRevert, AnUpsertOfANewBindingWithNoStoredRowGoes) {
    LocationService ls(4);
    Binding made = binding("a@example.com", "sip:a@192.0.2.1", kNow + 3600);
    made.call_id = "c1";
    made.cseq = 2;
    add(ls, made);
    add(ls, binding("a@example.com", "sip:other@192.0.2.1", kNow + 600));
    EXPECT_TRUE(ls.revert(change(BindingChange::Kind::Upsert, made), std::nullopt, true));
    EXPECT_EQ(contacts(ls.lookup("a@example.com", kNow)), Strings{"sip:other@192.0.2.1"});
}

TEST(LocationServiceRevert, ARefreshGoesBackToTheStoredRow) {
    LocationService ls(4);
    Binding stored = binding("a@example.com", "sip:a@192.0.2.1", kNow + 600);
    stored.call_id = "c1";
    stored.cseq = 1;
    stored.source = "udp:192.0.2.1:5060";
    Binding made = stored;
    made.cseq = 2;
    made.expires_at = kNow + 3600;
    made.source = "udp:192.0.2.1:5070";
    add(ls, made);
    EXPECT_TRUE(ls.revert(change(BindingChange::Kind::Upsert, made), stored, true));
    const Binding now = only(ls, "a@example.com", "sip:a@192.0.2.1");
    EXPECT_EQ(now.cseq, 1u);
    EXPECT_EQ(now.expires_at, kNow + 600);
    EXPECT_EQ(now.source, "udp:192.0.2.1:5060");
    EXPECT_EQ(ls.size(), 1u);
}

TEST(LocationServiceRevert, ABindingChangedSinceIsLeftToTheLaterChange) {
    LocationService ls(4);
    Binding made = binding("a@example.com", "sip:a@192.0.2.1", kNow + 3600);
    made.call_id = "c1";
    made.cseq = 2;
    Binding later = made;
    later.cseq = 3;
    add(ls, later);
    EXPECT_FALSE(ls.revert(change(BindingChange::Kind::Upsert, made), std::nullopt, true));
    EXPECT_EQ(only(ls, "a@example.com", "sip:a@192.0.2.1").cseq, 3u);

    // A removal whose binding was registered again since: the new one stays as it is.
    EXPECT_FALSE(ls.revert(change(BindingChange::Kind::Remove, made), made, true));
    EXPECT_EQ(only(ls, "a@example.com", "sip:a@192.0.2.1").cseq, 3u);
    EXPECT_EQ(ls.size(), 1u);
}

TEST(LocationServiceRevert, ARemovalComesBackFromTheStoredRow) {
    LocationService ls(4);
    Binding stored = binding("a@example.com", "sip:a@192.0.2.1", kNow + 600);
    stored.call_id = "c1";
    EXPECT_TRUE(ls.revert(change(BindingChange::Kind::Remove, stored), stored, true));
    EXPECT_EQ(only(ls, "a@example.com", "sip:a@192.0.2.1").call_id, "c1");
    // No stored row: nothing to bring back.
    EXPECT_FALSE(
        ls.revert(change(BindingChange::Kind::Remove, binding("b@example.com", "sip:b@192.0.2.1", 0)),
                  std::nullopt, true));
    EXPECT_EQ(ls.aor_count(), 1u);
}

TEST(LocationServiceRevert, AnUnreadableStoreDropsTheUpsertAndKeepsTheRemoval) {
    LocationService ls(4);
    Binding made = binding("a@example.com", "sip:a@192.0.2.1", kNow + 3600);
    add(ls, made);
    const Binding stale = binding("a@example.com", "sip:old@192.0.2.1", kNow + 600);
    EXPECT_TRUE(ls.revert(change(BindingChange::Kind::Upsert, made), made, false));
    EXPECT_FALSE(ls.revert(change(BindingChange::Kind::Remove, stale), stale, false));
    EXPECT_EQ(ls.size(), 0u);
}

TEST(LocationServiceRevert, ExpireChangesAreNotPutBack) {
    LocationService ls(4);
    const Binding gone = binding("a@example.com", "sip:a@192.0.2.1", kNow - 1);
    EXPECT_FALSE(ls.revert(change(BindingChange::Kind::Expire, gone), gone, true));
    EXPECT_EQ(ls.size(), 0u);
}
