// `sipwarden run`: start the server and serve until SIGTERM or SIGINT.
#pragma once

#include <string>
#include <vector>

#include "app/toll_setup.hpp"

namespace sw::app {

// [media]: the relay and the SRTP policy (issue 9).
struct MediaOptions {
    bool relay = true;          // false: no relay; calls that need one get 488
    std::string address;        // IPv4 the relay binds; empty: the first IPv4 listen address
    std::string address6;       // IPv6 likewise; empty: the first IPv6 listen address, if any
    std::string advertise;      // the IPv4 written in SDP when it differs (behind a 1:1 NAT)
    unsigned port_min = 20000;  // RTP even, RTCP odd
    unsigned port_max = 29999;
    unsigned threads = 0;            // relay threads; 0: one per core
    double timeout_s = 60;           // no media for this long: the call is ended
    double hold_timeout_s = 7200;    // the same while on hold
    std::string anchor = "auto";     // auto, always, never
    std::string srtp = "preferred";  // users: off, preferred, required
    std::string trunk_srtp = "preferred";
    std::string plain_crypto = "strip";  // strip, refuse: a=crypto over plain UDP/TCP
    bool tls_required = false;           // every user must register and call over TLS
    bool kernel = true;  // relay plain and pass-through streams in the kernel (eBPF) where allowed
    int dscp = 46;       // media leaves marked Expedited Forwarding; -1: unmarked
};

struct RunOptions {
    std::vector<std::string> listen;  // empty: the defaults
    std::vector<std::string> domains;
    std::string data_dir = "./var";
    double t1_ms = 500;
    double shutdown_grace_s = 5;
    std::size_t max_message_size = 64 * 1024;
    std::size_t max_connections = 4096;
    std::size_t max_connections_per_address = 64;
    int sip_dscp = 24;  // SIP leaves marked CS3 (call signalling); -1: unmarked
    double idle_timeout_s = 600;
    double handshake_timeout_s = 10;
    double message_timeout_s = 20;
    unsigned workers = 0;                      // 0: one per core
    std::string realm;                         // empty: the store's, else the first domain, else "sipwarden"
    bool allow_md5 = true;                     // false: MD5 digest neither offered nor accepted (RFC 8760)
    bool md5_first = false;                    // legacy clients that read only the first challenge
    std::vector<std::string> md5_only_agents;  // User-Agent substrings offered MD5 alone (baresip 1.0)
    double nonce_lifetime_s = 300;
    unsigned min_expires = 60;
    unsigned max_expires = 7200;
    unsigned default_expires = 3600;
    unsigned max_contacts = 10;
    // A refresh that only extends a binding is answered at once and written within this many seconds
    // (0: every refresh is on disk before its 200).
    double refresh_write_delay_s = 1;
    // Memory for resending the answers of completed transactions (Timer J), all workers together.
    std::size_t answer_cache_mb = 64;
    bool sip_trace = false;
    bool serial_forking = false;  // true: contacts are tried one at a time, highest q first
    double max_call_s = 14400;    // a trunk call is ended (BYE both sides) after this long
    double timer_c_s = 180;       // RFC 3261 16.6 step 11: a ringing branch is cancelled after this
    std::string tls_cert;         // empty: a self-signed certificate in DATA_DIR/tls
    std::string tls_key;
    std::string tls_ca;
    bool tls_verify_client = false;
    std::string tls_trunk_ca;
    // The shield: networks never banned nor rate limited (besides the trunks' addresses), User-Agents
    // treated as scanners besides the built-in list, and the packet rate allowed per source.
    std::vector<std::string> allow_networks{"127.0.0.1/32", "::1/128"};
    std::vector<std::string> scanner_agents;
    double max_requests_per_second = 200;
    // Calling rights, limits and the toll-fraud detector ([calling], [limits], [detector]).
    TollOptions toll;
    MediaOptions media;
};

int run_server(const RunOptions& options);

}  // namespace sw::app
