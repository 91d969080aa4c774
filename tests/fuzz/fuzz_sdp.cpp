// SDP parser and serialiser: what parses must survive a round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sdp/sdp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto s = sw::sdp::parse(text);
    if (!s) return 0;
    for (const auto& m : s->media) {
        (void)m.rtpmaps();
        (void)m.cryptos();
        (void)s->direction(m);
    }
    const std::string once = sw::sdp::serialize(*s);
    auto again = sw::sdp::parse(once);
    if (!again || sw::sdp::serialize(*again) != once) __builtin_trap();
    return 0;
}
