#include "workflow/collect-policy.h"

#include "common/error.h"
#include "common/text.h"
#include "compose/address.h"
#include "workflow/mail-templates.h"

static gboolean
fail(const CqConfig *config, const char *key, const char *what, GError **error)
{
    g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG,
                "config '%s': [gauges] %s: %s",
                config->path ? config->path : "built-in defaults", key, what);
    return FALSE;
}

static gboolean
check_settings(const CqConfig *config, GError **error)
{
    const CqGaugeSettings *s = &config->gauges;
    g_autoptr(GError) local = NULL;

    if (!cq_template_name_valid(s->template_name)) {
        g_autofree char *shown =
            cq_text_printable(s->template_name ? s->template_name : "");
        g_autofree char *what = g_strdup_printf(
            "'%s' is not a template name (a-z, 0-9, '-', '_')", shown);
        return fail(config, "template", what, error);
    }
    if (s->lab != NULL && *s->lab != '\0') {
        g_autoptr(CqAddress) lab = cq_address_parse(s->lab, &local);
        if (lab == NULL)
            return fail(config, "lab", local->message, error);
    }
    return TRUE;
}

CqCollectPolicy *
cq_collect_policy_new(const CqConfig *config, GError **error)
{
    const CqGaugeSettings *s = &config->gauges;

    if (!check_settings(config, error))
        return NULL;
    CqCollectPolicy *policy = g_new0(CqCollectPolicy, 1);
    policy->within_days = (gint)s->within_days;
    policy->repeat_days = (gint)s->repeat_days;
    policy->lab = s->lab && *s->lab ? g_strdup(s->lab) : NULL;
    policy->template_name = g_strdup(s->template_name);
    return policy;
}

void
cq_collect_policy_free(CqCollectPolicy *policy)
{
    if (policy == NULL)
        return;
    g_free(policy->lab);
    g_free(policy->template_name);
    g_free(policy);
}

CqDay
cq_collect_policy_horizon(const CqCollectPolicy *policy, CqDay today)
{
    return (CqDay)((gint64)today + policy->within_days);
}

gboolean
cq_collect_policy_lists(const CqCollectPolicy *policy, CqDay due, CqDay today,
                        CqDay last_listed)
{
    if (due > cq_collect_policy_horizon(policy, today))
        return FALSE;
    if (last_listed == CQ_DAY_NONE)
        return TRUE;
    return (gint64)today - last_listed >= policy->repeat_days;
}
