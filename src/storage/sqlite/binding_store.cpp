#include "storage/sqlite/binding_store.hpp"

#include <utility>

namespace sw::storage {

namespace {

// A REGISTER mostly refreshes a binding the table has: an UPDATE by key first, an INSERT only when it
// changed no row. (INSERT ... ON CONFLICT DO UPDATE did the insert's work first: a new rowid from the end
// of the table, a record built and then thrown away.) Both run inside the batch's BEGIN IMMEDIATE, which
// holds the write lock, so no row can appear between the two.
constexpr std::string_view kUpdate =
    "UPDATE bindings SET call_id = ?3, cseq = ?4, q = ?5, expires_at = ?6, registered_at = ?7, path = ?8, "
    "source = ?9, connection = ?10, user_agent = ?11, instance = ?12 WHERE aor = ?1 AND contact = ?2";
constexpr std::string_view kInsert =
    "INSERT INTO bindings(aor, contact, call_id, cseq, q, expires_at, registered_at, path, source, "
    "connection, user_agent, instance) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

constexpr std::string_view kRemove = "DELETE FROM bindings WHERE aor = ?1 AND contact = ?2";
constexpr std::string_view kExpire =
    "DELETE FROM bindings WHERE aor = ?1 AND contact = ?2 AND expires_at <= ?3";

constexpr std::string_view kFind =
    "SELECT aor, contact, call_id, cseq, q, expires_at, registered_at, path, source, connection, user_agent, "
    "instance FROM bindings WHERE aor = ?1 AND contact = ?2";

// The primary key's order, so the sort costs nothing.
constexpr std::string_view kSelectAll =
    "SELECT aor, contact, call_id, cseq, q, expires_at, registered_at, path, source, connection, user_agent, "
    "instance FROM bindings ORDER BY aor, contact";

void bind_binding(Statement& stmt, const registrar::Binding& b) {
    stmt.bind_text(1, b.aor);
    stmt.bind_text(2, b.contact);
    stmt.bind_text(3, b.call_id);
    stmt.bind_int64(4, b.cseq);
    stmt.bind_int64(5, b.q);
    stmt.bind_int64(6, b.expires_at);
    stmt.bind_int64(7, b.registered_at);
    stmt.bind_text(8, b.path);
    stmt.bind_text(9, b.source);
    // SQLite integers are signed 64-bit; the id goes in as its two's-complement bit pattern and comes
    // back unchanged (C++20 defines both conversions as modulo 2^64).
    stmt.bind_int64(10, static_cast<std::int64_t>(b.connection));
    stmt.bind_text(11, b.user_agent);
    stmt.bind_text(12, b.instance);
}

registrar::Binding read_binding(const Statement& stmt) {
    registrar::Binding b;
    b.aor = stmt.column_text(0);
    b.contact = stmt.column_text(1);
    b.call_id = stmt.column_text(2);
    b.cseq = static_cast<std::uint32_t>(stmt.column_int64(3));
    b.q = static_cast<int>(stmt.column_int64(4));
    b.expires_at = stmt.column_int64(5);
    b.registered_at = stmt.column_int64(6);
    b.path = stmt.column_text(7);
    b.source = stmt.column_text(8);
    b.connection = static_cast<std::uint64_t>(stmt.column_int64(9));
    b.user_agent = stmt.column_text(10);
    b.instance = stmt.column_text(11);
    return b;
}

}  // namespace

SqliteBindingStore::SqliteBindingStore(Database& db, ErrorSink on_error)
    : db_(db), on_error_(std::move(on_error)) {}

void SqliteBindingStore::report(const std::string& message) const {
    if (on_error_) on_error_(message);
}

sw::Result<Statement*, std::string> SqliteBindingStore::cached(std::optional<Statement>& slot,
                                                               std::string_view sql) {
    if (!slot) {
        auto stmt = db_.prepare(sql);
        if (!stmt) return sw::unexpected(stmt.error());
        slot.emplace(std::move(stmt).value());
    }
    slot->reset();
    return &*slot;
}

Status SqliteBindingStore::write(const registrar::BindingChange& change) {
    using Kind = registrar::BindingChange::Kind;
    if (change.kind == Kind::Upsert) {
        auto update = cached(update_, kUpdate);
        if (!update) return sw::unexpected(update.error());
        bind_binding(**update, change.binding);
        if (auto done = (*update)->run(); !done || db_.changes() > 0) return done;
        auto insert = cached(insert_, kInsert);
        if (!insert) return sw::unexpected(insert.error());
        bind_binding(**insert, change.binding);
        return (*insert)->run();
    }
    auto stmt = change.kind == Kind::Remove ? cached(remove_, kRemove) : cached(expire_, kExpire);
    if (!stmt) return sw::unexpected(stmt.error());
    (*stmt)->bind_text(1, change.binding.aor);
    (*stmt)->bind_text(2, change.binding.contact);
    if (change.kind == Kind::Expire) (*stmt)->bind_int64(3, change.binding.expires_at);
    return (*stmt)->run();
}

bool SqliteBindingStore::apply(const std::vector<registrar::BindingChange>& changes) {
    if (changes.empty()) return true;
    auto tx = Transaction::begin(db_);
    if (!tx) {
        report("storing bindings: " + tx.error());
        return false;
    }
    for (const auto& change : changes) {
        if (auto done = write(change); !done) {
            report("storing binding " + change.binding.aor + " -> " + change.binding.contact + ": " +
                   done.error());
            return false;  // ~Transaction rolls back the changes written so far
        }
    }
    if (auto committed = tx->commit(); !committed) {
        report("storing bindings: " + committed.error());
        return false;
    }
    return true;
}

bool SqliteBindingStore::find(const std::string& aor, const std::string& contact,
                              std::optional<registrar::Binding>& out) {
    out.reset();
    auto stmt = cached(find_, kFind);
    if (!stmt) {
        report("reading binding " + aor + " -> " + contact + ": " + stmt.error());
        return false;
    }
    (*stmt)->bind_text(1, aor);
    (*stmt)->bind_text(2, contact);
    auto row = (*stmt)->step();
    if (!row) {
        report("reading binding " + aor + " -> " + contact + ": " + row.error());
        return false;
    }
    if (*row) out = read_binding(**stmt);
    (*stmt)->reset();  // no read transaction left open on the cached statement
    return true;
}

Status SqliteBindingStore::read_all(const std::function<void(registrar::Binding&&)>& f) {
    auto stmt = db_.prepare(kSelectAll);
    if (!stmt) return sw::unexpected("reading bindings: " + stmt.error());
    for (;;) {
        auto row = stmt->step();
        if (!row) return sw::unexpected("reading bindings: " + row.error());
        if (!*row) return std::monostate{};
        f(read_binding(*stmt));
    }
}

sw::Result<std::vector<registrar::Binding>, std::string> SqliteBindingStore::list() {
    std::vector<registrar::Binding> bindings;
    if (auto done = read_all([&](registrar::Binding&& b) { bindings.push_back(std::move(b)); }); !done)
        return sw::unexpected(done.error());
    return bindings;
}

bool SqliteBindingStore::for_each(const std::function<void(registrar::Binding&&)>& f) {
    auto done = read_all(f);
    if (!done) report(done.error());
    return done.has_value();
}

std::vector<registrar::Binding> SqliteBindingStore::load_all() {
    auto bindings = list();
    if (!bindings) {
        report(bindings.error());
        return {};
    }
    return std::move(bindings).value();
}

std::size_t SqliteBindingStore::remove_expired(std::int64_t now) {
    auto stmt = db_.prepare("DELETE FROM bindings WHERE expires_at <= ?1");
    if (!stmt) {
        report("removing expired bindings: " + stmt.error());
        return 0;
    }
    stmt->bind_int64(1, now);
    if (auto done = stmt->run(); !done) {
        report("removing expired bindings: " + done.error());
        return 0;
    }
    return static_cast<std::size_t>(db_.changes());
}

}  // namespace sw::storage
