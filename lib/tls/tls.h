/* TLS for caqmail's clients: the only place that calls OpenSSL.
 *
 * A CqTlsContext holds the trust settings (the system store, or a CA file,
 * or a pinned certificate fingerprint) and requires TLS 1.2 or newer.  A
 * CqTls is one client connection on an already connected, non-blocking
 * socket; every operation waits at most the given number of milliseconds.
 * Unless a fingerprint is pinned, the chain is verified against the trust
 * store and the host name (or IP address) against the certificate; a
 * pinned fingerprint replaces both, for servers with self-signed
 * certificates.
 */
#ifndef CQ_TLS_TLS_H
#define CQ_TLS_TLS_H

#include <glib.h>

typedef struct _CqTlsContext CqTlsContext;
typedef struct _CqTls CqTls;

/* @ca_file: PEM trust anchors instead of the system store, or NULL.
 * @fingerprint: SHA-256 of the server certificate in hex, colons and case
 * free, or NULL.  Fails with CQ_ERROR_CONFIG.  Free with
 * cq_tls_context_free(). */
CqTlsContext *cq_tls_context_new(const char *ca_file, const char *fingerprint,
                                 GError **error);
void cq_tls_context_free(CqTlsContext *context);

/* Shakes hands on @fd (connected, non-blocking; still owned by the caller)
 * as a client of @host, sent as SNI and verified as described above.
 * Fails with CQ_ERROR_TEMPFAIL (timeout, connection lost) or
 * CQ_ERROR_PERMFAIL (verification or protocol failure); the message names
 * the reason.  Free with cq_tls_free(). */
CqTls *cq_tls_connect(CqTlsContext *context, int fd, const char *host,
                      int timeout_ms, GError **error);

/* Reads what is there, up to @len bytes, waiting at most @timeout_ms for
 * the first byte.  Returns the count, 0 at the end of the stream, or -1
 * with @error set (CQ_ERROR_TEMPFAIL). */
gssize cq_tls_read(CqTls *tls, void *buffer, gsize len, int timeout_ms,
                   GError **error);

/* Writes all of @data, waiting at most @timeout_ms in all. */
gboolean cq_tls_write_all(CqTls *tls, const void *data, gsize len,
                          int timeout_ms, GError **error);

/* Bytes already decrypted and waiting to be read. */
gsize cq_tls_pending(CqTls *tls);

/* Sends close_notify without waiting, and frees; NULL is allowed.  The
 * socket stays open. */
void cq_tls_free(CqTls *tls);

/* The negotiated connection and the server certificate, for people. */
typedef struct {
    char *version;    /* "TLSv1.3" */
    char *cipher;     /* "TLS_AES_256_GCM_SHA384" */
    char *subject;    /* RFC 2253 one-line form */
    char *issuer;
    char *not_after;  /* "Jun  1 12:00:00 2027 GMT" */
    char *sha256;     /* "AB:CD:..." */
} CqTlsInfo;

/* Fills @info with newly allocated strings; clear with
 * cq_tls_info_clear(). */
void cq_tls_get_info(CqTls *tls, CqTlsInfo *info);
void cq_tls_info_clear(CqTlsInfo *info);

/* Waits until @fd is readable (@events POLLIN) or writable (POLLOUT) or
 * @deadline (g_get_monotonic_time() microseconds) passes; FALSE on
 * timeout.  Shared by the plain socket code. */
gboolean cq_tls_wait_fd(int fd, short events, gint64 deadline);

#endif
