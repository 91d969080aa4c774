// Digest authentication of SIP requests (RFC 3261 22, RFC 7616, RFC 8760): the challenges of a 401/407
// and the verification of the Authorization / Proxy-Authorization credentials that answer them.
//
// Thread: one Authenticator is shared by every worker thread. It holds no mutable state of its own; the
// NonceFactory, NonceCounter and Clock it refers to are thread-safe and must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/clock_random.hpp"
#include "auth/credentials.hpp"
#include "auth/nonce.hpp"
#include "auth/nonce_counter.hpp"
#include "auth/user_directory.hpp"
#include "sip/message.hpp"

namespace sw::auth {

struct DigestPolicy {
    // MD5 is weak (RFC 8760 3) but many SIP phones know nothing else; false: never offered nor accepted.
    bool allow_md5 = true;
    // Offer MD5 first: only for clients that read just the first challenge and know nothing but MD5
    // (sipp 3.6, some old phones). Off by default: RFC 8760 2.4 wants the preferred algorithm first.
    bool md5_first = false;
    // User agents (substrings of User-Agent, any case) that fail on any challenge but MD5 (baresip 1.0's
    // libre gives up when one of several challenges names another algorithm): they are offered MD5
    // alone. Empty by default; without allow_md5 it changes nothing.
    std::vector<std::string> md5_only_agents;
    // Hosts that name this server (its domains and listening addresses). RFC 7616 3.4.6 wants the
    // digest-uri to match the Request-URI; some clients (sipp) put the server's address there instead,
    // so a SIP URI naming one of these hosts is accepted too.
    std::vector<std::string> own_hosts;
    // A nonce older than this (or than the NonceFactory's lifetime, whichever is shorter) is stale.
    std::chrono::seconds nonce_lifetime{300};
};

enum class Verdict : std::uint8_t {
    Ok,             // the credentials prove the user's identity
    NoCredentials,  // no Digest credentials for our realm: challenge
    Stale,          // correct credentials on an old nonce: challenge again with stale=true (RFC 7616 3.3)
    Rejected,       // anything else; unknown user, disabled user and wrong password all end here
};

struct VerifyResult {
    Verdict verdict = Verdict::Rejected;
    // The username the credentials claim, when there was one (an identity only when verdict is Ok).
    std::string user;
    Algorithm algorithm = Algorithm::Sha256;
};

class Authenticator {
public:
    // realm: the protection space, sent quoted; must not contain CR or LF.
    Authenticator(std::string realm, DigestPolicy policy, NonceFactory& nonces, NonceCounter& counter,
                  Clock& clock);

    // The WWW-Authenticate (401) or Proxy-Authenticate (407) values: one per algorithm in the server's
    // order of preference (RFC 7616 3.3, RFC 8760 2.3) - SHA-256, SHA-512-256, then MD5 only when the
    // policy allows it. All share one fresh nonce. stale=true when the
    // previous request failed only because its nonce was stale.
    // user_agent: the request's User-Agent, matched against md5_only_agents.
    std::vector<std::string> challenges(bool stale, std::string_view user_agent = {}) const;

    // Checks the request's Authorization (proxy=false) or Proxy-Authorization (proxy=true) credentials
    // for our realm against users.
    VerifyResult verify(const sip::Message& request, bool proxy, const UserDirectory& users) const;

    const std::string& realm() const { return realm_; }

private:
    std::string realm_;
    DigestPolicy policy_;
    NonceFactory& nonces_;
    NonceCounter& counter_;
    Clock& clock_;
};

}  // namespace sw::auth
