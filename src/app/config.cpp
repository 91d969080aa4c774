#include "app/config.hpp"

#include <toml++/toml.h>
#include <set>

namespace sw::app {

namespace {

using Err = sw::Unexpected<std::string>;

Err bad(const std::string& path, const std::string& key, const std::string& why) {
    return sw::unexpected(path + ": " + key + ": " + why);
}

// A list of strings (listen, domains, the toll guard's prefix lists ...), replacing `out`.
sw::Result<bool, std::string> read_strings(const std::string& path, const std::string& key,
                                           const toml::node& v, std::vector<std::string>& out) {
    if (!v.is_array()) return bad(path, key, "must be a list of strings");
    out.clear();
    for (const auto& e : *v.as_array()) {
        if (!e.is_string()) return bad(path, key, "must be a list of strings");
        out.push_back(*e.value<std::string>());
    }
    return true;
}

// [media]: the relay and the SRTP policy.
sw::Result<bool, std::string> load_media_table(const std::string& path, const toml::table& table,
                                               MediaOptions& o) {
    for (const auto& [k, node] : table) {
        const std::string key = "media." + std::string(k.str());
        const std::string name(k.str());
        const toml::node& v = node;
        auto text = [&](std::string& out, std::set<std::string> allowed) -> sw::Result<bool, std::string> {
            if (!v.is_string()) return bad(path, key, "must be a string");
            const std::string t = *v.value<std::string>();
            if (!allowed.empty() && !allowed.count(t)) {
                std::string list;
                for (const auto& a : allowed)
                    list += (list.empty() ? "" : ", ") + a;
                return bad(path, key, "must be one of " + list);
            }
            out = t;
            return true;
        };
        auto number = [&](double lo, double hi, double& out) -> sw::Result<bool, std::string> {
            auto d = v.value<double>();
            if (!d || !(v.is_integer() || v.is_floating_point()) || *d < lo || *d > hi)
                return bad(path, key,
                           "must be a number between " + std::to_string(static_cast<long>(lo)) + " and " +
                               std::to_string(static_cast<long>(hi)));
            out = *d;
            return true;
        };
        auto whole = [&](unsigned lo, unsigned hi, unsigned& out) -> sw::Result<bool, std::string> {
            auto n = v.value<std::int64_t>();
            if (!v.is_integer() || !n || *n < lo || *n > hi)
                return bad(
                    path, key,
                    "must be a whole number between " + std::to_string(lo) + " and " + std::to_string(hi));
            out = static_cast<unsigned>(*n);
            return true;
        };
        const std::set<std::string> policies = {"off", "preferred", "required"};
        sw::Result<bool, std::string> r = true;
        if (name == "relay" || name == "tls_required" || name == "kernel") {
            if (!v.is_boolean()) return bad(path, key, "must be true or false");
            (name == "relay" ? o.relay : name == "kernel" ? o.kernel : o.tls_required) = *v.value<bool>();
        } else if (name == "address") {
            r = text(o.address, {});
        } else if (name == "address6") {
            r = text(o.address6, {});
        } else if (name == "advertise") {
            r = text(o.advertise, {});
        } else if (name == "port_min") {
            r = whole(1024, 65534, o.port_min);
        } else if (name == "port_max") {
            r = whole(1025, 65535, o.port_max);
        } else if (name == "threads") {
            r = whole(0, 64, o.threads);
        } else if (name == "dscp") {
            auto n = v.value<std::int64_t>();
            if (!v.is_integer() || !n || *n < -1 || *n > 63)
                return bad(path, key, "must be a DSCP from 0 to 63, or -1 to leave media unmarked");
            o.dscp = static_cast<int>(*n);
        } else if (name == "timeout") {
            r = number(0, 86400, o.timeout_s);
        } else if (name == "hold_timeout") {
            r = number(0, 604800, o.hold_timeout_s);
        } else if (name == "anchor") {
            r = text(o.anchor, {"auto", "always", "never"});
        } else if (name == "srtp") {
            r = text(o.srtp, policies);
        } else if (name == "trunk_srtp") {
            r = text(o.trunk_srtp, policies);
        } else if (name == "plain_crypto") {
            r = text(o.plain_crypto, {"strip", "refuse"});
        } else {
            return bad(path, key, "unknown setting");
        }
        if (!r) return r;
    }
    if (o.port_min >= o.port_max) return bad(path, "media.port_max", "must be above port_min");
    return true;
}

// [calling], [limits] and [detector]: the toll-fraud guard's settings.
sw::Result<bool, std::string> load_toll_table(const std::string& path, const std::string& section,
                                              const toml::table& table, TollOptions& o) {
    for (const auto& [k, node] : table) {
        const std::string key = section + "." + std::string(k.str());
        const toml::node& v = node;
        auto text = [&](std::string& out) -> sw::Result<bool, std::string> {
            if (!v.is_string()) return bad(path, key, "must be a string");
            out = *v.value<std::string>();
            return true;
        };
        auto strings = [&](std::vector<std::string>& out) { return read_strings(path, key, v, out); };
        auto whole = [&](int lo, int hi, int& out) -> sw::Result<bool, std::string> {
            auto n = v.value<std::int64_t>();
            if (!v.is_integer() || !n) return bad(path, key, "must be a whole number");
            if (*n < lo || *n > hi)
                return bad(path, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
            out = static_cast<int>(*n);
            return true;
        };
        auto flag = [&](bool& out) -> sw::Result<bool, std::string> {
            if (!v.is_boolean()) return bad(path, key, "must be true or false");
            out = *v.value<bool>();
            return true;
        };
        auto factor = [&](double& out) -> sw::Result<bool, std::string> {
            auto d = v.value<double>();
            if (!d || !(v.is_integer() || v.is_floating_point()) || *d < 1 || *d > 1000)
                return bad(path, key, "must be a number between 1 and 1000");
            out = *d;
            return true;
        };
        sw::Result<bool, std::string> r = true;
        const std::string name(k.str());
        if (section == "calling") {
            if (name == "default_class")
                r = text(o.default_class);
            else if (name == "country_code")
                r = text(o.country_code);
            else if (name == "international_prefix")
                r = text(o.international_prefix);
            else if (name == "national_prefix")
                r = text(o.national_prefix);
            else if (name == "emergency_numbers")
                r = strings(o.emergency);
            else if (name == "high_risk_prefixes")
                r = strings(o.high_risk_add);
            else if (name == "premium_prefixes")
                r = strings(o.premium_add);
            else if (name == "not_high_risk")
                r = strings(o.high_risk_remove);
            else if (name == "business_hours")
                r = text(o.business_hours);
            else if (name == "after_hours_group")
                r = text(o.after_hours_group);
            else if (name == "history_days")
                r = whole(0, 365, o.history_days);
            else
                return bad(path, key, "unknown setting");
        } else if (section == "limits") {
            if (name == "max_concurrent")
                r = whole(0, 100000, o.limits.max_concurrent);
            else if (name == "per_minute")
                r = whole(0, 100000, o.limits.per_minute);
            else if (name == "per_hour")
                r = whole(0, 1000000, o.limits.per_hour);
            else if (name == "international_minutes")
                r = whole(0, 144000, o.limits.international_minutes);
            else
                return bad(path, key, "unknown setting");
        } else {
            if (name == "enabled")
                r = flag(o.detector.enabled);
            else if (name == "suspend")
                r = flag(o.detector.suspend_on_alert);
            else if (name == "burst_window") {
                int s = 0;
                r = whole(60, 3600, s);  // the guard remembers an hour of calls
                o.detector.burst_window_s = s;
            } else if (name == "burst_min")
                r = whole(1, 100000, o.detector.burst_min);
            else if (name == "burst_factor")
                r = factor(o.detector.burst_factor);
            else if (name == "new_countries")
                r = whole(1, 300, o.detector.new_countries);
            else if (name == "off_hours_min")
                r = whole(1, 100000, o.detector.off_hours_min);
            else if (name == "off_hours_factor")
                r = factor(o.detector.off_hours_factor);
            else
                return bad(path, key, "unknown setting");
        }
        if (!r) return r;
    }
    if (auto ok = check_toll_options(o); !ok) return sw::unexpected(path + ": " + ok.error());
    return true;
}

}  // namespace

sw::Result<bool, std::string> load_config(const std::string& path, RunOptions& o, std::string& log_level) {
    toml::table t;
    try {
        t = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        return sw::unexpected(path + ": " + std::string(e.description()) + " (line " +
                              std::to_string(e.source().begin.line) + ")");
    }
    static const std::set<std::string> kTop = {"listen",
                                               "domains",
                                               "data_dir",
                                               "log_level",
                                               "sip_trace",
                                               "t1_ms",
                                               "shutdown_grace",
                                               "max_message_size",
                                               "max_connections",
                                               "max_connections_per_address",
                                               "idle_timeout",
                                               "tls_handshake_timeout",
                                               "message_timeout",
                                               "workers",
                                               "realm",
                                               "allow_md5",
                                               "md5_first",
                                               "nonce_lifetime",
                                               "min_expires",
                                               "max_expires",
                                               "default_expires",
                                               "max_contacts",
                                               "refresh_write_delay",
                                               "answer_cache_mb",
                                               "serial_forking",
                                               "timer_c",
                                               "max_call_duration",
                                               "md5_only_agents",
                                               "allow_networks",
                                               "scanner_agents",
                                               "max_requests_per_second",
                                               "sip_dscp",
                                               "tls",
                                               "calling",
                                               "limits",
                                               "detector",
                                               "media"};
    static const std::set<std::string> kTls = {"cert", "key", "ca", "verify_client", "trunk_ca"};
    for (const auto& [k, binding] : t) {
        const std::string key(k.str());
        const toml::node& v = binding;  // lambdas below capture it (clang 14 cannot capture a binding)
        if (!kTop.count(key)) return bad(path, key, "unknown setting");
        if (key == "calling" || key == "limits" || key == "detector") {
            if (!v.is_table()) return bad(path, key, "must be a table");
            if (auto r = load_toll_table(path, key, *v.as_table(), o.toll); !r) return r;
            continue;
        }
        if (key == "media") {
            if (!v.is_table()) return bad(path, key, "must be a table");
            if (auto r = load_media_table(path, *v.as_table(), o.media); !r) return r;
            continue;
        }
        if (key == "tls") {
            if (!v.is_table()) return bad(path, key, "must be a table");
            for (const auto& [tk, tv] : *v.as_table()) {
                const std::string sub(tk.str());
                if (!kTls.count(sub)) return bad(path, "tls." + sub, "unknown setting");
                if (sub == "verify_client") {
                    if (!tv.is_boolean()) return bad(path, "tls." + sub, "must be true or false");
                    o.tls_verify_client = *tv.value<bool>();
                } else {
                    if (!tv.is_string()) return bad(path, "tls." + sub, "must be a string");
                    std::string s = *tv.value<std::string>();
                    (sub == "cert"       ? o.tls_cert
                     : sub == "key"      ? o.tls_key
                     : sub == "trunk_ca" ? o.tls_trunk_ca
                                         : o.tls_ca) = s;
                }
            }
            continue;
        }
        auto strings = [&](std::vector<std::string>& out) { return read_strings(path, key, v, out); };
        auto number = [&](double lo, double hi, double& out) -> sw::Result<bool, std::string> {
            auto d = v.value<double>();
            if (!d || !(v.is_integer() || v.is_floating_point())) return bad(path, key, "must be a number");
            if (*d < lo || *d > hi) {
                return bad(path, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
            }
            out = *d;
            return true;
        };
        sw::Result<bool, std::string> r = true;
        double d = 0;
        if (key == "listen") {
            r = strings(o.listen);
        } else if (key == "domains") {
            r = strings(o.domains);
        } else if (key == "md5_only_agents") {
            r = strings(o.md5_only_agents);
        } else if (key == "allow_networks") {
            r = strings(o.allow_networks);
        } else if (key == "scanner_agents") {
            r = strings(o.scanner_agents);
        } else if (key == "max_requests_per_second") {
            r = number(1, 1000000, o.max_requests_per_second);
        } else if (key == "data_dir" || key == "log_level") {
            if (!v.is_string()) return bad(path, key, "must be a string");
            const std::string s = *v.value<std::string>();
            if (key == "log_level") {
                static const std::set<std::string> kLevels = {"trace", "debug",    "info", "warn",
                                                              "error", "critical", "off"};
                if (!kLevels.count(s))
                    return bad(path, key, "must be one of trace, debug, info, warn, error, critical, off");
                log_level = s;
            } else {
                o.data_dir = s;
            }
        } else if (key == "sip_trace" || key == "serial_forking") {
            if (!v.is_boolean()) return bad(path, key, "must be true or false");
            (key == "sip_trace" ? o.sip_trace : o.serial_forking) = *v.value<bool>();
        } else if (key == "timer_c") {
            r = number(1, 3600, o.timer_c_s);
        } else if (key == "max_call_duration") {
            r = number(1, 604800, o.max_call_s);
        } else if (key == "t1_ms") {
            r = number(10, 10000, o.t1_ms);
        } else if (key == "shutdown_grace") {
            r = number(0, 600, o.shutdown_grace_s);
        } else if (key == "tls_handshake_timeout") {
            r = number(0.1, 120, o.handshake_timeout_s);
        } else if (key == "realm") {
            if (!v.is_string()) return bad(path, key, "must be a string");
            o.realm = *v.value<std::string>();
        } else if (key == "allow_md5" || key == "md5_first") {
            if (!v.is_boolean()) return bad(path, key, "must be true or false");
            (key == "allow_md5" ? o.allow_md5 : o.md5_first) = *v.value<bool>();
        } else if (key == "nonce_lifetime") {
            r = number(1, 86400, o.nonce_lifetime_s);
        } else if (key == "min_expires" || key == "max_expires" || key == "default_expires" ||
                   key == "max_contacts") {
            r = number(key == "max_contacts" ? 1 : 1, key == "max_contacts" ? 1000 : 31536000, d);
            if (r && d != static_cast<double>(static_cast<unsigned>(d)))
                r = bad(path, key, "must be a whole number");
            const auto u = static_cast<unsigned>(d);
            (key == "min_expires"       ? o.min_expires
             : key == "max_expires"     ? o.max_expires
             : key == "default_expires" ? o.default_expires
                                        : o.max_contacts) = u;
        } else if (key == "refresh_write_delay") {
            r = number(0, 10, o.refresh_write_delay_s);
        } else if (key == "message_timeout") {
            r = number(0.1, 3600, o.message_timeout_s);
        } else if (key == "workers") {
            r = number(0, 64, d);
            if (r && d != static_cast<double>(static_cast<unsigned>(d)))
                r = bad(path, key, "must be a whole number");
            o.workers = static_cast<unsigned>(d);
        } else if (key == "idle_timeout") {
            r = number(1, 86400, o.idle_timeout_s);
        } else if (key == "answer_cache_mb") {
            r = number(1, 65536, d);
            if (r && d != static_cast<double>(static_cast<std::size_t>(d)))
                r = bad(path, key, "must be a whole number");
            o.answer_cache_mb = static_cast<std::size_t>(d);
        } else if (key == "max_message_size") {
            r = number(512, 16.0 * 1024 * 1024, d);
            o.max_message_size = static_cast<std::size_t>(d);
        } else if (key == "max_connections") {
            r = number(1, 1e6, d);
            o.max_connections = static_cast<std::size_t>(d);
        } else if (key == "max_connections_per_address") {
            r = number(1, 1e6, d);
            o.max_connections_per_address = static_cast<std::size_t>(d);
        } else if (key == "sip_dscp") {
            auto n = v.value<std::int64_t>();
            if (!v.is_integer() || !n || *n < -1 || *n > 63)
                return bad(path, key, "must be a DSCP from 0 to 63, or -1 to leave SIP unmarked");
            o.sip_dscp = static_cast<int>(*n);
        }
        if (!r) return r;
    }
    return true;
}

}  // namespace sw::app
