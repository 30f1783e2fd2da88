/* What the delivery worker needs of a transport: hand over a batch of
 * stored mails and learn, for each recipient, whether it was accepted,
 * deferred, rejected, or whether that is unknown (the connection broke
 * after the message was handed over).  A transport may deliver a batch
 * over one connection and pipeline it.
 */
#ifndef CQ_OUTBOX_TRANSPORT_H
#define CQ_OUTBOX_TRANSPORT_H

#include "common/config.h"
#include "mime/gmime-util.h"

typedef enum {
    CQ_OUTCOME_NONE, /* not tried yet */
    CQ_OUTCOME_ACCEPTED,
    CQ_OUTCOME_DEFERRED,  /* temporary failure: try again later */
    CQ_OUTCOME_REJECTED,  /* permanent failure */
    CQ_OUTCOME_UNCERTAIN, /* the server may or may not have the mail */
} CqOutcome;

typedef struct {
    gint64 rcpt_id;
    char *address; /* local@domain, for RCPT TO */
    CqOutcome outcome;
    int code;    /* the SMTP reply code, 0 when there was no reply */
    char *reply; /* the server's words, or what failed */
} CqTransportRcpt;

typedef struct {
    gint64 mail_id;
    char *envelope_from;
    gboolean smtputf8;
    gboolean is_8bit;    /* the message holds 8bit text (8BITMIME) */
    gboolean downgraded; /* set by a transport that re-encoded it 7-bit */
    gint64 size;
    GMimeStream *raw; /* the stored message, CRLF line ends */
    GArray *rcpts;    /* of CqTransportRcpt: those still to deliver */
} CqTransportMail;

/* Sets the outcome of one recipient (@reply is copied). */
void cq_transport_rcpt_set(CqTransportRcpt *rcpt, CqOutcome outcome, int code,
                           const char *reply);
/* Gives every recipient of @mail without an outcome this one. */
void cq_transport_mail_set_all(CqTransportMail *mail, CqOutcome outcome,
                               int code, const char *reply);

typedef struct _CqTransport CqTransport;

typedef struct {
    const char *name;
    /* Delivers @n mails, setting the outcome of their recipients.
     * Returns FALSE when the transport failed as a whole; recipients left
     * without an outcome are then classed by the error (CQ_ERROR_PERMFAIL
     * rejects, everything else defers). */
    gboolean (*deliver)(CqTransport *transport, CqTransportMail **mails,
                        guint n, GError **error);
    /* Whether messages may hold 8bit text: the Maildir always, an SMTP
     * server when it offers 8BITMIME (asked by connecting).  NULL: no. */
    gboolean (*allows_8bit)(CqTransport *transport);
    void (*free)(CqTransport *transport);
    /* How many deliver() calls may run at once, each from its own
     * thread; NULL: one. */
    guint (*parallel)(CqTransport *transport);
} CqTransportClass;

struct _CqTransport {
    const CqTransportClass *klass;
};

/* The transport @config names: the local Maildir, or the SMTP server. */
CqTransport *cq_transport_new(const CqConfig *config, GError **error);
/* A transport to the SMTP server of @config, which must outlive it: up
 * to `[smtp] connections` connections, each used for one batch at a time
 * and kept for the next, opened when first needed. */
CqTransport *cq_transport_smtp_new(const CqConfig *config, GError **error);
/* A transport into the Maildir at @path. */
CqTransport *cq_transport_maildir_new(const char *path);
/* Whether messages for the transport of @config may use 8bit text
 * without asking the server: only for the Maildir. */
gboolean cq_transport_allows_8bit(const CqConfig *config);
/* Asks @transport whether messages for it may use 8bit text; FALSE when
 * it cannot tell (an SMTP server that cannot be reached now). */
gboolean cq_transport_probe_8bit(CqTransport *transport);

/* How many batches @transport takes at once. */
guint cq_transport_parallel(CqTransport *transport);

void cq_transport_free(CqTransport *transport);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqTransport, cq_transport_free)

#endif
