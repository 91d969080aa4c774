// SDP session descriptions (RFC 4566), owning their text so that the media layer can rewrite
// addresses and ports. Serialisation writes the lines in the RFC 4566 5 order, so a description in that
// order round-trips byte for byte.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sw::sdp {

struct Error {
    std::string_view reason;  // static text naming the fault
    std::size_t line = 0;     // 1-based line number
};

template <typename T>
using Result = sw::Result<T, Error>;

struct Attribute {
    std::string name;
    std::string value;
    bool has_value = false;
};

struct Connection {  // c=<nettype> <addrtype> <connection-address>
    std::string net_type = "IN";
    std::string addr_type = "IP4";
    std::string address;
};

struct Origin {  // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
    std::string username;
    std::string session_id;
    std::string session_version;
    std::string net_type;
    std::string addr_type;
    std::string address;
};

struct Timing {  // t= plus its r= lines
    std::string start;
    std::string stop;
    std::vector<std::string> repeats;
};

enum class Direction { SendRecv, SendOnly, RecvOnly, Inactive };

// a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
struct RtpMap {
    int payload = 0;
    std::string encoding;
    int clock_rate = 0;
    std::string parameters;
};

// a=crypto:<tag> <crypto-suite> <key-params> [<session-params>] (RFC 4568 9.1)
struct Crypto {
    int tag = 0;
    std::string suite;
    std::string key_params;  // "inline:<key||salt base64>[|lifetime][|MKI:length]"; several joined by ';'
    std::string session_params;
    // The base64 key and salt of the first inline key parameter.
    std::string_view inline_key() const;
};

struct Media {
    std::string media;  // audio, video, text, application, message
    std::uint32_t port = 0;
    std::optional<std::uint32_t> port_count;
    std::string proto;  // RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVP ...
    std::vector<std::string> formats;
    std::string title;  // i=
    std::vector<Connection> connections;
    std::vector<std::string> bandwidths;  // b= values
    std::string key;                      // k=
    std::vector<Attribute> attributes;

    const Attribute* attribute(std::string_view name) const;
    std::vector<RtpMap> rtpmaps() const;
    std::optional<std::string> fmtp(int payload) const;
    std::vector<Crypto> cryptos() const;
    std::optional<Direction> direction() const;  // the media-level direction attribute, if any
};

struct SessionDescription {
    int version = 0;
    Origin origin;
    std::string session_name;
    std::string information;
    std::string uri;
    std::vector<std::string> emails;
    std::vector<std::string> phones;
    std::optional<Connection> connection;
    std::vector<std::string> bandwidths;
    std::vector<Timing> timings;
    std::string zone;
    std::string key;
    std::vector<Attribute> attributes;
    std::vector<Media> media;

    const Attribute* attribute(std::string_view name) const;
    // Media direction: media-level attribute, else session-level, else sendrecv (RFC 4566 6).
    Direction direction(const Media& m) const;
    // The address media of this m-line is sent to: its own c= or the session's.
    const Connection* connection_for(const Media& m) const;
};

Result<SessionDescription> parse(std::string_view text);
std::string serialize(const SessionDescription& sdp);

std::optional<Crypto> parse_crypto(std::string_view value);
std::optional<RtpMap> parse_rtpmap(std::string_view value);
std::string_view direction_name(Direction d);

}  // namespace sw::sdp
