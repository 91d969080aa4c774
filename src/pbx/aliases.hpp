// Aliases: other names of a user (a shared line "sales", a short number "9" for 201) that reach the
// user when called, and that the user may present in From. The administrator makes them with
// `sipwarden user alias`; an immutable table of them is shared by the workers.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sw::pbx {

struct Alias {
    std::string alias;
    std::string user;
};

class AliasTable {
public:
    AliasTable() = default;
    explicit AliasTable(const std::vector<Alias>& aliases) {
        for (const auto& a : aliases)
            by_alias_.emplace(a.alias, a.user);
    }
    // The user an alias names; empty when it is none.
    std::string_view user_of(std::string_view alias) const {
        auto it = by_alias_.find(alias);
        return it == by_alias_.end() ? std::string_view{} : std::string_view(it->second);
    }
    std::size_t size() const { return by_alias_.size(); }

private:
    std::map<std::string, std::string, std::less<>> by_alias_;
};

}  // namespace sw::pbx
