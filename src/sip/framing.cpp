#include "sip/framing.hpp"

#include "common/text.hpp"
#include "sip/header_names.hpp"

namespace sw::sip {

void StreamFramer::append(std::string_view bytes) {
    if (start_ > 0 && start_ * 2 >= buf_.size()) {
        buf_.erase(0, start_);
        start_ = 0;
    }
    buf_.append(bytes);
}

StreamFramer::Frame StreamFramer::error(int status, std::string_view reason) {
    failed_ = Frame{Kind::Error, {}, status, reason};
    return failed_;
}

StreamFramer::Frame StreamFramer::next() {
    if (failed_.kind == Kind::Error) return failed_;
    const std::string_view all(buf_);
    // Keep-alives: a double CRLF is a ping to answer with one CRLF; a single CRLF is skipped.
    while (start_ < buf_.size()) {
        std::string_view rest = all.substr(start_);
        if (rest.substr(0, 4) == "\r\n\r\n") {
            start_ += 4;
            scanned_ = 0;
            return Frame{Kind::Ping, {}, 0, {}};
        }
        if (rest.size() >= 3 && rest.substr(0, 2) == "\r\n") {
            start_ += 2;
            scanned_ = 0;
            continue;
        }
        if (rest.front() == '\r' || rest.front() == '\n') {
            if (rest.size() < 4 && (rest == "\r" || rest == "\r\n" || rest == "\r\n\r")) return Frame{};
            start_ += 1;  // a stray LF
            scanned_ = 0;
            continue;
        }
        break;
    }
    if (start_ >= buf_.size()) return Frame{};
    const std::string_view rest = all.substr(start_);

    // End of the header block.
    const std::size_t from = scanned_ > 3 ? scanned_ - 3 : 0;
    std::size_t hdr_end = rest.find("\r\n\r\n", from);
    std::size_t body_start = hdr_end == std::string_view::npos ? hdr_end : hdr_end + 4;
    if (hdr_end == std::string_view::npos) {
        const std::size_t lf = rest.find("\n\n", from);
        if (lf != std::string_view::npos) {
            hdr_end = lf;
            body_start = lf + 2;
        }
    }
    if (hdr_end == std::string_view::npos) {
        if (rest.size() > max_) return error(513, "Message Too Large");
        scanned_ = rest.size();
        return Frame{};
    }

    // Content-Length from the header lines (full or compact name).
    const std::string_view head = rest.substr(0, hdr_end);
    std::size_t pos = head.find('\n');
    bool have = false;
    std::uint64_t length = 0;
    while (pos != std::string_view::npos && pos < head.size()) {
        const std::size_t line_start = pos + 1;
        std::size_t line_end = head.find('\n', line_start);
        if (line_end == std::string_view::npos) line_end = head.size();
        const std::string_view line = head.substr(line_start, line_end - line_start);
        const auto colon = line.find(':');
        if (colon != std::string_view::npos &&
            header_id(sw::trim(line.substr(0, colon))) == HeaderId::ContentLength) {
            if (have) return error(400, "Bad Request - Multiple Content-Length headers");
            auto v = sw::parse_uint(sw::trim(line.substr(colon + 1)), UINT32_MAX);
            if (!v) return error(400, "Bad Request - Invalid Content-Length");
            length = *v;
            have = true;
        }
        pos = line_end;
    }
    if (!have) return error(400, "Bad Request - Missing Content-Length");
    const std::uint64_t total = body_start + length;
    if (total > max_) return error(513, "Message Too Large");
    if (rest.size() < total) {
        scanned_ = hdr_end;  // headers are known; wait for the body
        return Frame{};
    }
    Frame f{Kind::Message, rest.substr(0, static_cast<std::size_t>(total)), 0, {}};
    start_ += static_cast<std::size_t>(total);
    scanned_ = 0;
    return f;
}

}  // namespace sw::sip
