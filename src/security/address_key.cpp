#include "security/address_key.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace sw::security {

namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<AddressKey> AddressKey::from_text(std::string_view text) {
    // The forms Asio and SIP headers print: "[::1]", and a zone "fe80::1%eth0" (meaningless off-link).
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    if (const auto zone = text.find('%'); zone != std::string_view::npos) text = text.substr(0, zone);
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    // inet_pton needs a terminated string; it refuses space, a /prefix and every other stray character.
    char buf[INET6_ADDRSTRLEN] = {};
    std::memcpy(buf, text.data(), text.size());
    std::array<std::uint8_t, 16> bytes{};
    if (::inet_pton(AF_INET, buf, bytes.data()) == 1) return from_bytes(bytes.data(), false);
    if (::inet_pton(AF_INET6, buf, bytes.data()) == 1) return from_v6(bytes);
    return std::nullopt;
}

AddressKey AddressKey::from_v4(const std::array<std::uint8_t, 4>& addr) {
    return from_bytes(addr.data(), false);
}

AddressKey AddressKey::from_v6(const std::array<std::uint8_t, 16>& addr) {
    return from_bytes(addr.data(), true);
}

AddressKey AddressKey::from_bytes(const std::uint8_t* addr, bool addr_v6) {
    AddressKey k;
    if (addr_v6 && std::memcmp(addr, kMappedPrefix, sizeof kMappedPrefix) == 0) {
        addr += 12;
        addr_v6 = false;
    }
    std::memcpy(k.bytes.data(), addr, addr_v6 ? 16 : 4);
    k.v6 = addr_v6;
    return k;
}

std::string AddressKey::text() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf) == nullptr) return {};
    return buf;
}

std::array<std::uint8_t, 16> AddressKey::canonical() const {
    if (v6) return bytes;
    std::array<std::uint8_t, 16> c{};
    std::memcpy(c.data(), kMappedPrefix, sizeof kMappedPrefix);
    std::memcpy(c.data() + 12, bytes.data(), 4);
    return c;
}

}  // namespace sw::security
