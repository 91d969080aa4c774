#include "app/trunk_setup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <openssl/crypto.h>

#include "common/text.hpp"
#include "storage/sqlite/did_store.hpp"
#include "storage/sqlite/route_store.hpp"
#include "storage/sqlite/trunk_store.hpp"

namespace sw::app {

namespace {

std::string os_error(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

std::string hex(const auth::SecretKey& key) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : key) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0x0f]);
    }
    return out;
}

// Writes the whole text to a new file (mode 0600) and makes it durable before it gets its real name.
sw::Result<std::monostate, std::string> write_new_file(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return sw::unexpected(os_error(path));
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string error = os_error(path);
            ::close(fd);
            return sw::unexpected(error);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        const std::string error = os_error(path);
        ::close(fd);
        return sw::unexpected(error);
    }
    if (::close(fd) != 0) return sw::unexpected(os_error(path));
    return std::monostate{};
}

// The folder's entry for the new name must reach the disk too, or a crash could leave no key while
// passwords sealed with it are already stored.
void sync_folder(const std::string& path) {
    const std::string folder = std::filesystem::path(path).parent_path().string();
    const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

// BEGIN (deferred: a reader, no write lock) ... COMMIT, so the tables come from one snapshot.
class ReadSnapshot {
public:
    explicit ReadSnapshot(storage::Database& db) : db_(db.in_transaction() ? nullptr : &db) {
        if (db_ && !db_->exec("BEGIN")) db_ = nullptr;
    }
    ~ReadSnapshot() {
        if (db_) (void)db_->exec("COMMIT");
    }
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;

private:
    storage::Database* db_;
};

}  // namespace

std::string secret_key_path(const std::string& data_dir) {
    return (std::filesystem::path(data_dir) / "secret.key").string();
}

sw::Result<auth::SecretKey, std::string> load_secret_key(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return sw::unexpected(os_error("secret key " + path));
    std::string text;
    // More than a key and its line end is not a key file; reading a bounded amount keeps it cheap.
    text.resize(256);
    file.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(file.gcount()));
    const std::string_view digits = trim(text);
    auth::SecretKey key{};
    bool valid = digits.size() == key.size() * 2;
    for (std::size_t i = 0; valid && i < key.size(); ++i) {
        const int hi = hex_value(digits[2 * i]);
        const int lo = hex_value(digits[2 * i + 1]);
        valid = hi >= 0 && lo >= 0;
        if (valid) key[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    OPENSSL_cleanse(text.data(), text.size());
    if (!valid) {
        OPENSSL_cleanse(key.data(), key.size());
        return sw::unexpected("secret key " + path + ": not 64 hex digits");
    }
    return key;
}

sw::Result<auth::SecretKey, std::string> load_or_create_secret_key(const std::string& path,
                                                                   auth::Random& random) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return load_secret_key(path);
    auth::SecretKey key{};
    random.fill(key);
    std::string text = hex(key) + "\n";
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    auto written = write_new_file(tmp, text);
    OPENSSL_cleanse(text.data(), text.size());
    if (!written) {
        ::unlink(tmp.c_str());
        return sw::unexpected("secret key: " + written.error());
    }
    const bool linked = ::link(tmp.c_str(), path.c_str()) == 0;
    const int link_errno = errno;
    ::unlink(tmp.c_str());
    if (!linked) {
        // Another process made the key first: use its key, or the passwords it sealed would not open.
        if (link_errno == EEXIST) return load_secret_key(path);
        errno = link_errno;
        return sw::unexpected(os_error("secret key " + path));
    }
    sync_folder(path);
    return key;
}

sw::Result<TrunkTables, std::string> load_trunk_tables(storage::Database& db, const std::string& data_dir) {
    sw::Result<std::vector<b2bua::Trunk>, std::string> trunks = std::vector<b2bua::Trunk>{};
    sw::Result<std::vector<b2bua::DialRoute>, std::string> routes = std::vector<b2bua::DialRoute>{};
    sw::Result<std::vector<b2bua::Did>, std::string> dids = std::vector<b2bua::Did>{};
    {
        ReadSnapshot snapshot(db);
        trunks = storage::SqliteTrunkStore(db).load_all();
        if (!trunks) return sw::unexpected(trunks.error());
        routes = storage::SqliteRouteStore(db).load_all();
        if (!routes) return sw::unexpected(routes.error());
        dids = storage::SqliteDidStore(db).load_all();
        if (!dids) return sw::unexpected(dids.error());
    }

    TrunkTables tables;
    bool any_secret = false;
    for (const auto& t : *trunks)
        any_secret = any_secret || !t.secret.empty();
    if (any_secret) {
        // Only read when needed: a server without trunk passwords has no key file and needs none.
        const std::string path = secret_key_path(data_dir);
        auto key = load_secret_key(path);
        for (auto& t : *trunks) {
            if (t.secret.empty()) continue;
            std::optional<std::string> password;
            if (key) password = auth::open_secret(*key, t.secret);
            if (password) {
                t.password = std::move(*password);
                continue;
            }
            tables.warnings.push_back(
                "trunk " + t.name + ": its stored password does not open (" +
                (key ? "sealed with another key than " + path + ", or changed" : key.error()) +
                "); the trunk goes without one until it is added again");
        }
        if (key) OPENSSL_cleanse(key->data(), key->size());
    }
    tables.trunks = std::make_shared<const std::vector<b2bua::Trunk>>(std::move(*trunks));
    tables.plan = std::make_shared<const b2bua::DialPlan>(std::move(*routes));
    tables.dids = std::make_shared<const b2bua::DidTable>(*dids);
    return tables;
}

storage::Status write_trunk_status(storage::Database& db, const b2bua::TrunkStatus& status) {
    return storage::SqliteTrunkStore(db).set_status(status);
}

}  // namespace sw::app
