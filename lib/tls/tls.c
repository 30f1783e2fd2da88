#include "tls/tls.h"

#include "common/error.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <poll.h>
#include <string.h>

struct _CqTlsContext {
    SSL_CTX *ctx;
    guchar pin[32]; /* pinned SHA-256, when has_pin */
    gboolean has_pin;
};

struct _CqTls {
    SSL *ssl;
    int fd;
};

gboolean
cq_tls_wait_fd(int fd, short events, gint64 deadline)
{
    for (;;) {
        gint64 left = deadline - g_get_monotonic_time();
        if (left <= 0)
            return FALSE;
        struct pollfd pfd = {.fd = fd, .events = events};
        int timeout = (int)MIN(left / 1000 + 1, G_MAXINT);
        int n = poll(&pfd, 1, timeout);
        if (n > 0)
            return TRUE;
        if (n < 0 && errno != EINTR)
            return TRUE; /* let the following call report the error */
    }
}

/* The oldest queued OpenSSL error as text; clears the queue. */
static char *
openssl_reason(void)
{
    unsigned long code = ERR_get_error();
    char buffer[256] = "";

    if (code != 0)
        ERR_error_string_n(code, buffer, sizeof buffer);
    ERR_clear_error();
    return g_strdup(code ? buffer : "connection closed");
}

static gboolean
parse_fingerprint(const char *text, guchar out[32], GError **error)
{
    char hex[65];
    gsize n = 0;

    for (const char *p = text; *p; p++) {
        if (*p == ':' || *p == ' ')
            continue;
        if (!g_ascii_isxdigit(*p) || n == 64) {
            n = 0;
            break;
        }
        hex[n++] = *p;
    }
    if (n != 64) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                    "fingerprint '%s': expected the 64 hex digits of a "
                    "SHA-256", text);
        return FALSE;
    }
    for (gsize i = 0; i < 32; i++)
        out[i] = (guchar)(g_ascii_xdigit_value(hex[2 * i]) << 4 |
                          g_ascii_xdigit_value(hex[2 * i + 1]));
    return TRUE;
}

static gboolean
load_trust(SSL_CTX *ctx, const char *ca_file, GError **error)
{
    if (ca_file == NULL) {
        if (SSL_CTX_set_default_verify_paths(ctx) == 1)
            return TRUE;
    } else if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) == 1) {
        return TRUE;
    }
    g_autofree char *reason = openssl_reason();
    g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG, "CA file '%s': %s",
                ca_file ? ca_file : "(system store)", reason);
    return FALSE;
}

CqTlsContext *
cq_tls_context_new(const char *ca_file, const char *fingerprint,
                   GError **error)
{
    CqTlsContext *context = g_new0(CqTlsContext, 1);

    if (fingerprint != NULL) {
        if (!parse_fingerprint(fingerprint, context->pin, error))
            goto fail;
        context->has_pin = TRUE;
    }
    context->ctx = SSL_CTX_new(TLS_client_method());
    if (context->ctx == NULL) {
        g_autofree char *reason = openssl_reason();
        g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED, "TLS: %s", reason);
        goto fail;
    }
    SSL_CTX_set_min_proto_version(context->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(context->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                       SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!context->has_pin && !load_trust(context->ctx, ca_file, error))
        goto fail;
    return context;
fail:
    cq_tls_context_free(context);
    return NULL;
}

void
cq_tls_context_free(CqTlsContext *context)
{
    if (context == NULL)
        return;
    if (context->ctx != NULL)
        SSL_CTX_free(context->ctx);
    g_free(context);
}

static gboolean
set_peer_name(SSL *ssl, const char *host)
{
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);

    if (g_hostname_is_ip_address(host))
        return X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1;
    X509_VERIFY_PARAM_set_hostflags(param,
                                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set_tlsext_host_name(ssl, host) == 1 &&
           X509_VERIFY_PARAM_set1_host(param, host, 0) == 1;
}

static gboolean
check_pin(CqTlsContext *context, SSL *ssl, GError **error)
{
    X509 *cert = SSL_get0_peer_certificate(ssl);
    guchar digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (cert != NULL && X509_digest(cert, EVP_sha256(), digest, &len) == 1 &&
        len == 32 && CRYPTO_memcmp(digest, context->pin, 32) == 0)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_PERMFAIL,
                "TLS: the server certificate does not match the pinned "
                "fingerprint");
    return FALSE;
}

static void
set_handshake_error(SSL *ssl, int ret, GError **error)
{
    long verify = SSL_get_verify_result(ssl);

    if (verify != X509_V_OK) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_PERMFAIL,
                    "TLS: certificate not trusted: %s",
                    X509_verify_cert_error_string(verify));
        ERR_clear_error();
        return;
    }
    int kind = SSL_get_error(ssl, ret);
    g_autofree char *reason = openssl_reason();
    if (kind == SSL_ERROR_SYSCALL || kind == SSL_ERROR_ZERO_RETURN)
        g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL,
                    "TLS handshake: connection closed by the server");
    else
        g_set_error(error, CQ_ERROR, CQ_ERROR_PERMFAIL,
                    "TLS handshake: %s", reason);
}

/* Waits for what @ssl asked for after returning @ret; FALSE when the
 * error is not a wish to wait, or on timeout. */
static gboolean
wait_io(SSL *ssl, int fd, int ret, gint64 deadline, gboolean *timed_out)
{
    int kind = SSL_get_error(ssl, ret);
    short events;

    if (kind == SSL_ERROR_WANT_READ)
        events = POLLIN;
    else if (kind == SSL_ERROR_WANT_WRITE)
        events = POLLOUT;
    else
        return FALSE;
    if (cq_tls_wait_fd(fd, events, deadline))
        return TRUE;
    *timed_out = TRUE;
    return FALSE;
}

static gboolean
handshake(SSL *ssl, int fd, int timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    gboolean timed_out = FALSE;

    for (;;) {
        int ret = SSL_connect(ssl);
        if (ret == 1)
            return TRUE;
        if (wait_io(ssl, fd, ret, deadline, &timed_out))
            continue;
        if (timed_out)
            g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL,
                        "TLS handshake: no answer within %d s",
                        timeout_ms / 1000);
        else
            set_handshake_error(ssl, ret, error);
        return FALSE;
    }
}

CqTls *
cq_tls_connect(CqTlsContext *context, int fd, const char *host,
               int timeout_ms, GError **error)
{
    CqTls *tls = g_new0(CqTls, 1);

    tls->fd = fd;
    tls->ssl = SSL_new(context->ctx);
    if (tls->ssl == NULL || SSL_set_fd(tls->ssl, fd) != 1 ||
        !set_peer_name(tls->ssl, host)) {
        g_autofree char *reason = openssl_reason();
        g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED, "TLS for '%s': %s",
                    host, reason);
        goto fail;
    }
    SSL_set_verify(tls->ssl,
                   context->has_pin ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                   NULL);
    if (!handshake(tls->ssl, fd, timeout_ms, error))
        goto fail;
    if (context->has_pin && !check_pin(context, tls->ssl, error))
        goto fail;
    return tls;
fail:
    if (tls->ssl != NULL)
        SSL_free(tls->ssl);
    g_free(tls);
    return NULL;
}

gssize
cq_tls_read(CqTls *tls, void *buffer, gsize len, int timeout_ms,
            GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    gboolean timed_out = FALSE;
    size_t got = 0;

    for (;;) {
        int ret = SSL_read_ex(tls->ssl, buffer, len, &got);
        if (ret == 1)
            return (gssize)got;
        int kind = SSL_get_error(tls->ssl, ret);
        if (kind == SSL_ERROR_ZERO_RETURN)
            return 0;
        if (wait_io(tls->ssl, tls->fd, ret, deadline, &timed_out))
            continue;
        g_autofree char *reason = openssl_reason();
        if (timed_out)
            g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL,
                        "no answer in time");
        else if (kind == SSL_ERROR_SYSCALL)
            return 0; /* closed without close_notify */
        else
            g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL, "TLS: %s",
                        reason);
        return -1;
    }
}

gboolean
cq_tls_write_all(CqTls *tls, const void *data, gsize len, int timeout_ms,
                 GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    const char *p = data;
    gboolean timed_out = FALSE;

    while (len > 0) {
        size_t done = 0;
        int ret = SSL_write_ex(tls->ssl, p, len, &done);
        if (ret == 1) {
            p += done;
            len -= done;
            continue;
        }
        if (wait_io(tls->ssl, tls->fd, ret, deadline, &timed_out))
            continue;
        ERR_clear_error();
        g_set_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL, "%s",
                    timed_out ? "the server took nothing in time"
                              : "connection lost");
        return FALSE;
    }
    return TRUE;
}

gsize
cq_tls_pending(CqTls *tls)
{
    return (gsize)SSL_pending(tls->ssl);
}

void
cq_tls_free(CqTls *tls)
{
    if (tls == NULL)
        return;
    SSL_shutdown(tls->ssl);
    ERR_clear_error();
    SSL_free(tls->ssl);
    g_free(tls);
}

/* What was printed into @bio, as a new string; frees @bio. */
static char *
bio_text(BIO *bio)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    char *text = g_strndup(data, (gsize)MAX(len, 0));

    BIO_free(bio);
    return text;
}

static char *
name_text(const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());

    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    return bio_text(bio);
}

static char *
time_text(const ASN1_TIME *time)
{
    BIO *bio = BIO_new(BIO_s_mem());

    ASN1_TIME_print(bio, time);
    return bio_text(bio);
}

static char *
digest_text(const X509 *cert)
{
    guchar digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    GString *text = g_string_new(NULL);

    if (X509_digest(cert, EVP_sha256(), digest, &len) == 1) {
        for (unsigned int i = 0; i < len; i++)
            g_string_append_printf(text, "%s%02X", i ? ":" : "", digest[i]);
    }
    return g_string_free(text, FALSE);
}

void
cq_tls_get_info(CqTls *tls, CqTlsInfo *info)
{
    X509 *cert = SSL_get0_peer_certificate(tls->ssl);

    *info = (CqTlsInfo){0};
    info->version = g_strdup(SSL_get_version(tls->ssl));
    info->cipher = g_strdup(SSL_get_cipher_name(tls->ssl));
    if (cert == NULL)
        return;
    info->subject = name_text(X509_get_subject_name(cert));
    info->issuer = name_text(X509_get_issuer_name(cert));
    info->not_after = time_text(X509_get0_notAfter(cert));
    info->sha256 = digest_text(cert);
}

void
cq_tls_info_clear(CqTlsInfo *info)
{
    g_clear_pointer(&info->version, g_free);
    g_clear_pointer(&info->cipher, g_free);
    g_clear_pointer(&info->subject, g_free);
    g_clear_pointer(&info->issuer, g_free);
    g_clear_pointer(&info->not_after, g_free);
    g_clear_pointer(&info->sha256, g_free);
}
