// Message boundaries on stream transports (TCP, TLS): RFC 3261 18.3 frames by Content-Length, which
// must be present; CRLF keep-alives between messages are skipped or answered (RFC 5626 3.5.1).
// The framer never holds more than max_message_size bytes of one message: an oversized header block or
// Content-Length is refused as soon as it is seen, before the rest arrives.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sw::sip {

class StreamFramer {
public:
    enum class Kind { NeedMore, Message, Ping, Error };
    struct Frame {
        Kind kind = Kind::NeedMore;
        std::string_view bytes;  // Message: one whole message, valid until the next append()/next()
        int status = 0;          // Error: the status to answer with before closing (400, 513)
        std::string_view reason;
    };

    explicit StreamFramer(std::size_t max_message_size = 64 * 1024) : max_(max_message_size) {}

    void append(std::string_view bytes);
    // The next complete unit, or NeedMore. After an Error the stream cannot be resynchronised:
    // every later call returns the same Error and the caller closes the connection.
    Frame next();
    std::size_t buffered() const { return buf_.size() - start_; }

private:
    Frame error(int status, std::string_view reason);

    std::string buf_;
    std::size_t start_ = 0;    // first unconsumed byte
    std::size_t scanned_ = 0;  // bytes after start_ already searched for the end of headers
    std::size_t max_;
    Frame failed_{};
};

}  // namespace sw::sip
