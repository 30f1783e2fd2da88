/* The collection-list run: what `caqmail gauges collect` does.
 *
 * Every holder of gauges that the collection policy (collect-policy.h)
 * lists today — due within the window or overdue, in use or with a
 * collection already requested, not listed in the last repeat_days —
 * gets one mail: the list as a table in the text and HTML body, written
 * from the collection templates in the holder's language, and as a PDF
 * attachment drawn by pdf-list.h; the calibration lab ([gauges] lab) is
 * in copy.  In the same transaction as the mail, each listed gauge
 * becomes "collection-requested" with today as the day it was last
 * listed, on the condition that it still stands where the run read it,
 * so that a repeated run or two at once list no gauge twice; and each
 * gauge's history gets an entry for the mail (history/item.h).
 *
 * A real run needs the permission administer; a dry run, which composes
 * every mail (and its PDF) and reports it but changes nothing, needs
 * read-all.
 */
#ifndef CQ_WORKFLOW_COLLECT_H
#define CQ_WORKFLOW_COLLECT_H

#include "access/access.h"
#include "compose/message.h"
#include "workflow/day.h"

typedef struct {
    CqDay today;
    gint within_days; /* the window; negative: [gauges] within_days */
    gboolean dry_run; /* compose and report, change nothing */
    const char *from; /* the sender; NULL: cq_resolve_default_sender() */
} CqCollectOptions;

/* One mail of a run, as reported to the caller. */
typedef struct {
    const char *holder;        /* the person's identifier */
    const char *language;      /* the language of its templates */
    const CqMessage *message;  /* subject, recipients, bodies, the PDF */
    const char *const *gauges; /* inventory numbers, NULL-terminated */
    gint64 mail_id;            /* in the outbox; 0 in a dry run */
} CqCollectMail;

typedef void (*CqCollectFunc)(const CqCollectMail *mail, gpointer data);

typedef struct {
    guint selected; /* gauges due within the window */
    guint mails;    /* mails queued (in a dry run: composed) */
    guint listed;   /* gauges on them */
    guint taken;    /* gauges another run listed or changed first */
    guint failed;   /* gauges of holders whose mail failed (see events) */
} CqCollectStats;

/* Runs the collection lists for @options->today with the policy and
 * templates of @config, calling @each (may be NULL) for every mail once
 * it is queued.  Fails before sending anything on a broken policy or
 * template (CQ_ERROR_CONFIG); a failure of the store stops the run,
 * keeping the mails queued before it.  @stats may be NULL. */
gboolean cq_collect_run(CqSession *session, const CqConfig *config,
                        const CqCollectOptions *options, CqCollectFunc each,
                        gpointer data, CqCollectStats *stats, GError **error);

#endif
