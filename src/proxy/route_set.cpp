#include "proxy/route_set.hpp"

#include "common/text.hpp"
#include "sip/headers.hpp"

namespace sw::proxy {

std::string LocalAddress::hostport() const {
    std::string s;
    if (ipv6) {
        s.append("[").append(host).append("]");
    } else {
        s.append(host);
    }
    return s.append(":").append(std::to_string(port));
}

std::string LocalAddress::record_route(std::string_view token) const {
    std::string s = "<sip:" + hostport();
    if (protocol == transport::Protocol::Tcp) s.append(";transport=tcp");
    if (protocol == transport::Protocol::Tls) s.append(";transport=tls");
    s.append(";lr");
    if (!token.empty()) s.append(";sw=").append(token);
    return s.append(">");
}

std::string route_token(const sw::SipKey& key, std::string_view call_id) {
    char buf[16];
    sw::hex16(sw::siphash24(key, call_id), buf);
    return std::string(buf, 16);
}

bool SelfIdentity::is_local_host(std::string_view host) const {
    for (const auto& d : domains)
        if (sw::iequals(d, host)) return true;
    for (const auto& a : addresses)
        if (sw::iequals(a.host, host)) return true;
    return false;
}

bool SelfIdentity::names_us(const sip::Uri& uri) const {
    if (!uri.is_sip()) return false;
    const bool tls = uri.scheme == sip::UriScheme::Sips || sw::iequals(uri.param_value("transport"), "tls");
    const int port = uri.port >= 0 ? uri.port : (tls ? 5061 : 5060);
    for (const auto& a : addresses)
        if (sw::iequals(a.host, uri.host) && a.port == port) return true;
    if (uri.port < 0) {
        for (const auto& d : domains)
            if (sw::iequals(d, uri.host)) return true;
    }
    return false;
}

const std::string& SelfIdentity::default_domain() const {
    static const std::string kNone = "localhost";
    if (!domains.empty()) return domains.front();
    return addresses.empty() ? kNone : addresses.front().host;
}

std::vector<std::string> list_values(const sip::Message& m, sip::HeaderId id) {
    std::vector<std::string> out;
    for (const auto& f : m.headers()) {
        if (f.id != id) continue;
        sip::for_each_list_element(f.value, [&](std::string_view item) {
            out.emplace_back(item);
            return true;
        });
    }
    return out;
}

void set_routes(sip::Message& m, const std::vector<std::string>& values) {
    m.remove_headers(sip::HeaderId::Route);
    if (values.empty()) return;
    std::string joined;
    for (const auto& v : values)
        joined.append(joined.empty() ? "" : ", ").append(v);
    m.add_header("Route", joined);
}

std::optional<std::string> route_uri(std::string_view element) {
    auto na = sip::parse_name_addr(element, sip::AddrForm::NameAddrOnly);
    if (!na) return std::nullopt;
    return std::string(na->uri.raw);
}

RoutePreprocess preprocess_routes(sip::Message& request, const SelfIdentity& self) {
    RoutePreprocess out;
    std::vector<std::string> routes = list_values(request, sip::HeaderId::Route);
    const sip::Uri& ruri = request.request_uri();
    bool changed = false;
    // Our Record-Route URIs carry no user part and lr; a Request-URI like that means a strict router.
    if (ruri.is_sip() && !ruri.has_user && ruri.has_param("lr") && self.names_us(ruri) && !routes.empty()) {
        if (auto last = route_uri(routes.back())) {
            if (auto t = ruri.param("sw")) out.tokens.emplace_back(t->value);
            request.set_request_uri(*last);
            routes.pop_back();
            out.strict_router_fixed = true;
            changed = true;
        }
    }
    while (!routes.empty()) {
        auto u = route_uri(routes.front());
        if (!u) break;
        auto parsed = sip::parse_uri(*u);
        if (!parsed || !self.names_us(*parsed)) break;
        if (auto t = parsed->param("sw")) out.tokens.emplace_back(t->value);
        routes.erase(routes.begin());
        ++out.own_routes_removed;
        changed = true;
    }
    if (changed) set_routes(request, routes);
    return out;
}

}  // namespace sw::proxy
