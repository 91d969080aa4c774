// The TOML configuration file of `sipwarden run`. Every key mirrors a command-line flag; flags given on
// the command line win over the file. Unknown keys and values of the wrong type or range stop the start
// with a message naming the key.
#pragma once

#include <string>

#include "app/run_command.hpp"
#include "common/result.hpp"

namespace sw::app {

// Reads `path` into `options` (and `log_level`). The error names the file, the key and the problem.
sw::Result<bool, std::string> load_config(const std::string& path, RunOptions& options,
                                          std::string& log_level);

}  // namespace sw::app
