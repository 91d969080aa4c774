// The security layer's durable records as the store keeps them (tables bans and acl, schema version 5).
// Plain structs and inline helpers only, so that src/storage can include this header without linking
// sw_security (as it does with auth/credentials.hpp), and the layers above can use both.
// Thread: values; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::security {

// One banned address. `address` is in its normal text form (AddressKey::text(): "192.0.2.7",
// "2001:db8::1"; an IPv4-mapped IPv6 address is written as IPv4).
struct BanRecord {
    std::string address;
    std::int64_t until = 0;    // Unix seconds; the ban has ended once now >= until
    std::string reason;        // why: "auth failures", "scanner", "flood", "manual" ...
    std::int64_t created = 0;  // Unix seconds of the first ban of this record
    std::uint32_t count = 1;   // how often the address was banned while the record lived

    bool operator==(const BanRecord&) const = default;
};

// What the store lacks of a BanList's state (BanList::take_writes): rows to insert or replace, and
// addresses whose row must go. Applied in one transaction by SqliteBanStore::apply.
struct BanWrites {
    std::vector<BanRecord> upserts;
    std::vector<std::string> removals;

    bool empty() const { return upserts.empty() && removals.empty(); }
};

enum class AclKind : std::uint8_t { Allow, Deny };

inline std::string_view acl_kind_name(AclKind kind) {
    return kind == AclKind::Allow ? "allow" : "deny";
}

inline std::optional<AclKind> acl_kind_from(std::string_view text) {
    if (text == "allow") return AclKind::Allow;
    if (text == "deny") return AclKind::Deny;
    return std::nullopt;
}

// One allow or deny entry. With an empty `user` it is global: allow exempts the network from bans and
// rate limits (trunks, the office), deny drops everything from it. With a user it restricts that user
// only: "201 allow 10.0.0.0/8" means 201 may register and call only from 10.0.0.0/8.
struct AclRecord {
    std::string cidr;  // sw::Cidr::text(): "10.0.0.0/8", a single address without /prefix
    AclKind kind = AclKind::Allow;
    std::string user;  // empty: global

    bool operator==(const AclRecord&) const = default;
};

}  // namespace sw::security
