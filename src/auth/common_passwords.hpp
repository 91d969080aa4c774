// The common-password list of data/common-passwords.txt, embedded at build time (see
// embed_common_passwords.cmake): lowercase, sorted in byte order, without duplicates.
#pragma once

#include <span>
#include <string_view>

namespace sw::auth {

std::span<const std::string_view> common_passwords();

}  // namespace sw::auth
