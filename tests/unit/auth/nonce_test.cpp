#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "auth/base64url.hpp"
#include "auth/nonce.hpp"
#include "auth/nonce_counter.hpp"
#include "fakes.hpp"

using namespace sw::auth;
using sw::auth::test::FakeClock;
using sw::auth::test::FakeRandom;

namespace {

const std::string kSecret(32, 'k');

struct NonceFixture : ::testing::Test {
    FakeClock clock;
    FakeRandom random;
    NonceFactory factory{kSecret, std::chrono::seconds(300), clock, random};
};

}  // namespace

TEST(Base64url, RoundTripsEveryLength) {
    std::vector<unsigned char> bytes;
    for (int n = 0; n < 40; ++n) {
        const std::string text = base64url_encode(bytes);
        EXPECT_EQ(text.size(), (bytes.size() * 4 + 2) / 3);
        EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
        const auto back = base64url_decode(text);
        ASSERT_TRUE(back.has_value()) << text;
        EXPECT_EQ(*back, bytes);
        bytes.push_back(static_cast<unsigned char>(n * 37 + 200));
    }
}

TEST(Base64url, KnownValuesAndStrictDecoding) {
    const std::string_view foobar = "foobar";
    const auto* p = reinterpret_cast<const unsigned char*>(foobar.data());
    EXPECT_EQ(base64url_encode({p, 6}), "Zm9vYmFy");  // RFC 4648 10
    EXPECT_EQ(base64url_encode({p, 4}), "Zm9vYg");
    EXPECT_EQ(base64url_encode(std::vector<unsigned char>{0xfb, 0xff}), "-_8");
    EXPECT_FALSE(base64url_decode("Zm9vYg==").has_value());  // no padding
    EXPECT_FALSE(base64url_decode("Zm9vYh").has_value());    // pad bits not zero
    EXPECT_FALSE(base64url_decode("Zm9v+g").has_value());    // not the url alphabet
    EXPECT_FALSE(base64url_decode("Zm9vY").has_value());     // a lone final character
    EXPECT_FALSE(base64url_decode("Zm9 v").has_value());
}

TEST_F(NonceFixture, FreshNonceIsValid) {
    const std::string n = factory.make("sip.example.com");
    EXPECT_EQ(n.size(), 43u);  // 32 bytes, base64url without padding
    EXPECT_EQ(n.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    EXPECT_EQ(factory.check(n, "sip.example.com"), NonceCheck::Valid);
    const NonceStatus st = factory.inspect(n, "sip.example.com");
    EXPECT_EQ(st.check, NonceCheck::Valid);
    EXPECT_EQ(st.issued_at_s, clock.now_s());
    EXPECT_NE(factory.make("sip.example.com"), n);  // fresh random part each time
}

TEST_F(NonceFixture, StaleAfterLifetime) {
    const std::string n = factory.make("r");
    clock.advance(300);
    EXPECT_EQ(factory.check(n, "r"), NonceCheck::Valid);
    clock.advance(1);
    EXPECT_EQ(factory.check(n, "r"), NonceCheck::Stale);
    clock.advance(100000);
    EXPECT_EQ(factory.check(n, "r"), NonceCheck::Stale);
    EXPECT_EQ(factory.check(n, "other"), NonceCheck::Invalid);  // staleness never excuses a bad MAC
}

TEST_F(NonceFixture, EveryTamperedCharacterIsInvalid) {
    const std::string n = factory.make("r");
    for (std::size_t i = 0; i < n.size(); ++i) {
        std::string t = n;
        t[i] = t[i] == 'A' ? 'B' : 'A';
        EXPECT_EQ(factory.check(t, "r"), NonceCheck::Invalid) << "position " << i;
    }
}

TEST_F(NonceFixture, TamperedTimeIsInvalid) {
    const std::string n = factory.make("r");
    auto bytes = base64url_decode(n);
    ASSERT_TRUE(bytes.has_value());
    (*bytes)[7] ^= 0x01;  // one second later: the MAC no longer matches
    EXPECT_EQ(factory.check(base64url_encode(*bytes), "r"), NonceCheck::Invalid);
}

TEST_F(NonceFixture, WrongRealmIsInvalid) {
    const std::string n = factory.make("sip.example.com");
    EXPECT_EQ(factory.check(n, "sip.example.org"), NonceCheck::Invalid);
    EXPECT_EQ(factory.check(n, "SIP.EXAMPLE.COM"), NonceCheck::Invalid);
    EXPECT_EQ(factory.check(n, ""), NonceCheck::Invalid);
}

TEST_F(NonceFixture, AnotherSecretIsInvalid) {
    const std::string n = factory.make("r");
    NonceFactory other(std::string(32, 'j'), std::chrono::seconds(300), clock, random);
    EXPECT_EQ(other.check(n, "r"), NonceCheck::Invalid);
}

TEST_F(NonceFixture, FutureDatedBeyondSkewIsInvalid) {
    const std::int64_t now = clock.now_s();
    clock.set(now + 5);
    const std::string five = factory.make("r");
    clock.set(now + 6);
    const std::string six = factory.make("r");
    clock.set(now);
    EXPECT_EQ(factory.check(five, "r"), NonceCheck::Valid);
    EXPECT_EQ(factory.check(six, "r"), NonceCheck::Invalid);
}

TEST_F(NonceFixture, GarbageIsInvalid) {
    const std::string valid = factory.make("r");
    for (std::string_view g : {std::string_view(""), std::string_view("abc"), std::string_view("\"\""),
                               std::string_view("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"),
                               std::string_view("===========================================")}) {
        EXPECT_EQ(factory.check(g, "r"), NonceCheck::Invalid) << g;
    }
    EXPECT_EQ(factory.check(valid + "A", "r"), NonceCheck::Invalid);
    EXPECT_EQ(factory.check(valid.substr(1), "r"), NonceCheck::Invalid);
    EXPECT_EQ(factory.check(std::string(43, 'A'), "r"), NonceCheck::Invalid);
    EXPECT_EQ(factory.check(std::string(100000, 'A'), "r"), NonceCheck::Invalid);
}

TEST(NonceFactory, RandomSecret) {
    const std::string a = NonceFactory::random_secret();
    const std::string b = NonceFactory::random_secret();
    EXPECT_EQ(a.size(), NonceFactory::kMinSecretSize);
    EXPECT_NE(a, b);
}

TEST(NonceFactory, WorksWithRealClockAndRandom) {
    SystemClock clock;
    OsRandom random;
    NonceFactory f(NonceFactory::random_secret(), std::chrono::seconds(60), clock, random);
    EXPECT_EQ(f.check(f.make("r"), "r"), NonceCheck::Valid);
}

TEST(NonceCounter, AcceptsOnlyIncreasingCounts) {
    NonceCounter c;
    EXPECT_EQ(c.accept("n1", 1, 0, 100), CountResult::Accepted);
    EXPECT_EQ(c.accept("n1", 1, 1, 100), CountResult::Replayed);
    EXPECT_EQ(c.accept("n1", 2, 1, 100), CountResult::Accepted);
    EXPECT_EQ(c.accept("n1", 7, 2, 100), CountResult::Accepted);  // gaps are fine (lost requests)
    EXPECT_EQ(c.accept("n1", 5, 2, 100), CountResult::Replayed);  // older than the last one
    EXPECT_EQ(c.accept("n1", 7, 2, 100), CountResult::Replayed);
    EXPECT_EQ(c.accept("n2", 1, 2, 100), CountResult::Accepted);  // counts are per nonce
    EXPECT_EQ(c.accept("n3", 0, 2, 100), CountResult::Replayed);  // nc starts at 1
    EXPECT_EQ(c.accept("n4", 0xffffffffu, 2, 100), CountResult::Accepted);
    EXPECT_EQ(c.accept("n4", 0xffffffffu, 2, 100), CountResult::Replayed);
    EXPECT_EQ(c.size(), 3u);
}

TEST(NonceCounter, ExpiredEntriesAreRefusedThenForgotten) {
    NonceCounter c;
    EXPECT_EQ(c.accept("n", 3, 0, 10), CountResult::Accepted);
    EXPECT_EQ(c.accept("n", 4, 9, 10), CountResult::Accepted);
    EXPECT_EQ(c.accept("n", 5, 10, 10), CountResult::Replayed);  // the nonce's time is over
    // Should the same nonce text come back with a new lifetime, the old entry is gone, not counted on.
    EXPECT_EQ(c.accept("n", 1, 10, 20), CountResult::Accepted);
    EXPECT_EQ(c.size(), 1u);
}

TEST(NonceCounter, FullStripeRefusesNewNoncesUntilEntriesExpire) {
    NonceCounter c(1);  // one entry per stripe
    int accepted = 0;
    int full = 0;
    std::vector<std::string> names;
    for (int i = 0; i < 200; ++i)
        names.push_back("nonce-" + std::to_string(i));
    for (const auto& n : names) {
        const CountResult r = c.accept(n, 1, 0, 100);
        accepted += r == CountResult::Accepted;
        full += r == CountResult::Full;
    }
    EXPECT_LE(accepted, static_cast<int>(NonceCounter::kStripes));
    EXPECT_GT(full, 0);
    EXPECT_EQ(accepted + full, 200);
    EXPECT_LE(c.size(), NonceCounter::kStripes);

    // A nonce already held still counts up while its stripe is full.
    for (const auto& n : names) {
        const CountResult r = c.accept(n, 2, 1, 100);
        EXPECT_NE(r, CountResult::Replayed) << n;
    }
    // Once the entries expire, a full stripe makes room.
    for (const auto& n : names)
        EXPECT_NE(c.accept(n + "-later", 1, 100, 200), CountResult::Replayed);
    EXPECT_LE(c.size(), NonceCounter::kStripes);
    int later = 0;
    for (int i = 0; i < 200; ++i)
        later += c.accept("fresh-" + std::to_string(i), 1, 200, 300) == CountResult::Accepted;
    EXPECT_GT(later, 0);
}

TEST(NonceCounter, EachCountIsAcceptedOnceAcrossThreads) {
    NonceCounter c;
    constexpr int kThreads = 4;
    constexpr std::uint32_t kCounts = 2000;
    std::vector<std::atomic<int>> wins(kCounts + 1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (std::uint32_t nc = 1; nc <= kCounts; ++nc) {
                if (c.accept("shared", nc, 0, 100) == CountResult::Accepted) ++wins[nc];
                c.accept("own-" + std::to_string(t) + "-" + std::to_string(nc), 1, 0, 100);
            }
        });
    }
    for (auto& th : threads)
        th.join();
    int total = 0;
    for (std::uint32_t nc = 1; nc <= kCounts; ++nc) {
        EXPECT_LE(wins[nc].load(), 1) << nc;
        total += wins[nc].load();
    }
    EXPECT_GE(total, 1);
    EXPECT_EQ(c.size(), 1u + kThreads * kCounts);
    EXPECT_EQ(c.accept("shared", kCounts, 1, 100), CountResult::Replayed);
}
