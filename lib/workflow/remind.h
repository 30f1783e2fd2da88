/* The reminder run: what `caqmail remind` does once a day.
 *
 * It selects the open measures that may need a reminder (due within the
 * policy's horizon, or standing at a level), asks the reminder policy
 * (remind-policy.h) what each needs today, and queues the mails:
 *
 *  - recipients come from the level's roles through the catalog: the
 *    responsible person, that person's supervisor and department head,
 *    distribution lists, and quality management;
 *  - a per-measure level sends one mail per measure; a digest level one
 *    mail per responsible person with all of that person's measures at
 *    that level;
 *  - each mail is written from the level's templates in the language of
 *    its first To recipient who is a catalog person with a language;
 *  - each mail is queued in the outbox in the same transaction as the new
 *    level of its measures, which is stored only where the measure still
 *    stands where this run read it (open, same due date, same level): so
 *    a repeated run, or two runs at once, never send a level twice;
 *  - every reminder is an entry of the mail history (kind "reminder",
 *    naming the measure) and of the measure's own history; the mail
 *    belongs to the measure's record (a digest to the record all of its
 *    measures share, if any).
 *
 * A level the due date no longer reaches (it moved later) is taken back
 * without a mail.  A measure whose mail cannot be addressed (a level
 * sent only to a supervisor the person does not have) is left as it is
 * and counted as failed, with an event that names it.
 *
 * A real run needs the permission administer; a dry run, which composes
 * every mail and reports it but changes nothing, needs read-all.
 */
#ifndef CQ_WORKFLOW_REMIND_H
#define CQ_WORKFLOW_REMIND_H

#include "access/access.h"
#include "compose/message.h"
#include "workflow/day.h"

#define CQ_REMIND_BATCH 200

/* Called with @done 0 once a run knows its @total mails, before it
 * writes anything, and after every batch it queued. */
typedef void (*CqRemindProgress)(guint done, guint total, gpointer data);

typedef struct {
    CqDay today;      /* the day the run is for */
    gboolean dry_run; /* compose and report, change nothing */
    const char *from; /* the sender; NULL: cq_resolve_default_sender() */
    guint batch;      /* mails per transaction; 0: CQ_REMIND_BATCH */
    CqRemindProgress progress; /* may be NULL */
    gpointer progress_data;
} CqRemindOptions;

/* One mail of a run, as reported to the caller. */
typedef struct {
    guint level;
    const char *language;        /* the language of its templates */
    const CqMessage *message;    /* subject, recipients, bodies */
    const char *const *measures; /* their identifiers, NULL-terminated */
    gint64 mail_id;              /* in the outbox; 0 in a dry run */
} CqRemindMail;

typedef void (*CqRemindFunc)(const CqRemindMail *mail, gpointer data);

typedef struct {
    guint selected; /* open measures looked at */
    guint mails;    /* mails queued (in a dry run: composed) */
    guint reminded; /* measures in them */
    guint lowered;  /* levels taken back after a due date moved later */
    guint taken;    /* measures another run changed or reminded first */
    guint failed;   /* measures left for a failed mail (see the events) */
} CqRemindStats;

/* Runs the reminders for @options->today with the policy and templates
 * of @config, calling @each (may be NULL) for every mail after it is
 * queued.  Fails before sending anything on a broken policy, template or
 * distribution list (CQ_ERROR_CONFIG, CQ_ERROR_INVALID); a failure of
 * the store stops the run, keeping the batches committed before it.
 * @stats (may be NULL) counts what happened. */
gboolean cq_remind_run(CqSession *session, const CqConfig *config,
                       const CqRemindOptions *options, CqRemindFunc each,
                       gpointer data, CqRemindStats *stats, GError **error);

#endif
