#include "b2bua/trunk.hpp"

#include "common/text.hpp"

namespace sw::b2bua {

// A name that needs no quoting anywhere it appears: in the command line, in logs, and in a Contact user
// part or header parameter the REGISTER client may derive from it.
bool valid_trunk_name(std::string_view name) {
    if (name.empty() || name.size() > 32) return false;
    for (char c : name)
        if (!is_alnum(c) && c != '_' && c != '-') return false;
    return true;
}

}  // namespace sw::b2bua
