// The users known to the server: an immutable snapshot, shared read-only by the worker threads.
// A change of users builds a new directory and swaps it in (the caller's business, e.g. a shared_ptr).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "auth/credentials.hpp"

namespace sw::auth {

class UserDirectory {
public:
    // Names are compared exactly (the digest username is case-sensitive, RFC 7616 3.4). When a name occurs
    // more than once, the first record wins.
    explicit UserDirectory(std::vector<UserRecord> users);

    // nullptr when unknown. The pointer lives as long as the directory.
    const UserRecord* find(std::string_view name) const;
    std::size_t size() const { return users_.size(); }

private:
    std::vector<UserRecord> users_;  // sorted by name, unique
};

}  // namespace sw::auth
