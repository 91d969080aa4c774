// The B2BUA's message work on hostile input: dialogs made from a request (UAS) or a response (UAC),
// requests built inside them, a trunk's REGISTER client fed any response, the digest client answering
// any challenge, DID and dial-plan lookups of any number. Invariants: what we build from a message that
// parsed must parse again, with the dialog's Call-ID and tags; nothing crashes or loops.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/digest_client.hpp"
#include "b2bua/call_legs.hpp"
#include "b2bua/dial_plan.hpp"
#include "b2bua/registration.hpp"
#include "dialog/dialog.hpp"
#include "security/calling_rights.hpp"
#include "sip/message.hpp"

namespace {
void check_in_dialog(const sw::dialog::Dialog& d) {
    using namespace sw;
    dialog::RequestParts p;
    p.via = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfuzz";
    p.contact = "<sip:192.0.2.1:5060>";
    p.body = "v=0\r\n";
    p.content_type = "application/sdp";
    const std::string bye = dialog::build_request(d, "BYE", d.local_cseq + 1, p);
    auto m = sip::Message::parse(bye);
    if (!m || m->call_id() != d.call_id || m->from().tag != d.local_tag) __builtin_trap();
    if (!d.remote_tag.empty() && m->to().tag != d.remote_tag) __builtin_trap();
    (void)dialog::next_hop_uri(d);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sw;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto m = sip::Message::parse(bytes);
    if (!m) return 0;
    static const b2bua::DialPlan plan({{"0[1-9]X.", "a", 1, "+49", 10, ""},
                                       {"00X.", "b", 2, "+", 10, "international"},
                                       {"+49!", "c", 0, "", 5, ""},
                                       {"*9N[2-5]X", "d", 0, "", 1, "premium"}});
    // The toll-fraud guard judges what hostile callers dial: classification and rights on any number.
    static const security::NumberingPlan numbering{"49", "00", "0", {"112", "911"}};
    static const security::HighRiskList high_risk = security::HighRiskList::builtin();
    static const security::TimeRule rule{*security::BusinessHours::parse("Mon-Fri 08:00-18:00"), "night"};
    (void)security::BusinessHours::parse(bytes.substr(0, 200));
    static const b2bua::DidTable dids({{"+4930123456", "201"}, {"100", "202"}});
    for (const sip::Uri* u : {&m->request_uri(), &m->to().uri, &m->from().uri}) {
        const std::string n = b2bua::number_of(*u);
        (void)dids.user_of(n);
        for (const auto& c : plan.match(n)) {
            if (c.number.size() > n.size() + 3) __builtin_trap();  // strip/prepend only
            const auto cls =
                c.route.call_class.empty() ? std::nullopt : security::parse_class(c.route.call_class);
            const auto dest = security::classify(c.number, cls, numbering, high_risk);
            if (dest.e164.size() > c.number.size() + numbering.country_code.size()) __builtin_trap();
            std::tm local{};
            local.tm_wday = static_cast<int>(size % 7);
            local.tm_hour = static_cast<int>(size % 24);
            const auto verdict = security::check_rights(security::UserRights{}, dest, rule, local);
            if (dest.emergency && !verdict.allowed) __builtin_trap();  // emergency calls always go out
        }
    }
    if (m->is_request()) {
        if (m->call_id().empty()) return 0;
        dialog::Dialog d = dialog::uas_dialog(*m, "feedf00d");
        (void)dialog::accept_remote_cseq(d, *m);
        dialog::refresh_target(d, *m);
        check_in_dialog(d);
        (void)b2bua::requires_100rel(*m);
        return 0;
    }
    static const std::string invite_text =
        "INVITE sip:+4930123@192.0.2.9 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n"
        "From: <sip:201@192.0.2.9>;tag=ab12\r\nTo: <sip:+4930123@192.0.2.9>\r\nCall-ID: fuzz-call\r\n"
        "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    static const auto invite = sip::Message::parse(invite_text);
    if (auto d = dialog::uac_dialog(*invite, *m)) check_in_dialog(*d);
    // The REGISTER client, fed this response, builds a REGISTER that parses (with credentials when it
    // could answer the challenge).
    b2bua::Trunk t;
    t.name = "fuzz";
    t.host = "192.0.2.9";
    t.username = "4930123";
    t.password = "secret";
    b2bua::RegistrationClient client(t, "reg-call", "regtag");
    const std::string via = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKr1";
    (void)client.build(via, "<sip:4930123@192.0.2.1:5060>", "c1");
    (void)client.on_response(*m, 1000);
    const std::string again = client.build(via, "<sip:4930123@192.0.2.1:5060>", "c2");
    auto reg = sip::Message::parse(again);
    if (!reg || reg->call_id() != "reg-call") __builtin_trap();
    if (auto a = auth::answer_challenge(*m, "INVITE", "sip:+4930123@192.0.2.9", "u\"ser", "pw", 1, "cn")) {
        std::string req = invite_text;
        req.insert(req.find("Content-Length"), a->header + ": " + a->value + "\r\n");
        if (!sip::Message::parse(req)) __builtin_trap();
    }
    return 0;
}
