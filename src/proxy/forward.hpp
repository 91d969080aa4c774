// Building what a stateful proxy sends (RFC 3261 16.6, 16.7, 9.1): the copy of a request for one
// branch, the CANCEL of a branch, and where a URI or a registered flow is reached.
//
// Thread: pure functions; safe from any worker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"
#include "transport/listen_spec.hpp"

namespace sw::proxy {

// Where a request goes: an address and a transport, and for streams the connection to use when one
// is open (a phone registered over TCP/TLS is reached over its own connection: RFC 5626's flow).
struct NextHop {
    transport::Protocol protocol = transport::Protocol::Udp;
    std::string host;  // IP literal, no brackets
    std::uint16_t port = 5060;
    std::uint64_t connection = 0;
};

// "udp:192.0.2.1:5060" / "tls:[2001:db8::1]:40001" (a binding's source) and its connection.
std::optional<NextHop> hop_from_source(std::string_view source, std::uint64_t connection);
// RFC 3263 without DNS: an IP-literal host, the port (default 5060, 5061 for sips or TLS) and the
// transport parameter. nullopt for a host name (no resolver yet) or a URI that is not sip/sips.
std::optional<NextHop> hop_for_uri(const sip::Uri& uri);

struct BranchSpec {
    std::string request_uri;                 // the target (RFC 3261 16.6 step 2)
    std::vector<std::string> routes;         // pre-loaded Route values (a binding's Path), placed on top
    std::string via;                         // our Via value, branch included
    std::vector<std::string> record_routes;  // our Record-Route values to put on top (0, 1 or 2)
    std::optional<std::string> asserted_identity;  // P-Asserted-Identity to set; nullopt: remove any
    bool keep_asserted_identity = false;           // true: leave P-Asserted-Identity as it came
    std::vector<std::pair<std::string, std::string>> extra_headers;  // added as they are
};

// The request for one branch: Request-URI, Max-Forwards - 1 (70 when absent), Route, Record-Route,
// our Via on top, P-Asserted-Identity. `request` is the request after route preprocessing.
std::string build_branch_request(const sip::Message& request, const BranchSpec& spec);

// RFC 3261 9.1: the CANCEL of a branch, from the request as that branch sent it.
std::string build_cancel(const sip::Message& branch_request);

// RFC 3261 16.7 step 3: the response for the previous hop (our Via removed). nullopt when the top Via
// is the only one (the response was for us, not for forwarding).
std::optional<std::string> response_for_upstream(sip::Message& response);

// A branch parameter: the RFC 3261 magic cookie, `prefix` (the loop-detection hash of the request,
// RFC 3261 16.6 step 8) in 16 hex digits, a dot, the sending worker's mark (transport::worker_mark: the
// kernel steers the responses to that worker by it, transport/steering.hpp) and a number unique to it.
std::string branch_id(std::uint64_t prefix, char mark, std::uint64_t number);
// The loop-detection hash of a request (RFC 3261 16.3 step 4): Request-URI, From tag, To tag,
// Call-ID, CSeq number and method: what a looped copy still carries unchanged (not the Vias). The same
// request reaching us again with the same hash is a loop; keyed so that nobody outside can forge it.
std::uint64_t loop_hash(const sip::Message& request, std::uint64_t k0, std::uint64_t k1);
// Whether a Via of the request carries a branch of ours with this hash (a loop, not a spiral: a
// spiral comes back with another Request-URI and so another hash).
bool looped(const sip::Message& request, std::uint64_t hash);

}  // namespace sw::proxy
