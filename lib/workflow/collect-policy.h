/* The collection-list policy: which gauges a holder is asked to hand in
 * for calibration, and when again.
 *
 * A gauge is listed when its calibration falls due within the window
 * ([gauges] within_days, or --within) or is overdue, and it has not been
 * listed in the last [gauges] repeat_days days.  Only gauges in use or
 * with a collection already requested are passed to it: a gauge in
 * calibration or blocked is never listed.
 */
#ifndef CQ_WORKFLOW_COLLECT_POLICY_H
#define CQ_WORKFLOW_COLLECT_POLICY_H

#include "common/config.h"
#include "workflow/day.h"

#include <glib.h>

typedef struct {
    gint within_days;    /* the window ahead of today */
    gint repeat_days;    /* at least 1 */
    char *lab;           /* the calibration lab's address, or NULL */
    char *template_name; /* never NULL */
} CqCollectPolicy;

/* Builds the policy from config->gauges, checking the lab's address and
 * the template name (CQ_ERROR_CONFIG).  Free it with
 * cq_collect_policy_free(). */
CqCollectPolicy *cq_collect_policy_new(const CqConfig *config, GError **error);
void cq_collect_policy_free(CqCollectPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqCollectPolicy, cq_collect_policy_free)

/* TRUE when a gauge due on @due, last listed on @last_listed (CQ_DAY_NONE:
 * never), goes on today's list. */
gboolean cq_collect_policy_lists(const CqCollectPolicy *policy, CqDay due,
                                 CqDay today, CqDay last_listed);

/* The latest due date that goes on today's list: today + within_days. */
CqDay cq_collect_policy_horizon(const CqCollectPolicy *policy, CqDay today);

#endif
