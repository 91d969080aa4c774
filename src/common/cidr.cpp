#include "common/cidr.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "common/text.hpp"

namespace sw {

namespace {

// ::ffff:a.b.c.d (RFC 4291 2.5.5.2): how a dual-stack socket shows an IPv4 peer.
constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_v4_mapped(const std::uint8_t* addr) {
    return std::memcmp(addr, kMappedPrefix, sizeof kMappedPrefix) == 0;
}

// The address text into 16 bytes (IPv4 in the first 4); nullopt when it is neither family. inet_pton
// needs a terminated string, and it refuses brackets, zones and surrounding space by itself.
std::optional<bool> parse_address(std::string_view text, std::uint8_t* out) {
    if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
    const std::string s(text);
    if (::inet_pton(AF_INET, s.c_str(), out) == 1) return false;
    if (::inet_pton(AF_INET6, s.c_str(), out) == 1) return true;
    return std::nullopt;
}

bool prefix_equal(const std::uint8_t* a, const std::uint8_t* b, unsigned bits) {
    const unsigned whole = bits / 8;
    if (std::memcmp(a, b, whole) != 0) return false;
    const unsigned rest = bits % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
    Cidr c;
    std::string_view address = text;
    std::optional<std::uint64_t> prefix;
    if (const auto slash = text.find('/'); slash != std::string_view::npos) {
        address = text.substr(0, slash);
        prefix = parse_uint(text.substr(slash + 1), 128);
        if (!prefix) return std::nullopt;
    }
    const auto v6 = parse_address(address, c.bytes.data());
    if (!v6) return std::nullopt;
    c.v6 = *v6;
    const unsigned full = c.v6 ? 128 : 32;
    if (prefix && *prefix > full) return std::nullopt;
    c.prefix = static_cast<std::uint8_t>(prefix ? *prefix : full);
    // A mapped network is an IPv4 one, so that it compares with the IPv4 peers it is meant for.
    if (c.v6 && c.prefix >= 96 && is_v4_mapped(c.bytes.data())) {
        std::memmove(c.bytes.data(), c.bytes.data() + 12, 4);
        std::memset(c.bytes.data() + 4, 0, 12);
        c.v6 = false;
        c.prefix = static_cast<std::uint8_t>(c.prefix - 96);
    }
    // Host bits cleared, so that equal networks have equal bytes and text().
    for (unsigned bit = c.prefix; bit < 128; ++bit)
        c.bytes[bit / 8] = static_cast<std::uint8_t>(c.bytes[bit / 8] & ~(0x80u >> (bit % 8)));
    return c;
}

bool Cidr::contains(std::string_view address) const {
    // A peer address may arrive in the forms Asio prints: "[::1]" or with a zone "fe80::1%eth0".
    if (address.size() >= 2 && address.front() == '[' && address.back() == ']')
        address = address.substr(1, address.size() - 2);
    if (const auto zone = address.find('%'); zone != std::string_view::npos)
        address = address.substr(0, zone);
    std::uint8_t addr[16] = {};
    const auto addr_v6 = parse_address(address, addr);
    return addr_v6 && contains_bytes(addr, *addr_v6);
}

bool Cidr::contains_bytes(const std::uint8_t* addr, bool addr_v6) const {
    if (addr_v6 && is_v4_mapped(addr)) {
        addr += 12;
        addr_v6 = false;
    }
    return addr_v6 == v6 && prefix_equal(bytes.data(), addr, prefix);
}

std::string Cidr::text() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf) == nullptr) return {};
    std::string out(buf);
    if (prefix != (v6 ? 128 : 32)) out += "/" + std::to_string(prefix);
    return out;
}

}  // namespace sw
