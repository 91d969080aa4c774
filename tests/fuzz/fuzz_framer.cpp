// Stream framing over TCP/TLS: bytes arrive in chunks whose sizes the input chooses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/framing.hpp"
#include "sip/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::size_t chunk = 1 + data[0] % 97;
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    sw::sip::StreamFramer framer(4096);
    for (std::size_t i = 0; i < bytes.size(); i += chunk) {
        framer.append(bytes.substr(i, chunk));
        for (;;) {
            auto f = framer.next();
            if (f.kind == sw::sip::StreamFramer::Kind::Message) {
                if (f.bytes.size() > 4096) __builtin_trap();
                (void)sw::sip::Message::parse(f.bytes, {4096, true});
                continue;
            }
            if (f.kind == sw::sip::StreamFramer::Kind::Ping) continue;
            break;
        }
        if (framer.buffered() > 4096 + chunk) __builtin_trap();
    }
    return 0;
}
