// Message parser, header validation, typed accessors, editing and serialisation.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "app/check_message.hpp"
#include "sip/builder.hpp"
#include "sip/message.hpp"
#include "sip/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sw::sip;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    (void)sw::app::check_message(bytes, 65536);
    auto m = Message::parse(bytes);
    if (!m) return 0;
    (void)validate_known_headers(*m);
    (void)m->contacts();
    (void)m->addresses(HeaderId::Route);
    (void)m->addresses(HeaderId::RecordRoute);
    (void)m->auth(HeaderId::Authorization);
    (void)m->tokens(HeaderId::Require);
    (void)m->expires();
    (void)m->content_type();
    // Invariant: what parsed serialises to something that parses to the same bytes.
    const std::string once = m->serialize();
    auto again = Message::parse(once);
    if (!again || again->serialize() != once) __builtin_trap();
    if (m->is_request()) {
        const std::string resp = ResponseBuilder(*m, 486).to_tag("fz").build();
        if (!Message::parse(resp)) __builtin_trap();
    }
    // Editing keeps the message parseable.
    if (m->push_via("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfuzz")) {
        m->set_max_forwards(69);
        m->add_header("Record-Route", "<sip:127.0.0.1;lr>");
        m->pop_via();
        if (!Message::parse(m->serialize())) __builtin_trap();
    }
    return 0;
}
