// The outcome of a storage operation that has nothing to return: done, or a message saying why not.
#pragma once

#include <string>
#include <variant>

#include "common/result.hpp"

namespace sw::storage {

using Status = sw::Result<std::monostate, std::string>;

inline Status ok() {
    return std::monostate{};
}

}  // namespace sw::storage
