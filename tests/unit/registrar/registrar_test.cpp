#include "registrar/registrar.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registrar/binding.hpp"
#include "registrar/location_service.hpp"
#include "sip/message.hpp"

using sw::registrar::aor_of;
using sw::registrar::Binding;
using sw::registrar::BindingChange;
using sw::registrar::http_date;
using sw::registrar::LocationService;
using sw::registrar::RegisterOutcome;
using sw::registrar::RegisterSource;
using sw::registrar::Registrar;
using sw::registrar::RegistrarConfig;
using sw::sip::Message;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;  // Tue, 14 Nov 2023 22:13:20 GMT
constexpr std::string_view kAor = "alice@example.com";

// One REGISTER, written as a phone would send it.
struct Reg {
    std::string user = "alice";
    std::string domain = "example.com";
    std::string call_id = "reg-1@192.0.2.10";
    std::uint32_t cseq = 1;
    std::vector<std::string> contacts;   // one Contact header field per entry
    std::optional<std::string> expires;  // Expires header value
    std::vector<std::string> extra;      // further header lines, without CRLF

    Reg& contact(std::string c) {
        contacts.push_back(std::move(c));
        return *this;
    }
    Reg& exp(std::string e) {
        expires = std::move(e);
        return *this;
    }
    Reg& seq(std::uint32_t n) {
        cseq = n;
        return *this;
    }
    Reg& cid(std::string c) {
        call_id = std::move(c);
        return *this;
    }
    Reg& header(std::string line) {
        extra.push_back(std::move(line));
        return *this;
    }

    std::string text() const {
        std::string t = "REGISTER sip:" + domain + " SIP/2.0\r\n";
        t += "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-" + std::to_string(cseq) + "\r\n";
        t += "Max-Forwards: 70\r\n";
        t += "From: <sip:" + user + "@" + domain + ">;tag=f00\r\n";
        t += "To: <sip:" + user + "@" + domain + ">\r\n";
        t += "Call-ID: " + call_id + "\r\n";
        t += "CSeq: " + std::to_string(cseq) + " REGISTER\r\n";
        for (const auto& c : contacts)
            t += "Contact: " + c + "\r\n";
        if (expires) t += "Expires: " + *expires + "\r\n";
        for (const auto& line : extra)
            t += line + "\r\n";
        t += "Content-Length: 0\r\n\r\n";
        return t;
    }
};

Message parse(const Reg& r) {
    auto m = Message::parse(r.text());
    EXPECT_TRUE(m.has_value()) << r.text();
    return std::move(m).value();
}

std::vector<std::string> headers(const RegisterOutcome& o, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [n, v] : o.headers) {
        if (n == name) out.push_back(v);
    }
    return out;
}

std::optional<std::string> header(const RegisterOutcome& o, std::string_view name) {
    auto all = headers(o, name);
    if (all.empty()) return std::nullopt;
    EXPECT_EQ(all.size(), 1u) << name;
    return all.front();
}

class RegistrarTest : public ::testing::Test {
protected:
    RegisterOutcome handle(const Reg& r, std::int64_t now = kNow, std::string_view auth_user = "alice",
                           const RegisterSource& from = RegisterSource{"udp:192.0.2.10:5060", 0}) {
        Registrar registrar(config, location);
        const Message m = parse(r);
        return registrar.handle(m, auth_user, from, now);
    }
    // Registers and expects a 200.
    RegisterOutcome ok(const Reg& r, std::int64_t now = kNow) {
        auto o = handle(r, now);
        EXPECT_EQ(o.status, 200) << o.reason;
        return o;
    }
    std::vector<Binding> bindings(std::int64_t now = kNow) const { return location.lookup(kAor, now); }
    std::vector<std::string> contacts(std::int64_t now = kNow) const {
        std::vector<std::string> out;
        for (const auto& b : bindings(now))
            out.push_back(b.contact);
        return out;
    }

    RegistrarConfig config;  // min 60, max 7200, default 3600, 10 contacts, any domain
    LocationService location;
};

using Strings = std::vector<std::string>;

TEST(RegistrarHelpers, HttpDateIsRfc1123InGmt) {
    EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(http_date(kNow), "Tue, 14 Nov 2023 22:13:20 GMT");
}

TEST(RegistrarHelpers, AorOfLowercasesTheDomainOnly) {
    auto uri = sw::sip::parse_uri("sip:Alice%20B@EXAMPLE.Com:5070;transport=tcp");
    ASSERT_TRUE(uri.has_value());
    EXPECT_EQ(aor_of(*uri), "Alice B@example.com");
}

TEST_F(RegistrarTest, NewBindingIsAnsweredWithItsContactExpiresAndDate) {
    auto o = handle(Reg{}.contact("<sip:alice@192.0.2.10:5060>").exp("1800"));
    ASSERT_EQ(o.status, 200);
    EXPECT_TRUE(o.reason.empty());
    EXPECT_EQ(headers(o, "Contact"), Strings{"<sip:alice@192.0.2.10:5060>;expires=1800"});
    EXPECT_EQ(header(o, "Date"), "Tue, 14 Nov 2023 22:13:20 GMT");
    EXPECT_FALSE(header(o, "Path"));

    ASSERT_EQ(o.changes.size(), 1u);
    EXPECT_EQ(o.changes[0].kind, BindingChange::Kind::Upsert);
    const Binding& b = o.changes[0].binding;
    EXPECT_EQ(b.aor, "alice@example.com");
    EXPECT_EQ(b.contact, "sip:alice@192.0.2.10:5060");
    EXPECT_EQ(b.call_id, "reg-1@192.0.2.10");
    EXPECT_EQ(b.cseq, 1u);
    EXPECT_EQ(b.q, 1000);
    EXPECT_EQ(b.expires_at, kNow + 1800);
    EXPECT_EQ(b.registered_at, kNow);

    auto stored = bindings();
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].contact, b.contact);
    EXPECT_EQ(stored[0].expires_at, kNow + 1800);
}

TEST_F(RegistrarTest, ContactExpiresParameterBeatsExpiresHeaderWhichBeatsDefault) {
    config.default_expires = 3000;
    auto o =
        ok(Reg{}.contact("<sip:alice@192.0.2.10>;expires=120").contact("<sip:alice@192.0.2.11>").exp("600"));
    EXPECT_EQ(headers(o, "Contact"),
              (Strings{"<sip:alice@192.0.2.10>;expires=120", "<sip:alice@192.0.2.11>;expires=600"}));

    o = ok(Reg{}.cid("other@192.0.2.12").contact("<sip:alice@192.0.2.12>"));
    ASSERT_EQ(o.changes.size(), 1u);
    EXPECT_EQ(o.changes[0].binding.expires_at, kNow + 3000);
    EXPECT_EQ(headers(o, "Contact").back(), "<sip:alice@192.0.2.12>;expires=3000");
}

TEST_F(RegistrarTest, ExpiresBelowMinimumIsIntervalTooBrief) {
    auto o = handle(Reg{}.contact("<sip:alice@192.0.2.10>").exp("30"));
    EXPECT_EQ(o.status, 423);
    EXPECT_EQ(header(o, "Min-Expires"), "60");
    EXPECT_TRUE(o.changes.empty());
    EXPECT_EQ(location.size(), 0u);

    // The contact's own parameter is what counts; one brief contact refuses the whole request.
    o = handle(
        Reg{}.contact("<sip:alice@192.0.2.10>").contact("<sip:alice@192.0.2.11>;expires=59").exp("3600"));
    EXPECT_EQ(o.status, 423);
    EXPECT_EQ(header(o, "Min-Expires"), "60");
    EXPECT_TRUE(o.changes.empty());
    EXPECT_EQ(location.size(), 0u);

    // Exactly the minimum is accepted.
    o = ok(Reg{}.contact("<sip:alice@192.0.2.10>").exp("60"));
    EXPECT_EQ(headers(o, "Contact"), Strings{"<sip:alice@192.0.2.10>;expires=60"});
}

TEST_F(RegistrarTest, IntervalTooBriefLeavesExistingBindingsAlone) {
    ok(Reg{}.contact("<sip:alice@192.0.2.10>").exp("3600"));
    auto o = handle(Reg{}.seq(2).contact("<sip:alice@192.0.2.10>").exp("10"), kNow + 5);
    EXPECT_EQ(o.status, 423);
    auto b = bindings();
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].expires_at, kNow + 3600);
    EXPECT_EQ(b[0].cseq, 1u);
}

TEST_F(RegistrarTest, ExpiresAboveMaximumIsShortened) {
    auto o = ok(Reg{}.contact("<sip:alice@192.0.2.10>").exp("100000"));
    EXPECT_EQ(headers(o, "Contact"), Strings{"<sip:alice@192.0.2.10>;expires=7200"});
    ASSERT_EQ(o.changes.size(), 1u);
    EXPECT_EQ(o.changes[0].binding.expires_at, kNow + 7200);

    o = ok(Reg{}.seq(2).contact("<sip:alice@192.0.2.10>;expires=4294967295"));
    EXPECT_EQ(headers(o, "Contact"), Strings{"<sip:alice@192.0.2.10>;expires=7200"});
}

TEST_F(RegistrarTest, SeveralContactsInOneRegisterAreAllListedWithTheirQ) {
    auto o = ok(Reg{}
                    .contact("<sip:alice@192.0.2.10>;q=0.5, <sip:alice@192.0.2.11>;q=1.0")
                    .contact("<sip:alice@192.0.2.12>;q=0.25")
                    .contact("<sip:alice@192.0.2.13>;q=0.050")
                    .exp("3600"));
    EXPECT_EQ(headers(o, "Contact"),
              (Strings{"<sip:alice@192.0.2.10>;expires=3600;q=0.5", "<sip:alice@192.0.2.11>;expires=3600",
                       "<sip:alice@192.0.2.12>;expires=3600;q=0.25",
                       "<sip:alice@192.0.2.13>;expires=3600;q=0.05"}));
    ASSERT_EQ(o.changes.size(), 4u);
    for (const auto& c : o.changes)
        EXPECT_EQ(c.kind, BindingChange::Kind::Upsert);
    EXPECT_EQ(o.changes[0].binding.q, 500);
    EXPECT_EQ(o.changes[1].binding.q, 1000);
    // The location service hands them out highest q first.
    EXPECT_EQ(contacts(), (Strings{"sip:alice@192.0.2.11", "sip:alice@192.0.2.10", "sip:alice@192.0.2.12",
                                   "sip:alice@192.0.2.13"}));
}

TEST_F(RegistrarTest, ContactsFromSeveralRegistersAreAllListed) {
    ok(Reg{}.cid("desk@192.0.2.10").contact("<sip:alice@192.0.2.10>").exp("3600"));
    auto o =
        ok(Reg{}.cid("mobile@192.0.2.20").contact("<sip:alice@192.0.2.20>;q=0.5").exp("600"), kNow + 100);
    // Each with its remaining time.
    EXPECT_EQ(headers(o, "Contact"),
              (Strings{"<sip:alice@192.0.2.10>;expires=3500", "<sip:alice@192.0.2.20>;expires=600;q=0.5"}));
    // Only the new binding is written.
    ASSERT_EQ(o.changes.size(), 1u);
    EXPECT_EQ(o.changes[0].binding.contact, "sip:alice@192.0.2.20");
    EXPECT_EQ(location.size(), 2u);
}

TEST_F(RegistrarTest, RefreshWithSameCallIdAndHigherCSeqUpdatesTheExpiry) {
    ok(Reg{}.seq(1).contact("<sip:alice@192.0.2.10>").exp("3600"));
    auto o = ok(Reg{}.seq(2).contact("<sip:alice@192.0.2.10>;q=0.7").exp("1800"), kNow + 100);
    EXPECT_EQ(headers(o, "Contact"), Strings{"<sip:alice@192.0.2.10>;expires=1800;q=0.7"});
    ASSERT_EQ(o.changes.size(), 1u);
    EXPECT_EQ(o.changes[0].kind, BindingChange::Kind::Upsert);
    const Binding& b = o.changes[0].binding;
    EXPECT_EQ(b.cseq, 2u);
    EXPECT_EQ(b.q, 700);
    EXPECT_EQ(b.expires_at, kNow + 100 + 1800);
    EXPECT_EQ(b.registered_at, kNow);  // first registered then
    auto stored = bindings(kNow + 100);
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].expires_at, kNow + 1900);
    EXPECT_EQ(stored[0].cseq, 2u);
}

TEST_F(RegistrarTest, SameCallIdWithEqualOrLowerCSeqFailsAndChangesNothing) {
    ok(Reg{}.seq(5).contact("<sip:alice@192.0.2.10>").exp("3600"));
    for (std::uint32_t cseq : {5u, 4u, 1u}) {
        auto o = handle(Reg{}.seq(cseq).contact("<sip:alice@192.0.2.10>").exp("1200"), kNow + 10);
        EXPECT_EQ(o.status, 500) << cseq;
        EXPECT_TRUE(o.changes.empty());
        auto b = bindings();
        ASSERT_EQ(b.size(), 1u);
        EXPECT_EQ(b[0].expires_at, kNow + 3600);
        EXPECT_EQ(b[0].cseq, 5u);
    }
    // A removal out of order is refused too.
    auto o = handle(Reg{}.seq(4).contact("<sip:alice@192.0.2.10>;expires=0"), kNow + 10);
    EXPECT_EQ(o.status, 500);
    EXPECT_EQ(location.size(), 1u);
}

TEST_F(RegistrarTest, OutOfOrderContactAbortsTheWholeRequest) {
    ok(Reg{}.seq(5).contact("<sip:alice@192.0.2.10>").exp("3600"));
    // A new contact listed before the stale one: nothing of the request is kept.
    auto o =
        handle(Reg{}.seq(3).contact("<sip:alice@192.0.2.11>").contact("<sip:alice@192.0.2.10>").exp("3600"));
    EXPECT_EQ(o.status, 500);
    EXPECT_TRUE(o.changes.empty());
    EXPECT_EQ(contacts(), Strings{"sip:alice@192.0.2.10"});
}

TEST_F(RegistrarTest, DifferentCallIdMayReplaceTheBinding) {
    ok(Reg{}.cid("before-reboot@192.0.2.10").seq(50).contact("<sip:alice@192.0.2.10>").exp("3600"));
    auto o = ok(Reg{}.cid("after-reboot@192.0.2.10").seq(1).contact("<sip:alice@192.0.2.10>").exp("600"),
                kNow + 30);
    EXPECT_EQ(headers(o, "Contact"), Strings{"<sip:alice@192.0.2.10>;expires=600"});
    auto b = bindings(kNow + 30);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].call_id, "after-reboot@192.0.2.10");
    EXPECT_EQ(b[0].cseq, 1u);
    EXPECT_EQ(b[0].expires_at, kNow + 630);
}

TEST_F(RegistrarTest, ExpiresZeroRemovesOneContact) {
    ok(Reg{}.seq(1).contact("<sip:alice@192.0.2.10>").contact("<sip:alice@192.0.2.11>").exp("3600"));
    auto o = ok(Reg{}.seq(2).contact("<sip:alice@192.0.2.10>;expires=0"));
    EXPECT_EQ(headers(o, "Contact"), Strings{"<sip:alice@192.0.2.11>;expires=3600"});
    ASSERT_EQ(o.changes.size(), 1u);
    EXPECT_EQ(o.changes[0].kind, BindingChange::Kind::Remove);
    EXPECT_EQ(o.changes[0].binding.aor, "alice@example.com");
    EXPECT_EQ(o.changes[0].binding.contact, "sip:alice@192.0.2.10");
    EXPECT_EQ(contacts(), Strings{"sip:alice@192.0.2.11"});

    // The Expires header works as well, and the last binding takes the AOR with it.
    o = ok(Reg{}.seq(3).contact("<sip:alice@192.0.2.11>").exp("0"));
    EXPECT_TRUE(headers(o, "Contact").empty());
    ASSERT_EQ(o.changes.size(), 1u);
    EXPECT_EQ(o.changes[0].kind, BindingChange::Kind::Remove);
    EXPECT_EQ(location.size(), 0u);
}

TEST_F(RegistrarTest, ExpiresZeroForAnUnknownContactChangesNothing) {
    ok(Reg{}.contact("<sip:alice@192.0.2.10>").exp("3600"));
    auto o = ok(Reg{}.seq(2).contact("<sip:alice@192.0.2.99>;expires=0"));
    EXPECT_TRUE(o.changes.empty());
    EXPECT_EQ(headers(o, "Contact"), Strings{"<sip:alice@192.0.2.10>;expires=3600"});
}

TEST_F(RegistrarTest, StarWithExpiresZeroRemovesEveryBinding) {
    ok(Reg{}.cid("a@192.0.2.10").seq(1).contact("<sip:alice@192.0.2.10>").exp("3600"));
    ok(Reg{}.cid("b@192.0.2.11").seq(7).contact("<sip:alice@192.0.2.11>").exp("3600"));
    // Same Call-ID as one binding with a higher CSeq; the other has a different Call-ID.
    auto o = ok(Reg{}.cid("a@192.0.2.10").seq(2).contact("*").exp("0"), kNow + 10);
    EXPECT_TRUE(headers(o, "Contact").empty());
    EXPECT_TRUE(header(o, "Date"));
    ASSERT_EQ(o.changes.size(), 2u);
    Strings removed;
    for (const auto& c : o.changes) {
        EXPECT_EQ(c.kind, BindingChange::Kind::Remove);
        EXPECT_EQ(c.binding.aor, "alice@example.com");
        removed.push_back(c.binding.contact);
    }
    std::sort(removed.begin(), removed.end());
    EXPECT_EQ(removed, (Strings{"sip:alice@192.0.2.10", "sip:alice@192.0.2.11"}));
    EXPECT_EQ(location.size(), 0u);

    // Nothing registered: still a 200, nothing to write.
    o = ok(Reg{}.cid("a@192.0.2.10").seq(3).contact("*").exp("0"), kNow + 20);
    EXPECT_TRUE(o.changes.empty());
}

TEST_F(RegistrarTest, StarWithAnOldCSeqFailsAndRemovesNothing) {
    ok(Reg{}.cid("a@192.0.2.10").seq(5).contact("<sip:alice@192.0.2.10>").exp("3600"));
    ok(Reg{}.cid("b@192.0.2.11").seq(1).contact("<sip:alice@192.0.2.11>").exp("3600"));
    auto o = handle(Reg{}.cid("a@192.0.2.10").seq(5).contact("*").exp("0"));
    EXPECT_EQ(o.status, 500);
    EXPECT_TRUE(o.changes.empty());
    EXPECT_EQ(location.size(), 2u);
}

TEST_F(RegistrarTest, StarNeedsExpiresZeroAndNoOtherContact) {
    ok(Reg{}.contact("<sip:alice@192.0.2.10>").exp("3600"));
    for (std::optional<std::string> expires :
         {std::optional<std::string>{}, std::optional<std::string>{"3600"},
          std::optional<std::string>{"60"}}) {
        Reg r = Reg{}.seq(2).contact("*");
        r.expires = expires;
        auto o = handle(r);
        EXPECT_EQ(o.status, 400) << expires.value_or("(none)");
        EXPECT_TRUE(o.changes.empty());
    }
    EXPECT_EQ(location.size(), 1u);

    // "*" with another contact: the parser already refuses it with 400, so it never reaches the registrar.
    for (const Reg& r : {Reg{}.seq(2).contact("*").contact("<sip:alice@192.0.2.11>").exp("0"),
                         Reg{}.seq(2).contact("<sip:alice@192.0.2.11>, *").exp("0")}) {
        auto m = Message::parse(r.text());
        ASSERT_FALSE(m.has_value());
        EXPECT_EQ(m.error().status, 400);
    }
}

TEST_F(RegistrarTest, ToUserOtherThanTheAuthenticatedUserIsForbidden) {
    auto o = handle(Reg{}.contact("<sip:alice@192.0.2.10>").exp("3600"), kNow, "bob");
    EXPECT_EQ(o.status, 403);
    EXPECT_TRUE(o.changes.empty());
    EXPECT_EQ(location.size(), 0u);

    // Escaped user parts compare unescaped.
    Reg escaped;
    escaped.user = "alice%2Ebob";
    o = handle(escaped.contact("<sip:alice.bob@192.0.2.10>").exp("3600"), kNow, "alice.bob");
    EXPECT_EQ(o.status, 200) << o.reason;
    EXPECT_EQ(location.lookup("alice.bob@example.com", kNow).size(), 1u);
}

TEST_F(RegistrarTest, DomainNotServedIsForbidden) {
    config.domains = {"example.com", "example.org"};
    Reg foreign;
    foreign.domain = "example.net";
    auto o = handle(foreign.contact("<sip:alice@192.0.2.10>").exp("3600"));
    EXPECT_EQ(o.status, 403);
    EXPECT_TRUE(o.changes.empty());
    EXPECT_EQ(location.size(), 0u);

    // A served domain, in any case; the AOR keeps it lowercased.
    Reg ours;
    ours.domain = "Example.ORG";
    o = handle(ours.contact("<sip:alice@192.0.2.10>").exp("3600"));
    EXPECT_EQ(o.status, 200) << o.reason;
    ASSERT_EQ(o.changes.size(), 1u);
    EXPECT_EQ(o.changes[0].binding.aor, "alice@example.org");
}

TEST_F(RegistrarTest, AnyDomainIsAcceptedWhenNoneIsConfigured) {
    ASSERT_TRUE(config.domains.empty());
    for (std::string domain : {"example.net", "sip.example.org", "192.0.2.1"}) {
        Reg r;
        r.domain = domain;
        auto o = handle(r.contact("<sip:alice@192.0.2.10>").exp("3600"));
        EXPECT_EQ(o.status, 200) << domain;
        EXPECT_EQ(location.lookup("alice@" + domain, kNow).size(), 1u) << domain;
    }
}

TEST_F(RegistrarTest, TooManyContactsIsForbiddenAndKeepsThePreviousBindings) {
    config.max_contacts = 2;
    ok(Reg{}.cid("a@x").contact("<sip:alice@192.0.2.10>").exp("3600"));
    ok(Reg{}.cid("b@x").contact("<sip:alice@192.0.2.11>").exp("3600"));
    // A third phone, refreshing one of the others at the same time.
    auto o = handle(Reg{}
                        .cid("a@x")
                        .seq(2)
                        .contact("<sip:alice@192.0.2.10>")
                        .contact("<sip:alice@192.0.2.12>")
                        .exp("600"),
                    kNow + 10);
    EXPECT_EQ(o.status, 403);
    EXPECT_TRUE(o.changes.empty());
    auto b = bindings();
    ASSERT_EQ(b.size(), 2u);
    for (const auto& binding : b)
        EXPECT_EQ(binding.expires_at, kNow + 3600);
    EXPECT_EQ(contacts(), (Strings{"sip:alice@192.0.2.10", "sip:alice@192.0.2.11"}));

    // Too many in one request, for an AOR with none yet.
    config.max_contacts = 1;
    Reg bob;
    bob.user = "bob";
    o = handle(bob.contact("<sip:bob@192.0.2.20>, <sip:bob@192.0.2.21>").exp("3600"), kNow, "bob");
    EXPECT_EQ(o.status, 403);
    EXPECT_TRUE(location.lookup("bob@example.com", kNow).empty());

    // Room again once one is removed: removal and addition in one request.
    config.max_contacts = 2;
    o = ok(Reg{}
               .cid("a@x")
               .seq(3)
               .contact("<sip:alice@192.0.2.10>;expires=0")
               .contact("<sip:alice@192.0.2.12>")
               .exp("600"));
    EXPECT_EQ(contacts(), (Strings{"sip:alice@192.0.2.11", "sip:alice@192.0.2.12"}));
}

TEST_F(RegistrarTest, OverTheLimitAfterTheLimitWasLoweredCanStillRefreshAndRemove) {
    // Registered under a larger max_contacts (restored at start-up); the limit is 2 now.
    std::vector<Binding> restored;
    for (int i = 0; i < 4; ++i) {
        Binding b;
        b.aor = std::string(kAor);
        b.contact = "sip:alice@192.0.2." + std::to_string(10 + i);
        b.call_id = "c" + std::to_string(i) + "@x";
        b.cseq = 1;
        b.expires_at = kNow + 3600;
        restored.push_back(b);
    }
    location.restore(restored, kNow);
    config.max_contacts = 2;

    auto o = ok(Reg{}.cid("c0@x").seq(2));  // fetch
    EXPECT_EQ(headers(o, "Contact").size(), 4u);
    o = ok(Reg{}.cid("c0@x").seq(3).contact("<sip:alice@192.0.2.10>;expires=0"));  // remove
    EXPECT_EQ(location.size(), 3u);
    o = ok(Reg{}.cid("c1@x").seq(2).contact("<sip:alice@192.0.2.11>").exp("600"));  // refresh
    EXPECT_EQ(location.size(), 3u);
    o = handle(Reg{}.cid("new@x").contact("<sip:alice@192.0.2.30>").exp("600"));  // add
    EXPECT_EQ(o.status, 403);
    EXPECT_EQ(location.size(), 3u);
}

TEST_F(RegistrarTest, RegisterWithoutContactListsTheCurrentBindings) {
    auto o = ok(Reg{}.exp("3600"));  // nothing registered yet
    EXPECT_TRUE(headers(o, "Contact").empty());
    EXPECT_EQ(header(o, "Date"), "Tue, 14 Nov 2023 22:13:20 GMT");
    EXPECT_TRUE(o.changes.empty());
    EXPECT_EQ(location.size(), 0u);

    ok(Reg{}.contact("<sip:alice@192.0.2.10>").contact("<sip:alice@192.0.2.11>;q=0.1").exp("3600"));
    o = ok(Reg{}.seq(2), kNow + 600);
    EXPECT_EQ(headers(o, "Contact"),
              (Strings{"<sip:alice@192.0.2.10>;expires=3000", "<sip:alice@192.0.2.11>;expires=3000;q=0.1"}));
    EXPECT_TRUE(o.changes.empty());
    auto b = bindings();
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0].cseq, 1u);  // a fetch does not touch the bindings
}

TEST_F(RegistrarTest, PathIsStoredAndEchoed) {
    auto o = ok(Reg{}
                    .contact("<sip:alice@192.0.2.10>")
                    .exp("3600")
                    .header("Path: <sip:edge1.example.net;lr>")
                    .header("Path: <sip:edge2.example.net;lr>, <sip:core.example.net;lr>"));
    // The field values, comma-joined in the order received (each value as written).
    const std::string path =
        "<sip:edge1.example.net;lr>,<sip:edge2.example.net;lr>, <sip:core.example.net;lr>";
    EXPECT_EQ(header(o, "Path"), path);
    ASSERT_EQ(o.changes.size(), 1u);
    EXPECT_EQ(o.changes[0].binding.path, path);
    auto b = bindings();
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].path, path);

    // A refresh without Path clears it.
    o = ok(Reg{}.seq(2).contact("<sip:alice@192.0.2.10>").exp("3600"));
    EXPECT_FALSE(header(o, "Path"));
    EXPECT_EQ(bindings()[0].path, "");
}

TEST_F(RegistrarTest, SourceConnectionUserAgentAndInstanceAreStored) {
    const RegisterSource from{"tcp:[2001:db8::1]:40001", 42};
    Registrar registrar(config, location);
    const Message m = parse(
        Reg{}
            .contact(
                "<sip:alice@[2001:db8::1]:40001;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-"
                "8000-000A95A0E128>\";reg-id=1")
            .exp("3600")
            .header("User-Agent: Phone/1.2 (test)"));
    auto o = registrar.handle(m, "alice", from, kNow);
    ASSERT_EQ(o.status, 200) << o.reason;
    ASSERT_EQ(o.changes.size(), 1u);
    for (const Binding& b : {o.changes[0].binding, bindings().at(0)}) {
        EXPECT_EQ(b.contact, "sip:alice@[2001:db8::1]:40001;transport=tcp");
        EXPECT_EQ(b.source, "tcp:[2001:db8::1]:40001");
        EXPECT_EQ(b.connection, 42u);
        EXPECT_EQ(b.user_agent, "Phone/1.2 (test)");
        // As written in the Contact parameter (a quoted string).
        EXPECT_EQ(b.instance, "\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"");
    }

    // A refresh from elsewhere (NAT rebinding) takes the new source; no instance clears it.
    const RegisterSource moved{"tcp:[2001:db8::1]:40002", 43};
    const Message refresh =
        parse(Reg{}.seq(2).contact("<sip:alice@[2001:db8::1]:40001;transport=tcp>").exp("3600"));
    o = registrar.handle(refresh, "alice", moved, kNow + 60);
    ASSERT_EQ(o.status, 200) << o.reason;
    auto b = bindings();
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].source, "tcp:[2001:db8::1]:40002");
    EXPECT_EQ(b[0].connection, 43u);
    EXPECT_EQ(b[0].user_agent, "");
    EXPECT_EQ(b[0].instance, "");
}

TEST_F(RegistrarTest, RefreshMatchesTheBindingByUriEquality) {
    ok(Reg{}.seq(1).contact("<sip:alice@phone.example.com:5060;transport=tcp;foo=bar>").exp("3600"));
    // RFC 3261 19.1.4: host compares case-insensitively, and the order of parameters does not matter.
    auto o = ok(Reg{}.seq(2).contact("<sip:alice@PHONE.Example.COM:5060;foo=bar;TRANSPORT=TCP>").exp("1800"),
                kNow + 10);
    ASSERT_EQ(o.changes.size(), 1u);
    EXPECT_EQ(o.changes[0].kind, BindingChange::Kind::Upsert);
    EXPECT_EQ(headers(o, "Contact").size(), 1u);
    auto b = bindings();
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].expires_at, kNow + 10 + 1800);
    EXPECT_EQ(b[0].cseq, 2u);

    // ...and the same equality finds it for removal.
    o = ok(Reg{}.seq(3).contact("<sip:alice@Phone.example.com:5060;Foo=bar;transport=tcp>;expires=0"),
           kNow + 20);
    ASSERT_EQ(o.changes.size(), 1u);
    EXPECT_EQ(o.changes[0].kind, BindingChange::Kind::Remove);
    EXPECT_EQ(location.size(), 0u);
}

TEST_F(RegistrarTest, UrisThatDifferAreSeparateBindings) {
    ok(Reg{}.seq(1).contact("<sip:alice@192.0.2.10:5060>").exp("3600"));
    // The user part is case-sensitive; a port written differs from none; a transport on one side only
    // differs.
    ok(Reg{}.seq(2).contact("<sip:Alice@192.0.2.10:5060>").exp("3600"));
    ok(Reg{}.seq(3).contact("<sip:alice@192.0.2.10>").exp("3600"));
    ok(Reg{}.seq(4).contact("<sip:alice@192.0.2.10:5060;transport=udp>").exp("3600"));
    EXPECT_EQ(location.size(), 4u);
}

TEST_F(RegistrarTest, ContactListedTwiceInOneRegisterIsOneBinding) {
    auto o =
        ok(Reg{}.contact("<sip:alice@192.0.2.10>;expires=600").contact("<sip:alice@192.0.2.10>").exp("3600"));
    EXPECT_EQ(headers(o, "Contact"), Strings{"<sip:alice@192.0.2.10>;expires=3600"});
    EXPECT_EQ(location.size(), 1u);

    // Also when refreshing an existing binding, with the second copy written differently (a parameter on
    // one side only, other than user/ttl/method/maddr/transport, is ignored by RFC 3261 19.1.4): the last
    // wins.
    o = ok(Reg{}
               .seq(2)
               .contact("<sip:alice@192.0.2.10>")
               .contact("<sip:alice@192.0.2.10;lr>;expires=120")
               .exp("600"));
    EXPECT_EQ(headers(o, "Contact"), Strings{"<sip:alice@192.0.2.10>;expires=120"});
    EXPECT_EQ(location.size(), 1u);
    o = ok(Reg{}.seq(3).contact("<sip:alice@192.0.2.10>").contact("<SIP:alice@192.0.2.10>;expires=0"));
    EXPECT_TRUE(headers(o, "Contact").empty());
    EXPECT_EQ(location.size(), 0u);
}

TEST_F(RegistrarTest, ExpiredBindingsAreNeitherListedNorCounted) {
    config.max_contacts = 1;
    ok(Reg{}.cid("desk@x").contact("<sip:alice@192.0.2.10>").exp("60"));
    // At its expiry, before any sweep removed it from memory, another phone takes the only slot.
    auto o = ok(Reg{}.cid("mobile@x").contact("<sip:alice@192.0.2.20>").exp("600"), kNow + 60);
    EXPECT_EQ(headers(o, "Contact"), Strings{"<sip:alice@192.0.2.20>;expires=600"});
    ASSERT_EQ(o.changes.size(), 2u);  // the stale one goes from the store too
    EXPECT_EQ(o.changes[0].kind, BindingChange::Kind::Remove);
    EXPECT_EQ(o.changes[0].binding.contact, "sip:alice@192.0.2.10");
    EXPECT_EQ(o.changes[1].kind, BindingChange::Kind::Upsert);
    EXPECT_EQ(location.all().size(), 1u);

    // A phone that comes back after its binding expired is a new binding, whatever its CSeq.
    config.max_contacts = 10;
    ok(Reg{}.cid("desk@x").seq(9).contact("<sip:alice@192.0.2.10>").exp("60"), kNow + 100);
    o = ok(Reg{}.cid("desk@x").seq(3).contact("<sip:alice@192.0.2.10>").exp("60"), kNow + 200);
    ASSERT_EQ(o.changes.size(), 2u);
    EXPECT_EQ(o.changes[1].binding.registered_at, kNow + 200);
}

TEST_F(RegistrarTest, MalformedExpiresOrContactParametersAreBadRequests) {
    auto o = handle(Reg{}.contact("<sip:alice@192.0.2.10>").exp("soon"));
    EXPECT_EQ(o.status, 400);
    o = handle(Reg{}.contact("<sip:alice@192.0.2.10>;expires=-1").exp("3600"));
    EXPECT_EQ(o.status, 400);
    o = handle(Reg{}.contact("<sip:alice@192.0.2.10>;q=2").exp("3600"));
    EXPECT_EQ(o.status, 400);
    EXPECT_EQ(location.size(), 0u);
}

}  // namespace

// A refresh that only moves the expiry (and the Call-ID / CSeq that order updates) may be written after
// its 200; anything a call would be routed by, or a binding close to its stored expiry, may not.
TEST_F(RegistrarTest, OnlyARefreshOfExpiryAndOrderingIsDeferrable) {
    const RegisterSource from{"udp:192.0.2.10:5060", 0};
    auto reg = [&](const Reg& r, std::int64_t now, const RegisterSource& source) {
        Registrar registrar(config, location);
        const Message m = parse(r);
        auto o = registrar.handle(m, "alice", source, now);
        EXPECT_EQ(o.status, 200) << o.reason;
        return o;
    };
    const std::string c = "<sip:alice@192.0.2.10>";
    auto first = reg(Reg{}.seq(1).contact(c).exp("3600").header("User-Agent: P/1"), kNow, from);
    EXPECT_FALSE(first.deferrable) << "a new binding must be on disk before its 200";

    auto o = reg(Reg{}.seq(2).contact(c).exp("3600").header("User-Agent: P/1"), kNow + 60, from);
    EXPECT_TRUE(o.deferrable);
    ASSERT_EQ(o.changes.size(), 1u);
    EXPECT_EQ(o.changes[0].binding.expires_at, kNow + 3660);
    // A new Call-ID (a phone that opens a dialog per refresh, like sipp) is still only a refresh.
    o = reg(Reg{}.cid("other@192.0.2.10").seq(1).contact(c).exp("3600").header("User-Agent: P/1"), kNow + 120,
            from);
    EXPECT_TRUE(o.deferrable);

    std::uint32_t seq = 10;
    auto refresh = [&](const std::string& contact, const char* expires, const char* agent,
                       const RegisterSource& source, std::int64_t now = kNow + 200) {
        Reg r = Reg{}.cid("other@192.0.2.10").seq(++seq).contact(contact).exp(expires);
        if (agent != nullptr) r.header(std::string("User-Agent: ") + agent);
        return reg(r, now, source);
    };
    EXPECT_FALSE(refresh(c, "3600", "P/1", RegisterSource{"udp:192.0.2.10:5062", 0}).deferrable)
        << "a new source (NAT rebinding) changes where calls go";
    EXPECT_TRUE(refresh(c, "3600", "P/1", RegisterSource{"udp:192.0.2.10:5062", 0}).deferrable);
    EXPECT_FALSE(refresh(c, "3600", "P/1", RegisterSource{"udp:192.0.2.10:5062", 7}).deferrable)
        << "another connection";
    EXPECT_FALSE(refresh(c + ";q=0.5", "3600", "P/1", RegisterSource{"udp:192.0.2.10:5062", 7}).deferrable)
        << "another q";
    EXPECT_FALSE(refresh(c + ";q=0.5", "3600", "P/2", RegisterSource{"udp:192.0.2.10:5062", 7}).deferrable)
        << "another User-Agent";
    EXPECT_FALSE(refresh(c + ";q=0.5;+sip.instance=\"<urn:uuid:1>\"", "3600", "P/2",
                         RegisterSource{"udp:192.0.2.10:5062", 7})
                     .deferrable)
        << "an instance";
    const RegisterSource now_from{"udp:192.0.2.10:5062", 7};
    const std::string same = c + ";q=0.5;+sip.instance=\"<urn:uuid:1>\"";
    EXPECT_TRUE(refresh(same, "3600", "P/2", now_from).deferrable);
    EXPECT_FALSE(refresh(same, "1800", "P/2", now_from).deferrable) << "a shorter registration";
    {
        Reg r = Reg{}.cid("other@192.0.2.10").seq(++seq).contact(same).exp("3600");
        r.header("User-Agent: P/2").header("Path: <sip:edge.example.com;lr>");
        EXPECT_FALSE(reg(r, kNow + 200, now_from).deferrable) << "a Path";
    }
    EXPECT_FALSE(refresh(same, "3600", "P/2", now_from).deferrable) << "the Path gone";
    EXPECT_FALSE(refresh(same + ";expires=0", "3600", "P/2", now_from).deferrable) << "a removal";
    EXPECT_FALSE(refresh(same, "3600", "P/2", now_from).deferrable) << "after a removal: new again";
    // Two contacts: deferrable only if both are.
    EXPECT_FALSE(reg(Reg{}
                         .cid("other@192.0.2.10")
                         .seq(++seq)
                         .contact(same)
                         .contact("<sip:alice@192.0.2.11>")
                         .exp("3600")
                         .header("User-Agent: P/2"),
                     kNow + 200, now_from)
                     .deferrable);
}

TEST_F(RegistrarTest, ARefreshCloseToItsStoredExpiryOrWithoutAMarginIsWrittenFirst) {
    config.defer_margin_s = 30;
    const std::string c = "<sip:alice@192.0.2.10>";
    ok(Reg{}.seq(1).contact(c).exp("120"));
    EXPECT_TRUE(ok(Reg{}.seq(2).contact(c).exp("120"), kNow + 89).deferrable) << "31 s left";
    // Now stored until kNow + 209: 30 s left is still enough, 29 s is not.
    EXPECT_TRUE(ok(Reg{}.seq(3).contact(c).exp("120"), kNow + 179).deferrable);
    EXPECT_FALSE(ok(Reg{}.seq(4).contact(c).exp("120"), kNow + 270).deferrable) << "29 s left";
    // An expired binding removed on the way (not refreshed: it is new again) is written first too.
    auto o = ok(Reg{}.seq(5).contact(c).exp("120"), kNow + 1000);
    EXPECT_FALSE(o.deferrable);
    config.defer_margin_s = 0;
    EXPECT_FALSE(ok(Reg{}.seq(6).contact(c).exp("120"), kNow + 1001).deferrable) << "0: never deferred";
    // A query (no Contact) and "*" change nothing or remove: never deferred.
    EXPECT_FALSE(ok(Reg{}.seq(7), kNow + 1001).deferrable);
    config.defer_margin_s = 30;
    EXPECT_FALSE(ok(Reg{}.seq(8).contact("*").exp("0"), kNow + 1002).deferrable);
}
