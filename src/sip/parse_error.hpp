// The outcome of a failed parse: the SIP status a server answers with, and a reason naming the fault.
#pragma once

#include <string_view>

#include "common/result.hpp"

namespace sw::sip {

struct ParseError {
    int status = 400;         // 400, 413, 416, 505, 513 ...
    std::string_view reason;  // static text, e.g. "Bad Request - Invalid CSeq"; never owns memory
};

template <typename T>
using ParseResult = sw::Result<T, ParseError>;

inline sw::Unexpected<ParseError> fail(int status, std::string_view reason) {
    return sw::unexpected(ParseError{status, reason});
}
inline sw::Unexpected<ParseError> bad(std::string_view reason) {
    return fail(400, reason);
}

}  // namespace sw::sip
