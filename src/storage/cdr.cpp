#include "storage/cdr.hpp"

#include <utility>

namespace sw::storage {

std::string_view direction_name(CdrDirection d) {
    switch (d) {
        case CdrDirection::Internal:
            return "internal";
        case CdrDirection::Outbound:
            return "outbound";
        case CdrDirection::Inbound:
            return "inbound";
    }
    return "internal";
}

CdrEvent CdrEvent::started(std::string call, std::int64_t time_ms, CdrCall details) {
    CdrEvent e;
    e.kind = Kind::Start;
    e.call = std::move(call);
    e.time_ms = time_ms;
    e.start = std::move(details);
    return e;
}

CdrEvent CdrEvent::answered(std::string call, std::int64_t time_ms) {
    CdrEvent e;
    e.kind = Kind::Answer;
    e.call = std::move(call);
    e.time_ms = time_ms;
    return e;
}

CdrEvent CdrEvent::ended(std::string call, std::int64_t time_ms, int result, std::string reason) {
    CdrEvent e;
    e.kind = Kind::End;
    e.call = std::move(call);
    e.time_ms = time_ms;
    e.result = result;
    e.reason = std::move(reason);
    return e;
}

}  // namespace sw::storage
