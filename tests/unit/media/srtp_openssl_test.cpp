// The OpenSSL SRTP transform against RFC 3711's own vectors and against libsrtp2, the reference backend:
// the same key must give the same bytes, each side must read the other's packets, and both must refuse
// the same damaged, replayed and short packets with the same error.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "media/srtp.hpp"
#include "media/srtp_backend.hpp"

using namespace sw::media;

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr SrtpSuite kSuites[] = {SrtpSuite::AesCm128HmacSha1_80, SrtpSuite::AesCm128HmacSha1_32,
                                 SrtpSuite::AeadAes128Gcm};

Bytes hex(std::string_view s) {
    Bytes out;
    int hi = -1;
    for (char c : s) {
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (v < 0) continue;
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(hi << 4 | v));
            hi = -1;
        }
    }
    return out;
}

Bytes slice(const Bytes& b, std::size_t from, std::size_t n) {
    return Bytes(b.begin() + static_cast<std::ptrdiff_t>(from),
                 b.begin() + static_cast<std::ptrdiff_t>(from + n));
}

std::string name_of(SrtpSuite s) {
    return std::string(suite_name(s));
}

// RTP v2 with CSRCs and an RFC 8285 one-byte header extension (words of 4 bytes) as asked.
Bytes rtp(std::uint16_t seq, std::uint32_t ssrc, std::size_t payload, std::uint8_t fill, unsigned csrcs = 0,
          unsigned ext_words = 0) {
    Bytes p = {static_cast<std::uint8_t>(0x80 | (ext_words ? 0x10 : 0) | csrcs),
               0x60,
               static_cast<std::uint8_t>(seq >> 8),
               static_cast<std::uint8_t>(seq),
               0x11,
               0x22,
               static_cast<std::uint8_t>(seq >> 4),
               static_cast<std::uint8_t>(seq << 4)};
    for (int shift = 24; shift >= 0; shift -= 8)
        p.push_back(static_cast<std::uint8_t>(ssrc >> shift));
    for (unsigned c = 0; c < csrcs; ++c)
        p.insert(p.end(), {0xc5, 0x00, 0x00, static_cast<std::uint8_t>(c)});
    if (ext_words) {
        p.insert(p.end(), {0xbe, 0xde, 0x00, static_cast<std::uint8_t>(ext_words)});
        for (unsigned i = 0; i < 4 * ext_words; ++i)
            p.push_back(static_cast<std::uint8_t>(0x30 + i));
    }
    for (std::size_t i = 0; i < payload; ++i)
        p.push_back(static_cast<std::uint8_t>(fill + i * 7));
    return p;
}

// An RTCP sender report (PT 200) of the SSRC followed by extra bytes standing for more of a compound.
Bytes rtcp(std::uint32_t ssrc, std::size_t extra, std::uint8_t fill) {
    Bytes p = {0x80, 200, 0x00, 0x06};
    for (int shift = 24; shift >= 0; shift -= 8)
        p.push_back(static_cast<std::uint8_t>(ssrc >> shift));
    for (std::size_t i = 0; i < extra; ++i)
        p.push_back(static_cast<std::uint8_t>(fill + i));
    return p;
}

// What one call of the API gave: the error, or the bytes.
struct Result {
    std::optional<SrtpError> error;
    Bytes bytes;
    bool operator==(const Result&) const = default;
};

std::string describe(const Result& r) {
    if (r.error) return "error " + std::to_string(static_cast<int>(*r.error));
    return "ok, " + std::to_string(r.bytes.size()) + " bytes";
}

enum class Op { ProtectRtp, UnprotectRtp, ProtectRtcp, UnprotectRtcp };

// Runs one operation on a copy of the packet in a buffer with room for any trailer.
Result run(SrtpStream& s, Op op, const Bytes& in, std::size_t len) {
    Bytes buf(in);
    buf.resize(std::max(buf.size(), len) + kMaxSrtpOverhead);
    SrtpStream::Outcome o;
    switch (op) {
        case Op::ProtectRtp:
            o = s.protect_rtp(buf.data(), len, buf.size());
            break;
        case Op::UnprotectRtp:
            o = s.unprotect_rtp(buf.data(), len);
            break;
        case Op::ProtectRtcp:
            o = s.protect_rtcp(buf.data(), len, buf.size());
            break;
        case Op::UnprotectRtcp:
            o = s.unprotect_rtcp(buf.data(), len);
            break;
    }
    Result r;
    r.error = o.error;
    if (!o.error) r.bytes = slice(buf, 0, o.length);
    return r;
}

Result run(SrtpStream& s, Op op, const Bytes& in) {
    return run(s, op, in, in.size());
}

// One stream per backend, same key and direction.
struct Pair {
    std::unique_ptr<SrtpStream> ossl, ref;
    static Pair outbound(const SrtpKey& k) {
        return {SrtpStream::outbound(k, SrtpBackend::OpenSsl), SrtpStream::outbound(k, SrtpBackend::Libsrtp)};
    }
    static Pair inbound(const SrtpKey& k) {
        return {SrtpStream::inbound(k, SrtpBackend::OpenSsl), SrtpStream::inbound(k, SrtpBackend::Libsrtp)};
    }
    explicit operator bool() const { return ossl && ref; }
};

}  // namespace

// RFC 3711 Appendix B.2: the AES-CM keystream of the whole 65282-block segment (its first and last
// three blocks are tabulated) for SSRC 0, index 0.
TEST(SrtpRfc3711, B2AesCmKeystream) {
    const Bytes key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
    const Bytes salt = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
    Bytes ks(1044512);
    ASSERT_TRUE(detail::aes_cm_keystream(key.data(), salt.data(), 0, 0, ks.data(), ks.size()));
    EXPECT_EQ(slice(ks, 0, 48), hex("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB"
                                    "41E95B3BB0A2E8DD477901E4FCA894C0"));
    EXPECT_EQ(slice(ks, 0xfeff * 16, 48),
              hex("EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE"
                  "6A2CC3787889374FBEB4C81B17BA6C44"));

    // The SSRC and the index enter the IV where 4.1.1 puts them: the keystream of SSRC 0x01020304 and
    // index 0xa0b0c0d0 is that of SSRC 0, index 0 from an offset with those bytes XORed in.
    Bytes a(16), b(16);
    ASSERT_TRUE(detail::aes_cm_keystream(key.data(), salt.data(), 0x01020304, 0x0000a0b0c0d0, a.data(), 16));
    Bytes moved = salt;
    for (int i = 0; i < 4; ++i)
        moved[4 + i] ^= static_cast<std::uint8_t>(0x01 + i);
    for (int i = 0; i < 6; ++i)
        moved[8 + i] ^= hex("0000a0b0c0d0")[static_cast<std::size_t>(i)];
    ASSERT_TRUE(detail::aes_cm_keystream(key.data(), moved.data(), 0, 0, b.data(), 16));
    EXPECT_EQ(a, b);
}

// RFC 3711 Appendix B.3: the session keys of the SRTP labels, to the length the appendix prints.
TEST(SrtpRfc3711, B3KeyDerivation) {
    const Bytes master_key = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
    const Bytes master_salt = hex("0EC675AD498AFEEBB6960B3AABE6");
    Bytes out(16);
    ASSERT_TRUE(detail::srtp_kdf(master_key.data(), master_salt.data(), 0x00, out.data(), 16));
    EXPECT_EQ(out, hex("C61E7A93744F39EE10734AFE3FF7A087"));
    ASSERT_TRUE(detail::srtp_kdf(master_key.data(), master_salt.data(), 0x02, out.data(), 16));
    EXPECT_EQ(out, hex("30CBBC08863D8C85D49DB34A9AE17AC6"));  // the cipher salt is its first 14 bytes
    Bytes auth(94);
    ASSERT_TRUE(detail::srtp_kdf(master_key.data(), master_salt.data(), 0x01, auth.data(), auth.size()));
    EXPECT_EQ(auth, hex("CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE"
                        "E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25"
                        "6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"));
    // The SRTCP labels give other keys.
    Bytes rtcp_key(16);
    ASSERT_TRUE(detail::srtp_kdf(master_key.data(), master_salt.data(), 0x03, rtcp_key.data(), 16));
    EXPECT_NE(rtcp_key, hex("C61E7A93744F39EE10734AFE3FF7A087"));
}

// Interop over a long run: 70,000 RTP packets for each of two interleaved SSRCs, from sequence numbers
// 0xfc00 and 0x1000, so the ROC wraps (65535 -> 0) twice and once, packets with CSRCs and with header
// extensions among them (one of each at every wrap), and an RTCP packet every 16 RTP packets. Both backends
// protect each packet: the bytes must be the same, and each backend's inbound stream must give back the plain
// packet from the other's output.
TEST(SrtpInterop, BothWaysEverySuiteAcrossTheRocWrap) {
    for (SrtpSuite suite : kSuites) {
        SCOPED_TRACE(name_of(suite));
        const SrtpKey key = generate_key(suite);
        Pair out = Pair::outbound(key);
        Pair in = Pair::inbound(key);  // in.ossl reads the libsrtp output, in.ref the OpenSSL output
        ASSERT_TRUE(out && in);

        constexpr std::uint32_t kSsrcs[] = {0x5eed1234, 0x00000007};
        // Each SSRC counts up one by one within 256 of a wrap, and in strides of 2,048 elsewhere (a jump
        // forward of less than 2^15 that the index estimate of RFC 3711 3.3.1 must follow): the ROC
        // wraps several times in a few thousand packets instead of 65,536 per wrap.
        constexpr int kPackets = 1600;
        std::uint16_t seq[2] = {0xfc00, 0x1000};
        int wraps[2] = {0, 0};
        int failures = 0, rtcp_count = 0, special = 0;
        for (int i = 0; i < kPackets * 2 && failures < 5; ++i) {
            const int which = i % 2;
            const std::uint32_t ssrc = kSsrcs[which];
            const std::uint16_t s = seq[which];
            const bool near_wrap = s >= 0xff00 || s < 0x0100;
            seq[which] = near_wrap ? static_cast<std::uint16_t>(s + 1)
                                   : static_cast<std::uint16_t>(std::min<unsigned>(s + 0x800u, 0xff00u));
            if (s == 0) ++wraps[which];
            unsigned csrcs = 0, ext = 0;
            if (i % 97 == 0 || s == 0) csrcs = 1 + static_cast<unsigned>(i % 15);
            if (i % 101 == 0 || s == 0xffff) ext = 1 + static_cast<unsigned>(i % 3);
            if (csrcs || ext) ++special;
            const std::size_t payload = i % 50 == 0 ? 0 : 160 + static_cast<std::size_t>(i % 37);
            const Bytes plain = rtp(s, ssrc, payload, static_cast<std::uint8_t>(i), csrcs, ext);

            Result a = run(*out.ossl, Op::ProtectRtp, plain);
            Result b = run(*out.ref, Op::ProtectRtp, plain);
            if (a.error || b.error || a.bytes != b.bytes) {
                ADD_FAILURE() << "protect differs at packet " << i << " seq " << s << ": " << describe(a)
                              << " vs " << describe(b);
                ++failures;
                continue;
            }
            Result back_ref = run(*in.ref, Op::UnprotectRtp, a.bytes);    // OpenSSL -> libsrtp
            Result back_ossl = run(*in.ossl, Op::UnprotectRtp, b.bytes);  // libsrtp -> OpenSSL
            if (back_ref.error || back_ref.bytes != plain || back_ossl.error || back_ossl.bytes != plain) {
                ADD_FAILURE() << "unprotect at packet " << i << " seq " << s << ": libsrtp "
                              << describe(back_ref) << ", OpenSSL " << describe(back_ossl);
                ++failures;
            }

            if (i % 16 == 0) {
                ++rtcp_count;
                const Bytes plain_c =
                    rtcp(ssrc, static_cast<std::size_t>(20 + i % 61), static_cast<std::uint8_t>(i));
                Result c = run(*out.ossl, Op::ProtectRtcp, plain_c);
                Result d = run(*out.ref, Op::ProtectRtcp, plain_c);
                if (c.error || d.error || c.bytes != d.bytes) {
                    ADD_FAILURE() << "protect_rtcp differs at packet " << i << ": " << describe(c) << " vs "
                                  << describe(d);
                    ++failures;
                    continue;
                }
                Result c_ref = run(*in.ref, Op::UnprotectRtcp, c.bytes);
                Result c_ossl = run(*in.ossl, Op::UnprotectRtcp, d.bytes);
                if (c_ref.error || c_ref.bytes != plain_c || c_ossl.error || c_ossl.bytes != plain_c) {
                    ADD_FAILURE() << "unprotect_rtcp at packet " << i << ": libsrtp " << describe(c_ref)
                                  << ", OpenSSL " << describe(c_ossl);
                    ++failures;
                }
            }
        }
        EXPECT_EQ(failures, 0);
        EXPECT_GE(wraps[0], 2) << "the first SSRC wraps at least twice (ROC 2)";
        EXPECT_GE(wraps[1], 2);
        EXPECT_GT(rtcp_count, 180);
        EXPECT_GT(special, 50);
    }
}

// Both inbound backends fed the same disordered stream: reordering within and beyond the window,
// duplicates, very late packets, tampered bytes anywhere, cut lengths, another SSRC, jumps of the
// sequence number that make the ROC estimate go forward or back, garbage. Every outcome (error or plain
// bytes) must be the same. Outbound too: sequence numbers repeated, old or jumping give the same
// refusals and bytes.
TEST(SrtpInterop, BackendsAgreeOnEveryOutcome) {
    for (SrtpSuite suite : kSuites) {
        SCOPED_TRACE(name_of(suite));
        const SrtpKey key = generate_key(suite);
        std::mt19937 rng(1234u + static_cast<unsigned>(suite));
        auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };

        // Outbound: a sender whose sequence numbers mostly increase but repeat, go back and jump.
        Pair out = Pair::outbound(key);
        ASSERT_TRUE(out);
        std::vector<Bytes> rtp_sent, rtcp_sent;
        std::uint16_t s = 65000;
        int mismatches = 0;
        for (int i = 0; i < 20000 && mismatches < 5; ++i) {
            const int r = pick(1000);
            std::uint16_t use = s;
            if (r < 20) {
                use = static_cast<std::uint16_t>(s - 1 - pick(3));  // repeated
            } else if (r < 30) {
                use = static_cast<std::uint16_t>(s - 100 - pick(200));  // old, maybe beyond the window
            } else if (r < 32) {
                use = static_cast<std::uint16_t>(s + 33000 + pick(30000));  // estimated as far behind
            } else {
                if (r < 34) s = static_cast<std::uint16_t>(s + 1000 + pick(29000));  // a jump ahead
                use = s;
                s = static_cast<std::uint16_t>(s + 1 + (pick(10) == 0 ? pick(300) : 0));
            }
            const std::uint32_t ssrc = pick(10) == 0 ? 0xabcdef01u : 0x11111111u;
            const Bytes plain =
                rtp(use, ssrc, static_cast<std::size_t>(pick(200)), static_cast<std::uint8_t>(i),
                    pick(20) == 0 ? 2u : 0u, pick(20) == 0 ? 1u : 0u);
            Result a = run(*out.ossl, Op::ProtectRtp, plain);
            Result b = run(*out.ref, Op::ProtectRtp, plain);
            if (!(a == b)) {
                ADD_FAILURE() << "protect_rtp " << i << " seq " << use << ": " << describe(a) << " vs "
                              << describe(b);
                ++mismatches;
            }
            if (!a.error) rtp_sent.push_back(a.bytes);
            if (pick(8) == 0) {
                const Bytes c = rtcp(ssrc, static_cast<std::size_t>(pick(100)), static_cast<std::uint8_t>(i));
                Result x = run(*out.ossl, Op::ProtectRtcp, c);
                Result y = run(*out.ref, Op::ProtectRtcp, c);
                if (!(x == y)) {
                    ADD_FAILURE() << "protect_rtcp " << i << ": " << describe(x) << " vs " << describe(y);
                    ++mismatches;
                }
                if (!x.error) rtcp_sent.push_back(x.bytes);
            }
        }
        ASSERT_GT(rtp_sent.size(), 15000u);

        // Inbound: deliver what was sent, disordered and damaged.
        Pair in = Pair::inbound(key);
        ASSERT_TRUE(in);
        std::size_t next = 0, next_c = 0;
        int outcomes[4] = {};  // ok, auth, replay, malformed: the mix must exercise each
        auto deliver = [&](Op op, const Bytes& p, std::size_t len) {
            Result a = run(*in.ossl, op, p, len);
            Result b = run(*in.ref, op, p, len);
            if (!(a == b)) {
                ADD_FAILURE() << (op == Op::UnprotectRtp ? "unprotect_rtp" : "unprotect_rtcp") << " of a "
                              << len << "-byte packet: OpenSSL " << describe(a) << ", libsrtp "
                              << describe(b);
                ++mismatches;
            }
            ++outcomes[a.error ? 1 + (*a.error == SrtpError::Auth     ? 0
                                      : *a.error == SrtpError::Replay ? 1
                                                                      : 2)
                               : 0];
        };
        while (next < rtp_sent.size() && mismatches < 10) {
            int r = pick(100);
            std::size_t at = next;
            if (r < 10 && next > 0)
                at = next - 1 -
                     static_cast<std::size_t>(pick(static_cast<int>(std::min<std::size_t>(next, 300))));
            else if (r < 15 && next + 5 < rtp_sent.size())
                at = next + static_cast<std::size_t>(pick(5));
            else
                ++next;
            Bytes p = rtp_sent[at];
            std::size_t len = p.size();
            int damage = pick(100);
            if (damage < 5) {
                p[static_cast<std::size_t>(pick(static_cast<int>(p.size())))] ^=
                    static_cast<std::uint8_t>(1u << pick(8));
            } else if (damage < 7) {
                len = static_cast<std::size_t>(pick(static_cast<int>(p.size())));
            } else if (damage < 8) {
                for (auto& x : p)
                    x = static_cast<std::uint8_t>(rng());
                p[0] = static_cast<std::uint8_t>(0x80 | (p[0] & 0x3f));
            }
            deliver(Op::UnprotectRtp, p, len);
            if (pick(6) == 0 && next_c < rtcp_sent.size()) {
                std::size_t c_at = pick(10) == 0 && next_c > 0 ? next_c - 1 : next_c++;
                Bytes c = rtcp_sent[c_at];
                std::size_t c_len = c.size();
                int d = pick(30);
                if (d == 0) c[static_cast<std::size_t>(pick(static_cast<int>(c.size())))] ^= 0x10;
                if (d == 1) c_len = static_cast<std::size_t>(pick(static_cast<int>(c.size())));
                if (d == 2) c[c.size() - (suite == SrtpSuite::AeadAes128Gcm ? 4 : 14)] ^= 0x80;  // the E flag
                deliver(Op::UnprotectRtcp, c, c_len);
            }
        }
        EXPECT_EQ(mismatches, 0);
        for (int k = 0; k < 4; ++k)
            EXPECT_GT(outcomes[k], 10) << "outcome kind " << k;
    }
}

// Not a test: the per-packet cost of each backend and suite for a 172-byte RTP packet (12-byte header,
// 160 bytes of payload, 20 ms of G.711). Run with
//   unit_tests --gtest_also_run_disabled_tests --gtest_filter='SrtpCost.*'
TEST(SrtpCost, DISABLED_PerPacket172Bytes) {
    // This thread's CPU time: the cost per core, whatever else the machine runs.
    auto cpu_ns = [] {
        timespec t{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
    };
    constexpr int kN = 100000;
    std::printf("%-26s %-8s %12s %12s  (CPU ns per packet)\n", "suite", "backend", "protect", "unprotect");
    for (SrtpSuite suite : kSuites) {
        const SrtpKey key = generate_key(suite);
        for (SrtpBackend backend : {SrtpBackend::OpenSsl, SrtpBackend::Libsrtp}) {
            auto out = SrtpStream::outbound(key, backend);
            auto in = SrtpStream::inbound(key, backend);
            ASSERT_TRUE(out && in);
            const Bytes plain = rtp(0, 0x12345678, 160, 1);
            ASSERT_EQ(plain.size(), 172u);
            constexpr std::size_t kStride = 256;
            std::vector<std::uint8_t> buf(kStride * kN);
            std::vector<std::size_t> lens(kN);
            {  // warm up caches and branch predictors on a stream of its own
                auto warm = SrtpStream::outbound(key, backend);
                std::array<std::uint8_t, 256> one{};
                for (int i = 0; i < 2000; ++i) {
                    std::copy(plain.begin(), plain.end(), one.begin());
                    one[2] = static_cast<std::uint8_t>(i >> 8);
                    one[3] = static_cast<std::uint8_t>(i);
                    (void)warm->protect_rtp(one.data(), plain.size(), one.size());
                }
            }
            // Protect kN packets with increasing sequence numbers (each copied into place first, as the
            // relay's receive buffer would be) and keep them for unprotect.
            const double t0 = cpu_ns();
            for (int i = 0; i < kN; ++i) {
                std::uint8_t* p = buf.data() + kStride * static_cast<std::size_t>(i);
                std::copy(plain.begin(), plain.end(), p);
                const auto seq = static_cast<std::uint16_t>(i);
                p[2] = static_cast<std::uint8_t>(seq >> 8);
                p[3] = static_cast<std::uint8_t>(seq);
                auto r = out->protect_rtp(p, plain.size(), kStride);
                lens[static_cast<std::size_t>(i)] = r.length;
            }
            const double t1 = cpu_ns();
            int bad = 0;
            for (int i = 0; i < kN; ++i) {
                std::uint8_t* p = buf.data() + kStride * static_cast<std::size_t>(i);
                auto r = in->unprotect_rtp(p, lens[static_cast<std::size_t>(i)]);
                bad += r.error ? 1 : 0;
            }
            const double t2 = cpu_ns();
            EXPECT_EQ(bad, 0);
            const double prot = (t1 - t0) / kN;
            const double unprot = (t2 - t1) / kN;
            std::printf("%-26s %-8s %12.0f %12.0f\n", name_of(suite).c_str(),
                        backend == SrtpBackend::OpenSsl ? "OpenSSL" : "libsrtp", prot, unprot);
        }
    }
}
