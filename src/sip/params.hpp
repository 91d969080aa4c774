// Iteration over ";name=value" parameter runs kept as raw views. A run is validated once when the
// header or URI is parsed, so walking it later cannot fail.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sw::sip {

struct Param {
    std::string_view name;
    std::string_view value;  // raw: may be quoted (header params) or %-escaped (URI params)
    bool has_value = false;
};

// Walks "a=1;b;c = "x"" (the run after the first ';'). Spaces and tabs around names, '=' and ';' are
// skipped, which header parameters allow (RFC 3261 25.1 SEMI/EQUAL) and URI parameters never contain.
class ParamCursor {
public:
    explicit ParamCursor(std::string_view run, char separator = ';') : rest_(run), sep_(separator) {}
    // Returns false at the end.
    bool next(Param& out);

private:
    std::string_view rest_;
    char sep_;
};

// First parameter with this name (case-insensitive), if present.
std::optional<Param> find_param(std::string_view run, std::string_view name, char separator = ';');

// Removes surrounding quotes and backslash escapes from a quoted-string; other text is returned as is.
std::string unquote(std::string_view v);
// Quotes text as a quoted-string, escaping '"' and '\'.
std::string quote(std::string_view v);

}  // namespace sw::sip
