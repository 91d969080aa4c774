# Turns data/common-passwords.txt into a C++ source holding the list as a sorted array of string_views, so
# the binary needs no data file at run time. Run with: cmake -DINPUT=<txt> -DOUTPUT=<cpp> -P <this file>
#
# Entries: one a line, lowercase printable ASCII (no quote, backslash, semicolon or brackets, which would
# need escaping here or in C++); blank lines and lines starting with '#' are skipped.

file(STRINGS "${INPUT}" lines)
set(words "")
foreach(line IN LISTS lines)
  string(STRIP "${line}" word)
  if(word STREQUAL "" OR word MATCHES "^#")
    continue()
  endif()
  string(TOLOWER "${word}" word)
  if(NOT word MATCHES "^[a-z0-9._!@#$%&*+=?-]+$")
    message(FATAL_ERROR "${INPUT}: entry '${word}' has a character outside [a-z0-9._!@#$%&*+=?-]")
  endif()
  list(APPEND words "${word}")
endforeach()
list(REMOVE_DUPLICATES words)
list(SORT words COMPARE STRING)
list(LENGTH words count)

set(body "")
foreach(word IN LISTS words)
  string(APPEND body "    \"${word}\",\n")
endforeach()

set(text "// Generated from data/common-passwords.txt by src/auth/embed_common_passwords.cmake: do not edit.
#include \"auth/common_passwords.hpp\"

namespace sw::auth {
namespace {

constexpr std::string_view kCommonPasswords[${count}] = {
${body}};

}  // namespace

std::span<const std::string_view> common_passwords() { return kCommonPasswords; }

}  // namespace sw::auth
")
# Rewrite only when the content changed, so an unchanged list does not recompile anything.
file(WRITE "${OUTPUT}.tmp" "${text}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
