// Where a request goes (RFC 3261 16.3 - 16.5): the routing decision of the stateful proxy, before any
// branch is sent. Authentication (407), caller identity (403), no open relay (403), the local
// addresses of record through the location service (480 / 404), in-dialog requests by their route set.
//
// Thread: any worker. The Authenticator and LocationService are thread-safe; the UserDirectory is the
// caller's immutable snapshot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/authenticator.hpp"
#include "auth/user_directory.hpp"
#include "pbx/aliases.hpp"
#include "pbx/forwarding.hpp"
#include "proxy/forward.hpp"
#include "proxy/route_set.hpp"
#include "registrar/location_service.hpp"
#include "sip/message.hpp"

namespace sw::proxy {

struct Target {
    std::string request_uri;
    NextHop hop;
    std::vector<std::string> routes;  // pre-loaded Route values (Path of the binding)
    int q = 1000;
};

// One step of call forwarding: `from` forwarded the call to `to` for `kind`.
struct ForwardHop {
    std::string from;
    std::string to;
    pbx::ForwardKind kind = pbx::ForwardKind::Always;
};

// Longest forwarding chain followed (B to C to D ... ); longer is treated as a loop.
inline constexpr std::size_t kMaxForwardHops = 5;

struct Decision {
    enum class Kind : std::uint8_t {
        Reply,     // answer with status (and headers)
        Forward,   // send a branch to each target
        Local,     // addressed to the server itself (no user part): the server answers as a UAS
        External,  // an authenticated caller asks for a number that is no user of ours: for the dial plan
                   // (`callee` holds the number as dialled, `caller` the user); 404 when no route takes it.
                   // Also where forwarding leads to a number (`caller`: the user who forwards).
    };
    Kind kind = Kind::Reply;
    int status = 500;
    std::string reason;  // empty: the standard phrase
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<Target> targets;
    bool in_dialog = false;  // follows a route set: no Record-Route, no identity rewriting
    bool record_route = false;
    std::optional<std::string> asserted_identity;  // P-Asserted-Identity for the branches
    std::string caller;                            // the authenticated user, when there is one
    // Local callee (Forward): who rings in the end, at which of our domains, after which forwarding steps,
    // and the callee's own rules for what may still happen (busy, no answer, unavailable).
    std::string callee;
    std::string domain;
    std::vector<ForwardHop> forwards;  // also on a Reply (480/404/482) that came after forwarding
    std::vector<std::string> visited;  // every user the call was meant for so far
    std::optional<pbx::ForwardSet> callee_rules;
};

struct RouterConfig {
    bool serial_forking = false;  // by q value, one contact at a time
    sw::SipKey route_key;         // the key of the dialog tokens in our Record-Route (route_token)
};

class Router {
public:
    Router(const SelfIdentity& self, const auth::Authenticator& authenticator,
           const registrar::LocationService& location, RouterConfig config = {})
        : self_(self), auth_(authenticator), location_(location), config_(config) {}

    // `request` has had its routes preprocessed (preprocess_routes); `routes` tells what was removed.
    // aliases: other names of users (may be null).
    Decision route(const sip::Message& request, const RoutePreprocess& routes,
                   const auth::UserDirectory& users, const pbx::ForwardingTable* forwards, std::int64_t now,
                   const pbx::AliasTable* aliases = nullptr) const;
    // Call forwarding after the callee was tried: busy, no answer or unavailable. The callee's rule of that
    // kind from `current`; the result rings the target (following its own always/unavailable rules), is
    // External for a target that is no user (a number: `caller` is then the user who forwards), or is a
    // Reply (480 without such a rule, 404 for a disabled user, 482 for a loop).
    Decision retarget(const Decision& current, pbx::ForwardKind kind, const auth::UserDirectory& users,
                      const pbx::ForwardingTable* forwards, std::int64_t now) const;
    const RouterConfig& config() const { return config_; }
    // A call from outside (a trunk's DID) for `user` at our default domain: its contacts, after its
    // always / unavailable forwarding; a Reply (480, 404, 482) when it cannot ring.
    Decision ring_user(const std::string& user, const auth::UserDirectory& users,
                       const pbx::ForwardingTable* forwards, std::int64_t now) const;

private:
    Decision in_dialog(const sip::Message& request, const RoutePreprocess& routes) const;
    std::vector<Target> targets_of(const std::string& aor, std::int64_t now) const;
    // Follows always / unavailable rules from `user` and fills the targets of whoever rings in the end.
    void resolve(Decision& d, std::string user, const auth::UserDirectory& users,
                 const pbx::ForwardingTable* forwards, std::int64_t now) const;
    // One forwarding step from `user` to `target`; false (and `d` a Reply) on a loop or a bad target.
    bool forward_step(Decision& d, std::string& user, pbx::ForwardKind kind, const std::string& target,
                      const auth::UserDirectory& users) const;
    const SelfIdentity& self_;
    const auth::Authenticator& auth_;
    const registrar::LocationService& location_;
    RouterConfig config_;
};

// RFC 7044: the History-Info of a call first meant for `original` and forwarded along `hops`:
// <sip:201@d>;index=1, <sip:202@d;cause=302>;index=1.1;mp=1, <sip:203@d;cause=486>;index=1.1.1;mp=1.1
std::string history_info(const std::string& original, const std::vector<ForwardHop>& hops,
                         const std::string& domain);
// RFC 5806: Diversion, the most recent forwarding first: <sip:202@d>;reason=user-busy;counter=1, ...
std::string diversion(const std::vector<ForwardHop>& hops, const std::string& domain);

// Methods the proxy routes to users; anything else addressed to a user gets 405.
bool routable_method(sip::Method m);

}  // namespace sw::proxy
