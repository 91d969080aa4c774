#include "app/check_message.hpp"

#include <fstream>
#include <ostream>

#include "sip/message.hpp"
#include "sip/validate.hpp"

namespace sw::app {

std::string CheckVerdict::text() const {
    if (status == 0) return "ok";
    return std::to_string(status) + " " + reason;
}

CheckVerdict check_message(std::string_view bytes, std::size_t max_message_size) {
    sip::ParseOptions opts;
    opts.max_message_size = max_message_size;
    auto msg = sip::Message::parse(bytes, opts);
    if (!msg) return {msg.error().status, std::string(msg.error().reason)};
    if (auto ok = sip::validate_known_headers(*msg); !ok)
        return {ok.error().status, std::string(ok.error().reason)};
    auto policy = sip::check_request_policy(*msg, sip::kSupportedOptionTags);
    if (policy.status != 0) {
        std::string reason = policy.reason;
        if (!policy.unsupported.empty()) reason += " - Unsupported: " + policy.unsupported;
        return {policy.status, reason};
    }
    return {};
}

int run_check_message(const std::vector<std::string>& files, std::size_t max_message_size,
                      std::ostream& out) {
    int rc = 0;
    for (const auto& path : files) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            out << path << ": cannot read file\n";
            rc = 1;
            continue;
        }
        // Read at most one byte past the limit: an oversized message is refused without reading it whole.
        std::string bytes(max_message_size + 1, '\0');
        in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        bytes.resize(static_cast<std::size_t>(in.gcount()));
        const CheckVerdict v = check_message(bytes, max_message_size);
        out << path << ": " << v.text() << "\n";
        if (v.status != 0) rc = 1;
    }
    return rc;
}

}  // namespace sw::app
