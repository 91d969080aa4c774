#include "dialog/dialog.hpp"

#include <initializer_list>

#include "common/text.hpp"
#include "sip/headers.hpp"
#include "sip/uri.hpp"

namespace sw::dialog {

namespace {
// The URI inside a Route element "<sip:p1;lr>" (or a bare URI).
std::string element_uri(std::string_view e);

std::vector<std::string> elements(const sip::Message& m, sip::HeaderId id) {
    std::vector<std::string> out;
    for (std::string_view v : m.values(id)) {
        sip::for_each_list_element(v, [&](std::string_view item) {
            // Only elements we can write back as a Route: "<URI...>" with a URI that parses (a peer's
            // garbage must not end up in the requests we send in the dialog).
            const auto t = sw::trim(item);
            if (!t.empty() && t.front() == '<' && sip::parse_uri(element_uri(t))) out.emplace_back(t);
            return true;
        });
    }
    return out;
}

// A URI as a request target: without its headers part (RFC 3261 19.1.5: "?Route=..." in a Contact
// must not turn into a Request-URI, which may carry no headers, nor smuggle headers into our requests).
std::string target_of(const sip::Uri& u) {
    std::string_view raw = u.raw;
    if (!u.headers.empty() || (raw.find('?') != std::string_view::npos && u.is_sip())) {
        const auto q = raw.find('?');
        if (q != std::string_view::npos) raw = raw.substr(0, q);
    }
    return std::string(raw);
}

std::string contact_uri(const sip::Message& m) {
    const auto& c = m.contacts();
    if (c.star || c.contacts.empty()) return {};
    std::string t = target_of(c.contacts.front().uri);
    return sip::parse_uri(t) ? t : std::string();
}

// The first of the candidates that parses as a Request-URI; a placeholder when none does (requests of a
// leg go to the address the leg was set up with, so the Request-URI only has to be well formed).
std::string usable_target(std::initializer_list<std::string> candidates) {
    for (const auto& c : candidates)
        if (!c.empty() && sip::parse_uri(c)) return c;
    return "sip:anonymous@anonymous.invalid";
}

// The URI inside a Route element "<sip:p1;lr>" (or a bare URI).
std::string element_uri(std::string_view e) {
    const auto open = e.find('<');
    const auto close = e.find('>', open == std::string_view::npos ? 0 : open);
    if (open == std::string_view::npos || close == std::string_view::npos) {
        const auto semi = e.find(';');
        return std::string(e.substr(0, semi));
    }
    return std::string(e.substr(open + 1, close - open - 1));
}
}  // namespace

std::string name_addr_without_tag(const sip::NameAddr& a) {
    std::string out;
    if (!a.display_name.empty()) out.append(a.display_name).append(" ");
    return out.append("<").append(a.uri.raw).append(">");
}

Dialog uas_dialog(const sip::Message& request, std::string local_tag) {
    Dialog d;
    d.call_id = std::string(request.call_id());
    d.local_tag = std::move(local_tag);
    d.remote_tag = std::string(request.from().tag);
    d.local_uri = name_addr_without_tag(request.to());
    d.remote_uri = name_addr_without_tag(request.from());
    d.remote_target = contact_uri(request);
    // A dialog-creating request must carry a Contact (RFC 3261 8.1.1.8); without one, the From URI is
    // the only address we know (and the requests we send in the dialog still parse).
    d.remote_target = usable_target({d.remote_target, target_of(request.from().uri)});
    d.route_set = elements(request, sip::HeaderId::RecordRoute);  // in order (12.1.1)
    d.remote_cseq = request.cseq().number;
    d.early = true;
    return d;
}

std::optional<Dialog> uac_dialog(const sip::Message& request, const sip::Message& response) {
    if (!response.to().has_tag || response.to().tag.empty()) return std::nullopt;
    Dialog d;
    d.call_id = std::string(request.call_id());
    d.local_tag = std::string(request.from().tag);
    d.remote_tag = std::string(response.to().tag);
    d.local_uri = name_addr_without_tag(request.from());
    d.remote_uri = name_addr_without_tag(request.to());
    d.remote_target = contact_uri(response);
    d.remote_target = usable_target({d.remote_target, target_of(request.request_uri())});
    auto rr = elements(response, sip::HeaderId::RecordRoute);
    d.route_set.assign(rr.rbegin(), rr.rend());  // reversed (12.1.2)
    d.local_cseq = request.cseq().number;
    d.early = response.status() < 200;
    return d;
}

void refresh_target(Dialog& d, const sip::Message& m) {
    std::string c = contact_uri(m);
    if (!c.empty()) d.remote_target = std::move(c);
}

bool accept_remote_cseq(Dialog& d, const sip::Message& request) {
    const sip::Method m = request.method_id();
    if (m == sip::Method::Ack || m == sip::Method::Cancel) return true;
    const std::uint32_t n = request.cseq().number;
    if (d.remote_cseq != 0 && n < d.remote_cseq) return false;
    d.remote_cseq = n;
    return true;
}

std::string build_request(const Dialog& d, std::string_view method, std::uint32_t cseq,
                          const RequestParts& p) {
    std::string out;
    out.reserve(512 + p.body.size());
    out.append(method).append(" ").append(d.remote_target).append(" SIP/2.0\r\n");
    out.append("Via: ").append(p.via).append("\r\n");
    out.append("Max-Forwards: ").append(std::to_string(p.max_forwards)).append("\r\n");
    for (const auto& r : d.route_set)
        out.append("Route: ").append(r).append("\r\n");
    out.append("From: ").append(d.local_uri).append(";tag=").append(d.local_tag).append("\r\n");
    out.append("To: ").append(d.remote_uri);
    if (!d.remote_tag.empty()) out.append(";tag=").append(d.remote_tag);
    out.append("\r\n");
    out.append("Call-ID: ").append(d.call_id).append("\r\n");
    out.append("CSeq: ").append(std::to_string(cseq)).append(" ").append(method).append("\r\n");
    if (!p.contact.empty()) out.append("Contact: ").append(p.contact).append("\r\n");
    for (const auto& [name, value] : p.headers)
        out.append(name).append(": ").append(value).append("\r\n");
    if (!p.body.empty()) out.append("Content-Type: ").append(p.content_type).append("\r\n");
    out.append("Content-Length: ").append(std::to_string(p.body.size())).append("\r\n\r\n");
    out.append(p.body);
    return out;
}

std::string next_hop_uri(const Dialog& d) {
    if (!d.route_set.empty()) return element_uri(d.route_set.front());
    return d.remote_target;
}

}  // namespace sw::dialog
