#include "sip/validate.hpp"

#include "common/text.hpp"

namespace sw::sip {

ParseResult<bool> validate_known_headers(const Message& msg) {
    for (const auto& f : msg.headers()) {
        bool ok = true;
        switch (f.id) {
            case HeaderId::Contact: {
                auto c =
                    parse_contacts(std::span<const std::string_view>(&f.value, 1));  // parse() checked it
                if (!c) return bad("Bad Request - Invalid Contact");
                // RFC 4475 3.1.2.4: an overflowing expires is treated as the default, so only q is checked.
                for (const auto& na : c->contacts) {
                    if (!contact_q(na)) return bad("Bad Request - Invalid Contact q");
                }
                break;
            }
            case HeaderId::Route:
            case HeaderId::RecordRoute:
            case HeaderId::Path:
            case HeaderId::ServiceRoute:
            case HeaderId::PAssertedIdentity:
            case HeaderId::PPreferredIdentity:
            case HeaderId::Diversion:
            case HeaderId::HistoryInfo:
            case HeaderId::ReplyTo:
            case HeaderId::ReferTo:
            case HeaderId::ReferredBy:
                ok = msg.addresses(f.id).has_value();
                break;
            case HeaderId::Expires:
            case HeaderId::MinExpires:
            case HeaderId::RSeq:
                // Overflowing expiry values are treated as absent (RFC 4475 3.1.2.4), but must be digits.
                ok = !f.value.empty() && f.value.find_first_not_of("0123456789") == std::string_view::npos;
                break;
            case HeaderId::Require:
            case HeaderId::ProxyRequire:
            case HeaderId::Supported:
            case HeaderId::Unsupported:
            case HeaderId::Allow:
            case HeaderId::AllowEvents:
                ok = parse_token_list(std::span<const std::string_view>(&f.value, 1)).has_value();
                break;
            case HeaderId::ContentType:
                ok = parse_media_type(f.value).has_value();
                break;
            case HeaderId::Authorization:
            case HeaderId::ProxyAuthorization:
            case HeaderId::WwwAuthenticate:
            case HeaderId::ProxyAuthenticate:
                ok = parse_auth(f.value).has_value();
                break;
            case HeaderId::AuthenticationInfo:
                ok = parse_auth(f.value, false).has_value();
                break;
            case HeaderId::RAck:
                ok = parse_rack(f.value).has_value();
                break;
            case HeaderId::Event:
            case HeaderId::SubscriptionState:
            case HeaderId::ContentDisposition:
                ok = parse_value_params(f.value).has_value();
                break;
            case HeaderId::Reason:
                ok = for_each_list_element(
                    f.value, [](std::string_view v) { return parse_value_params(v).has_value(); });
                break;
            case HeaderId::RetryAfter:
                ok = parse_retry_after(f.value).has_value();
                break;
            case HeaderId::Date:
                ok = is_valid_sip_date(f.value);
                break;
            default:
                break;
        }
        if (!ok) {
            // The reason names the header; keep it static by choosing from the known names.
            switch (f.id) {
                case HeaderId::Date:
                    return bad("Bad Request - Invalid Date");
                case HeaderId::Route:
                    return bad("Bad Request - Invalid Route");
                case HeaderId::RecordRoute:
                    return bad("Bad Request - Invalid Record-Route");
                case HeaderId::Expires:
                    return bad("Bad Request - Invalid Expires");
                case HeaderId::ContentType:
                    return bad("Bad Request - Invalid Content-Type");
                case HeaderId::Authorization:
                case HeaderId::ProxyAuthorization:
                    return bad("Bad Request - Invalid Authorization");
                case HeaderId::Require:
                case HeaderId::ProxyRequire:
                    return bad("Bad Request - Invalid Require");
                default:
                    return bad("Bad Request - Invalid header value");
            }
        }
    }
    return true;
}

PolicyVerdict check_request_policy(const Message& request, std::span<const std::string_view> supported,
                                   bool check_require) {
    PolicyVerdict v;
    if (!request.is_request()) return v;
    const Uri& ruri = request.request_uri();
    if (ruri.scheme == UriScheme::Other) {
        v.status = 416;
        v.reason = "Unsupported URI Scheme";
        return v;
    }
    // RFC 3261 8.2.2.3: Require is not checked on CANCEL, nor on ACK for a non-2xx.
    if (request.method_id() == Method::Cancel || request.method_id() == Method::Ack) return v;
    for (HeaderId id : {HeaderId::Require, HeaderId::ProxyRequire}) {
        if (id == HeaderId::Require && !check_require) continue;
        auto tags = request.tokens(id);
        if (!tags) continue;
        for (std::string_view tag : *tags) {
            bool known = false;
            for (std::string_view s : supported)
                known = known || sw::iequals(s, tag);
            if (!known) {
                if (!v.unsupported.empty()) v.unsupported.append(", ");
                v.unsupported.append(tag);
            }
        }
    }
    if (!v.unsupported.empty()) {
        v.status = 420;
        v.reason = "Bad Extension";
    }
    return v;
}

}  // namespace sw::sip
