/* The inside of a CqSmtpEnvelope, for the session code. */
#ifndef CQ_SMTP_ENVELOPE_H
#define CQ_SMTP_ENVELOPE_H

#include "smtp/client.h"

typedef struct {
    char *address;
    char *orcpt; /* or NULL */
} CqSmtpEnvRcpt;

struct _CqSmtpEnvelope {
    char *sender;
    GPtrArray *rcpts; /* of CqSmtpEnvRcpt* */
    gboolean is_8bit;
    gboolean smtputf8;
    guint notify;  /* CqSmtpNotify flags */
    CqSmtpRet ret;
    char *envid;
};

/* The NOTIFY value ("SUCCESS,FAILURE") of @flags; newly allocated. */
char *cq_smtp_notify_text(guint flags);

/* Parses "never" or a comma-separated list of success, failure, delay.
 */
gboolean cq_smtp_notify_parse(const char *text, guint *flags,
                              GError **error);

/* @text as an RFC 3461 xtext; newly allocated. */
char *cq_smtp_xtext(const char *text);

#endif
