/* Direct delivery: compose a message and hand it to the configured
 * transport at once, without the outbox.  Used by `caqmail send` for local
 * delivery and by the demo. */
#ifndef CQ_DELIVER_DIRECT_H
#define CQ_DELIVER_DIRECT_H

#include "common/config.h"
#include "mime/build.h"
#include "smtp/result.h"

typedef struct {
    const char *transport; /* "maildir" or "smtp"; static */
    char *location;        /* the Maildir file, or the server */
    gint64 size;           /* bytes of the composed message */
    CqSmtpResult smtp;     /* SMTP: per recipient; empty for a Maildir */
} CqDirectResult;

void cq_direct_result_clear(CqDirectResult *result);

/* The MIME options that @config asks for when writing for a transport
 * that does (@transport_8bit) or does not take 8bit text. */
CqMimeOptions cq_mime_options_from_config(const CqConfig *config,
                                          gboolean transport_8bit);

/* Composes @message and delivers it through the configured transport;
 * emits one summary event.  Over SMTP the session is opened first, so
 * that 8bit text is used only where the server offers 8BITMIME.  Fails
 * unless every recipient was accepted; result->smtp then tells which
 * were (CQ_ERROR_TEMPFAIL when a retry may help, else CQ_ERROR_PERMFAIL).
 */
gboolean cq_deliver_direct(const CqConfig *config, CqMessage *message,
                           CqDirectResult *result, GError **error);

#endif
