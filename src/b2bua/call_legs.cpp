#include "b2bua/call_legs.hpp"

#include "b2bua/dial_plan.hpp"
#include "common/text.hpp"

namespace sw::b2bua {

namespace {
std::string host_text(const Trunk& t) {
    std::string h = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
    if (t.effective_port() != (t.transport == transport::Protocol::Tls ? 5061 : 5060))
        h += ":" + std::to_string(t.effective_port());
    return h;
}

bool names_100rel(const sip::Message& m, sip::HeaderId id) {
    auto tokens = m.tokens(id);
    if (!tokens) return false;
    for (std::string_view t : *tokens)
        if (sw::iequals(t, "100rel")) return true;
    return false;
}
}  // namespace

std::string trunk_request_uri(const Trunk& t, std::string_view number) {
    if (t.tel_uri) return "tel:" + std::string(number);
    std::string u = "sip:" + std::string(number) + "@" + host_text(t);
    if (t.transport == transport::Protocol::Tcp) u += ";transport=tcp";
    if (t.transport == transport::Protocol::Tls) u += ";transport=tls";
    if (!t.ruri_params.empty()) u += ";" + t.ruri_params;
    return u;
}

std::string trunk_to(const Trunk& t, std::string_view number) {
    if (t.tel_uri) return "<tel:" + std::string(number) + ">";
    return "<sip:" + std::string(number) + "@" + host_text(t) + ">";
}

std::string trunk_from(const Trunk& t, std::string_view caller) {
    const std::string& d = t.domain();
    return "<sip:" + std::string(caller) + "@" + (d.find(':') != std::string::npos ? "[" + d + "]" : d) + ">";
}

bool requires_100rel(const sip::Message& m) {
    return names_100rel(m, sip::HeaderId::Require);
}

bool supports_100rel(const sip::Message& m) {
    return names_100rel(m, sip::HeaderId::Supported) || requires_100rel(m);
}

std::string number_of(const sip::Uri& uri) {
    if (!uri.is_tel() && !uri.is_sip()) return {};
    if (uri.is_sip() && !uri.has_user) return {};
    return normalize_number(sip::unescape(uri.user));
}

}  // namespace sw::b2bua
