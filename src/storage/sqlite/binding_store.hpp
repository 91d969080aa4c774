// The durable copy of the location service (registrar/binding.hpp) in SQLite. The in-memory
// LocationService stays the truth while running; this store only has to keep up with it and give it
// back on start. Each apply() is committed in WAL before it returns, so a REGISTER answered after apply()
// survives the process being killed.
// Thread: one writer thread at a time (the BindingStore contract). The Database must outlive the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "registrar/binding.hpp"
#include "storage/sqlite/database.hpp"

namespace sw::storage {

class SqliteBindingStore final : public registrar::BindingStore {
public:
    // Receives the message of each storage error that the BindingStore interface can only report as
    // false / empty / 0; the app logs it. May be empty.
    using ErrorSink = std::function<void(const std::string& message)>;

    explicit SqliteBindingStore(Database& db, ErrorSink on_error = {});

    bool apply(const std::vector<registrar::BindingChange>& changes) override;
    std::vector<registrar::Binding> load_all() override;
    bool for_each(const std::function<void(registrar::Binding&&)>& f) override;
    std::size_t remove_expired(std::int64_t now) override;
    bool find(const std::string& aor, const std::string& contact,
              std::optional<registrar::Binding>& out) override;

    // Every binding sorted by AOR then contact, for `sipwarden registrations`; unlike load_all(), an error
    // is returned instead of reported, so the CLI can tell "none" from "could not read".
    sw::Result<std::vector<registrar::Binding>, std::string> list();

private:
    Status write(const registrar::BindingChange& change);
    // Every row in AOR order, one at a time, to f (list() and for_each() differ only in what they do
    // with an error).
    Status read_all(const std::function<void(registrar::Binding&&)>& f);
    // The statement in `slot`, prepared on first use and kept: apply() runs on every REGISTER.
    sw::Result<Statement*, std::string> cached(std::optional<Statement>& slot, std::string_view sql);
    void report(const std::string& message) const;

    Database& db_;
    ErrorSink on_error_;
    std::optional<Statement> update_;
    std::optional<Statement> insert_;
    std::optional<Statement> remove_;
    std::optional<Statement> expire_;
    std::optional<Statement> find_;
};

}  // namespace sw::storage
