#include "security/access_list.hpp"

#include <algorithm>

namespace sw::security {

namespace {

bool in_any(const std::vector<sw::Cidr>& networks, const AddressKey& a) {
    return std::any_of(networks.begin(), networks.end(),
                       [&](const sw::Cidr& n) { return n.contains_bytes(a.bytes.data(), a.v6); });
}

}  // namespace

AccessList AccessList::from_records(const std::vector<AclRecord>& records, std::vector<std::string>* bad) {
    AccessList list;
    for (const auto& r : records) {
        auto network = sw::Cidr::parse(r.cidr);
        if (!network) {
            if (bad) bad->push_back(r.cidr);
            continue;
        }
        list.add(r, *network);
    }
    return list;
}

void AccessList::add_exempt(const sw::Cidr& network) {
    allow_.push_back(network);
}

void AccessList::add(const AclRecord& record, const sw::Cidr& network) {
    if (record.user.empty()) {
        (record.kind == AclKind::Allow ? allow_ : deny_).push_back(network);
        return;
    }
    auto it =
        std::find_if(users_.begin(), users_.end(), [&](const UserRules& u) { return u.user == record.user; });
    if (it == users_.end()) {
        users_.push_back(UserRules{record.user, {}, {}});
        it = users_.end() - 1;
    }
    (record.kind == AclKind::Allow ? it->allow : it->deny).push_back(network);
}

bool AccessList::exempt(const AddressKey& address) const {
    return in_any(allow_, address);
}

bool AccessList::denied(const AddressKey& address) const {
    return in_any(deny_, address);
}

bool AccessList::user_allowed(std::string_view user, const AddressKey& address) const {
    const auto it =
        std::find_if(users_.begin(), users_.end(), [&](const UserRules& u) { return u.user == user; });
    if (it == users_.end()) return true;
    if (in_any(it->deny, address)) return false;
    return it->allow.empty() || in_any(it->allow, address);
}

}  // namespace sw::security
