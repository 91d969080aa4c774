// The user import file of `sipwarden user import`: CSV lines `extension,password[,display name]`.
// Empty lines and lines starting with '#' are skipped; spaces and tabs around a field are not part of it; a
// field may be in double quotes (RFC 4180 2.5-2.7: "" stands for one quote), so a display name can contain
// commas. Only the parsing is here; the policy checks belong to the command.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sw::app {

struct ImportLine {
    std::size_t line = 0;  // 1-based, for `FILE:LINE: reason`
    std::string name;
    std::string password;
    std::string display_name;  // empty when the line has two fields
};

// The fields of one CSV line (without its line end), or why it is not CSV (an unclosed quote, text after a
// closing quote).
sw::Result<std::vector<std::string>, std::string> split_csv_line(std::string_view line);

// One line of an import file: nullopt for an empty or comment line, the entry, or why the line is wrong
// (not 2 or 3 fields, bad CSV). A trailing '\r' (a file written on Windows) is ignored.
sw::Result<std::optional<ImportLine>, std::string> parse_import_line(std::string_view line,
                                                                     std::size_t number);

}  // namespace sw::app
