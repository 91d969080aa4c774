#include "app/store_setup.hpp"

#include <filesystem>
#include <system_error>

#include "storage/sqlite/user_store.hpp"

namespace sw::app {

namespace {

constexpr const char* kDefaultRealm = "sipwarden";

std::string realm_conflict(const std::string& stored) {
    return "the store's realm is " + stored + "; a different realm would need every password again";
}

}  // namespace

std::string location_database_path(const std::string& data_dir) {
    return data_dir + "/location.db";
}

std::string cdr_database_path(const std::string& data_dir) {
    return data_dir + "/cdr.db";
}

std::string database_path(const std::string& data_dir) {
    return (std::filesystem::path(data_dir) / "sipwarden.db").string();
}

sw::Result<std::unique_ptr<storage::Database>, std::string> open_database(
    const std::string& data_dir, const std::optional<std::string>& realm_flag) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(data_dir, ec)) {
        fs::create_directories(data_dir, ec);
        if (!ec) fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
        if (ec) return sw::unexpected("data folder " + data_dir + ": " + ec.message());
    } else if (!fs::is_directory(data_dir, ec)) {
        return sw::unexpected("data folder " + data_dir + ": not a folder");
    }
    auto db = storage::Database::open(database_path(data_dir));
    if (!db || !realm_flag) return db;
    storage::SqliteUserStore users(**db);
    auto stored = users.realm();
    if (!stored) return sw::unexpected(stored.error());
    if (*stored && **stored != *realm_flag) return sw::unexpected(realm_conflict(**stored));
    return db;
}

sw::Result<std::string, std::string> settle_realm(storage::Database& db,
                                                  const std::vector<std::string>& domains,
                                                  const std::optional<std::string>& realm_flag) {
    storage::SqliteUserStore users(db);
    auto tx = storage::Transaction::begin(db);
    if (!tx) return sw::unexpected("reading the realm: " + tx.error());
    auto stored = users.realm();
    if (!stored) return sw::unexpected(stored.error());
    if (*stored) {
        if (realm_flag && *realm_flag != **stored) return sw::unexpected(realm_conflict(**stored));
        return std::move(**stored);
    }
    std::string realm = realm_flag ? *realm_flag : !domains.empty() ? domains.front() : kDefaultRealm;
    if (auto set = users.set_realm(realm); !set) return sw::unexpected(set.error());
    if (auto committed = tx->commit(); !committed)
        return sw::unexpected("setting the realm: " + committed.error());
    return realm;
}

sw::Result<Store, std::string> open_store(const std::string& data_dir,
                                          const std::vector<std::string>& domains,
                                          const std::optional<std::string>& realm_flag) {
    auto db = open_database(data_dir, realm_flag);
    if (!db) return sw::unexpected(db.error());
    auto realm = settle_realm(**db, domains, realm_flag);
    if (!realm) return sw::unexpected(realm.error());
    return Store{std::move(*db), std::move(*realm)};
}

}  // namespace sw::app
