// `sipwarden check-message FILE...`: the verdict a server would give each message file.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace sw::app {

struct CheckVerdict {
    int status = 0;  // 0: ok
    std::string reason;
    std::string text() const;  // "ok" or "CODE REASON"
};

// Parse (as a datagram), validate every known header, then apply the server's request policy.
CheckVerdict check_message(std::string_view bytes, std::size_t max_message_size);

// Prints "FILE: ok" or "FILE: CODE REASON" per file; returns 0 when every file was ok, else 1.
int run_check_message(const std::vector<std::string>& files, std::size_t max_message_size, std::ostream& out);

}  // namespace sw::app
