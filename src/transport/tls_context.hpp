// TLS for SIPS (RFC 3261 26.2, RFC 5630) with OpenSSL 3: TLS 1.2 at least, 1.3 preferred, forward-secret
// AEAD ciphers only. The server's certificate and key come from files; when none are configured, a
// self-signed certificate is made on first start in the data folder (and kept for later starts).
#pragma once

#include <asio/ssl.hpp>
#include <memory>
#include <string>

#include "common/result.hpp"

namespace sw::transport {

struct TlsSettings {
    std::string cert_file;  // PEM chain, leaf first
    std::string key_file;   // PEM private key
    std::string ca_file;    // PEM CAs for client certificates (optional)
    bool verify_client = false;
};

// Builds a server context from the files. The error names the file and OpenSSL's reason.
sw::Result<std::shared_ptr<asio::ssl::context>, std::string> make_server_context(const TlsSettings& s);

// A client context for connections we open (TLS trunks): TLS 1.2 at least, the same ciphers, and the
// peer's certificate verified against `ca_file` (PEM) or, when empty, the system's CA store. The host
// name is checked per connection (Transports::connect_tls).
sw::Result<std::shared_ptr<asio::ssl::context>, std::string> make_client_context(const std::string& ca_file);

struct SelfSigned {
    std::string cert_file;
    std::string key_file;
    std::string fingerprint;  // SHA-256, "AB:CD:..."
    bool created = false;     // false: an earlier start made it
};

// Makes (once) an EC P-256 key and a self-signed certificate for `common_name` in `dir`
// (key file mode 0600). The error says what failed.
sw::Result<SelfSigned, std::string> ensure_self_signed(const std::string& dir,
                                                       const std::string& common_name);

// SHA-256 fingerprint of the first certificate in a PEM file.
sw::Result<std::string, std::string> certificate_fingerprint(const std::string& cert_file);

}  // namespace sw::transport
