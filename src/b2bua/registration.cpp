#include "b2bua/registration.hpp"

#include <algorithm>

#include "auth/digest_client.hpp"
#include "sip/builder.hpp"

namespace sw::b2bua {

std::chrono::seconds registration_backoff(unsigned failures) {
    const unsigned n = std::min(failures == 0 ? 1u : failures, 7u);
    return std::chrono::seconds(std::min(5u << (n - 1), 300u));
}

RegistrationClient::RegistrationClient(Trunk trunk, std::string call_id, std::string tag)
    : trunk_(std::move(trunk)), call_id_(std::move(call_id)), tag_(std::move(tag)), expires_(trunk_.expires) {
    status_.name = trunk_.name;
    status_.state = "registering";
}

namespace {
std::string registrar_uri(const Trunk& t) {
    if (!t.from_domain.empty()) return "sip:" + t.from_domain;
    std::string host = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
    if (t.effective_port() != (t.transport == transport::Protocol::Tls ? 5061 : 5060))
        host += ":" + std::to_string(t.effective_port());
    return "sip:" + host;
}
}  // namespace

std::string RegistrationClient::build(const std::string& via, const std::string& contact,
                                      std::string_view cnonce) {
    const std::string uri = registrar_uri(trunk_);
    // The address of record: USER@DOMAIN (a provider that registers by address alone: DOMAIN).
    const std::string aor =
        "<sip:" + (trunk_.username.empty() ? std::string() : trunk_.username + "@") + uri.substr(4) + ">";
    ++cseq_;
    std::string out = "REGISTER " + uri + " SIP/2.0\r\n";
    out += "Via: " + via + "\r\n";
    out += "Max-Forwards: 70\r\n";
    out += "From: " + aor + ";tag=" + tag_ + "\r\n";
    out += "To: " + aor + "\r\n";
    out += "Call-ID: " + call_id_ + "\r\n";
    out += "CSeq: " + std::to_string(cseq_) + " REGISTER\r\n";
    out += "Contact: " + contact + "\r\n";
    out += "Expires: " + std::to_string(expires_) + "\r\n";
    credentials_sent_ = false;
    if (challenge_) {
        if (auto msg = sip::Message::parse(*challenge_)) {
            if (auto a = auth::answer_challenge(*msg, "REGISTER", uri, trunk_.username, trunk_.password,
                                                ++nonce_count_, cnonce)) {
                out += a->header + ": " + a->value + "\r\n";
                credentials_sent_ = true;
            }
        }
    }
    out += "User-Agent: sipwarden/0.1\r\nContent-Length: 0\r\n\r\n";
    return out;
}

RegistrationClient::Outcome RegistrationClient::failed(std::string detail, std::int64_t now) {
    ++failures_;
    status_.state = "failed";
    status_.detail = std::move(detail);
    status_.expires_at = 0;
    status_.updated_at = now;
    return Outcome{Next::Retry, registration_backoff(failures_)};
}

RegistrationClient::Outcome RegistrationClient::on_response(const sip::Message& response, std::int64_t now) {
    const int status = response.status();
    if (status < 200) return Outcome{Next::Wait, std::chrono::seconds(0)};
    const std::string line = std::to_string(status) + " " + std::string(response.reason());
    if (status == 401 || status == 407) {
        bool stale = false;
        if (auto all = response.auth(status == 407 ? sip::HeaderId::ProxyAuthenticate
                                                   : sip::HeaderId::WwwAuthenticate)) {
            for (const auto& c : *all) {
                auto s = c.get("stale");
                stale = stale || (s && (*s == "true" || *s == "TRUE"));
            }
        }
        // Credentials that were just refused (not a stale nonce): asking again would only repeat them.
        if (credentials_sent_ && !stale) {
            challenge_.reset();
            return failed(line + " (credentials refused)", now);
        }
        if (trunk_.username.empty()) return failed(line + " (no credentials configured)", now);
        challenge_ = response.serialize();
        nonce_count_ = 0;
        if (!auth::answer_challenge(response, "REGISTER", "sip:x", "u", "p", 1, "c"))
            return failed(line + " (no supported digest challenge)", now);
        return Outcome{Next::SendNow, std::chrono::seconds(0)};
    }
    if (status == 423) {
        // RFC 3261 10.2.8: too brief; ask for the provider's minimum.
        auto min = response.min_expires();
        if (min && *min && **min > expires_ && **min <= 86400) {
            expires_ = **min;
            return Outcome{Next::SendNow, std::chrono::seconds(0)};
        }
        return failed(line, now);
    }
    if (status >= 300) return failed(line, now);
    // 2xx: the lifetime the provider granted our contact (its expires parameter, else Expires).
    std::uint32_t granted = expires_;
    bool found = false;
    for (const auto& c : response.contacts().contacts) {
        if (c.uri.user != trunk_.username) continue;
        if (auto e = c.param("expires")) {
            try {
                granted = static_cast<std::uint32_t>(std::stoul(std::string(e->value)));
                found = true;
            } catch (...) {
            }
        }
        if (found) break;
    }
    if (!found) {
        if (auto e = response.expires(); e && *e) granted = **e;
    }
    if (granted == 0) return failed(line + " (no lifetime granted)", now);
    failures_ = 0;
    status_.state = "registered";
    status_.detail = line;
    status_.expires_at = now + granted;
    status_.updated_at = now;
    // Refresh at half the lifetime: time for a lost REGISTER to be retried before the binding runs out.
    return Outcome{Next::Refresh, std::chrono::seconds(std::max<std::uint32_t>(granted / 2, 1))};
}

RegistrationClient::Outcome RegistrationClient::on_failure(std::string_view why, std::int64_t now) {
    return failed(std::string(why), now);
}

}  // namespace sw::b2bua
