/* Internals of the reminder run shared by its selection (remind.c) and
 * the composition of its mails (remind-mail.c). */
#ifndef CQ_WORKFLOW_REMIND_PRIVATE_H
#define CQ_WORKFLOW_REMIND_PRIVATE_H

#include "workflow/mail-templates.h"
#include "workflow/remind-policy.h"
#include "workflow/remind.h"

/* A catalog person as the run needs it. */
typedef struct {
    char *ident;
    char *name;
    char *email;
    char *language; /* NULL: none in the catalog */
} RemindPerson;

typedef struct {
    gint64 id;
    char *ident;
    char *title;
    char *link; /* NULL: none */
    char *record;
    char *record_title;
    CqDay due;
    char due_iso[CQ_DAY_ISO_LEN];
    guint level; /* as read */
    guint next;  /* after today's step */
    const RemindPerson *responsible;
    const RemindPerson *supervisor; /* NULL: none */
    const RemindPerson *head;       /* of the department; NULL: none */
} RemindMeasure;

/* One mail to queue: a level and its measures (all of one responsible
 * person), and once composed, the message. */
typedef struct {
    const CqRemindLevel *level;
    GPtrArray *measures; /* of borrowed RemindMeasure */
    CqMessage *message;  /* NULL until composed */
    const char *language;
} RemindPlan;

typedef struct {
    CqSession *session;
    const CqConfig *config;
    const CqRemindOptions *options;
    CqRemindPolicy *policy;
    CqTemplates *templates;
    CqAddress *from;
    GHashTable *persons; /* ident -> owned RemindPerson */
    GHashTable *lists;   /* list name -> GPtrArray of CqResolved */
    GPtrArray *measures; /* owned RemindMeasure */
    GPtrArray *plans;    /* owned RemindPlan */
    GPtrArray *lowered;  /* borrowed RemindMeasure: level taken back */
    CqRemindStats stats;
} RemindRun;

/* Resolves the distribution lists the policy names, so that a missing
 * one stops the run before it sends anything. */
gboolean cq_remind_resolve_lists(RemindRun *run, GError **error);

/* Composes @plan's message for run->options->today: recipients by the
 * level's roles, templates in the recipient's language.  Fails with
 * CQ_ERROR_INVALID when no To recipient remains. */
gboolean cq_remind_compose(RemindRun *run, RemindPlan *plan, GError **error);

#endif
