#include "sip/builder.hpp"

#include <string>

namespace sw::sip {

std::string_view default_reason(int status) {
    switch (status) {
        case 100: return "Trying";
        case 180: return "Ringing";
        case 181: return "Call Is Being Forwarded";
        case 182: return "Queued";
        case 183: return "Session Progress";
        case 200: return "OK";
        case 202: return "Accepted";
        case 301: return "Moved Permanently";
        case 302: return "Moved Temporarily";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 407: return "Proxy Authentication Required";
        case 408: return "Request Timeout";
        case 413: return "Request Entity Too Large";
        case 415: return "Unsupported Media Type";
        case 416: return "Unsupported URI Scheme";
        case 420: return "Bad Extension";
        case 421: return "Extension Required";
        case 423: return "Interval Too Brief";
        case 480: return "Temporarily Unavailable";
        case 481: return "Call/Transaction Does Not Exist";
        case 482: return "Loop Detected";
        case 483: return "Too Many Hops";
        case 484: return "Address Incomplete";
        case 486: return "Busy Here";
        case 487: return "Request Terminated";
        case 488: return "Not Acceptable Here";
        case 489: return "Bad Event";
        case 491: return "Request Pending";
        case 500: return "Server Internal Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Server Time-out";
        case 505: return "Version Not Supported";
        case 513: return "Message Too Large";
        case 600: return "Busy Everywhere";
        case 603: return "Decline";
        case 604: return "Does Not Exist Anywhere";
        case 606: return "Not Acceptable";
        default: return status < 200 ? "Progress" : status < 300 ? "OK" : "Error";
    }
}

ResponseBuilder::ResponseBuilder(const Message& request, int status, std::string_view reason)
    : request_(request), status_(status), reason_(reason.empty() ? default_reason(status) : reason) {}

ResponseBuilder& ResponseBuilder::to_tag(std::string_view tag) {
    to_tag_ = tag;
    return *this;
}

ResponseBuilder& ResponseBuilder::header(std::string_view name, std::string_view value) {
    extra_.emplace_back(name, value);
    return *this;
}

ResponseBuilder& ResponseBuilder::body(std::string_view content_type, std::string_view body) {
    content_type_ = content_type;
    body_ = body;
    return *this;
}

std::string ResponseBuilder::build() const {
    std::string out;
    out.reserve(512 + body_.size());
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
                if (!request_.to().has_tag && status_ > 100 && !to_tag_.empty()) out.append(";tag=").append(to_tag_);
                out.append("\r\n");
                break;
            case HeaderId::Timestamp:
                if (status_ == 100) out.append("Timestamp: ").append(f.value).append("\r\n");
                break;
            default:
                break;
        }
    }
    for (const auto& [name, value] : extra_) out.append(name).append(": ").append(value).append("\r\n");
    if (!content_type_.empty()) out.append("Content-Type: ").append(content_type_).append("\r\n");
    out.append("Content-Length: ").append(std::to_string(body_.size())).append("\r\n\r\n");
    out.append(body_);
    return out;
}

}  // namespace sw::sip
