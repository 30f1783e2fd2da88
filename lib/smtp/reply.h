/* SMTP replies (RFC 5321 4.2), parsed line by line.
 *
 * A reply is one or more lines `CODE-text` ending with `CODE text` (or the
 * code alone).  Every line must carry the same code, the first digit 2-5,
 * the second 0-5.  An enhanced status code (RFC 2034, RFC 3463:
 * class.subject.detail, class equal to the reply's first digit) at the
 * start of the text is taken out of it.  Input is bounded: a reply of more
 * than CQ_SMTP_REPLY_MAX_LINES lines, or a line longer than
 * CQ_SMTP_REPLY_MAX_LINE, is a protocol error.
 */
#ifndef CQ_SMTP_REPLY_H
#define CQ_SMTP_REPLY_H

#include <glib.h>

#define CQ_SMTP_REPLY_MAX_LINES 100
#define CQ_SMTP_REPLY_MAX_LINE 4096

typedef struct {
    guint code;        /* 200-559; 0 while nothing was parsed */
    char enhanced[12]; /* "5.1.1", or "" when none */
    GPtrArray *lines;  /* of char*, each line's text without the codes */
    gboolean done;     /* the last line was seen */
} CqSmtpReply;

/* Prepares an empty reply; cq_smtp_reply_clear() frees what it holds and
 * leaves it empty again, ready for the next reply. */
void cq_smtp_reply_init(CqSmtpReply *reply);
void cq_smtp_reply_clear(CqSmtpReply *reply);

/* Adds one line (@len bytes, without the line end) to @reply.  Returns
 * FALSE with CQ_ERROR_PROTOCOL when the line breaks the rules above; the
 * reply is then unusable.  After the last line, reply->done is TRUE. */
gboolean cq_smtp_reply_feed(CqSmtpReply *reply, const char *line, gsize len,
                            GError **error);

/* The text of all lines joined by "\n"; newly allocated. */
char *cq_smtp_reply_text(const CqSmtpReply *reply);

/* `550 5.1.1 text` on one line, lines joined by " / ", control
 * characters escaped: for messages and logs.  Newly allocated. */
char *cq_smtp_reply_summary(const CqSmtpReply *reply);

static inline gboolean
cq_smtp_reply_is_positive(const CqSmtpReply *reply)
{
    return reply->code >= 200 && reply->code < 400;
}

static inline gboolean
cq_smtp_reply_is_permanent(const CqSmtpReply *reply)
{
    return reply->code >= 500;
}

#endif
