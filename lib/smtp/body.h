/* The message in DATA: dot-stuffed, CRLF line ends, final "." line; and
 * the 7-bit downgrade for servers without 8BITMIME. */
#ifndef CQ_SMTP_BODY_H
#define CQ_SMTP_BODY_H

#include "mime/gmime-util.h"
#include "smtp/conn.h"

/* Receives the bytes of the message as they go out. */
typedef void (*CqSmtpSinkFunc)(gpointer sink, const char *data, gsize len);

/* Reads @message from its position to its end and passes it to @func
 * dot-stuffed (RFC 5321 4.5.2), bare LF written as CRLF, ending with CRLF
 * (not the "." line).  Sets *@bytes to what was passed on.  Fails with
 * CQ_ERROR_IO when @message cannot be read. */
gboolean cq_smtp_body_copy(GMimeStream *message, CqSmtpSinkFunc func,
                           gpointer sink, gint64 *bytes, GError **error);

/* Queues @message from its position to its end on @conn, dot-stuffed
 * (RFC 5321 4.5.2), bare LF written as CRLF, ending with CRLF "." CRLF.
 * Sets *@bytes to what was queued.  Fails with CQ_ERROR_IO when @message
 * cannot be read; the DATA is then unfinished and the connection must
 * be dropped. */
gboolean cq_smtp_body_queue(CqSmtpConn *conn, GMimeStream *message,
                            gint64 *bytes, GError **error);

/* A new stream holding @message re-encoded 7-bit clean (8bit parts become
 * quoted-printable or base64), in a temporary file that is already
 * unlinked.  The original is read from its position to its end. */
GMimeStream *cq_smtp_body_downgrade(GMimeStream *message, GError **error);

#endif
