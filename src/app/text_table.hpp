// Aligned columns for the CLI's listings (`user list`, `registrations`).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace sw::app {

// Prints each row as columns padded to the widest cell of their column (in UTF-8 characters), two spaces
// apart; the last column is not padded. rows[0] is the header.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

}  // namespace sw::app
