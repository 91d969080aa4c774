#include "transport/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace sw::transport {

namespace {

std::string openssl_error() {
    const unsigned long e = ERR_get_error();
    if (e == 0) return "unknown OpenSSL error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

struct FileCloser {
    void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;
using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

std::string hex_fingerprint(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    X509_digest(cert, EVP_sha256(), md, &n);
    std::string out;
    char b[4];
    for (unsigned int i = 0; i < n; ++i) {
        std::snprintf(b, sizeof b, i ? ":%02X" : "%02X", md[i]);
        out += b;
    }
    return out;
}

}  // namespace

sw::Result<std::shared_ptr<asio::ssl::context>, std::string> make_server_context(const TlsSettings& s) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    SSL_CTX* raw = ctx->native_handle();
    // RFC 8996: no TLS 1.0/1.1. TLS 1.3 is negotiated whenever the client offers it.
    SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
    SSL_CTX_set_options(raw,
                        SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_set_cipher_list(raw, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!SHA1") != 1) {
        return sw::unexpected("TLS cipher list: " + openssl_error());
    }
    if (SSL_CTX_use_certificate_chain_file(raw, s.cert_file.c_str()) != 1) {
        return sw::unexpected("TLS certificate " + s.cert_file + ": " + openssl_error());
    }
    if (SSL_CTX_use_PrivateKey_file(raw, s.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        return sw::unexpected("TLS key " + s.key_file + ": " + openssl_error());
    }
    if (SSL_CTX_check_private_key(raw) != 1) {
        return sw::unexpected("TLS key " + s.key_file + " does not match " + s.cert_file);
    }
    if (s.verify_client) {
        if (s.ca_file.empty() || SSL_CTX_load_verify_locations(raw, s.ca_file.c_str(), nullptr) != 1) {
            return sw::unexpected("TLS client CA " + s.ca_file + ": " + openssl_error());
        }
        SSL_CTX_set_verify(raw, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    return ctx;
}

sw::Result<std::shared_ptr<asio::ssl::context>, std::string> make_client_context(const std::string& ca_file) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX* raw = ctx->native_handle();
    SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
    SSL_CTX_set_options(raw, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_set_cipher_list(raw, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!SHA1") != 1) {
        return sw::unexpected("TLS cipher list: " + openssl_error());
    }
    const int loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(raw)
                                       : SSL_CTX_load_verify_locations(raw, ca_file.c_str(), nullptr);
    if (loaded != 1)
        return sw::unexpected("TLS CA " + (ca_file.empty() ? "store" : ca_file) + ": " + openssl_error());
    // RFC 5922 / RFC 5630: a provider is who its certificate says, or the connection fails.
    SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
    return ctx;
}

sw::Result<std::string, std::string> certificate_fingerprint(const std::string& cert_file) {
    File f(std::fopen(cert_file.c_str(), "r"));
    if (!f) return sw::unexpected("cannot read " + cert_file);
    Cert cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr), X509_free);
    if (!cert) return sw::unexpected(cert_file + ": " + openssl_error());
    return hex_fingerprint(cert.get());
}

sw::Result<SelfSigned, std::string> ensure_self_signed(const std::string& dir,
                                                       const std::string& common_name) {
    SelfSigned out;
    out.cert_file = dir + "/cert.pem";
    out.key_file = dir + "/key.pem";
    std::error_code ec;
    if (std::filesystem::exists(out.cert_file, ec) && std::filesystem::exists(out.key_file, ec)) {
        auto fp = certificate_fingerprint(out.cert_file);
        if (!fp) return sw::unexpected(fp.error());
        out.fingerprint = *fp;
        return out;
    }
    std::filesystem::create_directories(dir, ec);
    if (ec) return sw::unexpected("cannot create " + dir + ": " + ec.message());

    Key key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    if (!key) return sw::unexpected("key generation: " + openssl_error());
    Cert cert(X509_new(), X509_free);
    X509_set_version(cert.get(), 2);
    unsigned char serial[16];
    std::FILE* urandom = std::fopen("/dev/urandom", "rb");
    if (!urandom || std::fread(serial, 1, sizeof serial, urandom) != sizeof serial) {
        if (urandom) std::fclose(urandom);
        return sw::unexpected("cannot read /dev/urandom");
    }
    std::fclose(urandom);
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 825);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("sipwarden"),
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    const std::string san = "DNS:" + common_name;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
    if (ext) {
        X509_add_ext(cert.get(), ext, -1);
        X509_EXTENSION_free(ext);
    }
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
        return sw::unexpected("signing: " + openssl_error());

    // The key is written with mode 0600 from the start: never readable by others, not even briefly.
    const mode_t old_mask = ::umask(0077);
    File kf(std::fopen(out.key_file.c_str(), "w"));
    ::umask(old_mask);
    if (!kf || PEM_write_PrivateKey(kf.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return sw::unexpected("cannot write " + out.key_file);
    }
    kf.reset();
    File cf(std::fopen(out.cert_file.c_str(), "w"));
    if (!cf || PEM_write_X509(cf.get(), cert.get()) != 1)
        return sw::unexpected("cannot write " + out.cert_file);
    out.fingerprint = hex_fingerprint(cert.get());
    out.created = true;
    return out;
}

}  // namespace sw::transport
