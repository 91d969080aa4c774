#include "sip/params.hpp"

#include "common/text.hpp"

namespace sw::sip {

namespace {
void skip_lws(std::string_view& s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
}
std::string_view rtrim(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}
}  // namespace

bool ParamCursor::next(Param& out) {
    for (;;) {
        skip_lws(rest_);
        if (rest_.empty()) return false;
        // Find the end of this parameter: the next separator outside a quoted string.
        std::size_t i = 0;
        bool quoted = false;
        for (; i < rest_.size(); ++i) {
            const char c = rest_[i];
            if (quoted) {
                if (c == '\\') {
                    ++i;
                } else if (c == '"') {
                    quoted = false;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == sep_) {
                break;
            }
        }
        std::string_view item = rtrim(rest_.substr(0, i));
        rest_ = i < rest_.size() ? rest_.substr(i + 1) : std::string_view{};
        if (item.empty()) continue;
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            out = Param{item, {}, false};
        } else {
            std::string_view v = item.substr(eq + 1);
            skip_lws(v);
            out = Param{rtrim(item.substr(0, eq)), v, true};
        }
        return true;
    }
}

std::optional<Param> find_param(std::string_view run, std::string_view name, char separator) {
    ParamCursor cur(run, separator);
    Param p;
    while (cur.next(p)) {
        if (sw::iequals(p.name, name)) return p;
    }
    return std::nullopt;
}

std::string unquote(std::string_view v) {
    if (v.size() < 2 || v.front() != '"' || v.back() != '"') return std::string(v);
    std::string out;
    out.reserve(v.size() - 2);
    for (std::size_t i = 1; i + 1 < v.size(); ++i) {
        if (v[i] == '\\' && i + 2 < v.size()) ++i;
        out.push_back(v[i]);
    }
    return out;
}

std::string quote(std::string_view v) {
    std::string out;
    out.reserve(v.size() + 2);
    out.push_back('"');
    for (char c : v) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

}  // namespace sw::sip
