// What the B2BUA writes into the legs of a trunk call: the provider's view of an outbound call
// (Request-URI, To, From per trunk options) and the option tags of reliable provisional responses
// (RFC 3262). Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "b2bua/trunk.hpp"
#include "sip/message.hpp"

namespace sw::b2bua {

// tel:+49301234567 (--tel-uri), else sip:+49301234567@HOST[:PORT][;transport=tcp][;RURI-PARAMS].
std::string trunk_request_uri(const Trunk& t, std::string_view number);
// <tel:+49301234567>, else <sip:+49301234567@HOST>.
std::string trunk_to(const Trunk& t, std::string_view number);
// <sip:CALLER@DOMAIN> (DOMAIN: --from-domain, else the host).
std::string trunk_from(const Trunk& t, std::string_view caller);

// Whether a request or response names 100rel in Require / in Supported or Require (RFC 3262 3, 4).
bool requires_100rel(const sip::Message& m);
bool supports_100rel(const sip::Message& m);

// The number a Request-URI or To names, for DIDs and the dial plan: the user part of a tel URI or of a sip
// URI, without visual separators; empty when it is not a phone number.
std::string number_of(const sip::Uri& uri);

}  // namespace sw::b2bua
