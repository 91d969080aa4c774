// TLS over a TCP socket with OpenSSL reading and writing the socket itself (SSL_set_fd, non-blocking) and
// asio only telling when the socket is ready. asio::ssl::stream keeps two 17 KB record buffers per
// connection plus a BIO pair with two more, whether the connection is busy or idle; here an idle
// connection holds the SSL object alone (SSL_MODE_RELEASE_BUFFERS gives the record buffers back between
// messages). Phones keep their TLS connection open for hours between a few messages: 10,000 of them
// must fit in under 30 KB each (issue 8 part 4).
//
// The same shape as asio::ssl::stream for what the transports use: async_handshake, async_read_some,
// async_write_some (so asio::async_write works), next_layer, native_handle. Completion handlers run on
// the socket's executor, never inside the initiating call.
// Thread: one worker's io_context, like the socket.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <cerrno>
#include <cstddef>
#include <utility>

namespace sw::transport {

class LeanTlsStream {
public:
    using executor_type = asio::ip::tcp::socket::executor_type;
    using handshake_type = asio::ssl::stream_base::handshake_type;

    LeanTlsStream(asio::ip::tcp::socket socket, asio::ssl::context& context)
        : socket_(std::move(socket)), ssl_(SSL_new(context.native_handle())) {
        if (ssl_) {
            SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                   SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
            // One read() per record instead of two (its 5-byte header, then the rest): OpenSSL reads
            // what the socket has into its record buffer.
            SSL_set_read_ahead(ssl_, 1);
        }
    }
    ~LeanTlsStream() {
        if (ssl_) SSL_free(ssl_);
    }
    LeanTlsStream(const LeanTlsStream&) = delete;
    LeanTlsStream& operator=(const LeanTlsStream&) = delete;

    executor_type get_executor() { return socket_.get_executor(); }
    asio::ip::tcp::socket& next_layer() { return socket_; }
    SSL* native_handle() { return ssl_; }

    template <typename Handler>
    void async_handshake(handshake_type type, Handler&& handler) {
        if (!attach()) return complete(std::forward<Handler>(handler), asio::error::bad_descriptor);
        if (type == asio::ssl::stream_base::server) {
            SSL_set_accept_state(ssl_);
        } else {
            SSL_set_connect_state(ssl_);
        }
        step([this] { return SSL_do_handshake(ssl_); },
             [h = std::forward<Handler>(handler)](const asio::error_code& ec, int) mutable { h(ec); });
    }

    // Reads once the socket is readable, unless OpenSSL already holds bytes of a record (read ahead): a
    // SIP connection is read again right after a message, when the socket is nearly always empty, so a
    // first SSL_read would only cost a read() that fails with EAGAIN.
    template <typename MutableBuffers, typename Handler>
    void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
        const asio::mutable_buffer b = first(buffers);
        auto op = [this, b] {
            std::size_t n = 0;
            return SSL_read_ex(ssl_, b.data(), b.size(), &n) == 1 ? static_cast<int>(n) : -1;
        };
        auto done = [h = std::forward<Handler>(handler)](const asio::error_code& ec, int n) mutable {
            h(ec, ec ? std::size_t{0} : static_cast<std::size_t>(n));
        };
        if (SSL_has_pending(ssl_) == 1) return step(std::move(op), std::move(done));
        wait_then(asio::socket_base::wait_read, std::move(op), std::move(done));
    }

    template <typename ConstBuffers, typename Handler>
    void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
        const asio::const_buffer b = first(buffers);
        step(
            [this, b] {
                std::size_t n = 0;
                return SSL_write_ex(ssl_, b.data(), b.size(), &n) == 1 ? static_cast<int>(n) : -1;
            },
            [h = std::forward<Handler>(handler)](const asio::error_code& ec, int n) mutable {
                h(ec, ec ? std::size_t{0} : static_cast<std::size_t>(n));
            });
    }

private:
    bool attach() {
        if (!ssl_ || !socket_.is_open()) return false;
        asio::error_code ec;
        socket_.non_blocking(true, ec);
        return !ec && SSL_set_fd(ssl_, static_cast<int>(socket_.native_handle())) == 1;
    }

    template <typename Buffers>
    static auto first(const Buffers& buffers) {
        for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
            if (it->size() != 0) return *it;
        }
        return *asio::buffer_sequence_begin(buffers);
    }

    template <typename Handler>
    void complete(Handler&& handler, const asio::error_code& ec) {
        asio::post(socket_.get_executor(), [h = std::forward<Handler>(handler), ec]() mutable { h(ec); });
    }

    // Runs `op` (an SSL call returning > 0 on success) until it succeeds or fails, waiting for the socket
    // whenever OpenSSL wants to read or write it; then `done(ec, result)` on the executor.
    template <typename Op, typename Done>
    void step(Op op, Done done) {
        ERR_clear_error();
        const int r = op();
        if (r > 0) {
            asio::post(socket_.get_executor(),
                       [d = std::move(done), r]() mutable { d(asio::error_code(), r); });
            return;
        }
        const int err = SSL_get_error(ssl_, r);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            return wait_then(
                err == SSL_ERROR_WANT_READ ? asio::socket_base::wait_read : asio::socket_base::wait_write,
                std::move(op), std::move(done));
        }
        asio::error_code ec = asio::error::connection_reset;
        if (err == SSL_ERROR_ZERO_RETURN) ec = asio::error::eof;
        if (err == SSL_ERROR_SYSCALL && errno != 0) ec = asio::error_code(errno, asio::system_category());
        if (err == SSL_ERROR_SSL) ec = asio::error::make_error_code(asio::error::access_denied);
        ERR_clear_error();
        asio::post(socket_.get_executor(), [d = std::move(done), ec]() mutable { d(ec, 0); });
    }

    // Waits until the socket is ready (asio re-arms it with epoll_ctl, so bytes that are already there
    // count), then runs `op` as step does.
    template <typename Op, typename Done>
    void wait_then(asio::socket_base::wait_type wait, Op op, Done done) {
        socket_.async_wait(
            wait, [this, op = std::move(op), d = std::move(done)](const asio::error_code& ec) mutable {
                if (ec) return d(ec, 0);
                step(std::move(op), std::move(d));
            });
    }

    asio::ip::tcp::socket socket_;
    SSL* ssl_;
};

}  // namespace sw::transport
