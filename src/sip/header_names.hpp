// The header fields sipwarden knows by name, with their compact forms (RFC 3261 7.3.3 and later RFCs).
#pragma once

#include <cstdint>
#include <string_view>

namespace sw::sip {

// A table, kept in rows.
// clang-format off
enum class HeaderId : std::uint8_t {
    Unknown,
    Via, From, To, CallId, CSeq, MaxForwards, Contact, Route, RecordRoute, ContentLength, ContentType,
    Expires, MinExpires, Authorization, ProxyAuthorization, WwwAuthenticate, ProxyAuthenticate,
    AuthenticationInfo, Require, Supported, Unsupported, Allow, ProxyRequire, RSeq, RAck, Event, AllowEvents,
    SubscriptionState, PAssertedIdentity, PPreferredIdentity, Privacy, Diversion, HistoryInfo, CallInfo,
    AlertInfo, ErrorInfo, Reason, UserAgent, Server, RetryAfter, Date, Accept, AcceptEncoding, AcceptLanguage,
    ContentEncoding, ContentDisposition, ContentLanguage, MimeVersion, Subject, ReferTo, ReferredBy, Replaces,
    Path, ServiceRoute, Timestamp, Warning, Organization, Priority, ReplyTo, InReplyTo, SessionExpires, MinSE,
    Identity, AcceptContact, RejectContact, RequestDisposition, SipETag, SipIfMatch,
    Count_  // not a header
};
// clang-format on

// Case-insensitive lookup of a full or compact name; Unknown for anything else.
HeaderId header_id(std::string_view name);
// The canonical full name ("Call-ID"), empty for Unknown.
std::string_view header_name(HeaderId id);

// Headers that may appear once only (RFC 3261 7.3.1: the rest may be comma lists or repeated).
bool is_single_valued(HeaderId id);
// Headers whose value is a comma-separated list and which may be split/joined (Via, Contact, Route...).
// Authorization-style headers and those with dates are not lists even though they contain commas.
bool is_list_header(HeaderId id);

}  // namespace sw::sip
