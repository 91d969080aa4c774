#include "app/user_import.hpp"

namespace sw::app {

namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back()))
        s.remove_suffix(1);
    return s;
}

}  // namespace

sw::Result<std::vector<std::string>, std::string> split_csv_line(std::string_view line) {
    std::vector<std::string> fields;
    std::size_t i = 0;
    for (;;) {
        while (i < line.size() && is_blank(line[i]))
            ++i;
        std::string field;
        if (i < line.size() && line[i] == '"') {
            // RFC 4180 2.6, 2.7: a quoted field runs to the next lone quote; "" inside is one quote.
            ++i;
            for (;;) {
                if (i >= line.size()) return sw::unexpected(std::string("a quoted field is not closed"));
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        field.push_back('"');
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field.push_back(line[i++]);
            }
            while (i < line.size() && is_blank(line[i]))
                ++i;
            if (i < line.size() && line[i] != ',')
                return sw::unexpected(std::string("text after the closing quote of a field"));
        } else {
            const std::size_t comma = line.find(',', i);
            const std::size_t end = comma == std::string_view::npos ? line.size() : comma;
            field = trim(line.substr(i, end - i));
            i = end;
        }
        fields.push_back(std::move(field));
        if (i >= line.size()) return fields;
        ++i;  // the comma
    }
}

sw::Result<std::optional<ImportLine>, std::string> parse_import_line(std::string_view line,
                                                                     std::size_t number) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view content = trim(line);
    if (content.empty() || content.front() == '#') return std::optional<ImportLine>();
    auto fields = split_csv_line(line);
    if (!fields) return sw::unexpected(fields.error());
    if (fields->size() != 2 && fields->size() != 3) {
        return sw::unexpected("expected extension,password[,display name] but found " +
                              std::to_string(fields->size()) + " fields");
    }
    ImportLine entry;
    entry.line = number;
    entry.name = std::move((*fields)[0]);
    entry.password = std::move((*fields)[1]);
    if (fields->size() == 3) entry.display_name = std::move((*fields)[2]);
    return std::optional<ImportLine>(std::move(entry));
}

}  // namespace sw::app
