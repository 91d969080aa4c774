#include "storage/user_rules.hpp"

#include "common/text.hpp"

namespace sw::storage {

namespace {

constexpr std::size_t kMaxNameLength = 128;
constexpr std::size_t kMaxDisplayNameLength = 128;
constexpr std::size_t kMaxRealmLength = 256;

// RFC 3261 25.1: unreserved = alphanum / mark; user-unreserved. '%' escapes are left out on purpose: an
// escaped and an unescaped spelling of one name would otherwise be two users.
bool is_user_char(char c) {
    constexpr std::string_view kMarks = "-_.!~*'()&=+$,;?/";
    return is_alnum(c) || kMarks.find(c) != std::string_view::npos;
}

bool is_control(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

bool is_lower_hex(std::string_view s, std::size_t length) {
    if (s.size() != length) return false;
    for (char c : s) {
        if (!is_digit(c) && !(c >= 'a' && c <= 'f')) return false;
    }
    return true;
}

std::optional<std::string> check_ha1(std::string_view field, std::string_view value, std::size_t length) {
    if (value.empty() || is_lower_hex(value, length)) return std::nullopt;
    return std::string(field) + " must be empty or " + std::to_string(length) + " lowercase hex digits";
}

}  // namespace

std::optional<std::string> check_user_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxNameLength) {
        return "a user name has 1 to " + std::to_string(kMaxNameLength) + " characters";
    }
    for (char c : name) {
        if (!is_user_char(c)) {
            return "a user name has only letters, digits and -_.!~*'()&=+$,;?/ (it is the user part of a SIP "
                   "URI)";
        }
    }
    return std::nullopt;
}

std::optional<std::string> check_display_name(std::string_view display_name) {
    if (display_name.size() > kMaxDisplayNameLength) {
        return "a display name has at most " + std::to_string(kMaxDisplayNameLength) + " bytes";
    }
    for (char c : display_name) {
        if (is_control(c)) return std::string("a display name has no control characters");
    }
    return std::nullopt;
}

std::optional<std::string> check_credentials(bool md5_allowed, std::string_view ha1_md5,
                                             std::string_view ha1_sha256, std::string_view ha1_sha512_256) {
    if (md5_allowed && !is_lower_hex(ha1_md5, 32)) {
        return std::string("ha1_md5 must be 32 lowercase hex digits when MD5 is allowed");
    }
    if (!md5_allowed && !ha1_md5.empty()) {
        return std::string("ha1_md5 must be empty when MD5 is not allowed");
    }
    if (auto e = check_ha1("ha1_sha256", ha1_sha256, 64)) return e;
    if (auto e = check_ha1("ha1_sha512_256", ha1_sha512_256, 64)) return e;
    if (!md5_allowed && ha1_sha256.empty() && ha1_sha512_256.empty()) {
        return std::string("no HA1 for any allowed algorithm: the user could never authenticate");
    }
    return std::nullopt;
}

std::optional<std::string> check_user(const auth::UserRecord& user) {
    if (auto e = check_user_name(user.name)) return e;
    if (auto e = check_display_name(user.display_name)) return e;
    return check_credentials(user.md5_allowed, user.ha1_md5, user.ha1_sha256, user.ha1_sha512_256);
}

std::optional<std::string> check_realm(std::string_view realm) {
    if (realm.empty() || realm.size() > kMaxRealmLength) {
        return "a realm has 1 to " + std::to_string(kMaxRealmLength) + " bytes";
    }
    for (char c : realm) {
        if (is_control(c) || c == '"' || c == '\\') {
            return std::string("a realm has no control characters, '\"' or '\\'");
        }
    }
    return std::nullopt;
}

}  // namespace sw::storage
