#include "media/anchor.hpp"

#include <openssl/rand.h>

#include "sdp/sdp.hpp"

namespace sw::media {

std::optional<SrtpPolicy> srtp_policy_from(std::string_view name) {
    if (name == "off") return SrtpPolicy::Off;
    if (name == "preferred") return SrtpPolicy::Preferred;
    if (name == "required") return SrtpPolicy::Required;
    return std::nullopt;
}

std::string_view srtp_policy_name(SrtpPolicy p) {
    switch (p) {
        case SrtpPolicy::Off:
            return "off";
        case SrtpPolicy::Preferred:
            return "preferred";
        case SrtpPolicy::Required:
            return "required";
    }
    return "preferred";
}

namespace {

// ICE (RFC 8839) and the RTCP port (RFC 3605) describe the far end's own addresses: the relay replaces
// them with one address per side, so they do not go across.
bool is_address_attribute(std::string_view name) {
    return name == "rtcp" || name == "candidate" || name == "ice-ufrag" || name == "ice-pwd" ||
           name == "ice-options" || name == "ice-lite" || name == "ice-mismatch" ||
           name == "remote-candidates" || name == "end-of-candidates";
}

bool is_rtp_over_udp(std::string_view proto) {
    return proto == "RTP/AVP" || proto == "RTP/SAVP" || proto == "RTP/AVPF" || proto == "RTP/SAVPF";
}

bool is_dtls(std::string_view proto) {
    return proto.rfind("UDP/TLS/RTP/", 0) == 0;
}

bool is_savp(std::string_view proto) {
    return proto == "RTP/SAVP" || proto == "RTP/SAVPF";
}

std::string plain_proto(std::string_view proto) {
    if (proto == "RTP/SAVP") return "RTP/AVP";
    if (proto == "RTP/SAVPF") return "RTP/AVPF";
    return std::string(proto);
}

std::string secure_proto(std::string_view proto) {
    return proto == "RTP/AVPF" || proto == "RTP/SAVPF" ? "RTP/SAVPF" : "RTP/SAVP";
}

bool has_attribute(const sdp::Media& m, std::string_view name) {
    return m.attribute(name) != nullptr;
}

void drop_attributes(std::vector<sdp::Attribute>& attributes, bool crypto_too) {
    std::vector<sdp::Attribute> kept;
    for (auto& a : attributes)
        if (!is_address_attribute(a.name) && !(crypto_too && a.name == "crypto"))
            kept.push_back(std::move(a));
    attributes = std::move(kept);
}

void add_crypto(sdp::Media& m, int tag, const SrtpKey& key) {
    sdp::Attribute a;
    a.name = "crypto";
    a.value = std::to_string(tag) + " " + std::string(suite_name(key.suite)) + " " + key_params_text(key);
    a.has_value = true;
    m.attributes.push_back(std::move(a));
}

// The supported crypto lines of an m-line with their keys (RFC 4568 6.1: the offerer's preference order).
std::vector<std::pair<int, SrtpKey>> offered_keys(const sdp::Media& m) {
    std::vector<std::pair<int, SrtpKey>> out;
    for (const auto& c : m.cryptos()) {
        auto suite = suite_from_name(c.suite);
        if (!suite) continue;
        if (!c.session_params.empty()) continue;  // UNENCRYPTED_SRTP, KDR ...: not ours to honour
        if (auto key = parse_key_params(*suite, c.key_params)) out.emplace_back(c.tag, *key);
    }
    return out;
}

bool held(const sdp::SessionDescription& d, const sdp::Media& m) {
    if (m.port == 0) return false;
    if (d.direction(m) != sdp::Direction::SendRecv) return true;
    const sdp::Connection* c = d.connection_for(m);
    return c != nullptr && (c->address == "0.0.0.0" || c->address == "::");
}

NetAddress media_address(const sdp::SessionDescription& d, const sdp::Media& m) {
    const sdp::Connection* c = d.connection_for(m);
    if (c == nullptr || m.port > 65535) return {};
    auto a = NetAddress::from(c->address, static_cast<std::uint16_t>(m.port));
    return a ? *a : NetAddress{};
}

sdp::Connection relay_connection(const RelayPorts& p) {
    sdp::Connection c;
    c.net_type = "IN";
    c.addr_type = p.address.find(':') != std::string::npos ? "IP6" : "IP4";
    c.address = p.address;
    return c;
}

sw::Unexpected<Refusal> refuse(std::string reason, int status = 488) {
    return sw::unexpected(Refusal{status, std::move(reason)});
}

}  // namespace

MediaCall::MediaCall(MediaRelay& relay, std::uint64_t owner, PlainCrypto plain_crypto)
    : relay_(relay), session_(relay.open(owner)), plain_crypto_(plain_crypto) {
    std::uint64_t r = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r);
    origin_id_ = std::to_string(r >> 1);
    version_[0] = version_[1] = r & 0xffff;
}

MediaCall::~MediaCall() {
    relay_.close(session_);
}

void MediaCall::set_leg(Side side, LegInfo info) {
    legs_[static_cast<int>(side)] = std::move(info);
}

const SrtpKey& MediaCall::relay_key(Stream& s, Side side, SrtpSuite suite) {
    // One key per side and suite, kept for the call: the same offer again offers the same keys.
    auto& k = s.relay_key[static_cast<int>(side)][static_cast<int>(suite)];
    if (!k) k = generate_key(suite);
    return *k;
}

void MediaCall::apply_crypto(unsigned index, Side side, std::optional<SrtpKey> from,
                             std::optional<SrtpKey> to) {
    // The relay makes a context again only for a new key of its own (rollover counter, replay window).
    relay_.set_crypto(session_, index, side, from, to);
}

std::string MediaCall::finish(Side to, sdp::SessionDescription& d) {
    const int i = static_cast<int>(to);
    // Everything a side said about its own addresses is replaced by the relay's.
    drop_attributes(d.attributes, true);
    for (const auto& m : d.media)
        if (!m.connections.empty() && m.port != 0) {
            d.connection = m.connections.front();
            break;
        }
    d.origin.username = "sipwarden";
    d.origin.session_id = origin_id_;
    if (d.connection) {
        d.origin.net_type = "IN";
        d.origin.addr_type = d.connection->addr_type;
        d.origin.address = d.connection->address;
    }
    // RFC 3264 8: the version goes up only when the description sent to that side changes.
    d.origin.session_version = "0";
    std::string shape = sdp::serialize(d);
    if (shape != last_sent_[i]) {
        ++version_[i];
        last_sent_[i] = std::move(shape);
    }
    d.origin.session_version = std::to_string(version_[i]);
    return sdp::serialize(d);
}

Result<std::string, Refusal> MediaCall::offer(Side from, std::string_view text) {
    auto parsed = sdp::parse(text);
    if (!parsed) return refuse("malformed SDP offer");
    sdp::SessionDescription d = std::move(*parsed);
    const Side to = other(from);
    const LegInfo& x = legs_[static_cast<int>(from)];
    const LegInfo& y = legs_[static_cast<int>(to)];
    if (d.media.size() > 16) return refuse("too many media streams");
    if (streams_.size() < d.media.size()) streams_.resize(d.media.size());
    for (std::size_t idx = 0; idx < d.media.size(); ++idx) {
        sdp::Media& m = d.media[idx];
        Stream& s = streams_[idx];
        const unsigned index = static_cast<unsigned>(idx);
        s.relay_offered.clear();
        s.offerer_keys.clear();
        s.offer_proto = m.proto;
        const bool rtp = is_rtp_over_udp(m.proto);
        const bool dtls = is_dtls(m.proto);
        if (m.port == 0 || (!rtp && !dtls)) {
            // Rejected, or a stream the relay cannot carry (TCP, MSRP ...): offered as rejected, without
            // its attributes (a crypto line there would still carry the offerer's key to the other side).
            s.mode = Mode::Off;
            m.port = 0;
            drop_attributes(m.attributes, true);
            continue;
        }
        const bool crypto_lines = has_attribute(m, "crypto");
        auto keys = offered_keys(m);
        if (crypto_lines && !x.secure) {
            // RFC 4568 8.3: the keys were readable on the way; they must not protect anything.
            if (is_savp(m.proto) || plain_crypto_ == PlainCrypto::Refuse)
                return refuse("SRTP keys sent over unencrypted signalling (" + x.label + ": use TLS)");
            keys.clear();
            m.proto = plain_proto(m.proto);
        }
        if (crypto_lines && x.srtp == SrtpPolicy::Off) {
            if (is_savp(m.proto)) return refuse("SRTP is off for " + x.label);
            keys.clear();  // a best-effort offer: answered as plain RTP
        }
        if (is_savp(m.proto) && keys.empty())
            return refuse("no supported SRTP crypto suite offered by " + x.label);
        const bool x_srtp = dtls || !keys.empty();
        if (x.srtp == SrtpPolicy::Required && !x.secure)
            return refuse("SRTP required for " + x.label + ": signalling must use TLS");
        if (x.srtp == SrtpPolicy::Required && !x_srtp) return refuse("SRTP required for " + x.label);
        if (y.srtp == SrtpPolicy::Required && !y.secure)
            return refuse("SRTP required for " + y.label + ", which is not reachable over TLS");
        const bool y_srtp = y.secure && y.srtp != SrtpPolicy::Off;
        if (dtls) {
            s.mode = Mode::Pass;  // DTLS-SRTP: the keys are negotiated end to end; opaque to the relay
        } else if (x_srtp && y_srtp) {
            s.mode = Mode::Pass;
        } else if (x_srtp) {
            s.mode = Mode::TermOfferer;
        } else if (y_srtp) {
            s.mode = Mode::TermAnswerer;
        } else {
            s.mode = Mode::Plain;
        }
        s.offerer_keys = keys;
        // The relay ports on both sides, and where the offerer wants its media.
        const NetAddress where = media_address(d, m);
        const bool x_v6 = where.empty() ? x.v6 : where.is_v6();
        auto px = relay_.ports(session_, index, from, x_v6);
        auto py = relay_.ports(session_, index, to, y.v6);
        if (!px || !py) return refuse("no media relay port free", 503);
        s.ports[static_cast<int>(from)] = px;
        s.ports[static_cast<int>(to)] = py;
        relay_.set_peer(session_, index, from, where, has_attribute(m, "rtcp-mux"), x.signal_source);
        // The offer for the other side. Crypto lines pass only with SDES keys passed through between
        // two TLS legs: never towards plain signalling, and never with DTLS-SRTP (keys come from the
        // handshake there; a crypto line beside it is the offerer's, readable on a plain leg).
        const bool keep_crypto = s.mode == Mode::Pass && !dtls && x.secure && y.secure;
        drop_attributes(m.attributes, !keep_crypto);
        m.connections.clear();
        m.connections.push_back(relay_connection(*py));
        m.port = py->rtp_port;
        m.port_count.reset();
        switch (s.mode) {
            case Mode::TermOfferer:
                m.proto = plain_proto(m.proto);
                break;
            case Mode::TermAnswerer: {
                // RTP/SAVP when the answerer must encrypt; a best-effort offer (RFC 4568 crypto lines
                // in RTP/AVP) when it only may.
                if (y.srtp == SrtpPolicy::Required) m.proto = secure_proto(m.proto);
                const SrtpKey& k80 = relay_key(s, to, SrtpSuite::AesCm128HmacSha1_80);
                s.relay_offered.emplace_back(1, k80);
                add_crypto(m, 1, k80);
                const SrtpKey& k32 = relay_key(s, to, SrtpSuite::AesCm128HmacSha1_32);
                s.relay_offered.emplace_back(2, k32);
                add_crypto(m, 2, k32);
                break;
            }
            default:
                break;
        }
        // Until the answer says otherwise, nothing is decrypted or encrypted on either side.
        if (s.mode != Mode::TermOfferer && s.mode != Mode::TermAnswerer) {
            apply_crypto(index, from, std::nullopt, std::nullopt);
            apply_crypto(index, to, std::nullopt, std::nullopt);
        }
    }
    offerer_ = from;
    pending_ = true;
    return finish(to, d);
}

Result<std::string, Refusal> MediaCall::answer(Side from, std::string_view text, bool final) {
    auto parsed = sdp::parse(text);
    if (!parsed) return refuse("malformed SDP answer");
    sdp::SessionDescription d = std::move(*parsed);
    const Side to = other(from);
    const LegInfo& y = legs_[static_cast<int>(from)];  // the answerer
    bool hold = false;
    for (std::size_t idx = 0; idx < d.media.size(); ++idx) {
        sdp::Media& m = d.media[idx];
        const unsigned index = static_cast<unsigned>(idx);
        if (idx >= streams_.size() || streams_[idx].mode == Mode::Off) {
            m.port = 0;  // we offered it rejected (or never offered it)
            drop_attributes(m.attributes, true);
            continue;
        }
        Stream& s = streams_[idx];
        if (m.port == 0) {  // the answerer rejected the stream
            drop_attributes(m.attributes, true);
            continue;
        }
        hold = hold || held(d, m);
        const NetAddress where = media_address(d, m);
        relay_.set_peer(session_, index, from, where, has_attribute(m, "rtcp-mux"), y.signal_source);
        // Keys the answerer sent over plain signalling protect nothing (it was never offered any).
        auto keys = y.secure ? offered_keys(m) : std::vector<std::pair<int, SrtpKey>>{};
        if (s.mode == Mode::Pass && !is_dtls(s.offer_proto)) {
            bool match = false;
            for (const auto& [tag, key] : keys)
                for (const auto& [otag, okey] : s.offerer_keys)
                    match = match || (tag == otag && key.suite == okey.suite);
            // An answer without SRTP to an SRTP offer: the relay encrypts towards the offerer itself.
            if (!match) s.mode = Mode::TermOfferer;
        }
        const bool keep_crypto =
            s.mode == Mode::Pass && !is_dtls(s.offer_proto) && y.secure && legs_[static_cast<int>(to)].secure;
        drop_attributes(m.attributes, !keep_crypto);
        switch (s.mode) {
            case Mode::Pass:
                apply_crypto(index, from, std::nullopt, std::nullopt);
                apply_crypto(index, to, std::nullopt, std::nullopt);
                break;
            case Mode::Plain:
                apply_crypto(index, from, std::nullopt, std::nullopt);
                apply_crypto(index, to, std::nullopt, std::nullopt);
                m.proto = s.offer_proto;
                break;
            case Mode::TermOfferer: {
                // The offerer's first supported line: we answer it with a key of our own, same tag.
                const auto& [tag, okey] = s.offerer_keys.front();
                const SrtpKey& mine = relay_key(s, to, okey.suite);
                apply_crypto(index, to, okey, mine);
                apply_crypto(index, from, std::nullopt, std::nullopt);
                m.proto = s.offer_proto;
                add_crypto(m, tag, mine);
                break;
            }
            case Mode::TermAnswerer: {
                std::optional<std::pair<int, SrtpKey>> chosen;
                for (const auto& [tag, key] : keys)
                    for (const auto& [otag, okey] : s.relay_offered)
                        if (!chosen && tag == otag && key.suite == okey.suite)
                            chosen = std::make_pair(tag, key);
                if (chosen) {
                    SrtpKey mine{};
                    for (const auto& [otag, okey] : s.relay_offered)
                        if (otag == chosen->first) mine = okey;
                    apply_crypto(index, from, chosen->second, mine);
                } else {
                    if (y.srtp == SrtpPolicy::Required) return refuse("SRTP required for " + y.label);
                    apply_crypto(index, from, std::nullopt, std::nullopt);  // declined: plain on that side
                }
                apply_crypto(index, to, std::nullopt, std::nullopt);
                m.proto = s.offer_proto;
                break;
            }
            case Mode::Off:
                break;
        }
        // The offerer is told its own side of the relay (bound at the offer).
        if (const auto& px = s.ports[static_cast<int>(to)]) {
            m.connections.clear();
            m.connections.push_back(relay_connection(*px));
            m.port = px->rtp_port;
            m.port_count.reset();
        }
    }
    hold_ = hold;
    if (final) pending_ = false;
    if (established_) relay_.arm(session_, hold_);
    return finish(to, d);
}

void MediaCall::established() {
    established_ = true;
    relay_.arm(session_, hold_);
}

std::vector<std::string> MediaCall::modes() const {
    std::vector<std::string> out;
    for (const auto& s : streams_) {
        switch (s.mode) {
            case Mode::Off:
                out.emplace_back("off");
                break;
            case Mode::Plain:
                out.emplace_back("rtp");
                break;
            case Mode::Pass:
                out.emplace_back("pass");
                break;
            case Mode::TermOfferer:
                out.emplace_back(offerer_ == Side::A ? "srtp->rtp" : "rtp<-srtp");
                break;
            case Mode::TermAnswerer:
                out.emplace_back(offerer_ == Side::A ? "rtp->srtp" : "srtp<-rtp");
                break;
        }
    }
    return out;
}

}  // namespace sw::media
