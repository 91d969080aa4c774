#include "registrar/location_service.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

namespace sw::registrar {

namespace {

// Block layout (native byte order, never stored or sent anywhere):
//   u32 aor length, u32 binding count, the AOR's bytes, then per binding:
//   i64 expires_at, i64 registered_at, u64 connection, u32 cseq, i32 q, u32 length of each of the six
//   strings (contact, call_id, path, source, user_agent, instance), then their bytes.
constexpr std::size_t kStrings = 6;
constexpr std::size_t kFixed = 8 + 8 + 8 + 4 + 4 + 4 * kStrings;

template <typename T>
T read(const char*& p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    p += sizeof v;
    return v;
}

template <typename T>
void write(char*& p, T v) {
    std::memcpy(p, &v, sizeof v);
    p += sizeof v;
}

std::uint32_t length(const std::string& s) {
    // Every field comes from one SIP message (64 KiB at most); the guard keeps the format sound anyway.
    return static_cast<std::uint32_t>(
        std::min<std::size_t>(s.size(), std::numeric_limits<std::uint32_t>::max()));
}

const std::string* fields(const Binding& b, std::size_t i) {
    switch (i) {
        case 0:
            return &b.contact;
        case 1:
            return &b.call_id;
        case 2:
            return &b.path;
        case 3:
            return &b.source;
        case 4:
            return &b.user_agent;
        default:
            return &b.instance;
    }
}

std::string* fields(Binding& b, std::size_t i) {
    return const_cast<std::string*>(fields(std::as_const(b), i));
}

std::unique_ptr<char[]> pack(std::string_view aor, const std::vector<Binding>& bindings) {
    std::size_t size = 8 + aor.size();
    for (const auto& b : bindings) {
        size += kFixed;
        for (std::size_t i = 0; i < kStrings; ++i)
            size += length(*fields(b, i));
    }
    auto block = std::make_unique_for_overwrite<char[]>(size);
    char* p = block.get();
    write(p, static_cast<std::uint32_t>(aor.size()));
    write(p, static_cast<std::uint32_t>(bindings.size()));
    std::memcpy(p, aor.data(), aor.size());
    p += aor.size();
    for (const auto& b : bindings) {
        write(p, b.expires_at);
        write(p, b.registered_at);
        write(p, b.connection);
        write(p, b.cseq);
        write(p, static_cast<std::int32_t>(b.q));
        for (std::size_t i = 0; i < kStrings; ++i)
            write(p, length(*fields(b, i)));
        for (std::size_t i = 0; i < kStrings; ++i) {
            const std::string& s = *fields(b, i);
            std::memcpy(p, s.data(), length(s));
            p += length(s);
        }
    }
    return block;
}

std::uint32_t count_of(const char* block) {
    const char* p = block + 4;
    return read<std::uint32_t>(p);
}

const char* first_binding(const char* block) {
    const char* p = block;
    const auto aor_len = read<std::uint32_t>(p);
    p += 4;
    return p + aor_len;
}

// The binding at p; returns the start of the next one. `out` null: only skips.
const char* unpack_one(const char* p, std::string_view aor, Binding* out) {
    const char* q = p;
    const auto expires_at = read<std::int64_t>(q);
    const auto registered_at = read<std::int64_t>(q);
    const auto connection = read<std::uint64_t>(q);
    const auto cseq = read<std::uint32_t>(q);
    const auto qv = read<std::int32_t>(q);
    std::uint32_t len[kStrings];
    for (auto& l : len)
        l = read<std::uint32_t>(q);
    if (out) {
        out->aor = std::string(aor);
        out->expires_at = expires_at;
        out->registered_at = registered_at;
        out->connection = connection;
        out->cseq = cseq;
        out->q = qv;
    }
    for (std::size_t i = 0; i < kStrings; ++i) {
        if (out) fields(*out, i)->assign(q, len[i]);
        q += len[i];
    }
    return q;
}

std::int64_t expires_of(const char* binding) {
    return read<std::int64_t>(binding);
}

std::string_view aor_of(const char* block) {
    const char* p = block;
    const auto len = read<std::uint32_t>(p);
    return {block + 8, len};
}

std::vector<Binding> unpack(const char* block) {
    std::vector<Binding> out;
    const std::uint32_t n = count_of(block);
    out.resize(n);
    const char* p = first_binding(block);
    for (std::uint32_t i = 0; i < n; ++i)
        p = unpack_one(p, aor_of(block), &out[i]);
    return out;
}

}  // namespace

std::string_view LocationService::Packed::aor() const {
    return aor_of(block.get());
}

std::string_view aor_user(std::string_view aor) {
    const auto at = aor.rfind('@');
    return at == std::string_view::npos ? aor : aor.substr(0, at);
}

LocationService::LocationService(std::size_t shards) {
    shards_.reserve(std::max<std::size_t>(shards, 1));
    for (std::size_t i = 0; i < std::max<std::size_t>(shards, 1); ++i)
        shards_.push_back(std::make_unique<Shard>());
}

LocationService::Shard& LocationService::shard(std::string_view aor) const {
    // The set's own hash picks the bucket; the shard takes the high bits so the two stay independent.
    const std::size_t h = std::hash<std::string_view>{}(aor);
    return *shards_[(h >> 32 ^ h * 0x9e3779b97f4a7c15ULL >> 40) % shards_.size()];
}

void LocationService::update(const std::string& aor, const std::function<void(std::vector<Binding>&)>& f) {
    Shard& s = shard(aor);
    std::lock_guard lock(s.mutex);
    auto it = s.aors.find(std::string_view(aor));
    if (it == s.aors.end()) {
        std::vector<Binding> fresh;
        f(fresh);
        if (!fresh.empty()) s.aors.insert(Packed{pack(aor, fresh)});
        return;
    }
    std::vector<Binding> bindings = unpack(it->block.get());
    f(bindings);
    if (bindings.empty()) {
        s.aors.erase(it);
    } else {
        it->block = pack(aor, bindings);
    }
}

std::vector<Binding> LocationService::lookup(std::string_view aor, std::int64_t now) const {
    Shard& s = shard(aor);
    std::vector<Binding> out;
    {
        std::lock_guard lock(s.mutex);
        auto it = s.aors.find(aor);
        if (it == s.aors.end()) return out;
        const char* block = it->block.get();
        const std::uint32_t n = count_of(block);
        const char* p = first_binding(block);
        for (std::uint32_t i = 0; i < n; ++i) {
            if (expires_of(p) > now) {
                p = unpack_one(p, aor, &out.emplace_back());
            } else {
                p = unpack_one(p, aor, nullptr);
            }
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const Binding& a, const Binding& b) { return a.q > b.q; });
    return out;
}

void LocationService::sweep_shard(Shard& s, std::int64_t now, std::vector<Binding>& removed) {
    std::lock_guard lock(s.mutex);
    for (auto it = s.aors.begin(); it != s.aors.end();) {
        const char* block = it->block.get();
        const std::uint32_t n = count_of(block);
        const char* p = first_binding(block);
        bool any = false;
        for (std::uint32_t i = 0; i < n && !any; ++i) {
            any = expires_of(p) <= now;
            p = unpack_one(p, {}, nullptr);
        }
        if (!any) {
            ++it;
            continue;
        }
        std::vector<Binding> keep;
        for (auto& b : unpack(it->block.get())) {
            if (b.expires_at <= now) {
                removed.push_back(std::move(b));
            } else {
                keep.push_back(std::move(b));
            }
        }
        if (keep.empty()) {
            it = s.aors.erase(it);
        } else {
            it->block = pack(it->aor(), keep);
            ++it;
        }
    }
}

std::vector<Binding> LocationService::remove_expired(std::int64_t now) {
    return sweep_expired(now, shards_.size());  // one full turn of the round robin
}

std::vector<Binding> LocationService::sweep_expired(std::int64_t now, std::size_t shards) {
    std::vector<Binding> removed;
    std::lock_guard lock(sweep_mutex_);
    for (std::size_t i = 0; i < std::min(shards, shards_.size()); ++i) {
        sweep_shard(*shards_[sweep_next_], now, removed);
        sweep_next_ = (sweep_next_ + 1) % shards_.size();
    }
    return removed;
}

std::vector<Binding> LocationService::remove_if_user(const std::function<bool(std::string_view user)>& drop) {
    std::vector<Binding> removed;
    for (auto& sp : shards_) {
        std::lock_guard lock(sp->mutex);
        for (auto it = sp->aors.begin(); it != sp->aors.end();) {
            if (drop(aor_user(it->aor()))) {
                for (auto& b : unpack(it->block.get()))
                    removed.push_back(std::move(b));
                it = sp->aors.erase(it);
            } else {
                ++it;
            }
        }
    }
    return removed;
}

void LocationService::restore_one(Binding binding, std::int64_t now) {
    if (binding.expires_at <= now) return;
    const std::string aor = binding.aor;
    update(aor, [&](std::vector<Binding>& v) { v.push_back(std::move(binding)); });
}

bool LocationService::revert(const BindingChange& change, const std::optional<Binding>& durable, bool known) {
    using Kind = BindingChange::Kind;
    if (change.kind == Kind::Expire) return false;  // the sweep's: a stale row is skipped on restore
    const Binding& made = change.binding;
    bool changed = false;
    update(made.aor, [&](std::vector<Binding>& bindings) {
        // The registrar keeps a binding's contact text from its first REGISTER, so the exact text finds it.
        auto it = std::find_if(bindings.begin(), bindings.end(),
                               [&](const Binding& b) { return b.contact == made.contact; });
        if (change.kind == Kind::Upsert) {
            const bool ours = it != bindings.end() && it->call_id == made.call_id && it->cseq == made.cseq &&
                              it->expires_at == made.expires_at && it->source == made.source &&
                              it->connection == made.connection;
            if (!ours) return;
            if (known && durable) {
                *it = *durable;
            } else {
                bindings.erase(it);
            }
            changed = true;
        } else if (it == bindings.end() && known && durable) {
            bindings.push_back(*durable);
            changed = true;
        }
    });
    return changed;
}

void LocationService::restore(std::vector<Binding> bindings, std::int64_t now) {
    for (auto& b : bindings)
        restore_one(std::move(b), now);
}

std::size_t LocationService::size() const {
    std::size_t n = 0;
    for (auto& sp : shards_) {
        std::lock_guard lock(sp->mutex);
        for (const auto& p : sp->aors)
            n += count_of(p.block.get());
    }
    return n;
}

std::size_t LocationService::aor_count() const {
    std::size_t n = 0;
    for (auto& sp : shards_) {
        std::lock_guard lock(sp->mutex);
        n += sp->aors.size();
    }
    return n;
}

std::vector<Binding> LocationService::all() const {
    std::vector<Binding> out;
    for (auto& sp : shards_) {
        std::lock_guard lock(sp->mutex);
        for (const auto& p : sp->aors)
            for (auto& b : unpack(p.block.get()))
                out.push_back(std::move(b));
    }
    return out;
}

}  // namespace sw::registrar
