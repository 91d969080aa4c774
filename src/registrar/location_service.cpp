#include "registrar/location_service.hpp"

#include <algorithm>

namespace sw::registrar {

std::string_view aor_user(std::string_view aor) {
    const auto at = aor.rfind('@');
    return at == std::string_view::npos ? aor : aor.substr(0, at);
}

LocationService::LocationService(std::size_t shards) {
    shards_.reserve(std::max<std::size_t>(shards, 1));
    for (std::size_t i = 0; i < std::max<std::size_t>(shards, 1); ++i) shards_.push_back(std::make_unique<Shard>());
}

LocationService::Shard& LocationService::shard(std::string_view aor) const {
    return *shards_[std::hash<std::string_view>{}(aor) % shards_.size()];
}

void LocationService::update(const std::string& aor, const std::function<void(std::vector<Binding>&)>& f) {
    Shard& s = shard(aor);
    std::lock_guard lock(s.mutex);
    auto it = s.aors.find(aor);
    if (it == s.aors.end()) {
        std::vector<Binding> fresh;
        f(fresh);
        if (!fresh.empty()) s.aors.emplace(aor, std::move(fresh));
        return;
    }
    f(it->second);
    if (it->second.empty()) s.aors.erase(it);
}

std::vector<Binding> LocationService::lookup(std::string_view aor, std::int64_t now) const {
    Shard& s = shard(aor);
    std::vector<Binding> out;
    {
        std::lock_guard lock(s.mutex);
        auto it = s.aors.find(std::string(aor));
        if (it == s.aors.end()) return out;
        for (const auto& b : it->second) {
            if (b.expires_at > now) out.push_back(b);
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const Binding& a, const Binding& b) { return a.q > b.q; });
    return out;
}

std::vector<Binding> LocationService::remove_expired(std::int64_t now) {
    std::vector<Binding> removed;
    for (auto& sp : shards_) {
        std::lock_guard lock(sp->mutex);
        for (auto it = sp->aors.begin(); it != sp->aors.end();) {
            auto& v = it->second;
            for (auto b = v.begin(); b != v.end();) {
                if (b->expires_at <= now) {
                    removed.push_back(std::move(*b));
                    b = v.erase(b);
                } else {
                    ++b;
                }
            }
            it = v.empty() ? sp->aors.erase(it) : std::next(it);
        }
    }
    return removed;
}

std::vector<Binding> LocationService::remove_if_user(const std::function<bool(std::string_view user)>& drop) {
    std::vector<Binding> removed;
    for (auto& sp : shards_) {
        std::lock_guard lock(sp->mutex);
        for (auto it = sp->aors.begin(); it != sp->aors.end();) {
            if (drop(aor_user(it->first))) {
                for (auto& b : it->second) removed.push_back(std::move(b));
                it = sp->aors.erase(it);
            } else {
                ++it;
            }
        }
    }
    return removed;
}

void LocationService::restore(std::vector<Binding> bindings, std::int64_t now) {
    for (auto& b : bindings) {
        if (b.expires_at <= now) continue;
        Shard& s = shard(b.aor);
        std::lock_guard lock(s.mutex);
        s.aors[b.aor].push_back(std::move(b));
    }
}

std::size_t LocationService::size() const {
    std::size_t n = 0;
    for (auto& sp : shards_) {
        std::lock_guard lock(sp->mutex);
        for (const auto& [aor, v] : sp->aors) n += v.size();
    }
    return n;
}

std::vector<Binding> LocationService::all() const {
    std::vector<Binding> out;
    for (auto& sp : shards_) {
        std::lock_guard lock(sp->mutex);
        for (const auto& [aor, v] : sp->aors) out.insert(out.end(), v.begin(), v.end());
    }
    return out;
}

}  // namespace sw::registrar
