// Dialogs (RFC 3261 12): the state two user agents share for one call, and the requests sent inside
// it. Used by the B2BUA, whose every call is two dialogs: one with each side. Pure values and
// functions, no I/O; the owner (a call on one worker) keeps them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sip/message.hpp"

namespace sw::dialog {

struct Dialog {
    std::string call_id;
    std::string local_tag;
    std::string remote_tag;
    std::string local_uri;  // name-addr without tag: "\"Alice\" <sip:201@example.test>"
    std::string remote_uri;
    std::string remote_target;           // the peer's Contact URI (RFC 3261 12.1: target refresh updates it)
    std::vector<std::string> route_set;  // Route values in the order they are sent
    std::uint32_t local_cseq = 0;        // the last CSeq number we used
    std::uint32_t remote_cseq = 0;       // the last CSeq number the peer used (0: none yet)
    bool early = true;                   // made by a provisional response; confirmed by a 2xx
};

// The name-addr of a From/To without its tag (display name and URI kept, other parameters dropped).
std::string name_addr_without_tag(const sip::NameAddr& a);

// RFC 3261 12.1.1: the UAS side, from the dialog-creating request, with our To tag.
Dialog uas_dialog(const sip::Message& request, std::string local_tag);
// RFC 3261 12.1.2: the UAC side, from the request we sent and a response with a To tag (a 101-199 makes
// an early dialog, a 2xx a confirmed one). The route set is the Record-Route reversed. nullopt when the
// response has no To tag.
std::optional<Dialog> uac_dialog(const sip::Message& request, const sip::Message& response);
// RFC 3261 12.2.1.2 / 12.2.2: a target refresh (re-INVITE, UPDATE, their 2xx) moves the remote target to
// its Contact.
void refresh_target(Dialog& d, const sip::Message& m);
// RFC 3261 12.2.2: a request with a CSeq lower than the last one is out of order (answered 500); otherwise
// the number is remembered. ACK and CANCEL carry the INVITE's number and are not checked.
bool accept_remote_cseq(Dialog& d, const sip::Message& request);

struct RequestParts {
    std::string via;      // our Via value, branch included
    std::string contact;  // Contact value, for requests that need one (INVITE, UPDATE); empty: none
    std::vector<std::pair<std::string, std::string>> headers;  // added as given
    std::string content_type;                                  // with body
    std::string body;
    int max_forwards = 70;
};

// RFC 3261 12.2.1.1: a request inside the dialog: Request-URI the remote target, Route the route set
// (loose routing), From/To with the tags, the dialog's Call-ID and the given CSeq number (the caller
// takes it from ++local_cseq, or the INVITE's number for ACK and CANCEL).
std::string build_request(const Dialog& d, std::string_view method, std::uint32_t cseq,
                          const RequestParts& p);

// The URI the next hop is taken from: the first Route when there is one, else the remote target.
std::string next_hop_uri(const Dialog& d);

}  // namespace sw::dialog
