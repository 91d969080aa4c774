#include "storage/sqlite/binding_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <limits>

#include "temp_dir.hpp"

namespace sw::storage {
namespace {

using registrar::Binding;
using registrar::BindingChange;

Binding make_binding(std::string aor, std::string contact, std::int64_t expires_at = 2000) {
    Binding b;
    b.aor = std::move(aor);
    b.contact = std::move(contact);
    b.call_id = "call-" + b.contact;
    b.cseq = 1;
    b.q = 500;
    b.expires_at = expires_at;
    b.registered_at = 1000;
    b.path = "<sip:edge1.example.com;lr>,<sip:edge2.example.com;lr>";
    b.source = "tcp:[2001:db8::1]:40001";
    b.connection = std::numeric_limits<std::uint64_t>::max();  // the top bit must survive int64 storage
    b.user_agent = "Phone/1.0";
    b.instance = "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";
    return b;
}

BindingChange upsert(Binding b) {
    return BindingChange{BindingChange::Kind::Upsert, std::move(b)};
}

BindingChange removal(std::string aor, std::string contact) {
    BindingChange c{BindingChange::Kind::Remove, {}};
    c.binding.aor = std::move(aor);
    c.binding.contact = std::move(contact);
    return c;
}

bool same(const Binding& a, const Binding& b) {
    return a.aor == b.aor && a.contact == b.contact && a.call_id == b.call_id && a.cseq == b.cseq &&
           a.q == b.q && a.expires_at == b.expires_at && a.registered_at == b.registered_at &&
           a.path == b.path && a.source == b.source && a.connection == b.connection &&
           a.user_agent == b.user_agent && a.instance == b.instance;
}

std::vector<std::string> keys(const std::vector<Binding>& bindings) {
    std::vector<std::string> out;
    for (const auto& b : bindings)
        out.push_back(b.aor + " " + b.contact);
    return out;
}

class BindingStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(dir_.ok());
        reopen();
    }

    void reopen() {
        store_.reset();
        db_.reset();
        auto db = Database::open(path_);
        ASSERT_TRUE(db) << db.error();
        db_ = std::move(db).value();
        store_.emplace(*db_, [this](const std::string& message) { errors_.push_back(message); });
    }

    test::TempDir dir_;
    std::string path_ = dir_.file("bindings.db");
    std::vector<std::string> errors_;
    std::unique_ptr<Database> db_;
    std::optional<SqliteBindingStore> store_;
};

TEST_F(BindingStoreTest, UpsertTwiceUpdatesTheBinding) {
    ASSERT_TRUE(store_->apply({upsert(make_binding("201@example.com", "sip:201@192.0.2.1"))}));
    auto newer = make_binding("201@example.com", "sip:201@192.0.2.1", 5000);
    newer.cseq = 2;
    newer.q = 1000;
    newer.path.clear();
    newer.connection = 7;
    ASSERT_TRUE(store_->apply({upsert(newer)}));
    auto all = store_->load_all();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_TRUE(same(all[0], newer));
    EXPECT_TRUE(errors_.empty());
}

TEST_F(BindingStoreTest, RemoveDeletesOnlyThatContact) {
    ASSERT_TRUE(store_->apply({upsert(make_binding("201@example.com", "sip:a")),
                               upsert(make_binding("201@example.com", "sip:b"))}));
    ASSERT_TRUE(
        store_->apply({removal("201@example.com", "sip:a"), removal("201@example.com", "sip:absent")}));
    EXPECT_EQ(keys(store_->load_all()), (std::vector<std::string>{"201@example.com sip:b"}));
    EXPECT_TRUE(store_->apply({}));
}

TEST_F(BindingStoreTest, LoadAllAfterReopenRestoresEveryField) {
    const auto a = make_binding("201@example.com", "sip:201@192.0.2.1;transport=tcp");
    auto b = make_binding("alice@example.com", "sips:alice@[2001:db8::2]");
    b.path.clear();
    b.instance.clear();
    b.user_agent.clear();
    b.connection = 0;
    ASSERT_TRUE(store_->apply({upsert(b), upsert(a)}));
    reopen();
    auto all = store_->load_all();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_TRUE(same(all[0], a));
    EXPECT_TRUE(same(all[1], b));
}

TEST_F(BindingStoreTest, RemoveExpiredTakesThoseAtOrBeforeNow) {
    ASSERT_TRUE(store_->apply({upsert(make_binding("a@example.com", "sip:1", 100)),
                               upsert(make_binding("b@example.com", "sip:2", 200)),
                               upsert(make_binding("c@example.com", "sip:3", 201))}));
    EXPECT_EQ(store_->remove_expired(99), 0u);
    EXPECT_EQ(store_->remove_expired(200), 2u);
    EXPECT_EQ(keys(store_->load_all()), (std::vector<std::string>{"c@example.com sip:3"}));
}

TEST_F(BindingStoreTest, ExpireRemovesARowOnlyIfNotRefreshedSince) {
    ASSERT_TRUE(store_->apply({upsert(make_binding("a@x", "sip:a@1", 1000)),
                               upsert(make_binding("b@x", "sip:b@1", 1000)),
                               upsert(make_binding("b@x", "sip:b@2", 1000))}));
    // b@x sip:b@1 was refreshed (to 1500) after the sweep saw it expired at 1000.
    ASSERT_TRUE(store_->apply({upsert(make_binding("b@x", "sip:b@1", 1500))}));
    ASSERT_TRUE(
        store_->apply({BindingChange{BindingChange::Kind::Expire, make_binding("a@x", "sip:a@1", 1000)},
                       BindingChange{BindingChange::Kind::Expire, make_binding("b@x", "sip:b@1", 1000)},
                       BindingChange{BindingChange::Kind::Expire, make_binding("b@x", "sip:b@2", 1000)},
                       BindingChange{BindingChange::Kind::Expire, make_binding("c@x", "sip:c@1", 1000)}}));
    EXPECT_TRUE(errors_.empty());
    reopen();
    auto left = store_->load_all();
    ASSERT_EQ(keys(left), (std::vector<std::string>{"b@x sip:b@1"}));
    EXPECT_EQ(left[0].expires_at, 1500);
}

TEST_F(BindingStoreTest, TheBindingsTableHasNoExpiryIndex) {
    // Every REGISTER would update it; expired rows are removed by key instead (ExpireRemoves... above).
    auto stmt = db_->prepare(
        "SELECT group_concat(name) FROM sqlite_master WHERE type = 'index' AND "
        "tbl_name = 'bindings' AND sql IS NOT NULL");
    ASSERT_TRUE(stmt) << stmt.error();
    auto row = stmt->step();
    ASSERT_TRUE(row && *row);
    EXPECT_EQ(stmt->column_text(0), "");
}

TEST_F(BindingStoreTest, ListIsSortedByAorThenContact) {
    ASSERT_TRUE(store_->apply({upsert(make_binding("bob@example.com", "sip:z")),
                               upsert(make_binding("alice@example.com", "sip:y")),
                               upsert(make_binding("alice@example.com", "sip:x"))}));
    auto listed = store_->list();
    ASSERT_TRUE(listed) << listed.error();
    EXPECT_EQ(keys(*listed), (std::vector<std::string>{"alice@example.com sip:x", "alice@example.com sip:y",
                                                       "bob@example.com sip:z"}));
}

TEST_F(BindingStoreTest, ApplyIsAllOrNothingAndReportsTheError) {
    ASSERT_TRUE(store_->apply({upsert(make_binding("201@example.com", "sip:keep"))}));
    auto bad = make_binding("201@example.com", "sip:bad");
    bad.q = 5000;  // outside 0..1000: the table's CHECK refuses it
    EXPECT_FALSE(store_->apply({removal("201@example.com", "sip:keep"),
                                upsert(make_binding("202@example.com", "sip:new")), upsert(bad)}));
    EXPECT_EQ(keys(store_->load_all()), (std::vector<std::string>{"201@example.com sip:keep"}));
    ASSERT_EQ(errors_.size(), 1u);
    EXPECT_NE(errors_[0].find("storing binding 201@example.com -> sip:bad: CHECK constraint failed"),
              std::string::npos)
        << errors_[0];
    // The cached statements still work after the failure.
    EXPECT_TRUE(store_->apply({upsert(make_binding("202@example.com", "sip:new"))}));
    EXPECT_EQ(store_->load_all().size(), 2u);
}

TEST_F(BindingStoreTest, FindReadsOneRowByItsExactKey) {
    const auto b = make_binding("201@example.com", "sip:201@192.0.2.1");
    ASSERT_TRUE(store_->apply({upsert(b), upsert(make_binding("201@example.com", "sip:201@192.0.2.2"))}));
    std::optional<Binding> found;
    ASSERT_TRUE(store_->find("201@example.com", "sip:201@192.0.2.1", found));
    ASSERT_TRUE(found);
    EXPECT_TRUE(same(*found, b));
    // The contact is the key as stored: another spelling of the same URI is another row (none here).
    ASSERT_TRUE(store_->find("201@example.com", "sip:201@192.0.2.1;transport=udp", found));
    EXPECT_FALSE(found);
    ASSERT_TRUE(store_->find("202@example.com", "sip:201@192.0.2.1", found));
    EXPECT_FALSE(found);
    // The cached statement holds no read transaction: a commit made meanwhile is seen by the next find.
    ASSERT_TRUE(store_->apply({removal("201@example.com", "sip:201@192.0.2.1")}));
    ASSERT_TRUE(store_->find("201@example.com", "sip:201@192.0.2.1", found));
    EXPECT_FALSE(found);
    EXPECT_TRUE(errors_.empty());
}

TEST_F(BindingStoreTest, BindingSurvivesSigkillRightAfterApply) {
    // The child opens its own connection (an SQLite connection must not cross fork()), so none is open here.
    store_.reset();
    db_.reset();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto db = Database::open(path_);
        if (!db) ::_exit(2);
        SqliteBindingStore store(**db);
        if (!store.apply({upsert(make_binding("201@example.com", "sip:survivor"))})) ::_exit(3);
        ::kill(::getpid(), SIGKILL);
        ::_exit(4);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), SIGKILL);

    reopen();
    auto all = store_->load_all();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_TRUE(same(all[0], make_binding("201@example.com", "sip:survivor")));
}

}  // namespace
}  // namespace sw::storage
