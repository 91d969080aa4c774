#include "proxy/forward.hpp"

#include "transport/steering.hpp"

#include <asio/ip/address.hpp>
#include <cstring>

#include "common/siphash.hpp"
#include "common/text.hpp"
#include "proxy/route_set.hpp"
#include "sip/headers.hpp"
#include "transaction/transaction.hpp"
#include "transport/transports.hpp"

namespace sw::proxy {

namespace {
bool ip_literal(std::string_view host) {
    return transport::parse_address(host).has_value();
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

namespace {
// "Name: a, b, c" from the values given, then the elements of the request's headers `id`, in order.
void append_joined(std::string& out, std::string_view name, const std::vector<std::string>& first,
                   const sip::Message& request, sip::HeaderId id) {
    out.append(name).append(": ");
    bool any = false;
    for (const auto& v : first) {
        if (any) out.append(", ");
        out.append(v);
        any = true;
    }
    for (const auto& f : request.headers()) {
        if (f.id != id) continue;
        sip::for_each_list_element(f.value, [&](std::string_view item) {
            if (any) out.append(", ");
            out.append(item);
            any = true;
            return true;
        });
    }
    out.append("\r\n");
}
}  // namespace

std::string build_branch_request(const sip::Message& request, const BranchSpec& spec) {
    // Written straight from the request's fields, in one pass: no copy of the request is parsed and
    // edited. The result is byte for byte what editing a parsed copy gives (forward_test checks that
    // against such an editor): our Via goes in front of the first Via field, Max-Forwards is replaced
    // where it stands, and what is added or rebuilt (Max-Forwards when absent, Route, Record-Route,
    // P-Asserted-Identity, the extra headers) follows the other fields in that order.
    const std::string_view uri_text =
        sip::parse_uri(spec.request_uri) ? std::string_view(spec.request_uri) : request.request_uri().raw;
    const auto mf = request.max_forwards();
    // Max-Forwards: 0 is not decremented below zero: the field goes as it came (the proxy answers such
    // a request 483 before it gets here; a caller that does not must not get an unparsable request).
    const bool keep_max_forwards = mf && *mf <= 0;
    const std::string max_forwards = std::to_string(mf ? *mf - 1 : 70);
    const bool new_routes = !spec.routes.empty();
    const bool new_record_routes = !spec.record_routes.empty();
    std::string out;
    std::size_t size = request.body().size() + spec.via.size() + uri_text.size() + 128;
    for (const auto& f : request.headers())
        size += f.raw.size() + 2;
    for (const auto& r : spec.record_routes)
        size += r.size() + 2;
    for (const auto& r : spec.routes)
        size += r.size() + 2;
    for (const auto& [name, value] : spec.extra_headers)
        size += name.size() + value.size() + 4;
    if (spec.asserted_identity) size += spec.asserted_identity->size() + 24;
    out.reserve(size);
    out.append(request.method()).append(" ").append(uri_text).append(" ").append(request.version());
    out.append("\r\n");
    bool via_written = false;
    bool max_forwards_written = false;
    for (const auto& f : request.headers()) {
        switch (f.id) {
            case sip::HeaderId::Via:
                if (!via_written) out.append("Via: ").append(spec.via).append("\r\n");
                via_written = true;
                break;
            case sip::HeaderId::MaxForwards:
                if (keep_max_forwards) {
                    max_forwards_written = true;
                    break;
                }
                if (!max_forwards_written) out.append("Max-Forwards: ").append(max_forwards).append("\r\n");
                max_forwards_written = true;
                continue;
            case sip::HeaderId::Route:
                if (new_routes) continue;
                break;
            case sip::HeaderId::RecordRoute:
                if (new_record_routes) continue;
                break;
            case sip::HeaderId::PAssertedIdentity:
                if (!spec.keep_asserted_identity) continue;
                break;
            default:
                break;
        }
        out.append(f.raw).append("\r\n");
    }
    if (!via_written) return {};  // a parsed request always has one
    if (!max_forwards_written) out.append("Max-Forwards: ").append(max_forwards).append("\r\n");
    if (new_routes) append_joined(out, "Route", spec.routes, request, sip::HeaderId::Route);
    if (new_record_routes)
        append_joined(out, "Record-Route", spec.record_routes, request, sip::HeaderId::RecordRoute);
    if (!spec.keep_asserted_identity && spec.asserted_identity)
        out.append("P-Asserted-Identity: ").append(*spec.asserted_identity).append("\r\n");
    for (const auto& [name, value] : spec.extra_headers)
        out.append(name).append(": ").append(value).append("\r\n");
    out.append("\r\n").append(request.body());
    return out;
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

namespace {
constexpr std::size_t kBranchPrefix = 7 + 16;  // the magic cookie, then the prefix in 16 hex digits
void write_branch_prefix(std::uint64_t prefix, char* out) {
    std::memcpy(out, "z9hG4bK", 7);
    sw::hex16(prefix, out + 7);
}
}  // namespace

static_assert(kBranchPrefix + 1 == transport::kMarkOffset, "the steering program looks for the mark there");

std::string branch_id(std::uint64_t prefix, char mark, std::uint64_t number) {
    std::string id(kBranchPrefix, '\0');
    write_branch_prefix(prefix, id.data());
    id.push_back('.');
    id.push_back(mark);
    id.append(std::to_string(number));
    return id;
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
    char prefix[kBranchPrefix];
    write_branch_prefix(hash, prefix);
    const std::string_view p(prefix, sizeof prefix);
    for (const auto& v : request.vias())
        if (v.branch.starts_with(p)) return true;
    return false;
}

}  // namespace sw::proxy
