// Parser speed: a typical ~900-byte INVITE and a REGISTER with digest credentials, each parsed and then
// read through the typed accessors a proxy or registrar uses (Via, From, To, CSeq, Call-ID, Contact).
#include <benchmark/benchmark.h>

#include <string>

#include "sdp/sdp.hpp"
#include "sip/framing.hpp"
#include "sip/message.hpp"

namespace {

const std::string kInvite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, REFER, NOTIFY, MESSAGE\r\n"
    "Supported: replaces, timer, 100rel\r\n"
    "User-Agent: sipwarden-bench/1.0\r\n"
    "Session-Expires: 1800\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 301\r\n"
    "\r\n"
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n"
    "s=Session SDP\r\n"
    "c=IN IP4 192.0.2.101\r\n"
    "t=0 0\r\n"
    "m=audio 49172 RTP/AVP 0 8 9 18 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n";

const std::string kRegister =
    "REGISTER sip:bench.test SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-26010-1-2;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:201@bench.test>;tag=26010SIPpTag001\r\n"
    "To: <sip:201@bench.test>\r\n"
    "Call-ID: 1-26010@127.0.0.1\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Contact: <sip:201@127.0.0.1:5070;transport=udp>;expires=3600\r\n"
    "Authorization: Digest username=\"201\", realm=\"bench.test\", "
    "nonce=\"MTczMjI3NDQwMC4xMjM0NTY3ODk6YWJjZGVm\", "
    "uri=\"sip:bench.test\", response=\"9f1c6d1f9a3e2b7c5d4e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4\", "
    "algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"6b8b4567\"\r\n"
    "User-Agent: SIPp\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

template <typename State>
void touch_typed(State& state, const sw::sip::Message& m) {
    benchmark::DoNotOptimize(m.top_via().branch.data());
    benchmark::DoNotOptimize(m.from().tag.data());
    benchmark::DoNotOptimize(m.to().uri.user.data());
    benchmark::DoNotOptimize(m.cseq().number);
    benchmark::DoNotOptimize(m.call_id().data());
    const auto& c = m.contacts();
    if (c.contacts.empty()) state.SkipWithError("no contact");
    benchmark::DoNotOptimize(c.contacts.front().uri.host.data());
}

void BM_ParseInvite(benchmark::State& state) {
    for (auto _ : state) {
        auto m = sw::sip::Message::parse(kInvite);
        if (!m) state.SkipWithError("parse failed");
        touch_typed(state, *m);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kInvite.size()));
}
BENCHMARK(BM_ParseInvite);

void BM_ParseRegisterWithAuth(benchmark::State& state) {
    for (auto _ : state) {
        auto m = sw::sip::Message::parse(kRegister);
        if (!m) state.SkipWithError("parse failed");
        touch_typed(state, *m);
        auto a = m->auth(sw::sip::HeaderId::Authorization);
        if (!a || a->empty()) state.SkipWithError("no credentials");
        benchmark::DoNotOptimize(a->front().params.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRegister.size()));
}
BENCHMARK(BM_ParseRegisterWithAuth);

void BM_SerializeUnchanged(benchmark::State& state) {
    auto m = sw::sip::Message::parse(kInvite);
    std::string out;
    for (auto _ : state) {
        out.clear();
        m->serialize_to(out);
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(BM_SerializeUnchanged);

void BM_ProxyEditAndSerialize(benchmark::State& state) {
    std::string out;
    for (auto _ : state) {
        auto m = sw::sip::Message::parse(kInvite);
        (void)m->push_via("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKproxy1");
        m->set_max_forwards(69);
        m->add_header("Record-Route", "<sip:192.0.2.1;lr>");
        out.clear();
        m->serialize_to(out);
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(BM_ProxyEditAndSerialize);

void BM_FrameStream(benchmark::State& state) {
    std::string stream;
    for (int i = 0; i < 16; ++i)
        stream += kInvite;
    for (auto _ : state) {
        sw::sip::StreamFramer f;
        f.append(stream);
        int n = 0;
        while (f.next().kind == sw::sip::StreamFramer::Kind::Message)
            ++n;
        if (n != 16) state.SkipWithError("framing");
    }
    state.SetItemsProcessed(state.iterations() * 16);
}
BENCHMARK(BM_FrameStream);

void BM_ParseSdp(benchmark::State& state) {
    const std::string body = kInvite.substr(kInvite.find("\r\n\r\n") + 4);
    for (auto _ : state) {
        auto s = sw::sdp::parse(body);
        if (!s) state.SkipWithError("sdp");
        benchmark::DoNotOptimize(s->media.size());
    }
}
BENCHMARK(BM_ParseSdp);

}  // namespace

BENCHMARK_MAIN();
