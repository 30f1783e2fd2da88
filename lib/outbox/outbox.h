/* The outbox: no accepted mail is ever lost.
 *
 * cq_outbox_enqueue() stores the composed message (streamed in chunks),
 * its recipients and attachments, the outbox row and the history entry
 * in one transaction; once it returns, the mail survives crashes.
 *
 * A delivery worker claims due mail in batches with a lease: a claim
 * marks the mail `sending` for this worker until the lease runs out, so
 * that two workers never send the same mail.  The claims of a worker
 * that died run out and are taken over (at once when the worker ran on
 * this host and its process is gone).  After the transport has answered,
 * the results of a whole batch are committed together: each recipient's
 * result goes to the history, and the mail moves on:
 *
 *   queued -> sending -> sent           every recipient accepted
 *                     -> partly-sent    some accepted, the rest refused
 *                     -> failed         none accepted, or gave up
 *                     -> deferred       temporary failures: tried again
 *                                       after 1, 2, 4 ... times the
 *                                       retry base, up to the maximum
 *                                       wait, until the maximum age
 *                     -> uncertain      the connection broke after the
 *                                       message was handed over; waits
 *                                       for an operator (retry, cancel)
 *   queued, deferred, uncertain -> cancelled   by the sender or an admin
 *
 * A recipient once accepted or refused is never tried again.  After a
 * crash, the mails that were in flight (claimed, not yet recorded) are
 * delivered again: a batch bounds how many that can be.
 */
#ifndef CQ_OUTBOX_OUTBOX_H
#define CQ_OUTBOX_OUTBOX_H

#include "access/access.h"
#include "mime/build.h"
#include "outbox/transport.h"

/* Composes @message and stores it as described above; needs the
 * permission send.  Joins the caller's write transaction when there is
 * one, so that a batch of mails costs one commit.  *@mail_id may be
 * NULL. */
gboolean cq_outbox_enqueue(CqSession *session, CqMessage *message,
                           const CqMimeOptions *options, gint64 *mail_id,
                           GError **error);

/* Stores @raw, a complete message composed elsewhere (CRLF line ends),
 * as cq_outbox_enqueue() would: @envelope gives the envelope sender and
 * recipients, and the subject, record, origin and Message-ID that the
 * history shows; it has no bodies or attachments of its own.  Needs the
 * permission send. */
gboolean cq_outbox_enqueue_raw(CqSession *session, CqMessage *envelope,
                               GBytes *raw, gint64 *mail_id, GError **error);

/* Stores @n messages as cq_outbox_enqueue() would, all or none: in the
 * caller's write transaction, or else in one of its own.  Messages
 * without attachments are composed on every processor at once while the
 * ones before them are being stored; the rest are composed as they are
 * stored.  @mail_ids (may be NULL) receives the n identifiers.  On
 * failure the error names the message by its position. */
gboolean cq_outbox_enqueue_many(CqSession *session, CqMessage **messages,
                                guint n, const CqMimeOptions *options,
                                gint64 *mail_ids, GError **error);

typedef struct {
    gint64 lease;      /* seconds a claim lasts */
    gint64 retry_base; /* seconds before the first retry */
    gint64 retry_max;  /* the longest wait between two attempts */
    gint64 max_age;    /* give up on temporary failures after this */
    guint batch;       /* mails claimed and committed together */
    gint64 only_mail;  /* deliver just this mail; 0: all that are due */
} CqDeliverOptions;

/* The defaults: 5 minutes lease, 1 minute first retry, 1 hour at most
 * between retries, 5 days maximum age, batches of 100. */
CqDeliverOptions cq_deliver_options_default(void);
CqDeliverOptions cq_deliver_options_from_config(const CqConfig *config);

typedef struct {
    guint claimed;
    guint sent;
    guint partly_sent;
    guint deferred;
    guint failed;
    guint uncertain;
    guint taken_over; /* claims of dead workers taken over */
} CqDeliverStats;

typedef void (*CqDeliverProgress)(const CqDeliverStats *stats, gpointer data);

/* Delivers everything that is due now, batch after batch, and returns
 * when nothing is left.  Needs the permission administer, or for
 * @options->only_mail the permission send and the mail being the user's
 * own. */
gboolean cq_outbox_deliver(CqSession *session, CqTransport *transport,
                           const CqDeliverOptions *options,
                           CqDeliverStats *stats, CqDeliverProgress progress,
                           gpointer data, GError **error);

/* Microseconds until the next mail is due (0: now), or -1 when nothing
 * waits; for a daemon's sleep. */
gboolean cq_outbox_next_due(CqSession *session, gint64 *wait, GError **error);

/* Queues a deferred, failed, partly sent or uncertain mail again at once
 * for the recipients not yet accepted or refused; failed recipients are
 * tried again too.  For the sender and administrators. */
gboolean cq_outbox_retry(CqSession *session, gint64 mail_id, GError **error);
/* Cancels a mail that is not being sent and not yet delivered. */
gboolean cq_outbox_cancel(CqSession *session, gint64 mail_id, GError **error);

const char *const *cq_outbox_states(void);

#endif
