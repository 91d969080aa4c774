// libFuzzer target for the media layer's hostile inputs: SDP offers and answers through the anchor
// (MediaCall with a real, unstarted MediaRelay: ports are bound and closed, no thread runs), and RTP/RTCP
// packets through SRTP unprotect. Invariants: no crash, no leak; what the anchor sends on parses again,
// never names a port outside the relay's range for a relayed stream, and never carries a=crypto to a leg
// whose signalling is not TLS; unprotect of garbage fails cleanly.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "media/anchor.hpp"
#include "media/relay.hpp"
#include "media/srtp.hpp"
#include "sdp/sdp.hpp"

namespace {

sw::media::MediaRelay& relay() {
    static sw::media::MediaRelay r(
        [] {
            sw::media::RelayConfig c;
            c.address4 = "127.0.0.1";
            c.port_min = 41000;
            c.port_max = 41199;
            return c;
        }(),
        nullptr);
    return r;
}

void check_out(const std::string& out, bool secure) {
    auto d = sw::sdp::parse(out);
    if (!d) __builtin_trap();  // we must never send what we cannot parse
    for (const auto& m : d->media) {
        if (!secure && m.attribute("crypto") != nullptr) __builtin_trap();  // keys over plain signalling
        if (m.port != 0 && (m.port < 41000 || m.port > 41199)) __builtin_trap();
    }
}

sw::media::SrtpPolicy policy(std::uint8_t b) {
    return b % 3 == 0   ? sw::media::SrtpPolicy::Off
           : b % 3 == 1 ? sw::media::SrtpPolicy::Preferred
                        : sw::media::SrtpPolicy::Required;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t flags = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    if ((flags & 0xc0) == 0xc0) {
        // SRTP: a fixed key, the packet as it came.
        static const sw::media::SrtpKey key =
            sw::media::generate_key(sw::media::SrtpSuite::AesCm128HmacSha1_80);
        auto in = sw::media::SrtpStream::inbound(key);
        std::string buf(rest);
        buf.resize(buf.size() + sw::media::kMaxSrtpOverhead);
        auto* p = reinterpret_cast<std::uint8_t*>(buf.data());
        (void)in->unprotect_rtp(p, rest.size());
        std::string again(rest);
        (void)in->unprotect_rtcp(reinterpret_cast<std::uint8_t*>(again.data()), again.size());
        auto out = sw::media::SrtpStream::outbound(key);
        std::string plain(rest);
        plain.resize(plain.size() + sw::media::kMaxSrtpOverhead);
        auto r = out->protect_rtp(reinterpret_cast<std::uint8_t*>(plain.data()), rest.size(), plain.size());
        if (!r.error && r.length > rest.size() + sw::media::kMaxSrtpOverhead) __builtin_trap();
        return 0;
    }
    // Offer and answer, split at the first NUL (else the same text for both).
    const auto cut = rest.find('\0');
    const std::string_view offer = rest.substr(0, cut);
    const std::string_view answer = cut == std::string_view::npos ? rest : rest.substr(cut + 1);
    sw::media::LegInfo a, b;
    a.secure = flags & 1;
    b.secure = flags & 2;
    a.srtp = policy(flags >> 2);
    b.srtp = policy(flags >> 4);
    a.label = "caller";
    b.label = "callee";
    {
        sw::media::MediaCall call(
            relay(), 1, (flags & 0x40) ? sw::media::PlainCrypto::Refuse : sw::media::PlainCrypto::Strip);
        call.set_leg(sw::media::Side::A, a);
        call.set_leg(sw::media::Side::B, b);
        if (auto o = call.offer(sw::media::Side::A, offer)) {
            check_out(*o, b.secure);
            if (auto r = call.answer(sw::media::Side::B, answer, true)) check_out(*r, a.secure);
            // A re-INVITE the other way with the same texts.
            if (auto o2 = call.offer(sw::media::Side::B, answer)) {
                check_out(*o2, a.secure);
                if (auto r2 = call.answer(sw::media::Side::A, offer, true)) check_out(*r2, b.secure);
            }
        }
    }
    if (relay().ports_in_use() != 0) __builtin_trap();  // every port back when the call is gone
    return 0;
}
