#include "sip/header_names.hpp"

#include <array>

#include "common/text.hpp"

namespace sw::sip {

namespace {

struct NameEntry {
    std::string_view name;
    HeaderId id;
};

// Canonical names, indexed by HeaderId.
// A table, kept in rows.
// clang-format off
constexpr std::array<std::string_view, static_cast<std::size_t>(HeaderId::Count_)> kNames = {
    "", "Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards", "Contact", "Route", "Record-Route",
    "Content-Length", "Content-Type", "Expires", "Min-Expires", "Authorization", "Proxy-Authorization",
    "WWW-Authenticate", "Proxy-Authenticate", "Authentication-Info", "Require", "Supported", "Unsupported",
    "Allow", "Proxy-Require", "RSeq", "RAck", "Event", "Allow-Events", "Subscription-State",
    "P-Asserted-Identity", "P-Preferred-Identity", "Privacy", "Diversion", "History-Info", "Call-Info",
    "Alert-Info", "Error-Info", "Reason", "User-Agent", "Server", "Retry-After", "Date", "Accept",
    "Accept-Encoding", "Accept-Language", "Content-Encoding", "Content-Disposition", "Content-Language",
    "MIME-Version", "Subject", "Refer-To", "Referred-By", "Replaces", "Path", "Service-Route", "Timestamp",
    "Warning", "Organization", "Priority", "Reply-To", "In-Reply-To", "Session-Expires", "Min-SE", "Identity",
    "Accept-Contact", "Reject-Contact", "Request-Disposition", "SIP-ETag", "SIP-If-Match"};
// clang-format on

HeaderId compact(char c) {
    switch (sw::ascii_lower(c)) {
        case 'i':
            return HeaderId::CallId;
        case 'm':
            return HeaderId::Contact;
        case 'e':
            return HeaderId::ContentEncoding;
        case 'l':
            return HeaderId::ContentLength;
        case 'c':
            return HeaderId::ContentType;
        case 'f':
            return HeaderId::From;
        case 's':
            return HeaderId::Subject;
        case 'k':
            return HeaderId::Supported;
        case 't':
            return HeaderId::To;
        case 'v':
            return HeaderId::Via;
        case 'o':
            return HeaderId::Event;
        case 'u':
            return HeaderId::AllowEvents;
        case 'r':
            return HeaderId::ReferTo;
        case 'b':
            return HeaderId::ReferredBy;
        case 'x':
            return HeaderId::SessionExpires;
        case 'y':
            return HeaderId::Identity;
        case 'a':
            return HeaderId::AcceptContact;
        case 'j':
            return HeaderId::RejectContact;
        case 'd':
            return HeaderId::RequestDisposition;
        default:
            return HeaderId::Unknown;
    }
}

// A bucket per first letter; within it the length check rejects almost every candidate at once.
// Names are stored lower-case; the comparison lower-cases the input with c | 0x20, which maps only
// letters onto letters, so no other character can match.
struct Index {
    std::array<std::array<HeaderId, 16>, 26> by_letter{};
    std::array<std::uint8_t, 26> count{};
    std::array<std::array<char, 24>, static_cast<std::size_t>(HeaderId::Count_)> lower{};
    constexpr Index() {
        for (std::size_t i = 1; i < kNames.size(); ++i) {
            const char c = sw::ascii_lower(kNames[i][0]);
            const int slot = c - 'a';
            by_letter[slot][count[slot]++] = static_cast<HeaderId>(i);
            for (std::size_t j = 0; j < kNames[i].size(); ++j)
                lower[i][j] = sw::ascii_lower(kNames[i][j]);
        }
    }
};
constexpr Index kIndex;

bool matches_lower(std::string_view name, const std::array<char, 24>& lower) {
    for (std::size_t i = 0; i < name.size(); ++i)
        if (static_cast<char>(name[i] | 0x20) != lower[i]) return false;
    return true;
}

}  // namespace

HeaderId header_id(std::string_view name) {
    if (name.size() == 1) return compact(name[0]);
    if (name.empty()) return HeaderId::Unknown;
    const char c = sw::ascii_lower(name[0]);
    if (c < 'a' || c > 'z') return HeaderId::Unknown;
    const int slot = c - 'a';
    for (int i = 0; i < kIndex.count[slot]; ++i) {
        const HeaderId id = kIndex.by_letter[slot][i];
        const auto k = static_cast<std::size_t>(id);
        if (kNames[k].size() == name.size() && matches_lower(name, kIndex.lower[k])) return id;
    }
    return HeaderId::Unknown;
}

std::string_view header_name(HeaderId id) {
    return kNames[static_cast<std::size_t>(id)];
}

bool is_single_valued(HeaderId id) {
    switch (id) {
        case HeaderId::From:
        case HeaderId::To:
        case HeaderId::CallId:
        case HeaderId::CSeq:
        case HeaderId::MaxForwards:
        case HeaderId::ContentLength:
        case HeaderId::ContentType:
        case HeaderId::Expires:
        case HeaderId::MinExpires:
        case HeaderId::RSeq:
        case HeaderId::RAck:
        case HeaderId::Date:
        case HeaderId::RetryAfter:
        case HeaderId::SubscriptionState:
        case HeaderId::Event:
        case HeaderId::ReferTo:
        case HeaderId::ReferredBy:
        case HeaderId::Replaces:
        case HeaderId::SessionExpires:
        case HeaderId::MinSE:
        case HeaderId::Timestamp:
        case HeaderId::MimeVersion:
        case HeaderId::ContentDisposition:
        case HeaderId::Priority:
        case HeaderId::ReplyTo:
        case HeaderId::Organization:
        case HeaderId::Subject:
        case HeaderId::UserAgent:
        case HeaderId::Server:
            return true;
        default:
            return false;
    }
}

bool is_list_header(HeaderId id) {
    switch (id) {
        case HeaderId::Via:
        case HeaderId::Contact:
        case HeaderId::Route:
        case HeaderId::RecordRoute:
        case HeaderId::Path:
        case HeaderId::ServiceRoute:
        case HeaderId::Require:
        case HeaderId::Supported:
        case HeaderId::Unsupported:
        case HeaderId::Allow:
        case HeaderId::ProxyRequire:
        case HeaderId::AllowEvents:
        case HeaderId::PAssertedIdentity:
        case HeaderId::PPreferredIdentity:
        case HeaderId::Diversion:
        case HeaderId::HistoryInfo:
        case HeaderId::CallInfo:
        case HeaderId::AlertInfo:
        case HeaderId::ErrorInfo:
        case HeaderId::Reason:
        case HeaderId::Accept:
        case HeaderId::AcceptEncoding:
        case HeaderId::AcceptLanguage:
        case HeaderId::ContentEncoding:
        case HeaderId::ContentLanguage:
        case HeaderId::InReplyTo:
        case HeaderId::Warning:
        case HeaderId::AcceptContact:
        case HeaderId::RejectContact:
        case HeaderId::RequestDisposition:
            return true;
        default:
            return false;
    }
}

}  // namespace sw::sip
