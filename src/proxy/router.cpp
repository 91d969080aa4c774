#include "proxy/router.hpp"

#include <algorithm>
#include <asio/ip/address.hpp>

#include "common/text.hpp"
#include "registrar/registrar.hpp"
#include "transport/transports.hpp"

namespace sw::proxy {

namespace {
Decision reply(int status, std::string reason = {}) {
    Decision d;
    d.kind = Decision::Kind::Reply;
    d.status = status;
    d.reason = std::move(reason);
    return d;
}

// RFC 3323 / RFC 3325 9.1: "Privacy: id" asks that the asserted identity not reach untrusted hops.
bool privacy_id(const sip::Message& m) {
    for (std::string_view v : m.values(sip::HeaderId::Privacy)) {
        std::size_t pos = 0;
        while (pos <= v.size()) {
            std::size_t end = v.find_first_of(";,", pos);
            if (end == std::string_view::npos) end = v.size();
            if (sw::iequals(sw::trim(v.substr(pos, end - pos)), "id")) return true;
            pos = end + 1;
        }
    }
    return false;
}

// RFC 3323 4.1.1.3: an anonymous From ("sip:anonymous@anonymous.invalid") hides the caller; the
// asserted identity still names the authenticated user.
bool anonymous_from(const sip::Uri& from) {
    return from.is_sip() && sw::iequals(from.host, "anonymous.invalid");
}

// Addresses that cannot be reached from outside their own network: RFC 1918, RFC 6598 (carrier-grade
// NAT), link-local, and IPv6 unique-local / link-local.
bool private_address(std::string_view host) {
    const auto parsed = transport::parse_address(host);
    if (!parsed) return false;
    const asio::ip::address& a = *parsed;
    if (a.is_v4()) {
        const auto b = a.to_v4().to_bytes();
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
               (b[0] == 100 && (b[1] & 0xc0) == 64) || (b[0] == 169 && b[1] == 254);
    }
    const auto b = a.to_v6().to_bytes();
    return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

// Where to send a request for a binding. A phone behind NAT registers a Contact with its private
// address; the REGISTER's source (the NAT's public side, kept open by the phone's keep-alives) is the
// only way back, and over TCP/TLS only its own connection is. Otherwise the Contact is the address to
// use (it may differ from the source on purpose: a registration made on another device's behalf).
std::optional<NextHop> hop_for_binding(const registrar::Binding& b) {
    auto source = hop_from_source(b.source, b.connection);
    auto contact = sip::parse_uri(b.contact);
    std::optional<NextHop> direct = contact ? hop_for_uri(*contact) : std::nullopt;
    if (source && (b.connection != 0 || !direct)) return source;
    if (source && contact && private_address(contact->host) && !private_address(source->host)) return source;
    return direct ? direct : source;
}

bool dialog_forming(sip::Method m) {
    return m == sip::Method::Invite || m == sip::Method::Subscribe || m == sip::Method::Refer;
}
}  // namespace

std::string history_info(const std::string& original, const std::vector<ForwardHop>& hops,
                         const std::string& domain) {
    std::string out = "<sip:" + original + "@" + domain + ">;index=1";
    std::string index = "1";
    for (const auto& h : hops) {
        const std::string parent = index;
        index += ".1";
        out += ", <sip:" + h.to + "@" + domain + ";cause=" + std::to_string(pbx::history_cause(h.kind)) +
               ">;index=" + index + ";mp=" + parent;
    }
    return out;
}

std::string diversion(const std::vector<ForwardHop>& hops, const std::string& domain) {
    std::string out;
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        if (!out.empty()) out += ", ";
        out += "<sip:" + it->from + "@" + domain +
               ">;reason=" + std::string(pbx::diversion_reason(it->kind)) + ";counter=1";
    }
    return out;
}

bool routable_method(sip::Method m) {
    switch (m) {
        case sip::Method::Invite:
        case sip::Method::Message:
        case sip::Method::Options:
        case sip::Method::Subscribe:
        case sip::Method::Notify:
        case sip::Method::Refer:
        case sip::Method::Publish:
        case sip::Method::Info:
        case sip::Method::Update:
        case sip::Method::Prack:
        case sip::Method::Bye:
            return true;
        default:
            return false;
    }
}

namespace {
// The next hop a Route / Path element names.
std::optional<NextHop> hop_for_route(std::string_view element) {
    auto u = route_uri(element);
    if (!u) return std::nullopt;
    auto parsed = sip::parse_uri(*u);
    return parsed ? hop_for_uri(*parsed) : std::nullopt;
}
}  // namespace

Decision Router::in_dialog(const sip::Message& request, const RoutePreprocess& routes) const {
    const sip::Uri& ruri = request.request_uri();
    const auto rest = list_values(request, sip::HeaderId::Route);
    // Through the route set we recorded: our entry (or, after a strict router, our Request-URI) carries
    // the token of this Call-ID. A forged one does not, so nobody can relay through us by writing our
    // address into a Route.
    const std::string expected = route_token(config_.route_key, request.call_id());
    bool ours = false;
    for (const auto& t : routes.tokens)
        ours = ours || t == expected;
    if (!ours) {
        // Not through the route set we recorded: either for the server itself, or somebody trying to
        // use us as a relay for a dialog we never saw.
        if (rest.empty() &&
            (self_.names_us(ruri) || (ruri.is_sip() && !ruri.has_user && self_.is_local_host(ruri.host)))) {
            Decision d;
            d.kind = Decision::Kind::Local;
            return d;
        }
        return reply(403, "Forbidden (not a dialog of this server)");
    }
    std::optional<NextHop> hop;
    if (!rest.empty()) {
        // RFC 3261 16.12: loose routing, the next hop is the top Route.
        hop = hop_for_route(rest.front());
    } else if (self_.names_us(ruri)) {
        Decision d;
        d.kind = Decision::Kind::Local;
        return d;
    } else {
        hop = hop_for_uri(ruri);
    }
    if (!hop) return reply(503, "Service Unavailable (no route to the next hop)");
    Decision d;
    d.kind = Decision::Kind::Forward;
    d.in_dialog = true;
    d.targets.push_back(Target{std::string(ruri.raw), *hop, {}, 1000});
    return d;
}

Decision Router::route(const sip::Message& request, const RoutePreprocess& routes,
                       const auth::UserDirectory& users, const pbx::ForwardingTable* forwards,
                       std::int64_t now, const pbx::AliasTable* aliases) const {
    const sip::Method method = request.method_id();
    if (request.to().has_tag) return in_dialog(request, routes);

    const sip::Uri& ruri = request.request_uri();
    const auto rest = list_values(request, sip::HeaderId::Route);
    if (rest.empty() && ruri.is_sip() && !ruri.has_user && self_.is_local_host(ruri.host)) {
        Decision d;
        d.kind = Decision::Kind::Local;  // OPTIONS sip:example.com and the like: the server answers
        return d;
    }
    if (!routable_method(method)) return reply(405);
    if (method == sip::Method::Bye || method == sip::Method::Prack || method == sip::Method::Update ||
        method == sip::Method::Info || method == sip::Method::Notify) {
        return reply(481);  // these only exist inside a dialog
    }

    // RFC 3261 22.3: who is calling? The same 407 for an unknown user, a disabled one and a wrong
    // password, so that nothing tells an outsider which extensions exist.
    const auto v = auth_.verify(request, true, users);
    if (v.verdict != auth::Verdict::Ok) {
        Decision d = reply(407);
        for (auto& c :
             auth_.challenges(v.verdict == auth::Verdict::Stale, request.header(sip::HeaderId::UserAgent)))
            d.headers.emplace_back("Proxy-Authenticate", std::move(c));
        return d;
    }
    const auth::UserRecord* caller = users.find(v.user);
    if (caller == nullptr) return reply(403);  // verified a moment ago; the snapshot cannot lose it

    // Caller identity: the From must be the authenticated user at one of our domains, or an alias the
    // administrator gave that user, or anonymous.
    const sip::Uri& from = request.from().uri;
    const std::string from_user = from.is_sip() && from.has_user ? sip::unescape(from.user) : std::string();
    const bool own_from =
        !from_user.empty() && self_.is_local_host(from.host) &&
        (from_user == v.user || (aliases != nullptr && aliases->user_of(from_user) == v.user));
    if (!own_from && !anonymous_from(from))
        return reply(403, "Forbidden (From is not the authenticated user)");

    // No pre-loaded routes to elsewhere from phones: that would make us a relay.
    if (!rest.empty()) return reply(403, "Forbidden (pre-loaded Route)");

    std::string user;
    std::string domain;
    if (ruri.is_tel()) {
        user = std::string(ruri.user);
        domain = self_.default_domain();
    } else if (ruri.is_sip() && self_.is_local_host(ruri.host)) {
        user = sip::unescape(ruri.user);
        domain = sw::to_lower(ruri.host);
        bool is_domain = false;
        for (const auto& dname : self_.domains)
            is_domain = is_domain || dname == domain;
        if (!is_domain) domain = self_.default_domain();  // sip:201@192.0.2.1 means our 201
    } else {
        return reply(403, "Forbidden (relaying denied)");
    }

    const auth::UserRecord* callee = users.find(user);
    if (callee == nullptr && aliases != nullptr) {
        if (const std::string_view real = aliases->user_of(user); !real.empty()) {
            user = std::string(real);  // an alias reaches its user
            callee = users.find(user);
        }
    }
    if (callee == nullptr && method == sip::Method::Invite) {
        // Not a user: perhaps a number outside the company, for the dial plan (internal names always win).
        Decision d;
        d.kind = Decision::Kind::External;
        d.caller = v.user;
        d.callee = user;
        d.domain = domain;
        return d;
    }
    if (callee == nullptr || !callee->enabled) return reply(404);

    Decision d;
    d.kind = Decision::Kind::Forward;
    d.caller = v.user;
    d.record_route = dialog_forming(method);
    if (!privacy_id(request)) {
        std::string pai;
        if (!caller->display_name.empty()) {
            pai.append("\"");
            for (char c : caller->display_name) {
                if (c == '"' || c == '\\') pai.push_back('\\');
                pai.push_back(c);
            }
            pai.append("\" ");
        }
        pai.append("<sip:").append(v.user).append("@").append(self_.default_domain()).append(">");
        d.asserted_identity = std::move(pai);
    }
    d.domain = domain;
    d.visited.push_back(user);
    resolve(d, user, users, forwards, now);
    return d;
}

std::vector<Target> Router::targets_of(const std::string& aor, std::int64_t now) const {
    std::vector<Target> out;
    for (const auto& b : location_.lookup(aor, now)) {
        Target t;
        t.request_uri = b.contact;
        t.q = b.q;
        std::optional<NextHop> hop;
        if (!b.path.empty()) {
            // RFC 3327 5: the Path becomes the Route set towards the phone; its first element is the next
            // hop.
            sip::for_each_list_element(b.path, [&](std::string_view item) {
                t.routes.emplace_back(item);
                return true;
            });
            hop = hop_for_route(t.routes.front());
        } else {
            hop = hop_for_binding(b);
        }
        if (!hop) continue;
        t.hop = *hop;
        out.push_back(std::move(t));
    }
    return out;
}

bool Router::forward_step(Decision& d, std::string& user, pbx::ForwardKind kind, const std::string& target,
                          const auth::UserDirectory& users) const {
    // A chain that comes back to a user already on it, or grows too long, is a loop: it ends here, with
    // one clear answer, instead of ringing round.
    const bool seen = std::find(d.visited.begin(), d.visited.end(), target) != d.visited.end();
    auto fail = [&d](int status, std::string reason) {
        Decision r = reply(status, std::move(reason));
        r.forwards = std::move(d.forwards);  // the steps taken are still told to the caller
        r.domain = d.domain;
        d = std::move(r);
        return false;
    };
    if (seen || d.forwards.size() >= kMaxForwardHops) return fail(482, "Loop Detected (call forwarding)");
    d.forwards.push_back(ForwardHop{user, target, kind});
    const auth::UserRecord* next = users.find(target);
    if (next == nullptr) {
        // Not a user: a number outside the company, for the dial plan, as a call of the user who forwards
        // (whose calling rights, limits and caller ID apply: that user's rule sends it out).
        Decision out;
        out.kind = Decision::Kind::External;
        out.caller = user;
        out.callee = target;
        out.domain = d.domain;
        out.forwards = std::move(d.forwards);
        out.visited = std::move(d.visited);
        d = std::move(out);
        return false;
    }
    if (!next->enabled) return fail(404, "Not Found (forwarding target)");
    user = target;
    d.visited.push_back(user);
    return true;
}

void Router::resolve(Decision& d, std::string user, const auth::UserDirectory& users,
                     const pbx::ForwardingTable* forwards, std::int64_t now) const {
    for (;;) {
        const pbx::ForwardSet* rules = forwards != nullptr ? forwards->find(user) : nullptr;
        if (rules != nullptr && rules->always) {
            if (!forward_step(d, user, pbx::ForwardKind::Always, rules->always->target, users)) return;
            continue;
        }
        d.targets = targets_of(user + "@" + d.domain, now);
        if (d.targets.empty() && rules != nullptr && rules->unavailable) {
            if (!forward_step(d, user, pbx::ForwardKind::Unavailable, rules->unavailable->target, users))
                return;
            continue;
        }
        d.callee = user;
        d.callee_rules = rules != nullptr ? std::optional<pbx::ForwardSet>(*rules) : std::nullopt;
        if (d.targets.empty()) {
            // Keep what a caller should learn from the forwarding so far (its 181s are sent by the caller
            // of resolve); the call itself cannot ring.
            Decision r = reply(480);
            r.forwards = std::move(d.forwards);
            r.domain = d.domain;
            d = std::move(r);
        }
        return;
    }
}

Decision Router::ring_user(const std::string& user, const auth::UserDirectory& users,
                           const pbx::ForwardingTable* forwards, std::int64_t now) const {
    const auth::UserRecord* callee = users.find(user);
    if (callee == nullptr || !callee->enabled) return reply(404);
    Decision d;
    d.kind = Decision::Kind::Forward;
    d.domain = self_.default_domain();
    d.visited.push_back(user);
    resolve(d, user, users, forwards, now);
    return d;
}

Decision Router::retarget(const Decision& current, pbx::ForwardKind kind, const auth::UserDirectory& users,
                          const pbx::ForwardingTable* forwards, std::int64_t now) const {
    Decision d;
    d.kind = Decision::Kind::Forward;
    d.caller = current.caller;
    d.record_route = current.record_route;
    d.asserted_identity = current.asserted_identity;
    d.domain = current.domain;
    d.visited = current.visited;
    std::string user = current.callee;
    const auto& rule = current.callee_rules ? current.callee_rules->get(kind) : std::nullopt;
    if (!rule) return reply(480);
    if (!forward_step(d, user, kind, rule->target, users)) return d;
    resolve(d, user, users, forwards, now);
    return d;
}

}  // namespace sw::proxy
