#include "sip/builder.hpp"

#include "common/text.hpp"

#include <string>

namespace sw::sip {

std::string_view default_reason(int status) {
    switch (status) {
        case 100:
            return "Trying";
        case 180:
            return "Ringing";
        case 181:
            return "Call Is Being Forwarded";
        case 182:
            return "Queued";
        case 183:
            return "Session Progress";
        case 200:
            return "OK";
        case 202:
            return "Accepted";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Moved Temporarily";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 406:
            return "Not Acceptable";
        case 407:
            return "Proxy Authentication Required";
        case 408:
            return "Request Timeout";
        case 413:
            return "Request Entity Too Large";
        case 415:
            return "Unsupported Media Type";
        case 416:
            return "Unsupported URI Scheme";
        case 420:
            return "Bad Extension";
        case 421:
            return "Extension Required";
        case 423:
            return "Interval Too Brief";
        case 480:
            return "Temporarily Unavailable";
        case 481:
            return "Call/Transaction Does Not Exist";
        case 482:
            return "Loop Detected";
        case 483:
            return "Too Many Hops";
        case 484:
            return "Address Incomplete";
        case 486:
            return "Busy Here";
        case 487:
            return "Request Terminated";
        case 488:
            return "Not Acceptable Here";
        case 489:
            return "Bad Event";
        case 491:
            return "Request Pending";
        case 500:
            return "Server Internal Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Server Time-out";
        case 505:
            return "Version Not Supported";
        case 513:
            return "Message Too Large";
        case 600:
            return "Busy Everywhere";
        case 603:
            return "Decline";
        case 604:
            return "Does Not Exist Anywhere";
        case 606:
            return "Not Acceptable";
        default:
            return status < 200 ? "Progress" : status < 300 ? "OK" : "Error";
    }
}

ResponseBuilder::ResponseBuilder(const Message& request, int status, std::string_view reason)
    : request_(request), status_(status), reason_(reason.empty() ? default_reason(status) : reason) {}

ResponseBuilder& ResponseBuilder::to_tag(std::string_view tag) {
    to_tag_ = tag;
    return *this;
}

ResponseBuilder& ResponseBuilder::header(std::string_view name, std::string_view value) {
    extra_.append(name).append(": ").append(value).append("\r\n");
    return *this;
}

ResponseBuilder& ResponseBuilder::body(std::string_view content_type, std::string_view body) {
    content_type_ = content_type;
    body_ = body;
    return *this;
}

std::string ResponseBuilder::build() const {
    // One allocation: the size is known before writing (the copied header lines, ours, the body).
    std::size_t size =
        64 + reason_.size() + to_tag_.size() + extra_.size() + content_type_.size() + body_.size();
    for (const auto& f : request_.headers()) {
        if (f.id == HeaderId::Via || f.id == HeaderId::From || f.id == HeaderId::CallId ||
            f.id == HeaderId::CSeq || f.id == HeaderId::To || f.id == HeaderId::Timestamp)
            size += f.value.size() + 24;
    }
    std::string out;
    out.reserve(size);
    out.append("SIP/2.0 ").append(std::to_string(status_)).append(" ").append(reason_).append("\r\n");
    for (const auto& f : request_.headers()) {
        switch (f.id) {
            case HeaderId::Via:
            case HeaderId::From:
            case HeaderId::CallId:
            case HeaderId::CSeq:
                out.append(header_name(f.id)).append(": ").append(f.value).append("\r\n");
                break;
            case HeaderId::To:
                out.append("To: ").append(f.value);
                if (!request_.to().has_tag && status_ > 100 && !to_tag_.empty())
                    out.append(";tag=").append(to_tag_);
                out.append("\r\n");
                break;
            case HeaderId::Timestamp:
                if (status_ == 100) out.append("Timestamp: ").append(f.value).append("\r\n");
                break;
            default:
                break;
        }
    }
    out.append(extra_);
    if (!content_type_.empty()) out.append("Content-Type: ").append(content_type_).append("\r\n");
    out.append("Content-Length: ").append(std::to_string(body_.size())).append("\r\n\r\n");
    out.append(body_);
    return out;
}

}  // namespace sw::sip

namespace sw::sip {

std::optional<std::string> build_stateless_response(std::string_view raw, int status,
                                                    std::string_view reason) {
    std::size_t pos = raw.find_first_not_of("\r\n");
    if (pos == std::string_view::npos || raw.substr(pos, 4) == "SIP/") return std::nullopt;
    std::string headers;
    bool have_via = false;
    pos = raw.find('\n', pos);
    while (pos != std::string_view::npos && pos + 1 < raw.size()) {
        const std::size_t start = pos + 1;
        std::size_t end = raw.find('\n', start);
        if (end == std::string_view::npos) end = raw.size();
        std::string_view line = raw.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;
        const auto colon = line.find(':');
        if (colon != std::string_view::npos && line.find('\r') == std::string_view::npos) {
            std::string_view name = line.substr(0, colon);
            while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
                name.remove_suffix(1);
            const HeaderId id = header_id(name);
            if (id == HeaderId::Via || id == HeaderId::From || id == HeaderId::To || id == HeaderId::CallId ||
                id == HeaderId::CSeq) {
                headers.append(line).append("\r\n");
                have_via = have_via || id == HeaderId::Via;
            }
        }
        pos = end;
    }
    if (!have_via) return std::nullopt;
    std::string out = "SIP/2.0 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    out += headers;
    out += "Content-Length: 0\r\n\r\n";
    return out;
}

std::string via_with_received(const Via& via, std::string_view source_ip, int source_port) {
    std::string out;
    out.append(via.protocol_name).append("/").append(via.protocol_version).append("/").append(via.transport);
    out.append(" ");
    if (via.ipv6) out.append("[");
    out.append(via.host);
    if (via.ipv6) out.append("]");
    if (via.port >= 0) out.append(":").append(std::to_string(via.port));
    ParamCursor cur(via.params);
    Param p;
    while (cur.next(p)) {
        if (sw::iequals(p.name, "received") || sw::iequals(p.name, "rport")) continue;
        out.append(";").append(p.name);
        if (p.has_value) out.append("=").append(p.value);
    }
    // RFC 3261 18.2.1: received when sent-by differs from the packet's source (always with rport).
    if (via.host != source_ip || via.has_rport) {
        const bool v6 = source_ip.find(':') != std::string_view::npos;
        out.append(";received=");
        if (v6) out.append("[");
        out.append(source_ip);
        if (v6) out.append("]");
    }
    if (via.has_rport) out.append(";rport=").append(std::to_string(source_port));
    return out;
}

}  // namespace sw::sip
