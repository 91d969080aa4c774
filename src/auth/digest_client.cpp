#include "auth/digest_client.hpp"

#include <cstdio>

#include "auth/digest.hpp"
#include "common/text.hpp"

namespace sw::auth {

namespace {
int strength(Algorithm a) {
    switch (a) {
        case Algorithm::Sha512_256:
            return 3;
        case Algorithm::Sha256:
            return 2;
        case Algorithm::Md5:
            return 1;
    }
    return 0;
}

bool offers_qop_auth(std::string_view qop_list) {
    bool found = false;
    std::size_t pos = 0;
    while (pos <= qop_list.size()) {
        std::size_t end = qop_list.find(',', pos);
        if (end == std::string_view::npos) end = qop_list.size();
        found = found || sw::iequals(sw::trim(qop_list.substr(pos, end - pos)), "auth");
        pos = end + 1;
    }
    return found;
}

// A quoted-string value: backslash and double quote escaped (RFC 3261 25.1).
std::string quoted(std::string_view v) {
    std::string out("\"");
    for (char c : v) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out.append("\"");
}
}  // namespace

std::optional<ClientAuthorization> answer_challenge(const sip::Message& challenge, std::string_view method,
                                                    std::string_view uri, std::string_view user,
                                                    std::string_view password, std::uint32_t nc,
                                                    std::string_view cnonce) {
    const bool proxy = challenge.status() == 407;
    auto all = challenge.auth(proxy ? sip::HeaderId::ProxyAuthenticate : sip::HeaderId::WwwAuthenticate);
    if (!all) return std::nullopt;
    struct Pick {
        Algorithm algorithm;
        std::string realm, nonce, opaque, algorithm_text;
        bool qop = false;
    };
    std::optional<Pick> best;
    for (const auto& c : *all) {
        if (!sw::iequals(c.scheme, "Digest")) continue;
        auto realm = c.get("realm");
        auto nonce = c.get("nonce");
        if (!realm || !nonce) continue;
        const auto alg_text = c.get("algorithm");
        const auto alg = alg_text ? parse_algorithm(*alg_text) : std::optional<Algorithm>(Algorithm::Md5);
        if (!alg) continue;
        const auto qop = c.get("qop");
        if (qop && !offers_qop_auth(*qop)) continue;  // auth-int only
        if (best && strength(best->algorithm) >= strength(*alg)) continue;
        best =
            Pick{*alg, *realm, *nonce, c.get("opaque").value_or(""), alg_text.value_or(""), qop.has_value()};
    }
    if (!best) return std::nullopt;
    char nc_text[9];
    std::snprintf(nc_text, sizeof nc_text, "%08x", nc);
    const std::string ha1 = compute_ha1(best->algorithm, user, best->realm, password);
    const std::string response =
        compute_response(best->algorithm, ha1, best->nonce, best->qop ? nc_text : "", best->qop ? cnonce : "",
                         best->qop ? "auth" : "", method, uri);
    std::string v("Digest username=");
    v.append(quoted(user)).append(", realm=").append(quoted(best->realm));
    v.append(", nonce=").append(quoted(best->nonce)).append(", uri=").append(quoted(uri));
    v.append(", response=").append(quoted(response));
    if (!best->algorithm_text.empty()) v.append(", algorithm=").append(algorithm_name(best->algorithm));
    if (!best->opaque.empty()) v.append(", opaque=").append(quoted(best->opaque));
    if (best->qop) v.append(", qop=auth, nc=").append(nc_text).append(", cnonce=").append(quoted(cnonce));
    return ClientAuthorization{proxy ? "Proxy-Authorization" : "Authorization", std::move(v), best->realm};
}

}  // namespace sw::auth
