#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "auth/common_passwords.hpp"
#include "auth/password_policy.hpp"
#include "fakes.hpp"

using namespace sw::auth;
using sw::auth::test::FakeRandom;

namespace {

bool refused(std::string_view pw, std::string_view user = "alice",
             std::string_view display = "Alice Liddell") {
    return weak_password_reason(pw, user, display).has_value();
}

}  // namespace

TEST(PasswordPolicy, StrongPasswordsPass) {
    EXPECT_EQ(weak_password_reason("tulip-Meteor-91", "alice", "Alice Liddell"), std::nullopt);
    EXPECT_EQ(weak_password_reason("correct horse battery staple", "201", ""),
              std::nullopt);  // lower + space
    EXPECT_EQ(weak_password_reason("Xq7vR2mPz9Lk", "bob", ""), std::nullopt);
    EXPECT_EQ(weak_password_reason("grün-Straße-7", "bob", ""), std::nullopt);
}

TEST(PasswordPolicy, TooShort) {
    const auto r = weak_password_reason("Xq7vR2mPz9L", "bob", "");
    ASSERT_TRUE(r.has_value());
    EXPECT_NE(r->find("at least 12 characters"), std::string::npos) << *r;
    EXPECT_TRUE(refused(""));
    // Characters, not bytes: eleven two-byte letters are still eleven.
    EXPECT_TRUE(refused("äöüäöüäöüÄ1"));
}

TEST(PasswordPolicy, OneKindOfCharacterOnly) {
    for (std::string_view pw : {"482915736048", "kdjfurnvbqpe", "KDJFURNVBQPE", "!@#$%^&*()_+-="}) {
        const auto r = weak_password_reason(pw, "bob", "");
        ASSERT_TRUE(r.has_value()) << pw;
        EXPECT_NE(r->find("two kinds"), std::string::npos) << *r;
    }
}

TEST(PasswordPolicy, ContainsTheUserName) {
    const auto r = weak_password_reason("xyAlice-2024kq", "alice", "");
    ASSERT_TRUE(r.has_value());
    EXPECT_NE(r->find("user name"), std::string::npos) << *r;
    EXPECT_TRUE(refused("Secret-201-Phone", "201", ""));  // an extension is a user name too
    EXPECT_FALSE(refused("Secret-20-Phonex", "20", ""));  // shorter than 3: ignored
    EXPECT_FALSE(refused("tulip-Meteor-91", "", ""));
}

TEST(PasswordPolicy, ContainsAWordOfTheDisplayName) {
    const auto r = weak_password_reason("Liddell-Rabbit-9", "alice", "Alice Liddell");
    ASSERT_TRUE(r.has_value());
    EXPECT_NE(r->find("\"Liddell\""), std::string::npos) << *r;
    EXPECT_TRUE(refused("zz-LIDDELL-zz-42", "x", "Alice Liddell"));
    EXPECT_TRUE(refused("Rabbit-José-9999", "x", "José García"));
    // Words of fewer than 4 letters do not count.
    EXPECT_FALSE(refused("Ann-Meteor-9182", "x", "Ann Li"));
    EXPECT_FALSE(refused("tulip-Meteor-91", "x", ""));
}

TEST(PasswordPolicy, CommonPasswords) {
    for (std::string_view pw :
         {"qwertyuiop12", "Qwertyuiop12", "PASSWORD1234", "Password1234!", "Letmein2024!!", "Welcome12345",
          "iloveyou1234", "Asterisk2023#", "P@ssw0rd1234", "passw0rd!!!!", "Sipwarden123!"}) {
        const auto r = weak_password_reason(pw, "bob", "");
        ASSERT_TRUE(r.has_value()) << pw;
        EXPECT_NE(r->find("common password"), std::string::npos) << pw << ": " << *r;
    }
    EXPECT_TRUE(refused("123456789012", "bob", ""));  // a single kind of character, and common too
    EXPECT_TRUE(refused("Adm1n-2024!!", "bob", ""));
    // A common word inside a longer password is fine: only the whole password or its stem counts.
    EXPECT_FALSE(refused("password-Meteor-9", "bob", ""));
    EXPECT_FALSE(refused("9Passwordtulip", "bob", ""));
}

TEST(PasswordPolicy, EmbeddedListIsSortedLowercaseAndComplete) {
    const auto list = common_passwords();
    EXPECT_GE(list.size(), 300u);
    EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));
    EXPECT_EQ(std::adjacent_find(list.begin(), list.end()), list.end());
    for (std::string_view w : list) {
        EXPECT_FALSE(w.empty());
        EXPECT_EQ(std::find_if(w.begin(), w.end(), [](char c) { return c >= 'A' && c <= 'Z'; }), w.end())
            << w;
    }
    for (std::string_view must :
         {"password", "qwerty", "letmein", "welcome", "iloveyou", "admin", "123456789012", "qwertyuiop",
          "passw0rd", "sipwarden", "voip", "asterisk"}) {
        EXPECT_TRUE(std::binary_search(list.begin(), list.end(), must)) << must;
    }
}

TEST(PasswordPolicy, GeneratedPasswordsAreStrongAndSafe) {
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        const std::string pw = generate_password();
        EXPECT_EQ(pw.size(), kGeneratedPasswordLength);
        EXPECT_EQ(weak_password_reason(pw, "", ""), std::nullopt) << pw;
        EXPECT_EQ(pw.find_first_of(",\"' \\$!`*#%&;|<>()[]{}?~^"), std::string::npos) << pw;
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(pw[0]))) << pw;
        EXPECT_NE(pw.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), std::string::npos) << pw;
        EXPECT_NE(pw.find_first_of("abcdefghijklmnopqrstuvwxyz"), std::string::npos) << pw;
        EXPECT_NE(pw.find_first_of("0123456789"), std::string::npos) << pw;
        EXPECT_NE(pw.find_first_of("-_.:+=@"), std::string::npos) << pw;
        seen.insert(pw);
    }
    EXPECT_EQ(seen.size(), 200u);
}

TEST(PasswordPolicy, GeneratedPasswordAvoidsTheAccountsNames) {
    FakeRandom random(7);
    for (int i = 0; i < 100; ++i) {
        const std::string pw = generate_password(random, "abc", "Qwer Tyui");
        EXPECT_EQ(weak_password_reason(pw, "abc", "Qwer Tyui"), std::nullopt) << pw;
    }
}

TEST(PasswordPolicy, GenerationIsDeterministicWithAFakeRandom) {
    FakeRandom a(42);
    FakeRandom b(42);
    EXPECT_EQ(generate_password(a), generate_password(b));
}
