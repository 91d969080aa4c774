// Who this proxy is, and the Route / Record-Route handling of RFC 3261 16.4 (route information
// preprocessing) and 16.6 steps 4 and 6.
//
// Thread: values only; safe from any worker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/siphash.hpp"
#include "sip/message.hpp"
#include "transport/listen_spec.hpp"

namespace sw::proxy {

// One address the server listens on, as it writes it into Via and Record-Route.
struct LocalAddress {
    transport::Protocol protocol = transport::Protocol::Udp;
    std::string host;  // IP literal without brackets, or a name when the listener is a wildcard
    std::uint16_t port = 5060;
    std::uint8_t udp_listener = 0;  // UDP: the listener index (Peer::listener)
    bool ipv6 = false;              // host is an IPv6 literal (written in brackets)
    bool v6_family = false;         // the listener's address family

    // "host:port" with brackets for IPv6.
    std::string hostport() const;
    // <sip:host:port;transport=tcp;lr;sw=TOKEN> (the transport parameter only for streams): our
    // Record-Route, with the dialog token (route_token) when one is given.
    std::string record_route(std::string_view token = {}) const;
};

// The names and addresses of this server: which Request-URIs and Route values mean "us".
struct SelfIdentity {
    std::vector<std::string> domains;  // lowercase; the first is the default domain
    std::vector<LocalAddress> addresses;

    // A host of one of our domains, or of one of our addresses (sip:201@127.0.0.1 means user 201 here).
    bool is_local_host(std::string_view host) const;
    // A URI addressed to this server itself (RFC 3261 16.4): a host of ours and a port we listen on
    // (no port: 5060 for sip, 5061 for sips). Our domains count only when written without a port.
    bool names_us(const sip::Uri& uri) const;
    const std::string& default_domain() const;
};

// The elements of every field with this name (Route, Record-Route, Path), in order, as written.
std::vector<std::string> list_values(const sip::Message& m, sip::HeaderId id);
// Replaces every Route field by one holding `values` (none when empty).
void set_routes(sip::Message& m, const std::vector<std::string>& values);
// The URI of a Route / Record-Route element ("<sip:p1.example.com;lr>").
std::optional<std::string> route_uri(std::string_view element);

struct RoutePreprocess {
    bool strict_router_fixed = false;  // the Request-URI was our Record-Route (a strict router before us)
    int own_routes_removed = 0;
    std::vector<std::string> tokens;  // the sw= parameters of the entries of ours that were removed
};

// The token our Record-Route entries carry for a dialog (parameter sw=): a keyed hash of the Call-ID, so
// that only requests of dialogs this server record-routed can come back through it (no relay for
// forged in-dialog requests). The key is the server's own, kept in the data folder across restarts.
std::string route_token(const sw::SipKey& key, std::string_view call_id);

// RFC 3261 16.4: if the Request-URI is a value we put in a Record-Route (a strict router upstream
// sent the request there), the last Route becomes the Request-URI; then our own entries at the top of
// the Route set are removed (two when we record-routed twice across a transport change).
RoutePreprocess preprocess_routes(sip::Message& request, const SelfIdentity& self);

}  // namespace sw::proxy
