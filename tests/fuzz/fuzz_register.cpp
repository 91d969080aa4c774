// REGISTER processing end to end without sockets: digest verification (Authorization parameters from
// the network) and the registrar's rules (Contact, Expires, q, Path, Call-ID/CSeq ordering).
// Invariants: the registrar answers with one of its statuses, and a 200 lists exactly the bindings the
// location service holds for the address of record.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "auth/authenticator.hpp"
#include "auth/digest.hpp"
#include "registrar/registrar.hpp"
#include "sip/message.hpp"

namespace {
class FixedClock final : public sw::auth::Clock {
public:
    std::int64_t now_s() const override { return 1'800'000'000; }
};
class CountingRandom final : public sw::auth::Random {
public:
    void fill(std::span<unsigned char> out) override {
        for (auto& b : out)
            b = static_cast<unsigned char>(++n_);
    }

private:
    unsigned n_ = 0;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sw;
    static FixedClock clock;
    static CountingRandom random;
    static auth::NonceFactory nonces(std::string(32, 's'), std::chrono::seconds(300), clock, random);
    static auth::NonceCounter counter;
    static const auth::Authenticator authenticator("example.com", auth::DigestPolicy{}, nonces, counter,
                                                   clock);
    static const auth::UserDirectory users([] {
        auth::UserRecord u;
        u.name = "201";
        u.ha1_md5 = auth::compute_ha1(auth::Algorithm::Md5, "201", "example.com", "Str0ng-Passw0rd-x");
        u.ha1_sha256 = auth::compute_ha1(auth::Algorithm::Sha256, "201", "example.com", "Str0ng-Passw0rd-x");
        u.ha1_sha512_256 =
            auth::compute_ha1(auth::Algorithm::Sha512_256, "201", "example.com", "Str0ng-Passw0rd-x");
        return std::vector<auth::UserRecord>{u};
    }());

    auto m = sip::Message::parse(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!m || !m->is_request()) return 0;
    (void)authenticator.verify(*m, false, users);
    (void)authenticator.verify(*m, true, users);

    registrar::LocationService location(1);
    registrar::Registrar reg(registrar::RegistrarConfig{}, location);
    const std::string user = m->to().uri.has_user ? sip::unescape(m->to().uri.user) : std::string("201");
    const auto now = clock.now_s();
    for (int round = 0; round < 2; ++round) {  // the second round refreshes (or refuses as out of order)
        const auto out = reg.handle(*m, user, registrar::RegisterSource{"udp:192.0.2.1:5060", 0}, now);
        switch (out.status) {
            case 200:
            case 400:
            case 403:
            case 404:
            case 423:
            case 500:
                break;
            default:
                __builtin_trap();
        }
        if (out.status == 200 && m->to().uri.is_sip()) {
            std::size_t contacts = 0;
            for (const auto& [name, value] : out.headers)
                contacts += name == "Contact";
            if (contacts != location.lookup(registrar::aor_of(m->to().uri), now).size()) __builtin_trap();
        }
    }
    return 0;
}
