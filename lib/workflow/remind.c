/* The reminder run: select, decide with the policy, plan the mails, and
 * queue them batch by batch with the conditional level update. */
#include "workflow/remind-private.h"

#include "common/error.h"
#include "common/event.h"
#include "deliver/direct.h"
#include "history/item.h"
#include "outbox/outbox.h"
#include "resolve/resolve.h"

#include <string.h>

/* ---- The run's state ---- */

static void
person_free(gpointer data)
{
    RemindPerson *p = data;

    g_free(p->ident);
    g_free(p->name);
    g_free(p->email);
    g_free(p->language);
    g_free(p);
}

static void
measure_free(gpointer data)
{
    RemindMeasure *m = data;

    g_free(m->ident);
    g_free(m->title);
    g_free(m->link);
    g_free(m->record);
    g_free(m->record_title);
    g_free(m);
}

static void
plan_free(gpointer data)
{
    RemindPlan *plan = data;

    g_ptr_array_unref(plan->measures);
    cq_message_free(plan->message);
    g_free(plan);
}

static void
run_clear(RemindRun *run)
{
    cq_remind_policy_free(run->policy);
    cq_templates_free(run->templates);
    cq_address_free(run->from);
    g_clear_pointer(&run->persons, g_hash_table_unref);
    g_clear_pointer(&run->lists, g_hash_table_unref);
    g_clear_pointer(&run->plans, g_ptr_array_unref);
    g_clear_pointer(&run->lowered, g_ptr_array_unref);
    g_clear_pointer(&run->measures, g_ptr_array_unref);
}

static gboolean
check_templates(RemindRun *run, GError **error)
{
    for (guint i = 0; i < run->policy->n_levels; i++) {
        const CqRemindLevel *level = &run->policy->levels[i];
        CqMailKind kind = level->mode == CQ_REMIND_DIGEST
                              ? CQ_MAIL_REMINDER_DIGEST
                              : CQ_MAIL_REMINDER;
        if (!cq_templates_check(run->templates, level->template_name, kind,
                                error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
run_init(RemindRun *run, GError **error)
{
    const CqConfig *config = run->config;
    g_autofree char *from =
        run->options->from ? g_strdup(run->options->from)
                           : cq_resolve_default_sender(run->session, config);

    run->persons =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, person_free);
    run->lists = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify)g_ptr_array_unref);
    run->measures = g_ptr_array_new_with_free_func(measure_free);
    run->plans = g_ptr_array_new_with_free_func(plan_free);
    run->lowered = g_ptr_array_new();
    run->policy = cq_remind_policy_new(config, error);
    run->templates =
        cq_templates_new(config->templates.folder, config->templates.language);
    if (run->policy == NULL || !check_templates(run, error) ||
        !cq_remind_resolve_lists(run, error))
        return FALSE;
    run->from = cq_address_parse(from, error);
    if (run->from == NULL)
        g_prefix_error(error, "sender of reminders: ");
    return run->from != NULL;
}

/* ---- Selection ---- */

#define PERSON_COLUMNS(t) t ".ident, " t ".name, " t ".email, " t ".language"

/* The person in the four columns from @col, shared by every measure that
 * names it; NULL when the row has none. */
static const RemindPerson *
person_at(RemindRun *run, CqStmt *stmt, int col)
{
    const char *ident = cq_stmt_text(stmt, col);

    if (ident == NULL)
        return NULL;
    RemindPerson *p = g_hash_table_lookup(run->persons, ident);
    if (p != NULL)
        return p;
    p = g_new0(RemindPerson, 1);
    p->ident = cq_stmt_dup(stmt, col);
    p->name = cq_stmt_dup(stmt, col + 1);
    p->email = cq_stmt_dup(stmt, col + 2);
    p->language = cq_stmt_dup(stmt, col + 3);
    g_hash_table_insert(run->persons, p->ident, p);
    return p;
}

static RemindMeasure *
measure_from_row(RemindRun *run, CqStmt *stmt, GError **error)
{
    RemindMeasure *m = g_new0(RemindMeasure, 1);

    m->id = cq_stmt_int(stmt, 0);
    m->ident = cq_stmt_dup(stmt, 1);
    m->title = cq_stmt_dup(stmt, 2);
    m->link = cq_stmt_dup(stmt, 3);
    m->record = cq_stmt_dup(stmt, 4);
    m->record_title = cq_stmt_dup(stmt, 5);
    m->level = (guint)cq_stmt_int(stmt, 7);
    g_strlcpy(m->due_iso, cq_stmt_text(stmt, 6), sizeof m->due_iso);
    m->responsible = person_at(run, stmt, 8);
    m->supervisor = person_at(run, stmt, 12);
    m->head = person_at(run, stmt, 16);
    if (!cq_day_parse("due date", m->due_iso, &m->due, error)) {
        g_prefix_error(error, "measure '%s': ", m->ident);
        measure_free(m);
        return NULL;
    }
    return m;
}

static gboolean
select_measures(RemindRun *run, GError **error)
{
    char horizon[CQ_DAY_ISO_LEN];
    CqStep step = CQ_STEP_ERROR;
    CqStmt *stmt = cq_store_stmt(
        run->session->store,
        "SELECT m.id, m.ident, m.title, m.link, r.ident, r.title, m.due,"
        " m.level, " PERSON_COLUMNS("p") ", " PERSON_COLUMNS(
            "s") ", " PERSON_COLUMNS("h") " FROM measure m"
                                          " JOIN record r ON r.id = m.record_id"
                                          " JOIN person p ON p.id = "
                                          "m.responsible_id"
                                          " LEFT JOIN person s ON s.id = "
                                          "p.supervisor_id"
                                          " LEFT JOIN department d ON d.id = "
                                          "p.department_id"
                                          " LEFT JOIN person h ON h.id = "
                                          "d.head_id"
                                          " WHERE m.status = 'open' AND (m.due "
                                          "<= ? OR m.level > 0)"
                                          " ORDER BY p.ident, m.due, m.ident",
        error);

    if (stmt == NULL)
        return FALSE;
    cq_day_format_iso(
        cq_remind_policy_horizon(run->policy, run->options->today), horizon);
    cq_stmt_bind_text(stmt, 1, horizon);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        RemindMeasure *m = measure_from_row(run, stmt, error);
        if (m == NULL) {
            step = CQ_STEP_ERROR;
            break;
        }
        g_ptr_array_add(run->measures, m);
    }
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE;
}

/* Reads the candidates in one snapshot. */
static gboolean
read_measures(RemindRun *run, GError **error)
{
    CqStore *store = run->session->store;

    if (!cq_store_begin(store, CQ_TX_READ, error))
        return FALSE;
    gboolean ok = select_measures(run, error);
    cq_store_end_read(store);
    run->stats.selected = run->measures->len;
    return ok;
}

/* ---- Planning ---- */

static RemindPlan *
plan_new(RemindRun *run, const CqRemindLevel *level)
{
    RemindPlan *plan = g_new0(RemindPlan, 1);

    plan->level = level;
    plan->measures = g_ptr_array_new();
    g_ptr_array_add(run->plans, plan);
    return plan;
}

/* Decides for every measure; digests gather the measures of one person
 * at one level (the selection comes ordered by person). */
static void
plan_mails(RemindRun *run)
{
    g_autoptr(GHashTable) digests =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; i < run->measures->len; i++) {
        RemindMeasure *m = run->measures->pdata[i];
        CqRemindStep step = cq_remind_policy_step(
            run->policy, m->due, run->options->today, m->level);
        m->next = step.level;
        if (!step.send) {
            if (step.level != m->level)
                g_ptr_array_add(run->lowered, m);
            continue;
        }
        const CqRemindLevel *level =
            cq_remind_policy_level(run->policy, step.level);
        if (level->mode == CQ_REMIND_PER_MEASURE) {
            g_ptr_array_add(plan_new(run, level)->measures, m);
            continue;
        }
        g_autofree char *key =
            g_strdup_printf("%u/%s", level->number, m->responsible->ident);
        RemindPlan *plan = g_hash_table_lookup(digests, key);
        if (plan == NULL) {
            plan = plan_new(run, level);
            g_hash_table_insert(digests, g_steal_pointer(&key), plan);
        }
        g_ptr_array_add(plan->measures, m);
    }
}

/* ---- Reporting ---- */

static void
report(RemindRun *run, const RemindPlan *plan, gint64 mail_id,
       CqRemindFunc each, gpointer data)
{
    g_autofree const char **idents =
        g_new0(const char *, plan->measures->len + 1);

    for (guint i = 0; i < plan->measures->len; i++)
        idents[i] = ((const RemindMeasure *)plan->measures->pdata[i])->ident;
    run->stats.mails++;
    run->stats.reminded += plan->measures->len;
    if (each != NULL) {
        CqRemindMail mail = {
            .level = plan->level->number,
            .language = plan->language,
            .message = plan->message,
            .measures = idents,
            .mail_id = mail_id,
        };
        each(&mail, data);
    }
}

static void
log_failure(RemindRun *run, const RemindPlan *plan, const GError *error)
{
    CqEvent *ev = cq_event_begin(CQ_LOG_ERROR, "remind-failed");

    cq_event_addf(ev, "level", "%u", plan->level->number);
    cq_event_addf(ev, "measures", "%u", plan->measures->len);
    cq_event_add_error(ev, error);
    cq_event_end(ev);
    run->stats.failed += plan->measures->len;
}

static void
log_queued(const RemindPlan *plan, gint64 mail_id)
{
    const RemindMeasure *first = plan->measures->pdata[0];
    CqEvent *ev = cq_event_begin(CQ_LOG_INFO, "reminder");

    cq_event_addf(ev, "id", "%" G_GINT64_FORMAT, mail_id);
    cq_event_addf(ev, "level", "%u", plan->level->number);
    cq_event_add(ev, "person", first->responsible->ident);
    cq_event_add(ev, "measure", first->ident);
    cq_event_addf(ev, "measures", "%u", plan->measures->len);
    cq_event_add(ev, "language", plan->language);
    cq_event_end(ev);
}

/* ---- Writing ---- */

/* Moves @m from the level it was read at to m->next, if it still stands
 * there; *@moved tells whether it did. */
static gboolean
move_level(CqStore *store, const RemindMeasure *m, gboolean *moved,
           GError **error)
{
    gint64 id = 0;
    CqStmt *stmt =
        cq_store_stmt(store,
                      "UPDATE measure SET level = ? WHERE id = ? AND level = ?"
                      " AND status = 'open' AND due = ? RETURNING id",
                      error);

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, m->next);
    cq_stmt_bind_int(stmt, 2, m->id);
    cq_stmt_bind_int(stmt, 3, m->level);
    cq_stmt_bind_text(stmt, 4, m->due_iso);
    if (!cq_stmt_int_result(stmt, 0, &id, error))
        return FALSE;
    *moved = id != 0;
    return TRUE;
}

/* Claims @plan's measures for this run; those another run changed
 * first drop out.  Recomposes a digest that lost some. */
static gboolean
claim(RemindRun *run, RemindPlan *plan, GError **error)
{
    guint before = plan->measures->len;

    for (guint i = 0; i < plan->measures->len;) {
        gboolean moved = FALSE;
        if (!move_level(run->session->store, plan->measures->pdata[i], &moved,
                        error))
            return FALSE;
        if (moved)
            i++;
        else
            g_ptr_array_remove_index(plan->measures, i);
    }
    run->stats.taken += before - plan->measures->len;
    if (plan->measures->len == 0 || plan->measures->len == before)
        return TRUE;
    return cq_remind_compose(run, plan, error);
}

static gboolean
record_reminders(RemindRun *run, const RemindPlan *plan, gint64 mail_id,
                 GError **error)
{
    for (guint i = 0; i < plan->measures->len; i++) {
        const RemindMeasure *m = plan->measures->pdata[i];
        g_autofree char *detail =
            g_strdup_printf("measure '%s' level %u (record %s)", m->ident,
                            plan->level->number, m->record);
        if (!cq_item_history_mail(run->session, CQ_ITEM_MEASURE, m->id,
                                  "reminder", plan->level->number, mail_id,
                                  detail, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
queue_plan(RemindRun *run, RemindPlan *plan, const CqMimeOptions *mime,
           gint64 *mail_id, GError **error)
{
    *mail_id = 0;
    if (!claim(run, plan, error))
        return FALSE;
    if (plan->measures->len == 0)
        return TRUE;
    return cq_outbox_enqueue(run->session, plan->message, mime, mail_id,
                             error) &&
           record_reminders(run, plan, *mail_id, error);
}

/* Composes the plans [@from, @to); those that cannot be composed are
 * reported and dropped (their message stays NULL). */
static void
compose_batch(RemindRun *run, guint from, guint to)
{
    for (guint i = from; i < to; i++) {
        RemindPlan *plan = run->plans->pdata[i];
        g_autoptr(GError) local = NULL;
        if (!cq_remind_compose(run, plan, &local))
            log_failure(run, plan, local);
    }
}

/* Queues the plans [@from, @to) in one transaction. */
static gboolean
queue_batch(RemindRun *run, guint from, guint to, CqRemindFunc each,
            gpointer data, GError **error)
{
    CqStore *store = run->session->store;
    CqMimeOptions mime = cq_mime_options_from_config(
        run->config, cq_transport_allows_8bit(run->config));
    g_autofree gint64 *ids = g_new0(gint64, to - from);

    compose_batch(run, from, to);
    if (!cq_store_begin(store, CQ_TX_WRITE, error))
        return FALSE;
    for (guint i = from; i < to; i++) {
        RemindPlan *plan = run->plans->pdata[i];
        if (plan->message != NULL &&
            !queue_plan(run, plan, &mime, &ids[i - from], error)) {
            cq_store_rollback(store);
            return FALSE;
        }
    }
    if (!cq_store_commit(store, error))
        return FALSE;
    for (guint i = from; i < to; i++) {
        RemindPlan *plan = run->plans->pdata[i];
        if (ids[i - from] != 0) {
            log_queued(plan, ids[i - from]);
            report(run, plan, ids[i - from], each, data);
        }
        g_clear_pointer(&plan->message, cq_message_free);
    }
    return TRUE;
}

static gboolean
lower_one(RemindRun *run, const RemindMeasure *m, GError **error)
{
    gboolean moved = FALSE;

    if (!move_level(run->session->store, m, &moved, error))
        return FALSE;
    if (!moved) {
        run->stats.taken++;
        return TRUE;
    }
    run->stats.lowered++;
    g_autofree char *detail =
        g_strdup_printf("level %u taken back: due %s no longer reaches it",
                        m->level, m->due_iso);
    return cq_item_history_add(run->session, CQ_ITEM_MEASURE, m->id, "level",
                               m->next, detail, error);
}

/* Takes back the levels that a later due date no longer reaches. */
static gboolean
lower_levels(RemindRun *run, guint batch, GError **error)
{
    CqStore *store = run->session->store;

    for (guint i = 0; i < run->lowered->len; i += batch) {
        if (!cq_store_begin(store, CQ_TX_WRITE, error))
            return FALSE;
        for (guint k = i; k < MIN(run->lowered->len, i + batch); k++) {
            if (!lower_one(run, run->lowered->pdata[k], error)) {
                cq_store_rollback(store);
                return FALSE;
            }
        }
        if (!cq_store_commit(store, error))
            return FALSE;
    }
    return TRUE;
}

static void
dry_run(RemindRun *run, CqRemindFunc each, gpointer data)
{
    run->stats.lowered = run->lowered->len;
    for (guint i = 0; i < run->plans->len; i++) {
        RemindPlan *plan = run->plans->pdata[i];
        g_autoptr(GError) local = NULL;
        if (!cq_remind_compose(run, plan, &local)) {
            log_failure(run, plan, local);
            continue;
        }
        report(run, plan, 0, each, data);
        g_clear_pointer(&plan->message, cq_message_free);
    }
}

static void
progress(const RemindRun *run, guint done)
{
    if (run->options->progress != NULL)
        run->options->progress(done, run->plans->len,
                               run->options->progress_data);
}

static gboolean
queue_all(RemindRun *run, CqRemindFunc each, gpointer data, GError **error)
{
    guint batch = run->options->batch ? run->options->batch : CQ_REMIND_BATCH;

    progress(run, 0);
    if (!lower_levels(run, batch, error))
        return FALSE;
    for (guint i = 0; i < run->plans->len; i += batch) {
        guint end = MIN(run->plans->len, i + batch);
        if (!queue_batch(run, i, end, each, data, error))
            return FALSE;
        progress(run, end);
    }
    return TRUE;
}

/* Said once the run knows what to send, before it writes anything. */
static void
log_plan(const RemindRun *run)
{
    CqEvent *ev = cq_event_begin(CQ_LOG_INFO, "remind-plan");

    cq_event_addf(ev, "selected", "%u", run->measures->len);
    cq_event_addf(ev, "mails", "%u", run->plans->len);
    cq_event_addf(ev, "lower", "%u", run->lowered->len);
    cq_event_end(ev);
}

static void
log_summary(const RemindRun *run)
{
    char today[CQ_DAY_ISO_LEN];
    CqEvent *ev = cq_event_begin(CQ_LOG_NOTICE, "remind-run");

    cq_event_add(ev, "date", cq_day_format_iso(run->options->today, today));
    cq_event_add(ev, "dry_run", run->options->dry_run ? "yes" : "no");
    cq_event_addf(ev, "selected", "%u", run->stats.selected);
    cq_event_addf(ev, "mails", "%u", run->stats.mails);
    cq_event_addf(ev, "reminded", "%u", run->stats.reminded);
    cq_event_addf(ev, "lowered", "%u", run->stats.lowered);
    cq_event_addf(ev, "taken", "%u", run->stats.taken);
    cq_event_addf(ev, "failed", "%u", run->stats.failed);
    cq_event_end(ev);
}

gboolean
cq_remind_run(CqSession *session, const CqConfig *config,
              const CqRemindOptions *options, CqRemindFunc each, gpointer data,
              CqRemindStats *stats, GError **error)
{
    RemindRun run = {.session = session, .config = config, .options = options};
    gboolean ok = options->dry_run
                      ? cq_session_require(session, CQ_PERM_READ_ALL,
                                           "preview reminders", error)
                      : cq_session_require(session, CQ_PERM_ADMIN,
                                           "send reminders", error);

    ok = ok && run_init(&run, error) && read_measures(&run, error);
    if (ok) {
        plan_mails(&run);
        log_plan(&run);
    }
    if (ok && options->dry_run)
        dry_run(&run, each, data);
    else if (ok)
        ok = queue_all(&run, each, data, error);
    log_summary(&run);
    if (stats != NULL)
        *stats = run.stats;
    run_clear(&run);
    return ok;
}
