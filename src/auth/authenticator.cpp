#include "auth/authenticator.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <optional>

#include "auth/digest.hpp"
#include "common/text.hpp"

namespace sw::auth {
namespace {

// RFC 3261 25.1 quoted-string: '"' and '\' need a quoted-pair.
std::string quoted(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    for (char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

// RFC 7616 3.4: nc is exactly 8 hex digits.
std::optional<std::uint32_t> parse_nc(std::string_view nc) {
    if (nc.size() != 8) return std::nullopt;
    std::uint32_t v = 0;
    for (char c : nc) {
        const int h = sw::hex_value(c);
        if (h < 0) return std::nullopt;
        v = (v << 4) | static_cast<std::uint32_t>(h);
    }
    return v;
}

// The parameters verify() reads. RFC 7616 3.4: username, realm, nonce, uri and response are required;
// with qop also cnonce and nc.
constexpr std::string_view kNames[] = {"username", "nonce",  "uri",       "response", "qop",
                                       "nc",       "cnonce", "algorithm", "userhash", "realm"};
constexpr std::size_t kRealmIndex = 9;
using CredentialValues = std::optional<std::string_view>[std::size(kNames)];
using CredentialStorage = std::string[std::size(kNames)];

// The parameters of the first Digest credentials for our realm (RFC 3261 22.4: a request may carry
// credentials for several realms, one field each), parsed and picked in one pass over each field. Fields
// that do not parse belong to nobody: skipped. false when there are none.
bool credentials_for(const sip::Message& request, sip::HeaderId id, std::string_view realm,
                     CredentialValues& v, CredentialStorage& storage) {
    for (const sip::HeaderField& f : request.headers()) {
        if (f.id != id) continue;
        for (auto& o : v)
            o.reset();
        auto a = sip::parse_auth(f.value, true, kNames, v, storage);
        if (!a || !sw::iequals(a->scheme, "Digest")) continue;
        if (v[kRealmIndex] == realm) return true;
    }
    return false;
}

const std::string& stored_ha1(const UserRecord& u, Algorithm a) {
    switch (a) {
        case Algorithm::Md5:
            return u.ha1_md5;
        case Algorithm::Sha256:
            return u.ha1_sha256;
        case Algorithm::Sha512_256:
            break;
    }
    return u.ha1_sha512_256;
}

}  // namespace

Authenticator::Authenticator(std::string realm, DigestPolicy policy, NonceFactory& nonces,
                             NonceCounter& counter, Clock& clock)
    : realm_(std::move(realm)), policy_(policy), nonces_(nonces), counter_(counter), clock_(clock) {
    assert(realm_.find_first_of("\r\n") == std::string::npos);
}

namespace {
bool names_this_server(std::string_view uri_text, const std::vector<std::string>& own_hosts) {
    auto uri = sip::parse_uri(uri_text);
    if (!uri || !uri->is_sip() || uri->has_user) return false;
    for (const auto& h : own_hosts) {
        if (sw::iequals(h, uri->host)) return true;
    }
    return false;
}
}  // namespace

std::vector<std::string> Authenticator::challenges(bool stale, std::string_view user_agent) const {
    const std::string nonce = nonces_.make(realm_);
    const std::string realm = quoted(realm_);
    std::vector<std::string> out;
    out.reserve(3);
    bool md5_only = false;
    if (policy_.allow_md5 && !user_agent.empty()) {
        const std::string ua = sw::to_lower(user_agent);
        for (const auto& agent : policy_.md5_only_agents)
            md5_only = md5_only || (!agent.empty() && ua.find(sw::to_lower(agent)) != std::string::npos);
    }
    static constexpr Algorithm kPreferred[] = {Algorithm::Sha256, Algorithm::Sha512_256, Algorithm::Md5};
    static constexpr Algorithm kMd5First[] = {Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512_256};
    for (Algorithm a : policy_.md5_first ? kMd5First : kPreferred) {
        if (a == Algorithm::Md5 && !policy_.allow_md5) continue;
        if (md5_only && a != Algorithm::Md5) continue;
        std::string c;
        c.reserve(80 + realm.size() + nonce.size());
        c.append("Digest realm=").append(realm).append(", nonce=\"").append(nonce).append("\", algorithm=");
        c.append(algorithm_name(a)).append(", qop=\"auth\"");
        if (stale) c.append(", stale=true");
        out.push_back(std::move(c));
    }
    return out;
}

VerifyResult Authenticator::verify(const sip::Message& request, bool proxy,
                                   const UserDirectory& users) const {
    VerifyResult out;
    const auto id = proxy ? sip::HeaderId::ProxyAuthorization : sip::HeaderId::Authorization;
    CredentialValues v;
    CredentialStorage storage;
    if (!credentials_for(request, id, realm_, v, storage)) {
        out.verdict = Verdict::NoCredentials;
        return out;
    }
    out.verdict = Verdict::Rejected;
    const auto& username = v[0];
    const auto& nonce = v[1];
    const auto& uri = v[2];
    const auto& response = v[3];
    const auto& qop = v[4];
    const auto& nc_text = v[5];
    const auto& cnonce = v[6];
    const auto& algorithm_text = v[7];
    const auto& userhash = v[8];
    if (username) out.user = *username;
    if (!username || !nonce || !uri || !response || !qop || !nc_text || !cnonce) return out;
    // We never offer userhash (RFC 7616 3.4.4), so hashed usernames cannot answer our challenge.
    if (userhash && !sw::iequals(*userhash, "false")) return out;

    // RFC 7616 3.3: no algorithm parameter means MD5.
    const std::optional<Algorithm> algorithm =
        algorithm_text ? parse_algorithm(*algorithm_text) : Algorithm::Md5;
    if (!algorithm) return out;
    out.algorithm = *algorithm;
    if (*algorithm == Algorithm::Md5 && !policy_.allow_md5) return out;

    // RFC 7616 3.3 makes qop mandatory; we offer "auth" only, so nothing else can answer our challenge.
    const std::optional<std::uint32_t> nc = parse_nc(*nc_text);
    if (!sw::iequals(*qop, "auth") || !nc || cnonce->empty()) return out;
    // RFC 3261 22.4: the digest covers the Request-URI; credentials for another URI prove nothing here.
    if (*uri != request.request_uri().raw && !names_this_server(*uri, policy_.own_hosts)) return out;

    const NonceStatus nonce_status = nonces_.inspect(*nonce, realm_);
    if (nonce_status.check == NonceCheck::Invalid) return out;
    const std::int64_t now = clock_.now_s();
    const std::int64_t lifetime = std::min(nonces_.lifetime(), policy_.nonce_lifetime).count();
    const bool stale = nonce_status.check == NonceCheck::Stale || now - nonce_status.issued_at_s > lifetime;

    // From here on an unknown user, a disabled user and a wrong password take the same path and the same
    // hashing work, so neither the verdict nor the time tells whether the user exists.
    const UserRecord* user = users.find(*username);
    const std::string* ha1 = user ? &stored_ha1(*user, *algorithm) : nullptr;
    const bool usable = user && user->enabled && (*algorithm != Algorithm::Md5 || user->md5_allowed) &&
                        ha1->size() == hex_length(*algorithm);
    static constexpr std::string_view kZeros =
        "0000000000000000000000000000000000000000000000000000000000000000";
    const std::string_view dummy_ha1 = kZeros.substr(0, hex_length(*algorithm));
    const std::string expected = compute_response(*algorithm, usable ? std::string_view(*ha1) : dummy_ha1,
                                                  *nonce, *nc_text, *cnonce, *qop, request.method(), *uri);
    // RFC 7616 3.4.1: request-digest is lowercase hex; be lenient about the case a client used. A
    // response longer than any digest cannot match; it is compared at the expected length anyway.
    std::array<char, 128> lower{};
    const std::size_t response_size = std::min(response->size(), lower.size());
    for (std::size_t i = 0; i < response_size; ++i)
        lower[i] = sw::ascii_lower((*response)[i]);
    const bool match = response->size() <= lower.size() &&
                       constant_time_equal(expected, std::string_view(lower.data(), response_size));
    if (!(usable && match)) return out;

    // RFC 7616 3.3: stale means the credentials were right and only the nonce was old.
    if (stale) {
        out.verdict = Verdict::Stale;
        return out;
    }
    // The counter must remember the nonce for as long as it can be accepted: until issued + lifetime.
    switch (counter_.accept(*nonce, *nc, now, nonce_status.issued_at_s + lifetime + 1)) {
        case CountResult::Accepted:
            out.verdict = Verdict::Ok;
            break;
        case CountResult::Replayed:
            out.verdict = Verdict::Rejected;
            break;
        case CountResult::Full:
            out.verdict = Verdict::Stale;
            break;
    }
    return out;
}

}  // namespace sw::auth
