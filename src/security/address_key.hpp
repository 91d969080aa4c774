// AddressKey: an IP address (IPv4 or IPv6) as 16 bytes and a family flag, the key of every table in the
// security layer. Built from the bytes the transport has (Asio's to_bytes()) or from text; no Asio here.
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 2.5.5.2: how a dual-stack socket shows an IPv4
// peer) is the IPv4 address, so one peer has one key whichever socket it reached.
// Thread: a value; hashing is pure.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/siphash.hpp"

namespace sw::security {

struct AddressKey {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes, the rest zero
    bool v6 = false;

    // "192.0.2.7", "2001:db8::1", "[2001:db8::1]", "fe80::1%eth0" (the zone is dropped), "::ffff:1.2.3.4"
    // (becomes IPv4). nullopt for anything else, a /prefix included.
    static std::optional<AddressKey> from_text(std::string_view text);
    static AddressKey from_v4(const std::array<std::uint8_t, 4>& addr);
    // A mapped address becomes IPv4.
    static AddressKey from_v6(const std::array<std::uint8_t, 16>& addr);
    // 4 bytes when !addr_v6, else 16 (mapped ones become IPv4), as Cidr::contains_bytes takes them.
    static AddressKey from_bytes(const std::uint8_t* addr, bool addr_v6);

    // The normal text: "192.0.2.7", "2001:db8::1" (RFC 5952 form, as inet_ntop writes it).
    std::string text() const;

    // The 16 bytes as an IPv6 address would have them (IPv4 mapped), so that no IPv4 and IPv6 key share a
    // form: the exact identity of the key in the fixed tables.
    std::array<std::uint8_t, 16> canonical() const;

    friend bool operator==(const AddressKey&, const AddressKey&) = default;
    friend auto operator<=>(const AddressKey&, const AddressKey&) = default;
};

// Keyed with a secret SipKey: the addresses come from the network, and a peer that could predict the
// hash could fill one bucket of a table on purpose (hash flooding).
inline std::uint64_t address_hash(const SipKey& key, const AddressKey& a) {
    const auto c = a.canonical();
    return siphash24(key, std::string_view(reinterpret_cast<const char*>(c.data()), c.size()));
}

struct AddressKeyHash {
    SipKey key;
    std::size_t operator()(const AddressKey& a) const {
        return static_cast<std::size_t>(address_hash(key, a));
    }
};

}  // namespace sw::security
