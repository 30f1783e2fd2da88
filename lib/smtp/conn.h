/* The command/response layer under the SMTP session: one TCP connection,
 * optionally TLS, with a buffered writer and a line reader.
 *
 * Commands are queued in an output buffer and written only when a reply
 * is needed (cq_smtp_conn_read_reply() flushes first) or the buffer is
 * full, so that pipelined commands leave in one write.  Replies are read
 * in large chunks.  Every line sent or received is traced as a debug
 * event (`smtp-out` / `smtp-in`, with session=N); a line may be traced in
 * a masked form so that credentials never reach the log.
 */
#ifndef CQ_SMTP_CONN_H
#define CQ_SMTP_CONN_H

#include "smtp/reply.h"
#include "tls/tls.h"

typedef struct _CqSmtpConn CqSmtpConn;

/* Connects to @host:@port within @timeout_ms, with TCP_NODELAY.  Fails
 * with CQ_ERROR_TEMPFAIL.  Free with cq_smtp_conn_free(). */
CqSmtpConn *cq_smtp_conn_connect(const char *host, guint port, guint session,
                                 int timeout_ms, GError **error);
void cq_smtp_conn_free(CqSmtpConn *conn);

/* How long a write of queued data may wait (default: the connect
 * timeout). */
void cq_smtp_conn_set_write_timeout(CqSmtpConn *conn, int timeout_ms);

/* Starts TLS on the connection (after a 220 to STARTTLS, or at once for
 * implicit TLS).  Input already buffered is discarded (RFC 3207 5). */
gboolean cq_smtp_conn_start_tls(CqSmtpConn *conn, CqTlsContext *context,
                                const char *host, int timeout_ms,
                                GError **error);
CqTls *cq_smtp_conn_get_tls(CqSmtpConn *conn);

/* Queues @line and CRLF; traces it as @shown (NULL: as it is). */
void cq_smtp_conn_queue_line(CqSmtpConn *conn, const char *line,
                             const char *shown);
/* Queues @line like cq_smtp_conn_queue_line(), and has the output
 * buffer wiped once it was written: for lines that carry credentials. */
void cq_smtp_conn_queue_secret_line(CqSmtpConn *conn, const char *line,
                                    const char *shown);

/* Queues raw message bytes (not traced line by line). */
void cq_smtp_conn_queue_data(CqSmtpConn *conn, const char *data, gsize len);
gsize cq_smtp_conn_queued(CqSmtpConn *conn);

/* Writes what is queued, waiting at most @timeout_ms. */
gboolean cq_smtp_conn_flush(CqSmtpConn *conn, int timeout_ms,
                            GError **error);

/* Flushes, then reads one whole reply into @reply (cleared first),
 * waiting at most @timeout_ms for it.  Fails with CQ_ERROR_TEMPFAIL
 * (timeout, connection closed) or CQ_ERROR_PROTOCOL. */
gboolean cq_smtp_conn_read_reply(CqSmtpConn *conn, CqSmtpReply *reply,
                                 int timeout_ms, GError **error);

/* TRUE once the peer closed or a read or write failed. */
gboolean cq_smtp_conn_is_broken(CqSmtpConn *conn);

#endif
