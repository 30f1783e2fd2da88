/* The mails of the reminder run: recipients by role, the values of the
 * templates, and the message. */
#include "workflow/remind-private.h"

#include "common/error.h"
#include "common/event.h"
#include "resolve/resolve.h"

#include <string.h>

gboolean
cq_remind_resolve_lists(RemindRun *run, GError **error)
{
    for (guint l = 0; l < run->policy->n_levels; l++) {
        const CqRemindLevel *level = &run->policy->levels[l];
        for (guint i = 0; i < level->n_to + level->n_cc; i++) {
            const CqRemindRole *role =
                i < level->n_to ? &level->to[i] : &level->cc[i - level->n_to];
            if (role->kind != CQ_ROLE_LIST ||
                g_hash_table_contains(run->lists, role->name))
                continue;
            g_autofree char *ref = g_strconcat("list:", role->name, NULL);
            GPtrArray *members = cq_resolve_reference(run->session, ref, error);
            if (members == NULL) {
                g_prefix_error(error, "[remind.level.%u]: ", level->number);
                return FALSE;
            }
            g_hash_table_insert(run->lists, g_strdup(role->name), members);
        }
    }
    return TRUE;
}

/* ---- Recipients ---- */

static void
role_missing(const RemindPlan *plan, const char *role)
{
    const RemindMeasure *m = plan->measures->pdata[0];
    CqEvent *ev = cq_event_begin(CQ_LOG_WARNING, "remind-no-recipient");

    cq_event_add(ev, "measure", m->ident);
    cq_event_addf(ev, "level", "%u", plan->level->number);
    cq_event_add(ev, "role", role);
    cq_event_add(ev, "person", m->responsible->ident);
    cq_event_end(ev);
}

static gboolean
add_person(CqMessage *message, CqRecipientKind kind, const char *role,
           const RemindPerson *person, GError **error)
{
    g_autoptr(CqAddress) address =
        cq_address_new(person->name, person->email, error);
    if (address == NULL) {
        g_prefix_error(error, "person '%s': ", person->ident);
        return FALSE;
    }
    g_autofree char *source =
        g_strdup_printf("%s > person:%s", role, person->ident);
    cq_message_add_address(message, kind, address, source);
    return TRUE;
}

/* The person a role names for @plan's responsible person, or NULL. */
static const RemindPerson *
role_person(const RemindPlan *plan, CqRoleKind kind)
{
    const RemindMeasure *m = plan->measures->pdata[0];

    switch (kind) {
    case CQ_ROLE_RESPONSIBLE:
        return m->responsible;
    case CQ_ROLE_SUPERVISOR:
        return m->supervisor;
    case CQ_ROLE_DEPARTMENT_HEAD:
        return m->head;
    case CQ_ROLE_LIST:
    case CQ_ROLE_QUALITY_MANAGEMENT:
        break;
    }
    return NULL;
}

static gboolean
add_role(RemindRun *run, RemindPlan *plan, CqMessage *message,
         CqRecipientKind kind, const CqRemindRole *role, GError **error)
{
    const char *name = cq_remind_role_name(role->kind);

    if (role->kind == CQ_ROLE_QUALITY_MANAGEMENT)
        return cq_message_add_recipients(message, kind, role->name, name,
                                         error);
    if (role->kind == CQ_ROLE_LIST) {
        GPtrArray *members = g_hash_table_lookup(run->lists, role->name);
        for (guint i = 0; members && i < members->len; i++) {
            const CqResolved *r = members->pdata[i];
            cq_message_add_address(message, kind, r->address, r->source);
        }
        return TRUE;
    }
    const RemindPerson *person = role_person(plan, role->kind);
    if (person == NULL) {
        role_missing(plan, name);
        return TRUE;
    }
    if (kind == CQ_RCPT_TO && plan->language == NULL)
        plan->language = person->language;
    return add_person(message, kind, name, person, error);
}

static gboolean
add_recipients(RemindRun *run, RemindPlan *plan, CqMessage *message,
               GError **error)
{
    const CqRemindLevel *level = plan->level;

    for (guint i = 0; i < level->n_to; i++) {
        if (!add_role(run, plan, message, CQ_RCPT_TO, &level->to[i], error))
            return FALSE;
    }
    for (guint i = 0; i < level->n_cc; i++) {
        if (!add_role(run, plan, message, CQ_RCPT_CC, &level->cc[i], error))
            return FALSE;
    }
    cq_resolve_dedup(message);
    for (guint i = 0; i < message->recipients->len; i++) {
        const CqRecipient *r = message->recipients->pdata[i];
        if (r->kind == CQ_RCPT_TO)
            return TRUE;
    }
    const RemindMeasure *m = plan->measures->pdata[0];
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "measure '%s': reminder level %u has no recipient in To "
                "for person '%s'",
                m->ident, level->number, m->responsible->ident);
    return FALSE;
}

/* ---- Values ---- */

static void
set_measure(CqValue *group, const RemindMeasure *m, CqDay today)
{
    gint64 left = (gint64)m->due - today;
    CqValue *record = cq_value_set_group(group, "record");

    cq_value_set_text(group, "id", m->ident);
    cq_value_set_text(group, "title", m->title);
    cq_value_set_date(group, "due", m->due);
    cq_value_set_flag(group, "overdue", left < 0);
    cq_value_set_flag(group, "due_today", left == 0);
    cq_value_set_number(group, "days_left", MAX(left, 0));
    cq_value_set_number(group, "days_overdue", MAX(-left, 0));
    cq_value_set_text(group, "link", m->link);
    cq_value_set_text(group, "responsible", m->responsible->name);
    cq_value_set_text(record, "id", m->record);
    cq_value_set_text(record, "title",
                      m->record_title && *m->record_title ? m->record_title
                                                          : NULL);
}

/* The names of the recipients of @kind, comma-separated. */
static char *
names_of(const CqMessage *message, CqRecipientKind kind)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < message->recipients->len; i++) {
        const CqRecipient *r = message->recipients->pdata[i];
        if (r->kind != kind)
            continue;
        g_autofree char *spec = cq_address_spec(r->address);
        g_string_append_printf(out, "%s%s", out->len ? ", " : "",
                               r->address->name ? r->address->name : spec);
    }
    return g_string_free(out, FALSE);
}

static void
set_common(CqValue *root, const RemindRun *run, const RemindPlan *plan,
           const CqMessage *message)
{
    CqValue *level = cq_value_set_group(root, "level");
    CqValue *recipient = cq_value_set_group(root, "recipient");
    const CqRecipient *first = message->recipients->pdata[0];
    g_autofree char *to = names_of(message, CQ_RCPT_TO);
    g_autofree char *cc = names_of(message, CQ_RCPT_CC);
    g_autofree char *email = cq_address_spec(first->address);

    cq_value_set_date(root, "today", run->options->today);
    cq_value_set_text(cq_value_set_group(root, "sender"), "name",
                      run->from->name);
    cq_value_set_text(recipient, "name", to);
    cq_value_set_text(recipient, "email", email);
    cq_value_set_number(level, "number", plan->level->number);
    cq_value_set_number(level, "offset", plan->level->offset);
    cq_value_set_flag(level, "escalation", plan->level->n_cc > 0);
    cq_value_set_text(root, "cc_names", *cc ? cc : NULL);
}

static CqValue *
plan_values(const RemindRun *run, const RemindPlan *plan,
            const CqMessage *message)
{
    CqValue *root = cq_value_new();
    CqDay today = run->options->today;

    set_common(root, run, plan, message);
    if (plan->level->mode == CQ_REMIND_PER_MEASURE) {
        set_measure(cq_value_set_group(root, "measure"),
                    plan->measures->pdata[0], today);
        return root;
    }
    CqValue *list = cq_value_set_list(root, "measures");
    gint64 overdue = 0;
    for (guint i = 0; i < plan->measures->len; i++) {
        const RemindMeasure *m = plan->measures->pdata[i];
        set_measure(cq_value_list_append(list), m, today);
        overdue += m->due < today;
    }
    cq_value_set_number(root, "overdue_count", overdue);
    return root;
}

/* ---- The message ---- */

/* The record all measures of @plan belong to, or NULL. */
static const char *
plan_record(const RemindPlan *plan)
{
    const RemindMeasure *first = plan->measures->pdata[0];

    for (guint i = 1; i < plan->measures->len; i++) {
        const RemindMeasure *m = plan->measures->pdata[i];
        if (strcmp(m->record, first->record) != 0)
            return NULL;
    }
    return first->record;
}

static gboolean
set_bodies(RemindRun *run, RemindPlan *plan, CqMessage *message, GError **error)
{
    CqMailKind kind = plan->level->mode == CQ_REMIND_DIGEST
                          ? CQ_MAIL_REMINDER_DIGEST
                          : CQ_MAIL_REMINDER;
    const CqTemplateSet *set =
        cq_templates_get(run->templates, plan->level->template_name, kind,
                         plan->language, error);

    if (set == NULL)
        return FALSE;
    plan->language = set->language;
    g_autoptr(CqValue) values = plan_values(run, plan, message);
    return cq_template_set_apply(set, values, message, error);
}

gboolean
cq_remind_compose(RemindRun *run, RemindPlan *plan, GError **error)
{
    g_autoptr(CqMessage) message = cq_message_new(CQ_ORIGIN_REMINDER);
    g_autofree char *from = cq_address_display(run->from);

    plan->language = NULL;
    g_clear_pointer(&plan->message, cq_message_free);
    if (!cq_message_set_from(message, from, error) ||
        !add_recipients(run, plan, message, error) ||
        !set_bodies(run, plan, message, error) ||
        !cq_message_set_record(message, plan_record(plan), error) ||
        !cq_message_check(message, error))
        return FALSE;
    plan->message = g_steal_pointer(&message);
    return TRUE;
}
