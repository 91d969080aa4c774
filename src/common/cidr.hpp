// An IPv4 or IPv6 network in CIDR notation ("10.0.0.0/8", "2001:db8::/32", a single address as
// "192.0.2.7"), and whether an address lies in it. Used for trunk source addresses (and later ACLs).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sw {

struct Cidr {
    std::array<std::uint8_t, 16> bytes{};  // network address; IPv4 in the first 4 bytes
    std::uint8_t prefix = 0;               // bits
    bool v6 = false;

    // nullopt when the text is not an address with an optional /prefix in range; host bits are cleared.
    static std::optional<Cidr> parse(std::string_view text);
    // The address (IPv4 or IPv6 text, no brackets; an IPv4-mapped IPv6 address counts as IPv4) in it.
    bool contains(std::string_view address) const;
    bool contains_bytes(const std::uint8_t* addr, bool addr_v6) const;
    std::string text() const;  // "10.0.0.0/8"; a full-length prefix prints the address alone
};

}  // namespace sw
