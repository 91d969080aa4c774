// Building responses from requests (RFC 3261 8.2.6) and default reason phrases (RFC 3261 21).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sip/message.hpp"

namespace sw::sip {

std::string_view default_reason(int status);

// Copies Via (all, in order), From, To, Call-ID and CSeq from the request, adds a To tag when the
// request had none (except on 100 Trying), copies Timestamp on 100 (RFC 3261 8.2.6.1).
class ResponseBuilder {
public:
    ResponseBuilder(const Message& request, int status, std::string_view reason = {});
    ResponseBuilder& to_tag(std::string_view tag);
    ResponseBuilder& header(std::string_view name, std::string_view value);
    ResponseBuilder& body(std::string_view content_type, std::string_view body);
    std::string build() const;

private:
    const Message& request_;
    int status_;
    std::string reason_;
    std::string to_tag_;
    std::string extra_;  // the added header lines, each "Name: value\r\n", in order
    std::string content_type_;
    std::string body_;
};

}  // namespace sw::sip

namespace sw::sip {

// For a request that did not parse: a response copying whatever Via, From, To, Call-ID and CSeq lines
// can be found, so the sender learns why (RFC 3261 8.2 answers malformed requests with 400).
// nullopt when the bytes are a response or carry no Via: then there is nobody to answer.
std::optional<std::string> build_stateless_response(std::string_view raw, int status,
                                                    std::string_view reason);

// The top Via value rewritten with received (when the source address differs from sent-by) and rport
// (the source port, when the client asked for it): RFC 3261 18.2.1 and RFC 3581 4.
std::string via_with_received(const Via& via, std::string_view source_ip, int source_port);

}  // namespace sw::sip
