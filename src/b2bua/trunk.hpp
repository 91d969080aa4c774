// SIP trunks: the providers and PSTN gateways the server calls out through and receives calls from.
// The administrator manages them with `sipwarden trunk`; the server holds an immutable table of them,
// shared by the workers and replaced when the store changes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.hpp"
#include "transport/listen_spec.hpp"

namespace sw::b2bua {

struct Trunk {
    std::string name;        // [A-Za-z0-9_-]{1,32}
    std::string host;        // IP literal or DNS name of the provider (no brackets)
    std::uint16_t port = 0;  // 0: 5060 (udp, tcp) or 5061 (tls)
    transport::Protocol transport = transport::Protocol::Udp;
    std::string username;  // digest user name, for REGISTER and for challenged INVITEs; empty: none
    // The password, sealed by the command line (auth::seal_secret, key in DATA_DIR/secret.key) as the
    // store keeps it, and opened only by the running server into `password` (memory only).
    std::string secret;
    std::string password;
    bool register_with = false;   // send REGISTER to the provider and keep it fresh
    std::uint32_t expires = 600;  // seconds asked for in REGISTER
    std::string from_domain;      // host part of From/To/REGISTER; empty: host
    // Where the trunk's requests come from (inbound calls are accepted only from these); empty: the
    // host's own address(es).
    std::vector<sw::Cidr> addresses;
    bool tel_uri = false;     // Request-URI and To as tel:+NUMBER (RFC 3966) instead of sip:
    std::string ruri_params;  // added to a sip Request-URI, e.g. "user=phone"; empty by default
    bool no_100rel = false;   // never offer 100rel (RFC 3262) to this provider
    std::string srtp;         // SRTP policy: "" (the server's --trunk-srtp), off, preferred, required
    std::string caller_id;    // From user for outbound calls when the caller has no DID; empty: extension
    // Filled by the running server (not stored): the host resolved to an IP literal; empty when it did
    // not resolve.
    std::string address;

    std::uint16_t effective_port() const {
        return port != 0 ? port : (transport == transport::Protocol::Tls ? 5061 : 5060);
    }
    const std::string& domain() const { return from_domain.empty() ? host : from_domain; }
};

// A name `trunk add` accepts.
bool valid_trunk_name(std::string_view name);

// What a registering trunk's REGISTER client last did, as `trunk list` shows it. Written by the running
// server (table trunk_status), read by the command line.
struct TrunkStatus {
    std::string name;
    std::string state;   // "registering", "registered", "failed", "not registering"
    std::string detail;  // why it failed ("401 Unauthorized after credentials", "timeout"), or the contact
    std::int64_t expires_at = 0;  // registered: when the provider's binding runs out (Unix seconds)
    std::int64_t updated_at = 0;
};

}  // namespace sw::b2bua
