/* The reminder policy: which level of reminder a measure gets when, and
 * who receives it.
 *
 * Levels come from the [remind.level.N] sections of the configuration:
 *
 *     [remind.level.3]
 *     offset = 7                       # days after the due date
 *     to = responsible
 *     cc = supervisor, list:Werkleitung
 *     mode = per-measure               # or digest
 *     template = reminder              # default: by the mode
 *
 * A level is reached on the day due + offset and on every day after.  On
 * each run a measure gets the highest level it has reached, once: a run
 * after days without runs sends that level and skips the ones missed on
 * the way; a level that is no longer reached because the due date moved
 * later is forgotten, so it is sent again when it is reached anew.
 *
 * The state a measure keeps is one number, the level it stands at (0:
 * none).  cq_remind_policy_step() is a pure function of that number, the
 * due date and today; the caller stores the new number in the same
 * transaction as the mail it queues, on the condition that the stored
 * number is still the one it read, so that two runs at once cannot both
 * send.  Only open measures are passed to it: a measure done or cancelled
 * gets no further mail.
 */
#ifndef CQ_WORKFLOW_REMIND_POLICY_H
#define CQ_WORKFLOW_REMIND_POLICY_H

#include "common/config.h"
#include "workflow/day.h"

#include <glib.h>

typedef enum {
    CQ_ROLE_RESPONSIBLE,        /* the measure's responsible person */
    CQ_ROLE_SUPERVISOR,         /* that person's supervisor (catalog) */
    CQ_ROLE_DEPARTMENT_HEAD,    /* the head of that person's department */
    CQ_ROLE_LIST,               /* a distribution list: list:NAME */
    CQ_ROLE_QUALITY_MANAGEMENT, /* [remind] quality_management */
} CqRoleKind;

/* "responsible", "supervisor", "department-head", "list",
 * "quality-management". */
const char *cq_remind_role_name(CqRoleKind kind);

typedef struct {
    CqRoleKind kind;
    char *name; /* CQ_ROLE_LIST: the list; QUALITY_MANAGEMENT: the address */
} CqRemindRole;

typedef enum {
    CQ_REMIND_PER_MEASURE, /* one mail per measure */
    CQ_REMIND_DIGEST,      /* one mail per person with all its measures */
} CqRemindMode;

typedef struct {
    guint number;
    gint offset; /* days after the due date; negative: before */
    CqRemindRole *to;
    guint n_to; /* at least 1 */
    CqRemindRole *cc;
    guint n_cc;
    char *template_name; /* never NULL */
    CqRemindMode mode;
} CqRemindLevel;

typedef struct {
    CqRemindLevel *levels; /* by number; offsets rise with the number */
    guint n_levels;        /* at least 1 */
} CqRemindPolicy;

/* Builds the policy from config->remind, checking every role, template
 * name and offset.  Errors are CQ_ERROR_CONFIG and name the section
 * ("config 'x': [remind.level.3] cc: unknown role 'boss'").  Returns a new
 * policy to free with cq_remind_policy_free(). */
CqRemindPolicy *cq_remind_policy_new(const CqConfig *config, GError **error);
void cq_remind_policy_free(CqRemindPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqRemindPolicy, cq_remind_policy_free)

/* The level numbered @number, or NULL. */
const CqRemindLevel *cq_remind_policy_level(const CqRemindPolicy *policy,
                                            guint number);

/* The highest level reached on @today by a measure due on @due; 0: none
 * yet. */
guint cq_remind_policy_reached(const CqRemindPolicy *policy, CqDay due,
                               CqDay today);

typedef struct {
    guint level;   /* the level the measure stands at now: store it */
    gboolean send; /* TRUE: send this level now */
} CqRemindStep;

/* What to do today for an open measure due on @due that stands at
 * @level.  Sends the highest level reached when it is above @level; when
 * it is below (the due date moved later), only lowers the level. */
CqRemindStep cq_remind_policy_step(const CqRemindPolicy *policy, CqDay due,
                                   CqDay today, guint level);

/* The latest due date at which a measure reaches a level on @today:
 * measures due later that stand at level 0 need nothing, so a run can
 * select only due <= horizon or level > 0. */
CqDay cq_remind_policy_horizon(const CqRemindPolicy *policy, CqDay today);

#endif
