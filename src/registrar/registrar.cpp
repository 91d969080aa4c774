#include "registrar/registrar.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "common/text.hpp"

namespace sw::registrar {

namespace {

RegisterOutcome refuse(int status, std::string reason = {}) {
    RegisterOutcome o;
    o.status = status;
    o.reason = std::move(reason);
    return o;
}

std::string q_text(int q) {
    if (q >= 1000) return "1";
    char buf[8];
    std::snprintf(buf, sizeof buf, "0.%03d", std::max(q, 0));
    std::string s(buf);
    while (s.size() > 3 && s.back() == '0')
        s.pop_back();
    return s;
}

bool same_contact(const Binding& b, const sip::Uri& uri) {
    if (b.contact == uri.raw) return true;
    auto stored = sip::parse_uri(b.contact);
    return stored && sip::uri_equal(*stored, uri);
}

}  // namespace

std::string aor_of(const sip::Uri& uri) {
    std::string aor = sip::unescape(uri.user);
    aor.push_back('@');
    for (char c : uri.host)
        aor.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return aor;
}

std::string http_date(std::int64_t unix_seconds) {
    // Many REGISTERs are answered within one second: format each second once per thread.
    thread_local std::int64_t cached_second = -1;
    thread_local std::string cached;
    if (unix_seconds != cached_second) {
        const std::time_t t = static_cast<std::time_t>(unix_seconds);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[64];
        std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached = buf;
        cached_second = unix_seconds;
    }
    return cached;
}

RegisterOutcome Registrar::handle(const sip::Message& req, std::string_view authenticated_user,
                                  const RegisterSource& from, std::int64_t now, const Accepted& accepted) {
    // Step 1: a domain we serve. Step 5: the To header's URI is the address of record.
    const sip::Uri& to = req.to().uri;
    if (!to.is_sip() || !to.has_user) return refuse(404, "Not Found (To is not a SIP address of record)");
    if (!config_.domains.empty()) {
        const bool ours = std::any_of(config_.domains.begin(), config_.domains.end(),
                                      [&](const std::string& d) { return sw::iequals(d, to.host); });
        if (!ours) return refuse(403, "Forbidden (domain not served here)");
    }
    // Step 4: the authenticated user may register only its own address.
    if (sip::unescape(to.user) != authenticated_user)
        return refuse(403, "Forbidden (To is not the authenticated user)");
    const std::string aor = aor_of(to);

    auto header_expires = req.expires();
    if (!header_expires) return refuse(400, "Bad Request (Expires)");
    const sip::ContactList& contacts = req.contacts();
    const std::string_view call_id = req.call_id();
    const std::uint32_t cseq = req.cseq().number;

    struct Ask {
        const sip::NameAddr* contact;
        std::uint32_t expires;
        int q;
    };
    std::vector<Ask> asks;
    if (contacts.star) {
        // Step 6: "*" only alone and with Expires: 0.
        if (!contacts.contacts.empty() || !*header_expires || **header_expires != 0) {
            return refuse(400, "Bad Request (Contact: * needs Expires: 0 and no other contact)");
        }
    } else {
        for (const auto& c : contacts.contacts) {
            auto e = sip::contact_expires(c);
            auto q = sip::contact_q(c);
            if (!e || !q) return refuse(400, "Bad Request (Contact parameters)");
            std::uint32_t expires = e->value_or(header_expires->value_or(config_.default_expires));
            // Step 7: too brief -> 423 with the least we accept; too long -> shortened.
            if (expires != 0 && expires < config_.min_expires) {
                RegisterOutcome o = refuse(423);
                o.headers.emplace_back("Min-Expires", std::to_string(config_.min_expires));
                return o;
            }
            expires = std::min(expires, config_.max_expires);
            asks.push_back(Ask{&c, expires, q->value_or(1000)});
        }
    }

    std::string path;
    for (std::string_view p : req.values(sip::HeaderId::Path))
        path.append(path.empty() ? "" : ",").append(p);
    const std::string user_agent(req.header(sip::HeaderId::UserAgent));

    RegisterOutcome out;
    out.status = 200;
    location_.update(aor, [&](std::vector<Binding>& bindings) {
        std::vector<BindingChange> changes;
        bool deferrable = !contacts.star && !asks.empty();
        // A binding past its expiry is no longer current (RFC 3261 10.2.1.1) even if the periodic sweep has
        // not reached it yet: it is neither listed in the 200 nor counted against max_contacts.
        // `live` points into `bindings` (untouched until the request is accepted); `next` is the new state.
        std::vector<const Binding*> live;
        std::vector<Binding> next;
        for (const auto& b : bindings) {
            if (b.expires_at > now) {
                live.push_back(&b);
                next.push_back(b);
            } else {
                changes.push_back(BindingChange{BindingChange::Kind::Remove, b});
                deferrable = false;
            }
        }
        // Step 7: RFC 3261 10.3: an update with the same Call-ID must carry a higher CSeq. Checked against
        // the bindings as they were before this request: a contact listed twice in it is not out of order.
        auto out_of_order = [&](const Binding& b) { return b.call_id == call_id && cseq <= b.cseq; };
        if (contacts.star) {
            for (const auto& b : next) {
                if (out_of_order(b)) {
                    out = refuse(500, "Server Internal Error (CSeq out of order)");
                    return;
                }
            }
            for (auto& b : next)
                changes.push_back(BindingChange{BindingChange::Kind::Remove, b});
            next.clear();
        } else {
            for (const Ask& a : asks) {
                auto matches = [&](const Binding& b) { return same_contact(b, a.contact->uri); };
                auto old =
                    std::find_if(live.begin(), live.end(), [&](const Binding* b) { return matches(*b); });
                if (old != live.end() && out_of_order(**old)) {
                    out = refuse(500, "Server Internal Error (CSeq out of order)");
                    return;
                }
                auto it = std::find_if(next.begin(), next.end(), matches);
                if (a.expires == 0) {
                    deferrable = false;
                    if (it != next.end()) {
                        changes.push_back(BindingChange{BindingChange::Kind::Remove, *it});
                        next.erase(it);
                    }
                    continue;
                }
                // A refresh may be written after its 200 only if the binding it refreshes stays registered
                // on disk for a while yet, and only its expiry and ordering change (checked below).
                const Binding* before = old != live.end() ? *old : nullptr;
                if (before == nullptr || config_.defer_margin_s == 0 ||
                    before->expires_at - now < static_cast<std::int64_t>(config_.defer_margin_s)) {
                    deferrable = false;
                }
                if (it == next.end()) {
                    it = next.insert(next.end(), Binding{});
                    it->aor = aor;
                    it->contact = std::string(a.contact->uri.raw);
                    it->registered_at = now;
                }
                it->call_id = std::string(call_id);
                it->cseq = cseq;
                it->q = a.q;
                it->expires_at = now + a.expires;
                it->path = path;
                it->source = from.source;
                it->connection = from.connection;
                it->user_agent = user_agent;
                if (auto inst = a.contact->param("+sip.instance")) {
                    it->instance = std::string(inst->value);
                } else {
                    it->instance.clear();
                }
                if (deferrable &&
                    !(it->expires_at >= before->expires_at && it->q == before->q &&
                      it->path == before->path && it->source == before->source &&
                      it->connection == before->connection && it->user_agent == before->user_agent &&
                      it->instance == before->instance)) {
                    deferrable = false;
                }
                changes.push_back(BindingChange{BindingChange::Kind::Upsert, *it});
            }
            // Only a request that adds bindings is refused: one that refreshes or removes must still work
            // when the address already holds more (max_contacts lowered since they were registered).
            if (next.size() > config_.max_contacts && next.size() > live.size()) {
                out = refuse(403, "Forbidden (too many contacts for this address)");
                return;
            }
        }
        // Step 8: the 200 lists every current binding with its remaining time.
        for (const auto& b : next) {
            std::string v = "<" + b.contact +
                            ">;expires=" + std::to_string(std::max<std::int64_t>(b.expires_at - now, 0));
            if (b.q != 1000) v += ";q=" + q_text(b.q);
            out.headers.emplace_back("Contact", std::move(v));
        }
        if (!path.empty()) out.headers.emplace_back("Path", path);  // RFC 3327 5.3: echo the Path
        out.headers.emplace_back("Date", http_date(now));
        bindings = std::move(next);
        out.deferrable = deferrable && !changes.empty();
        out.changes = std::move(changes);
        if (accepted) accepted(out);
    });
    return out;
}

}  // namespace sw::registrar
