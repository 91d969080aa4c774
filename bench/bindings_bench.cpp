// The location service at scale (issue 8 part 3), in process, and a filler for the real server's store.
//
//   bindings_bench [--quick]          for 10,000, 100,000 and 1,000,000 bindings: heap bytes per binding
//                                     (glibc mallinfo2, the blocks the location service holds), then ns
//                                     per lookup and per registration-like update of random AORs
//   bindings_bench fill DATA_DIR N    writes N bindings (AORs fill<i>@bench.test, realistic contacts,
//                                     Call-IDs, User-Agents, instance ids; expiring in an hour) into
//                                     DATA_DIR/location.db through SqliteBindingStore, for bench/restart
//                                     and the PREFILL of bench/register_load
//
// The bindings look like real phones': a Contact with a private address and port, a 36-character
// Call-ID, a source address, a User-Agent of a desk phone and a +sip.instance URN.
#include <malloc.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "registrar/location_service.hpp"
#include "storage/sqlite/binding_store.hpp"
#include "storage/sqlite/database.hpp"

namespace {

using sw::registrar::Binding;
using sw::registrar::LocationService;

std::string hex(std::uint64_t v, int digits) {
    static const char* d = "0123456789abcdef";
    std::string s(static_cast<std::size_t>(digits), '0');
    for (int i = digits - 1; i >= 0; --i, v >>= 4)
        s[static_cast<std::size_t>(i)] = d[v & 15];
    return s;
}

Binding phone(std::uint64_t i, std::int64_t now, std::mt19937_64& rng) {
    static const char* agents[] = {"Yealink SIP-T46S 66.86.0.15", "Grandstream GXP2170 1.0.11.23",
                                   "Cisco/SPA504G-7.6.2", "Linphone/5.2.0 (belle-sip/5.2.0)",
                                   "Zoiper rv2.10.19.4"};
    Binding b;
    b.aor = "fill" + std::to_string(i) + "@bench.test";
    const std::uint64_t r = rng();
    const std::string ip = "10." + std::to_string(r >> 8 & 255) + "." + std::to_string(r >> 16 & 255) + "." +
                           std::to_string((r >> 24 & 253) + 1);
    const std::string port = std::to_string(5060 + (r >> 32 & 4095));
    b.contact = "sip:fill" + std::to_string(i) + "@" + ip + ":" + port + ";transport=udp";
    const std::uint64_t c = rng();
    b.call_id =
        hex(c, 8) + "-" + hex(c >> 32, 4) + "-" + hex(rng(), 4) + "-" + hex(rng(), 4) + "-" + hex(rng(), 12);
    b.cseq = static_cast<std::uint32_t>(r >> 40 & 0xffff) + 1;
    b.expires_at = now + 3600;
    b.registered_at = now;
    b.source = "udp:198.51.100." + std::to_string(r >> 48 & 255) + ":" + port;
    b.user_agent = agents[i % 5];
    b.instance = "\"<urn:uuid:" + hex(rng(), 8) + "-" + hex(rng(), 4) + "-4" + hex(rng(), 3) + "-a" +
                 hex(rng(), 3) + "-" + hex(rng(), 12) + ">\"";
    return b;
}

std::size_t heap_in_use() {
    return mallinfo2().uordblks;
}

double ns_since(std::chrono::steady_clock::time_point t0, std::size_t n) {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
           static_cast<double>(n);
}

int curve(bool quick) {
    const std::int64_t now = std::time(nullptr);
    const std::vector<std::size_t> sizes =
        quick ? std::vector<std::size_t>{1000, 10000} : std::vector<std::size_t>{10000, 100000, 1000000};
    const std::size_t ops = quick ? 20000 : 500000;
    std::printf("%10s %18s %20s %12s %12s %10s\n", "bindings", "bytes per binding", "(std containers)",
                "lookup ns", "update ns", "fill s");
    for (std::size_t n : sizes) {
        std::mt19937_64 rng(42);
        std::vector<Binding> made;
        // Made first, so the service's own blocks are what the heap delta counts.
        made.reserve(n);
        for (std::size_t i = 0; i < n; ++i)
            made.push_back(phone(i, now, rng));
        const std::size_t before = heap_in_use();
        auto ls = std::make_unique<LocationService>();
        const auto f0 = std::chrono::steady_clock::now();
        for (auto& b : made)
            ls->restore_one(b, now);
        const double fill_s = ns_since(f0, 1) / 1e9;
        const std::size_t after = heap_in_use();
        if (ls->size() != n) {
            std::fprintf(stderr, "size %zu != %zu\n", ls->size(), n);
            return 1;
        }
        const double per = static_cast<double>(after - before) / static_cast<double>(n);
        // The same bindings as the former layout held them (a std::unordered_map of std::vector<Binding>).
        std::size_t std_per = 0;
        {
            const std::size_t b0 = heap_in_use();
            std::unordered_map<std::string, std::vector<Binding>> former;
            for (const auto& b : made)
                former[b.aor].push_back(b);
            std_per = (heap_in_use() - b0) / n;
        }
        made = {};  // the ops below touch only the service (a key is made from its number, no table)
        auto aor_of = [](std::size_t i) { return "fill" + std::to_string(i) + "@bench.test"; };
        // Lookups of random AORs (each must find its one binding).
        std::uniform_int_distribution<std::size_t> pick(0, n - 1);
        std::size_t found = 0;
        auto t0 = std::chrono::steady_clock::now();
        for (std::size_t k = 0; k < ops; ++k)
            found += ls->lookup(aor_of(pick(rng)), now).size();
        const double lookup_ns = ns_since(t0, ops);
        if (found != ops) {
            std::fprintf(stderr, "lookups found %zu of %zu\n", found, ops);
            return 1;
        }
        // A refresh as the registrar does it: the AOR's bindings out, the CSeq and expiry changed, back in.
        t0 = std::chrono::steady_clock::now();
        for (std::size_t k = 0; k < ops; ++k) {
            ls->update(aor_of(pick(rng)), [&](std::vector<Binding>& v) {
                for (auto& x : v) {
                    ++x.cseq;
                    x.expires_at = now + 3600;
                }
            });
        }
        const double update_ns = ns_since(t0, ops);
        std::printf("%10zu %18.0f %20zu %12.0f %12.0f %10.2f\n", n, per, std_per, lookup_ns, update_ns,
                    fill_s);
        if (per > 512) {
            std::fprintf(stderr, "over 512 bytes per binding\n");
            return 1;
        }
    }
    return 0;
}

int fill(const std::string& data_dir, std::size_t n) {
    auto db = sw::storage::Database::open(data_dir + "/location.db");
    if (!db) {
        std::fprintf(stderr, "%s\n", db.error().c_str());
        return 1;
    }
    bool failed = false;
    sw::storage::SqliteBindingStore store(**db, [&](const std::string& m) {
        std::fprintf(stderr, "%s\n", m.c_str());
        failed = true;
    });
    const std::int64_t now = std::time(nullptr);
    std::mt19937_64 rng(7);
    std::vector<sw::registrar::BindingChange> batch;
    for (std::size_t i = 0; i < n && !failed; ++i) {
        batch.push_back({sw::registrar::BindingChange::Kind::Upsert, phone(i, now, rng)});
        if (batch.size() == 20000 || i + 1 == n) {
            if (!store.apply(batch)) return 1;
            batch.clear();
        }
    }
    std::printf("%zu bindings written to %s/location.db\n", n, data_dir.c_str());
    return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "fill" && argc == 4) return fill(argv[2], std::strtoull(argv[3], nullptr, 10));
    if (mode.empty() || mode == "--quick") return curve(mode == "--quick");
    std::fprintf(stderr, "usage: bindings_bench [--quick] | bindings_bench fill DATA_DIR N\n");
    return 2;
}
