// A prepared SQLite statement, finalized on destruction. Made by Database::prepare; it must not outlive
// that Database. Thread: whichever thread uses the Database, one at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "storage/status.hpp"

struct sqlite3_stmt;

namespace sw::storage {

class Statement {
public:
    // Parameters are numbered from 1, as "?1" in the SQL. Values are copied. A failed bind (index out of
    // range, value too big) is kept and returned by the next step() or run(), so a run of binds needs one
    // check instead of one per call.
    void bind_text(int index, std::string_view value);
    void bind_int64(int index, std::int64_t value);
    void bind_null(int index);

    // true: a row is ready for the column accessors; false: the statement has finished.
    sw::Result<bool, std::string> step();
    // Steps to the end of a statement that returns no rows (INSERT, UPDATE, DELETE, DDL).
    Status run();

    // Columns are numbered from 0; valid only while step() has last returned true.
    std::int64_t column_int64(int column) const;
    std::string column_text(int column) const;  // NULL reads as ""
    bool column_is_null(int column) const;

    // Makes the statement ready to run again and clears its parameters and a kept bind error. A statement
    // stopped before its last row keeps a read transaction open (and so an old snapshot) until reset.
    void reset();

private:
    friend class Database;
    struct Finalizer {
        void operator()(sqlite3_stmt* stmt) const;
    };
    explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
    void keep_bind_error(int rc, int index);

    std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
    std::string bind_error_;
};

}  // namespace sw::storage
