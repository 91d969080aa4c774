// Helpers to read the shared test data (../shared/testdata beside the repository).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sw::test {

inline std::filesystem::path testdata(const std::string& rel) {
    return std::filesystem::path(SW_TESTDATA_DIR) / rel;
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// LF -> CRLF (RFC 5118 files use bare LF).
inline std::string to_crlf(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\n' && (out.empty() || out.back() != '\r')) out.push_back('\r');
        out.push_back(c);
    }
    return out;
}

}  // namespace sw::test
