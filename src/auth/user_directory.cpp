#include "auth/user_directory.hpp"

#include <algorithm>

namespace sw::auth {

UserDirectory::UserDirectory(std::vector<UserRecord> users) : users_(std::move(users)) {
    auto by_name = [](const UserRecord& a, const UserRecord& b) { return a.name < b.name; };
    std::stable_sort(users_.begin(), users_.end(), by_name);
    auto same_name = [](const UserRecord& a, const UserRecord& b) { return a.name == b.name; };
    users_.erase(std::unique(users_.begin(), users_.end(), same_name), users_.end());
}

const UserRecord* UserDirectory::find(std::string_view name) const {
    auto it = std::lower_bound(users_.begin(), users_.end(), name,
                               [](const UserRecord& u, std::string_view n) { return u.name < n; });
    return it != users_.end() && it->name == name ? &*it : nullptr;
}

}  // namespace sw::auth
