// A SIP message (RFC 3261 7): start line, header fields and body, parsed zero-copy over a buffer the
// Message owns. The mandatory headers are parsed and validated by parse(); any other header is kept as
// text and parsed on demand by the typed accessors, which return a value or an error.
//
// Editing records changes (headers added, removed or rewritten, a new Request-URI) against the original
// buffer, Kamailio-style: nothing is re-parsed and unchanged bytes are written out as they came.
//
// Thread: a Message belongs to the one worker thread handling its transaction. Move-only, because it
// holds views into its own storage.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sip/header_names.hpp"
#include "sip/headers.hpp"
#include "sip/parse_error.hpp"
#include "sip/uri.hpp"

namespace sw::sip {

enum class Method : std::uint8_t {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Prack,
    Subscribe,
    Notify,
    Publish,
    Info,
    Refer,
    Message,
    Update,
    Extension
};
Method method_from(std::string_view token);
std::string_view method_name(Method m);  // empty for Extension

struct HeaderField {
    HeaderId id = HeaderId::Unknown;
    std::string_view name;   // as written
    std::string_view value;  // trimmed, unfolded
    std::string_view raw;    // the whole field as written, folding included, without the final CRLF
};

struct ParseOptions {
    std::size_t max_message_size = 64 * 1024;
    // Stream transports (TCP/TLS) require Content-Length (RFC 3261 18.3); datagrams do not.
    bool stream = false;
};

class Message {
public:
    Message(Message&&) noexcept = default;
    Message& operator=(Message&&) noexcept = default;
    Message(const Message&) = delete;
    Message& operator=(const Message&) = delete;

    // Copies the bytes. For a datagram, bytes past Content-Length are ignored (RFC 3261 18.3).
    static ParseResult<Message> parse(std::string_view bytes, const ParseOptions& options = {});

    bool is_request() const { return d_->request_; }
    bool is_response() const { return !d_->request_; }

    // Request line
    std::string_view method() const { return d_->method_; }
    std::string_view version() const { return d_->version_; }  // "SIP/2.0" as written
    Method method_id() const { return d_->method_id_; }
    const Uri& request_uri() const { return d_->ruri_; }
    // Status line
    int status() const { return d_->status_; }
    std::string_view reason() const { return d_->reason_; }

    // Mandatory headers, validated by parse()
    std::span<const Via> vias() const { return d_->vias_; }
    const Via& top_via() const { return d_->vias_.front(); }
    const NameAddr& from() const { return d_->from_; }
    const NameAddr& to() const { return d_->to_; }
    std::string_view call_id() const { return d_->call_id_; }
    const CSeq& cseq() const { return d_->cseq_; }
    std::optional<int> max_forwards() const {
        return d_->max_forwards_ < 0 ? std::nullopt : std::optional<int>(d_->max_forwards_);
    }
    std::string_view body() const { return d_->body_; }

    // All header fields, in order.
    const std::vector<HeaderField>& headers() const { return d_->headers_; }
    // First field with this id / name (case-insensitive, compact forms too), or nullptr.
    const HeaderField* find(HeaderId id) const;
    const HeaderField* find(std::string_view name) const;
    // Value of the first such field, empty when absent.
    std::string_view header(HeaderId id) const;
    bool has(HeaderId id) const { return find(id) != nullptr; }
    // Every value of a header across all its fields, comma lists split (for list headers).
    std::vector<std::string_view> values(HeaderId id) const;

    // Typed access to the other headers, parsed on demand.
    // Contact is validated by parse() too: it is read on every REGISTER and INVITE.
    const ContactList& contacts() const { return d_->contacts_; }
    ParseResult<std::vector<NameAddr>> addresses(HeaderId id) const;  // Route, Record-Route, Path, PAI ...
    ParseResult<std::optional<std::uint32_t>> expires() const { return optional_seconds(HeaderId::Expires); }
    ParseResult<std::optional<std::uint32_t>> min_expires() const {
        return optional_seconds(HeaderId::MinExpires);
    }
    ParseResult<std::optional<std::uint32_t>> rseq() const { return optional_seconds(HeaderId::RSeq); }
    ParseResult<std::vector<std::string_view>> tokens(HeaderId id) const {
        return parse_token_list(values(id));
    }
    ParseResult<std::optional<MediaType>> content_type() const;
    // Authorization / Proxy-Authorization / WWW-Authenticate / Proxy-Authenticate: one entry per field.
    ParseResult<std::vector<AuthParams>> auth(HeaderId id) const;

    // ---- editing ----
    // Adds "Via: value" above the current top Via (a proxy forwarding a request, RFC 3261 16.6 step 8).
    ParseResult<bool> push_via(std::string_view value);
    // Removes the top Via value (a proxy forwarding a response, RFC 3261 16.7 step 3).
    void pop_via();
    void set_request_uri(std::string_view uri_text);  // text must parse; returns silently if not
    void set_max_forwards(int value);
    void add_header(std::string_view name, std::string_view value);
    // Replaces every field with this name (or adds one). Mandatory headers are re-parsed.
    ParseResult<bool> set_header(std::string_view name, std::string_view value);
    std::size_t remove_headers(HeaderId id);
    std::size_t remove_headers(std::string_view name);
    // Replaces the body and Content-Length (and Content-Type, when given).
    void set_body(std::string_view body, std::string_view content_type = {});

    bool modified() const { return d_->modified_; }
    // The message as bytes: byte-exact with what was parsed when nothing was changed.
    std::string serialize() const;
    void serialize_to(std::string& out) const;

private:
    Message() = default;
    ParseResult<bool> apply_mandatory(HeaderField& f, bool replacing);
    ParseResult<std::optional<std::uint32_t>> optional_seconds(HeaderId id) const;
    std::string_view keep(std::string text);  // stores text for the message's lifetime
    HeaderField make_field(std::string_view name, std::string_view value);

    // All state lives in one heap block with the message bytes after it: a Message moves as one pointer,
    // and a parse costs one allocation for state and bytes together.
    struct Data {
        char* buf_ = nullptr;   // the message bytes, stored right after this struct
        std::size_t size_ = 0;  // bytes of buf_ that make up the message (body included)
        std::vector<std::unique_ptr<std::string>> arena_;

        bool request_ = true;
        std::string_view start_line_;
        std::string_view method_;
        Method method_id_ = Method::Extension;
        Uri ruri_;
        std::string_view version_;
        int status_ = 0;
        std::string_view reason_;

        std::vector<HeaderField> headers_;
        sw::SmallVec<Via, 3> vias_;
        ContactList contacts_;
        NameAddr from_;
        NameAddr to_;
        std::string_view call_id_;
        CSeq cseq_;
        int max_forwards_ = -1;
        std::int64_t content_length_ = -1;
        std::string_view body_;
        bool modified_ = false;
        bool start_line_modified_ = false;
    };
    struct DataDeleter {
        void operator()(Data* d) const;
    };
    std::unique_ptr<Data, DataDeleter> d_;
};

}  // namespace sw::sip
