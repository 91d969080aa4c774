// The proxy's message work on hostile input: route preprocessing, the copy of a request for a branch,
// its CANCEL, the response for the previous hop, loop detection. Invariants: every message the proxy
// builds from a message that parsed must parse again, and keep its Call-ID and CSeq.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/forward.hpp"
#include "proxy/route_set.hpp"
#include "sip/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sw;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto m = sip::Message::parse(bytes);
    if (!m) return 0;
    static const proxy::SelfIdentity self = [] {
        proxy::SelfIdentity s;
        s.domains = {"example.com"};
        proxy::LocalAddress a;
        a.host = "192.0.2.1";
        a.port = 5060;
        s.addresses.push_back(a);
        return s;
    }();
    if (m->is_response()) {
        const std::string call_id(m->call_id());
        if (auto up = proxy::response_for_upstream(*m)) {
            auto again = sip::Message::parse(*up);
            if (!again || again->call_id() != call_id) __builtin_trap();
        }
        return 0;
    }
    (void)proxy::preprocess_routes(*m, self);
    if (!sip::Message::parse(m->serialize())) __builtin_trap();
    const std::uint64_t loop = proxy::loop_hash(*m, 1, 2);
    (void)proxy::looped(*m, loop);
    proxy::BranchSpec spec;
    spec.request_uri = "sip:bob@198.51.100.7:5062;transport=tcp";
    spec.routes = {"<sip:203.0.113.9;lr>"};
    spec.via = "SIP/2.0/UDP 192.0.2.1:5060;branch=" + proxy::branch_id(loop, 'A', 1) + ";rport";
    spec.record_routes = {self.addresses.front().record_route("0123456789abcdef")};
    spec.asserted_identity = "<sip:alice@example.com>";
    spec.extra_headers = {{"History-Info", "<sip:201@example.com>;index=1"}};
    const std::string branch = proxy::build_branch_request(*m, spec);
    auto b = sip::Message::parse(branch);
    if (!b || b->call_id() != m->call_id() || b->cseq().number != m->cseq().number) __builtin_trap();
    if (b->request_uri().raw != spec.request_uri) __builtin_trap();
    if (b->method_id() == sip::Method::Invite) {
        auto cancel = sip::Message::parse(proxy::build_cancel(*b));
        if (!cancel || cancel->method_id() != sip::Method::Cancel ||
            cancel->top_via().branch != b->top_via().branch)
            __builtin_trap();
    }
    return 0;
}
