#include "transaction/matching.hpp"

#include "common/text.hpp"

namespace sw::transaction {

namespace {

std::string sent_by(const sip::Via& v) {
    std::string out = sw::to_lower(v.host);
    out.push_back(':');
    out.append(std::to_string(v.port < 0 ? 0 : v.port));
    return out;
}

std::string key_for(const sip::Message& req, std::string_view method) {
    const sip::Via& top = req.top_via();
    std::string k;
    if (top.rfc3261_branch()) {
        k.reserve(top.branch.size() + 64);
        k.append("b|").append(top.branch).append("|").append(sent_by(top)).append("|").append(method);
        return k;
    }
    k.append("o|").append(req.request_uri().raw).append("|").append(req.from().tag).append("|");
    k.append(req.call_id()).append("|").append(std::to_string(req.cseq().number)).append("|");
    k.append(sent_by(top)).append("|").append(top.branch).append("|").append(method);
    return k;
}

}  // namespace

std::string server_key(const sip::Message& request) {
    const bool ack = request.method_id() == sip::Method::Ack;
    return key_for(request, ack ? std::string_view("INVITE") : request.method());
}

std::string cancel_target_key(const sip::Message& cancel) {
    return key_for(cancel, "INVITE");
}

std::optional<std::string> client_key(const sip::Message& response) {
    const sip::Via& top = response.top_via();
    if (top.branch.empty()) return std::nullopt;
    std::string k("c|");
    k.append(top.branch)
        .append("|")
        .append(response.cseq().method == "ACK" ? "INVITE" : response.cseq().method);
    return k;
}

std::optional<std::string> merge_key(const sip::Message& request) {
    if (request.to().has_tag || request.method_id() == sip::Method::Ack ||
        request.method_id() == sip::Method::Cancel) {
        return std::nullopt;
    }
    std::string k("m|");
    k.append(request.from().tag).append("|").append(request.call_id()).append("|");
    k.append(std::to_string(request.cseq().number)).append("|").append(request.method());
    return k;
}

}  // namespace sw::transaction
