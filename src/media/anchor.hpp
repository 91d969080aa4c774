// Media anchoring of one call: the offer/answer exchange (RFC 3264) seen by the B2BUA, with every
// RTP stream rewritten to a pair of relay ports per side, and the SRTP mode of each side chosen from its
// signalling (keys in SDP only over TLS, RFC 4568 8.3) and its policy.
//
//   both sides SRTP        pass-through: the crypto lines go across, the relay never sees the keys
//   offerer SRTP only      the relay decrypts the offerer's packets and encrypts towards it with its own key
//   answerer SRTP only     the same on the answerer's side
//   neither                plain RTP relayed
//
// Thread: a MediaCall belongs to the worker of its call; it calls the (thread-safe) MediaRelay.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "media/relay.hpp"
#include "media/srtp.hpp"
#include "sdp/sdp.hpp"

namespace sw::media {

enum class SrtpPolicy : std::uint8_t { Off, Preferred, Required };
std::optional<SrtpPolicy> srtp_policy_from(std::string_view name);  // off, preferred, required
std::string_view srtp_policy_name(SrtpPolicy p);

// What to do with a=crypto in an offer that arrived over plain UDP/TCP (the keys travelled in clear).
enum class PlainCrypto : std::uint8_t {
    Strip,   // a best-effort offer (RTP/AVP + a=crypto) goes on as plain RTP; RTP/SAVP is refused
    Refuse,  // any crypto line over plain signalling is refused
};

struct LegInfo {
    bool secure = false;  // the leg's signalling is TLS: keys may travel in its SDP
    SrtpPolicy srtp = SrtpPolicy::Preferred;
    bool v6 = false;               // the relay address family towards this leg
    NetAddress signal_source;      // where the leg's SIP comes from (strict latching)
    std::string label = "caller";  // for reasons: "caller", "callee", "trunk x"
    bool tls_required = false;     // the user's SIP must be on TLS (checked by the engine)
};

struct Refusal {
    int status = 488;
    std::string reason;  // for the Reason header and the log
};

class MediaCall {
public:
    MediaCall(MediaRelay& relay, std::uint64_t owner, PlainCrypto plain_crypto);
    ~MediaCall();  // closes the relay session: its ports go back whatever way the call ended
    MediaCall(const MediaCall&) = delete;
    MediaCall& operator=(const MediaCall&) = delete;

    void set_leg(Side side, LegInfo info);
    const LegInfo& leg(Side side) const { return legs_[static_cast<int>(side)]; }

    // An SDP offer from `from`: the offer to send to the other side, or why the call cannot go on.
    Result<std::string, Refusal> offer(Side from, std::string_view sdp);
    // The answer from `from` to the last offer: the answer for the other side. May be called again
    // with the same answer (early media, then the 2xx): the keys stay as they are.
    // `final`: false for an answer in a provisional response (the offer stays open for the 2xx).
    Result<std::string, Refusal> answer(Side from, std::string_view sdp, bool final = true);

    // The answer to the open offer was a failure (RFC 3264 8: the session stays as it was).
    void offer_rejected() { pending_ = false; }
    // The answer given in a provisional response is the final one (a 2xx without a body).
    void answered() { pending_ = false; }
    // The call is answered: media must flow from now on (the relay's timeout runs).
    void established();
    bool on_hold() const { return hold_; }
    bool offer_pending() const { return pending_; }
    Side offerer() const { return offerer_; }
    MediaRelay::SessionId session() const { return session_; }
    MediaRelay& relay() { return relay_; }
    // How each stream is carried, for logs and tests: "pass", "srtp->rtp", "rtp->srtp", "rtp", "off".
    std::vector<std::string> modes() const;

private:
    enum class Mode : std::uint8_t { Off, Plain, Pass, TermOfferer, TermAnswerer };
    struct Stream {
        Mode mode = Mode::Off;
        std::string offer_proto;                             // the offerer's proto
        std::vector<std::pair<int, SrtpKey>> offerer_keys;   // supported crypto lines of the offer
        std::vector<std::pair<int, SrtpKey>> relay_offered;  // ours, in an offer to the answerer
        std::optional<SrtpKey> relay_key[2][3];              // our key towards each side, per SrtpSuite
        std::optional<RelayPorts> ports[2];  // the relay's on each side, bound at the first offer
    };
    void apply_crypto(unsigned index, Side side, std::optional<SrtpKey> from, std::optional<SrtpKey> to);
    const SrtpKey& relay_key(Stream& s, Side side, SrtpSuite suite);
    std::string finish(Side to, sdp::SessionDescription& d);

    MediaRelay& relay_;
    MediaRelay::SessionId session_ = 0;
    PlainCrypto plain_crypto_;
    LegInfo legs_[2];
    std::vector<Stream> streams_;
    Side offerer_ = Side::A;
    bool pending_ = false;
    bool established_ = false;
    bool hold_ = false;
    std::string origin_id_;
    std::uint64_t version_[2] = {0, 0};
    std::string last_sent_[2];
};

}  // namespace sw::media
