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
