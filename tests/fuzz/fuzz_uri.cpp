// URI parser, comparison and unescaping.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sip/headers.hpp"
#include "sip/uri.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sw::sip;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto u = parse_uri(text);
    if (u) {
        if (!uri_equal(*u, *u)) __builtin_trap();  // equality is reflexive
        (void)unescape(u->user);
        (void)u->hostport();
        (void)u->param("transport");
    }
    (void)parse_name_addr(text);
    (void)parse_via(text);
    (void)is_ipv6_address(text);
    return 0;
}
