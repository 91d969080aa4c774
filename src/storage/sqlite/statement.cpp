#include "storage/sqlite/statement.hpp"

#include <sqlite3.h>

#include <cassert>
#include <climits>

namespace sw::storage {

namespace {

std::string error_of(sqlite3_stmt* stmt) {
    return sqlite3_errmsg(sqlite3_db_handle(stmt));
}

}  // namespace

void Statement::Finalizer::operator()(sqlite3_stmt* stmt) const {
    sqlite3_finalize(stmt);
}

void Statement::keep_bind_error(int rc, int index) {
    if (rc == SQLITE_OK || !bind_error_.empty()) return;
    bind_error_ = "parameter " + std::to_string(index) + ": " + sqlite3_errstr(rc);
}

void Statement::bind_text(int index, std::string_view value) {
    assert(stmt_);
    if (value.size() > static_cast<std::size_t>(INT_MAX)) {
        keep_bind_error(SQLITE_TOOBIG, index);
        return;
    }
    // A null data pointer would bind SQL NULL; an empty view may have one, and "" is what it means.
    const char* data = value.data() != nullptr ? value.data() : "";
    keep_bind_error(
        sqlite3_bind_text(stmt_.get(), index, data, static_cast<int>(value.size()), SQLITE_TRANSIENT), index);
}

void Statement::bind_int64(int index, std::int64_t value) {
    assert(stmt_);
    keep_bind_error(sqlite3_bind_int64(stmt_.get(), index, value), index);
}

void Statement::bind_null(int index) {
    assert(stmt_);
    keep_bind_error(sqlite3_bind_null(stmt_.get(), index), index);
}

sw::Result<bool, std::string> Statement::step() {
    assert(stmt_);
    if (!bind_error_.empty()) return sw::unexpected(bind_error_);
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sw::unexpected(error_of(stmt_.get()));
}

Status Statement::run() {
    for (;;) {
        auto row = step();
        if (!row) return sw::unexpected(row.error());
        if (!*row) return ok();
    }
}

std::int64_t Statement::column_int64(int column) const {
    assert(stmt_);
    return sqlite3_column_int64(stmt_.get(), column);
}

std::string Statement::column_text(int column) const {
    assert(stmt_);
    // sqlite3_column_text before sqlite3_column_bytes: the byte count is of the text conversion.
    const unsigned char* text = sqlite3_column_text(stmt_.get(), column);
    const int bytes = sqlite3_column_bytes(stmt_.get(), column);
    if (text == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(bytes));
}

bool Statement::column_is_null(int column) const {
    assert(stmt_);
    return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

void Statement::reset() {
    assert(stmt_);
    // The return value repeats the last step's error, which the caller has already had.
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
    bind_error_.clear();
}

}  // namespace sw::storage
