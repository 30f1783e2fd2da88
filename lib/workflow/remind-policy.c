#include "workflow/remind-policy.h"

#include "common/error.h"
#include "common/text.h"
#include "compose/address.h"
#include "workflow/mail-templates.h"

#include <stdarg.h>
#include <string.h>

static const struct {
    const char *name;
    CqRoleKind kind;
} role_names[] = {
    {"responsible", CQ_ROLE_RESPONSIBLE},
    {"supervisor", CQ_ROLE_SUPERVISOR},
    {"department-head", CQ_ROLE_DEPARTMENT_HEAD},
    {"quality-management", CQ_ROLE_QUALITY_MANAGEMENT},
};

const char *
cq_remind_role_name(CqRoleKind kind)
{
    for (gsize i = 0; i < G_N_ELEMENTS(role_names); i++) {
        if (role_names[i].kind == kind)
            return role_names[i].name;
    }
    return "list";
}

#define ROLE_CHOICES                                                           \
    "responsible, supervisor, department-head, quality-management, "           \
    "list:NAME"

static gboolean G_GNUC_PRINTF(4, 5)
    fail(const CqConfig *config, GError **error, const char *section,
         const char *format, ...)
{
    va_list args;

    va_start(args, format);
    g_autofree char *what = g_strdup_vprintf(format, args);
    va_end(args);
    g_set_error(error, CQ_ERROR, CQ_ERROR_CONFIG, "config '%s': [%s] %s",
                config->path ? config->path : "built-in defaults", section,
                what);
    return FALSE;
}

static void
roles_free(CqRemindRole *roles, guint n)
{
    for (guint i = 0; i < n; i++)
        g_free(roles[i].name);
    g_free(roles);
}

static gboolean
parse_role(const CqConfig *config, const char *section, const char *key,
           const char *text, CqRemindRole *role, GError **error)
{
    g_autofree char *shown = cq_text_printable(text);

    if (g_str_has_prefix(text, "list:")) {
        g_autofree char *name = g_strstrip(g_strdup(text + 5));
        if (*name == '\0' || !cq_text_check_header("list", name, NULL))
            return fail(config, error, section,
                        "%s: role '%s' needs a "
                        "list name, as in list:Werkleitung",
                        key, shown);
        role->kind = CQ_ROLE_LIST;
        role->name = g_steal_pointer(&name);
        return TRUE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(role_names); i++) {
        if (strcmp(text, role_names[i].name) == 0) {
            role->kind = role_names[i].kind;
            return TRUE;
        }
    }
    return fail(config, error, section, "%s: unknown role '%s' (%s)", key,
                shown, ROLE_CHOICES);
}

/* Parses a comma-separated list of roles. */
static gboolean
parse_roles(const CqConfig *config, const char *section, const char *key,
            const char *text, CqRemindRole **roles, guint *n_roles,
            GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text ? text : "", ",", -1);
    guint n = g_strv_length(parts);
    CqRemindRole *list = g_new0(CqRemindRole, n + 1);
    guint used = 0;

    for (guint i = 0; i < n; i++) {
        g_strstrip(parts[i]);
        if (*parts[i] == '\0' && n == 1)
            break;
        if (!parse_role(config, section, key, parts[i], &list[used], error)) {
            roles_free(list, used);
            return FALSE;
        }
        used++;
    }
    *roles = list;
    *n_roles = used;
    return TRUE;
}

static gboolean
uses_quality_management(const CqRemindLevel *level)
{
    for (guint i = 0; i < level->n_to + level->n_cc; i++) {
        const CqRemindRole *role =
            i < level->n_to ? &level->to[i] : &level->cc[i - level->n_to];
        if (role->kind == CQ_ROLE_QUALITY_MANAGEMENT)
            return TRUE;
    }
    return FALSE;
}

/* Gives the role quality-management its configured address. */
static gboolean
fill_quality_management(const CqConfig *config, CqRemindLevel *level,
                        const char *section, GError **error)
{
    const char *address = config->remind.quality_management;
    g_autoptr(GError) local = NULL;

    if (!uses_quality_management(level))
        return TRUE;
    if (address == NULL || *address == '\0')
        return fail(config, error, section,
                    "role 'quality-management' needs the setting "
                    "quality_management in [remind]");
    g_autoptr(CqAddress) parsed = cq_address_parse(address, &local);
    if (parsed == NULL)
        return fail(config, error, "remind", "quality_management: %s",
                    local->message);
    for (guint i = 0; i < level->n_to + level->n_cc; i++) {
        CqRemindRole *role =
            i < level->n_to ? &level->to[i] : &level->cc[i - level->n_to];
        if (role->kind == CQ_ROLE_QUALITY_MANAGEMENT)
            role->name = g_strdup(address);
    }
    return TRUE;
}

static gboolean
build_level(const CqConfig *config, const CqRemindLevelSettings *in,
            CqRemindLevel *level, GError **error)
{
    g_autofree char *section =
        g_strdup_printf("remind.level.%" G_GINT64_FORMAT, in->number);

    level->number = (guint)in->number;
    level->offset = (gint)in->offset;
    level->mode = g_strcmp0(in->mode, "digest") == 0 ? CQ_REMIND_DIGEST
                                                     : CQ_REMIND_PER_MEASURE;
    level->template_name =
        g_strdup(in->template_name && *in->template_name
                     ? in->template_name
                     : cq_mail_kind_name(level->mode == CQ_REMIND_DIGEST
                                             ? CQ_MAIL_REMINDER_DIGEST
                                             : CQ_MAIL_REMINDER));
    if (!cq_template_name_valid(level->template_name)) {
        g_autofree char *shown = cq_text_printable(level->template_name);
        return fail(config, error, section,
                    "template: '%s' is not a template name (a-z, 0-9, "
                    "'-', '_')",
                    shown);
    }
    if (!parse_roles(config, section, "to", in->to, &level->to, &level->n_to,
                     error) ||
        !parse_roles(config, section, "cc", in->cc, &level->cc, &level->n_cc,
                     error))
        return FALSE;
    if (level->n_to == 0)
        return fail(config, error, section, "to: needs at least one role");
    return fill_quality_management(config, level, section, error);
}

static void
level_clear(CqRemindLevel *level)
{
    roles_free(level->to, level->n_to);
    roles_free(level->cc, level->n_cc);
    g_free(level->template_name);
}

void
cq_remind_policy_free(CqRemindPolicy *policy)
{
    if (policy == NULL)
        return;
    for (guint i = 0; i < policy->n_levels; i++)
        level_clear(&policy->levels[i]);
    g_free(policy->levels);
    g_free(policy);
}

/* Offsets rise with the level number, so that the highest level reached
 * is also the latest. */
static gboolean
check_order(const CqConfig *config, const CqRemindLevel *before,
            const CqRemindLevel *level, GError **error)
{
    if (level->offset > before->offset)
        return TRUE;
    g_autofree char *section =
        g_strdup_printf("remind.level.%u", level->number);
    return fail(config, error, section,
                "offset %d: must be later than the offset %d of level %u",
                level->offset, before->offset, before->number);
}

CqRemindPolicy *
cq_remind_policy_new(const CqConfig *config, GError **error)
{
    const GArray *in = config->remind.levels;
    g_autoptr(CqRemindPolicy) policy = g_new0(CqRemindPolicy, 1);

    if (in == NULL || in->len == 0) {
        fail(config, error, "remind.level.1", "no reminder level configured");
        return NULL;
    }
    policy->levels = g_new0(CqRemindLevel, in->len);
    for (guint i = 0; i < in->len; i++) {
        const CqRemindLevelSettings *s =
            &g_array_index(in, CqRemindLevelSettings, i);
        policy->n_levels++;
        if (!build_level(config, s, &policy->levels[i], error))
            return NULL;
        if (i > 0 && !check_order(config, &policy->levels[i - 1],
                                  &policy->levels[i], error))
            return NULL;
    }
    return g_steal_pointer(&policy);
}

const CqRemindLevel *
cq_remind_policy_level(const CqRemindPolicy *policy, guint number)
{
    for (guint i = 0; i < policy->n_levels; i++) {
        if (policy->levels[i].number == number)
            return &policy->levels[i];
    }
    return NULL;
}

guint
cq_remind_policy_reached(const CqRemindPolicy *policy, CqDay due, CqDay today)
{
    guint reached = 0;

    for (guint i = 0; i < policy->n_levels; i++) {
        if ((gint64)due + policy->levels[i].offset <= today)
            reached = policy->levels[i].number;
    }
    return reached;
}

CqRemindStep
cq_remind_policy_step(const CqRemindPolicy *policy, CqDay due, CqDay today,
                      guint level)
{
    guint reached = cq_remind_policy_reached(policy, due, today);
    CqRemindStep step = {.level = reached, .send = reached > level};

    return step;
}

CqDay
cq_remind_policy_horizon(const CqRemindPolicy *policy, CqDay today)
{
    return (CqDay)((gint64)today - policy->levels[0].offset);
}
