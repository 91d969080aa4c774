// AccessList: the allow and deny networks (table acl, plus networks the server adds: trunk addresses,
// configured networks), global and per user. Immutable once built and shared: the owner builds a new
// one when the table changes and hands it to BanList::set_access_list.
//
// Global rules (precedence in this order, see BanList::check):
//   allow  -> Exempt: never banned nor rate limited (trunks, the office). Allow wins over deny, so that
//             "deny 0.0.0.0/0 + allow 192.0.2.0/24" reads as "only 192.0.2.0/24".
//   deny   -> Denied: dropped before parsing.
// Per-user rules (user_allowed): a user with allow entries may register and call only from them; a
// user's deny entries refuse those networks. They apply whatever the global verdict (an exempt trunk
// network does not make a user allowed from it).
//
// Networks are matched one after the other: lists are meant to be short (tens of entries).
// Thread: build on one thread; after that const, read by every worker at once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.hpp"
#include "security/address_key.hpp"
#include "security/records.hpp"

namespace sw::security {

class AccessList {
public:
    AccessList() = default;
    // Records whose cidr does not parse are skipped and, when `bad` is given, listed there.
    static AccessList from_records(const std::vector<AclRecord>& records,
                                   std::vector<std::string>* bad = nullptr);

    // A global allow network that is not in the table (trunk addresses, --exempt networks).
    void add_exempt(const sw::Cidr& network);
    void add(const AclRecord& record, const sw::Cidr& network);

    bool exempt(const AddressKey& address) const;  // in a global allow network
    bool denied(const AddressKey& address) const;  // in a global deny network
    // false when `user` has allow networks and the address is in none, or the address is in one of the
    // user's deny networks.
    bool user_allowed(std::string_view user, const AddressKey& address) const;

    bool empty() const { return allow_.empty() && deny_.empty() && users_.empty(); }

private:
    struct UserRules {
        std::string user;
        std::vector<sw::Cidr> allow;
        std::vector<sw::Cidr> deny;
    };

    std::vector<sw::Cidr> allow_;
    std::vector<sw::Cidr> deny_;
    std::vector<UserRules> users_;  // few users have rules; searched in order
};

}  // namespace sw::security
