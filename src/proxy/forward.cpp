#include "proxy/forward.hpp"

#include <asio/ip/address.hpp>
#include <cstdio>

#include "common/siphash.hpp"
#include "common/text.hpp"
#include "proxy/route_set.hpp"
#include "sip/headers.hpp"
#include "transaction/transaction.hpp"

namespace sw::proxy {

namespace {
bool ip_literal(std::string_view host) {
    asio::error_code ec;
    (void)asio::ip::make_address(std::string(host), ec);
    return !ec;
}
}  // namespace

std::optional<NextHop> hop_from_source(std::string_view source, std::uint64_t connection) {
    auto spec = transport::parse_listen(source);
    if (!spec) return std::nullopt;
    return NextHop{spec->protocol, spec->host, spec->port, connection};
}

std::optional<NextHop> hop_for_uri(const sip::Uri& uri) {
    if (!uri.is_sip() || !ip_literal(uri.host)) return std::nullopt;
    NextHop h;
    h.host = std::string(uri.host);
    const std::string_view t = uri.param_value("transport");
    if (uri.scheme == sip::UriScheme::Sips || sw::iequals(t, "tls")) {
        h.protocol = transport::Protocol::Tls;
    } else if (sw::iequals(t, "tcp")) {
        h.protocol = transport::Protocol::Tcp;
    } else if (!t.empty() && !sw::iequals(t, "udp")) {
        return std::nullopt;  // sctp, ws ...: not served
    }
    h.port = static_cast<std::uint16_t>(
        uri.port > 0 ? uri.port : (h.protocol == transport::Protocol::Tls ? 5061 : 5060));
    return h;
}

std::string build_branch_request(const sip::Message& request, const BranchSpec& spec) {
    auto copy = sip::Message::parse(request.serialize());
    if (!copy) return {};  // the request parsed once; its own serialisation parses again
    sip::Message& m = *copy;
    m.set_request_uri(spec.request_uri);
    const auto mf = m.max_forwards();
    m.set_max_forwards(mf ? *mf - 1 : 70);
    if (!spec.routes.empty()) {
        std::vector<std::string> routes = spec.routes;
        for (auto& r : list_values(m, sip::HeaderId::Route))
            routes.push_back(std::move(r));
        set_routes(m, routes);
    }
    if (!spec.record_routes.empty()) {
        std::vector<std::string> rr = spec.record_routes;
        for (auto& r : list_values(m, sip::HeaderId::RecordRoute))
            rr.push_back(std::move(r));
        std::string joined;
        for (const auto& v : rr)
            joined.append(joined.empty() ? "" : ", ").append(v);
        m.remove_headers(sip::HeaderId::RecordRoute);
        m.add_header("Record-Route", joined);
    }
    if (!spec.keep_asserted_identity) {
        m.remove_headers("P-Asserted-Identity");
        if (spec.asserted_identity) m.add_header("P-Asserted-Identity", *spec.asserted_identity);
    }
    for (const auto& [name, value] : spec.extra_headers)
        m.add_header(name, value);
    (void)m.push_via(spec.via);
    return m.serialize();
}

std::string build_cancel(const sip::Message& branch_request) {
    return transaction::build_same_branch_request(branch_request, "CANCEL",
                                                  branch_request.header(sip::HeaderId::To));
}

std::optional<std::string> response_for_upstream(sip::Message& response) {
    if (response.vias().size() < 2) return std::nullopt;
    response.pop_via();
    return response.serialize();
}

std::string branch_id(std::uint64_t prefix, std::size_t branch) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "z9hG4bK%016llx.%zu", static_cast<unsigned long long>(prefix), branch);
    return buf;
}

std::uint64_t loop_hash(const sip::Message& request, std::uint64_t k0, std::uint64_t k1) {
    std::string s;
    s.reserve(256);
    s.append(request.request_uri().raw).append("|").append(request.from().tag).append("|");
    s.append(request.to().tag).append("|").append(request.call_id()).append("|");
    s.append(std::to_string(request.cseq().number)).append("|").append(request.method());
    return sw::siphash24(sw::SipKey{k0, k1}, s);
}

bool looped(const sip::Message& request, std::uint64_t hash) {
    // The prefix is a keyed hash: only this server writes it, so finding it in a Via means we have
    // forwarded this very request before.
    const std::string prefix = branch_id(hash, 0).substr(0, 7 + 16);
    for (const auto& v : request.vias())
        if (v.branch.starts_with(prefix)) return true;
    return false;
}

}  // namespace sw::proxy
