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

struct Decision {
    enum class Kind : std::uint8_t {
        Reply,  // answer with status (and headers)
        Forward,  // send a branch to each target
        Local,  // addressed to the server itself (no user part): the server answers as a UAS
    };
    Kind kind = Kind::Reply;
    int status = 500;
    std::string reason;  // empty: the standard phrase
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<Target> targets;
    bool in_dialog = false;   // follows a route set: no Record-Route, no identity rewriting
    bool record_route = false;
    std::optional<std::string> asserted_identity;  // P-Asserted-Identity for the branches
    std::string caller;  // the authenticated user, when there is one
};

struct RouterConfig {
    bool serial_forking = false;  // by q value, one contact at a time
};

class Router {
public:
    Router(const SelfIdentity& self, const auth::Authenticator& authenticator,
           const registrar::LocationService& location, RouterConfig config = {})
        : self_(self), auth_(authenticator), location_(location), config_(config) {}

    // `request` has had its routes preprocessed (preprocess_routes); `routes` tells what was removed.
    Decision route(const sip::Message& request, const RoutePreprocess& routes, const auth::UserDirectory& users,
                   std::int64_t now) const;
    const RouterConfig& config() const { return config_; }

private:
    Decision in_dialog(const sip::Message& request, const RoutePreprocess& routes) const;
    const SelfIdentity& self_;
    const auth::Authenticator& auth_;
    const registrar::LocationService& location_;
    RouterConfig config_;
};

// Methods the proxy routes to users; anything else addressed to a user gets 405.
bool routable_method(sip::Method m);

}  // namespace sw::proxy
