// Which transaction a message belongs to (RFC 3261 17.1.3, 17.2.3, 9.2) and merged-request detection
// (RFC 3261 8.2.2.2). Keys are strings so that any hash map can hold them.
#pragma once

#include <optional>
#include <string>

#include "sip/message.hpp"

namespace sw::transaction {

// Server transaction of a request. With an RFC 3261 branch: branch, sent-by and method (ACK counts as
// INVITE, so an ACK for a non-2xx finds its INVITE transaction). Otherwise the RFC 2543 fallback:
// Request-URI, From tag, Call-ID, CSeq number, top Via and method. The To tag is left out of the fallback
// so that the ACK (which carries the tag the server added) matches its INVITE.
std::string server_key(const sip::Message& request);

// The INVITE server transaction a CANCEL targets (RFC 3261 9.2): the CANCEL's key taken as INVITE.
std::string cancel_target_key(const sip::Message& cancel);

// Client transaction of a response: top Via branch and CSeq method (17.1.3). nullopt without a branch.
std::optional<std::string> client_key(const sip::Message& response);

// Requests without a To tag that share From tag, Call-ID and CSeq but arrive with another branch are
// merged copies of one request (a fork that came back): the second gets 482 Loop Detected.
std::optional<std::string> merge_key(const sip::Message& request);

}  // namespace sw::transaction
