/* The collection-list run: select, group by holder, draw, queue. */
#include "workflow/collect.h"

#include "common/error.h"
#include "common/event.h"
#include "deliver/direct.h"
#include "history/item.h"
#include "outbox/outbox.h"
#include "resolve/resolve.h"
#include "workflow/collect-policy.h"
#include "workflow/mail-templates.h"
#include "workflow/pdf-list.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
    gint64 id;
    char *inventory, *description, *location;
    CqDay due;
    char due_iso[CQ_DAY_ISO_LEN];
    char listed_iso[CQ_DAY_ISO_LEN]; /* "" when never listed */
} Gauge;

/* The gauges of one holder on today's list. */
typedef struct {
    char *ident, *name, *email, *language;
    GPtrArray *gauges; /* owned Gauge */
    CqMessage *message;
    const char *set_language;
    char *pdf; /* the file drawn for the message */
} Holder;

typedef struct {
    CqSession *session;
    const CqConfig *config;
    const CqCollectOptions *options;
    CqCollectPolicy *policy;
    CqTemplates *templates;
    CqAddress *from;
    char *folder;       /* where the PDFs are drawn */
    GPtrArray *holders; /* owned Holder */
    CqMimeOptions mime;
    CqCollectStats stats;
} Run;

static void
gauge_free(gpointer data)
{
    Gauge *g = data;

    g_free(g->inventory);
    g_free(g->description);
    g_free(g->location);
    g_free(g);
}

/* The message is in the outbox now, its PDF in the message. */
static void
drop_mail(Holder *h)
{
    g_clear_pointer(&h->message, cq_message_free);
    if (h->pdf != NULL)
        g_unlink(h->pdf);
    g_clear_pointer(&h->pdf, g_free);
}

static void
holder_free(gpointer data)
{
    Holder *h = data;

    g_free(h->ident);
    g_free(h->name);
    g_free(h->email);
    g_free(h->language);
    g_ptr_array_unref(h->gauges);
    drop_mail(h);
    g_free(h);
}

static void
run_clear(Run *run)
{
    cq_collect_policy_free(run->policy);
    cq_templates_free(run->templates);
    cq_address_free(run->from);
    g_clear_pointer(&run->holders, g_ptr_array_unref);
    if (run->folder != NULL)
        g_rmdir(run->folder);
    g_free(run->folder);
}

static gboolean
run_init(Run *run, GError **error)
{
    const CqConfig *config = run->config;
    g_autofree char *from =
        run->options->from ? g_strdup(run->options->from)
                           : cq_resolve_default_sender(run->session, config);
    g_autoptr(GError) local = NULL;

    run->holders = g_ptr_array_new_with_free_func(holder_free);
    run->mime =
        cq_mime_options_from_config(config, cq_transport_allows_8bit(config));
    run->policy = cq_collect_policy_new(config, error);
    if (run->policy == NULL)
        return FALSE;
    if (run->options->within_days >= 0)
        run->policy->within_days = run->options->within_days;
    run->templates =
        cq_templates_new(config->templates.folder, config->templates.language);
    if (!cq_templates_check(run->templates, run->policy->template_name,
                            CQ_MAIL_COLLECTION, error))
        return FALSE;
    run->from = cq_address_parse(from, error);
    if (run->from == NULL) {
        g_prefix_error(error, "sender of collection lists: ");
        return FALSE;
    }
    run->folder = g_dir_make_tmp("caqmail-collect-XXXXXX", &local);
    if (run->folder != NULL)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "collection lists: %s",
                local->message);
    return FALSE;
}

/* ---- Selection ---- */

static Holder *
holder_for(Run *run, CqStmt *stmt)
{
    Holder *last =
        run->holders->len ? run->holders->pdata[run->holders->len - 1] : NULL;

    if (last != NULL && strcmp(last->ident, cq_stmt_text(stmt, 6)) == 0)
        return last;
    Holder *h = g_new0(Holder, 1);
    h->ident = cq_stmt_dup(stmt, 6);
    h->name = cq_stmt_dup(stmt, 7);
    h->email = cq_stmt_dup(stmt, 8);
    h->language = cq_stmt_dup(stmt, 9);
    h->gauges = g_ptr_array_new_with_free_func(gauge_free);
    g_ptr_array_add(run->holders, h);
    return h;
}

/* Adds the gauge of the current row when the policy lists it today. */
static gboolean
take_row(Run *run, CqStmt *stmt, GError **error)
{
    const char *listed = cq_stmt_text(stmt, 5);
    CqDay due = 0, last = CQ_DAY_NONE;

    if (!cq_day_parse("due date", cq_stmt_text(stmt, 4), &due, error) ||
        (listed != NULL &&
         !cq_day_parse("last listed", listed, &last, error))) {
        g_prefix_error(error, "gauge '%s': ", cq_stmt_text(stmt, 1));
        return FALSE;
    }
    run->stats.selected++;
    if (!cq_collect_policy_lists(run->policy, due, run->options->today, last))
        return TRUE;
    Gauge *g = g_new0(Gauge, 1);
    g->id = cq_stmt_int(stmt, 0);
    g->inventory = cq_stmt_dup(stmt, 1);
    g->description = cq_stmt_dup(stmt, 2);
    g->location = cq_stmt_dup(stmt, 3);
    g->due = due;
    cq_day_format_iso(due, g->due_iso);
    g_strlcpy(g->listed_iso, listed ? listed : "", sizeof g->listed_iso);
    g_ptr_array_add(holder_for(run, stmt)->gauges, g);
    return TRUE;
}

static gboolean
select_gauges(Run *run, GError **error)
{
    char horizon[CQ_DAY_ISO_LEN];
    CqStep step = CQ_STEP_ERROR;
    CqStore *store = run->session->store;
    CqStmt *stmt = cq_store_stmt(
        store,
        "SELECT g.id, g.inventory, g.description, g.location, g.due,"
        " g.last_listed, p.ident, p.name, p.email, p.language"
        " FROM gauge g JOIN person p ON p.id = g.holder_id"
        " WHERE g.status IN ('in-use', 'collection-requested')"
        " AND g.due <= ? ORDER BY p.ident, g.due, g.inventory",
        error);

    if (stmt == NULL || !cq_store_begin(store, CQ_TX_READ, error))
        return FALSE;
    cq_day_format_iso(
        cq_collect_policy_horizon(run->policy, run->options->today), horizon);
    cq_stmt_bind_text(stmt, 1, horizon);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        if (!take_row(run, stmt, error)) {
            step = CQ_STEP_ERROR;
            break;
        }
    }
    cq_stmt_reset(stmt);
    cq_store_end_read(store);
    return step == CQ_STEP_DONE;
}

/* ---- The mail ---- */

static CqValue *
holder_values(const Run *run, const Holder *h)
{
    CqValue *root = cq_value_new();
    CqValue *recipient = cq_value_set_group(root, "recipient");
    CqValue *list = cq_value_set_list(root, "gauges");
    CqDay today = run->options->today;
    gint64 overdue = 0;

    cq_value_set_date(root, "today", today);
    cq_value_set_text(cq_value_set_group(root, "sender"), "name",
                      run->from->name);
    cq_value_set_text(recipient, "name", h->name);
    cq_value_set_text(recipient, "email", h->email);
    cq_value_set_text(cq_value_set_group(root, "holder"), "name", h->name);
    cq_value_set_number(root, "within", run->policy->within_days);
    for (guint i = 0; i < h->gauges->len; i++) {
        const Gauge *g = h->gauges->pdata[i];
        CqValue *item = cq_value_list_append(list);
        gint64 left = (gint64)g->due - today;
        cq_value_set_text(item, "inventory", g->inventory);
        cq_value_set_text(item, "description", g->description);
        cq_value_set_text(item, "location", g->location);
        cq_value_set_date(item, "due", g->due);
        cq_value_set_flag(item, "overdue", left < 0);
        cq_value_set_number(item, "days_left", MAX(left, 0));
        cq_value_set_number(item, "days_overdue", MAX(-left, 0));
        overdue += left < 0;
    }
    cq_value_set_number(root, "overdue_count", overdue);
    return root;
}

static gboolean
set_lab(const Run *run, CqValue *values, CqMessage *message, GError **error)
{
    if (run->policy->lab == NULL)
        return TRUE;
    g_autoptr(CqAddress) lab = cq_address_parse(run->policy->lab, error);
    if (lab == NULL)
        return FALSE;
    g_autofree char *spec = cq_address_spec(lab);
    cq_value_set_text(cq_value_set_group(values, "lab"), "name",
                      lab->name ? lab->name : spec);
    cq_message_add_address(message, CQ_RCPT_CC, lab, "[gauges] lab");
    return TRUE;
}

/* Draws the holder's list as a PDF into the run's folder. */
static gboolean
draw_pdf(Run *run, Holder *h, guint index, GError **error)
{
    const char *lang = h->set_language;
    g_autofree CqPdfListRow *rows = g_new0(CqPdfListRow, h->gauges->len);
    g_autoptr(GPtrArray) dues = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *date =
        cq_day_format(run->options->today, lang, CQ_DAY_LONG);
    g_autofree char *name = g_strdup_printf("list-%u.pdf", index);

    for (guint i = 0; i < h->gauges->len; i++) {
        const Gauge *g = h->gauges->pdata[i];
        char *due = cq_day_format(g->due, lang, CQ_DAY_SHORT);
        g_ptr_array_add(dues, due);
        rows[i] = (CqPdfListRow){g->inventory, g->description, g->location, due,
                                 g->due < run->options->today};
    }
    CqPdfList list = {
        .labels = cq_pdf_list_labels(lang),
        .holder = h->name,
        .date = date,
        .rows = rows,
        .n_rows = h->gauges->len,
    };
    g_free(h->pdf);
    h->pdf = g_build_filename(run->folder, name, NULL);
    return cq_pdf_list_write(&list, h->pdf, error);
}

static gboolean
attach_pdf(Run *run, Holder *h, CqMessage *message, GError **error)
{
    char today[CQ_DAY_ISO_LEN];
    const CqPdfListLabels *labels = cq_pdf_list_labels(h->set_language);
    g_autofree char *filename =
        g_strdup_printf("%s %s.pdf", labels->title,
                        cq_day_format_iso(run->options->today, today));

    return cq_message_add_attachment(message, h->pdf, filename,
                                     "application/pdf", 0, error) != NULL;
}

static gboolean
set_bodies(Run *run, Holder *h, CqMessage *message, CqValue *values,
           GError **error)
{
    const CqTemplateSet *set =
        cq_templates_get(run->templates, run->policy->template_name,
                         CQ_MAIL_COLLECTION, h->language, error);

    if (set == NULL)
        return FALSE;
    h->set_language = set->language;
    return cq_template_set_apply(set, values, message, error);
}

static gboolean
compose(Run *run, Holder *h, guint index, GError **error)
{
    g_autoptr(CqMessage) message = cq_message_new(CQ_ORIGIN_COLLECTION);
    g_autofree char *from = cq_address_display(run->from);
    g_autoptr(CqValue) values = holder_values(run, h);
    g_autofree char *source = g_strdup_printf("holder > person:%s", h->ident);
    g_autoptr(CqAddress) to = cq_address_new(h->name, h->email, error);

    g_clear_pointer(&h->message, cq_message_free);
    if (to == NULL || !cq_message_set_from(message, from, error))
        return FALSE;
    cq_message_add_address(message, CQ_RCPT_TO, to, source);
    if (!set_lab(run, values, message, error) ||
        !set_bodies(run, h, message, values, error) ||
        !draw_pdf(run, h, index, error) || !attach_pdf(run, h, message, error))
        return FALSE;
    cq_resolve_dedup(message);
    h->message = g_steal_pointer(&message);
    return TRUE;
}

/* ---- Queueing ---- */

/* Marks @g requested and listed today, if it still stands where the run
 * read it; *@moved tells whether it did. */
static gboolean
claim_gauge(Run *run, const Gauge *g, gboolean *moved, GError **error)
{
    char today[CQ_DAY_ISO_LEN];
    gint64 id = 0;
    CqStmt *stmt = cq_store_stmt(
        run->session->store,
        "UPDATE gauge SET status = 'collection-requested', last_listed = ?,"
        " updated = ? WHERE id = ? AND due = ?"
        " AND status IN ('in-use', 'collection-requested')"
        " AND COALESCE(last_listed, '') = ? RETURNING id",
        error);

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, cq_day_format_iso(run->options->today, today));
    cq_stmt_bind_int(stmt, 2, cq_store_now());
    cq_stmt_bind_int(stmt, 3, g->id);
    cq_stmt_bind_text(stmt, 4, g->due_iso);
    cq_stmt_bind_text(stmt, 5, g->listed_iso);
    if (!cq_stmt_int_result(stmt, 0, &id, error))
        return FALSE;
    *moved = id != 0;
    return TRUE;
}

static gboolean
claim(Run *run, Holder *h, GError **error)
{
    guint before = h->gauges->len;

    for (guint i = 0; i < h->gauges->len;) {
        gboolean moved = FALSE;
        if (!claim_gauge(run, h->gauges->pdata[i], &moved, error))
            return FALSE;
        if (moved)
            i++;
        else
            g_ptr_array_remove_index(h->gauges, i);
    }
    run->stats.taken += before - h->gauges->len;
    return TRUE;
}

static gboolean
record_listed(Run *run, const Holder *h, gint64 mail_id, GError **error)
{
    for (guint i = 0; i < h->gauges->len; i++) {
        const Gauge *g = h->gauges->pdata[i];
        g_autofree char *detail =
            g_strdup_printf("gauge '%s' due %s listed for person '%s'",
                            g->inventory, g->due_iso, h->ident);
        if (!cq_item_history_mail(run->session, CQ_ITEM_GAUGE, g->id,
                                  "collection", 0, mail_id, detail, error))
            return FALSE;
    }
    return TRUE;
}

/* Claims, composes and queues the list of @h in one transaction.  A mail
 * that cannot be composed leaves everything as it was: FALSE with
 * *@fatal unset. */
static gboolean
queue_holder(Run *run, Holder *h, guint index, gint64 *mail_id, gboolean *fatal,
             GError **error)
{
    CqStore *store = run->session->store;

    *fatal = TRUE;
    if (!cq_store_begin(store, CQ_TX_WRITE, error))
        return FALSE;
    gboolean ok = claim(run, h, error);
    if (ok && h->gauges->len > 0) {
        *fatal = FALSE;
        ok = compose(run, h, index, error);
        *fatal = ok;
        ok = ok &&
             cq_outbox_enqueue(run->session, h->message, &run->mime, mail_id,
                               error) &&
             record_listed(run, h, *mail_id, error);
    }
    if (!ok) {
        cq_store_rollback(store);
        return FALSE;
    }
    return cq_store_commit(store, error);
}

/* ---- Reporting ---- */

static void
report(Run *run, const Holder *h, gint64 mail_id, CqCollectFunc each,
       gpointer data)
{
    g_autofree const char **names = g_new0(const char *, h->gauges->len + 1);
    CqEvent *ev = cq_event_begin(CQ_LOG_INFO, "collection-list");

    for (guint i = 0; i < h->gauges->len; i++)
        names[i] = ((const Gauge *)h->gauges->pdata[i])->inventory;
    run->stats.mails++;
    run->stats.listed += h->gauges->len;
    cq_event_addf(ev, "id", "%" G_GINT64_FORMAT, mail_id);
    cq_event_add(ev, "holder", h->ident);
    cq_event_addf(ev, "gauges", "%u", h->gauges->len);
    cq_event_add(ev, "language", h->set_language);
    cq_event_end(ev);
    if (each == NULL)
        return;
    CqCollectMail mail = {h->ident, h->set_language, h->message, names,
                          mail_id};
    each(&mail, data);
}

static void
log_failure(Run *run, const Holder *h, const GError *error)
{
    CqEvent *ev = cq_event_begin(CQ_LOG_ERROR, "collection-failed");

    cq_event_add(ev, "holder", h->ident);
    cq_event_addf(ev, "gauges", "%u", h->gauges->len);
    cq_event_add_error(ev, error);
    cq_event_end(ev);
    run->stats.failed += h->gauges->len;
}

static gboolean
send_all(Run *run, CqCollectFunc each, gpointer data, GError **error)
{
    for (guint i = 0; i < run->holders->len; i++) {
        Holder *h = run->holders->pdata[i];
        g_autoptr(GError) local = NULL;
        gint64 mail_id = 0;
        gboolean fatal = FALSE;
        gboolean ok = run->options->dry_run
                          ? compose(run, h, i, &local)
                          : queue_holder(run, h, i, &mail_id, &fatal, &local);
        if (!ok && fatal) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (!ok)
            log_failure(run, h, local);
        else if (h->message != NULL)
            report(run, h, mail_id, each, data);
        drop_mail(h);
    }
    return TRUE;
}

static void
log_summary(const Run *run)
{
    char today[CQ_DAY_ISO_LEN];
    CqEvent *ev = cq_event_begin(CQ_LOG_NOTICE, "collect-run");

    cq_event_add(ev, "date", cq_day_format_iso(run->options->today, today));
    cq_event_add(ev, "dry_run", run->options->dry_run ? "yes" : "no");
    cq_event_addf(ev, "selected", "%u", run->stats.selected);
    cq_event_addf(ev, "mails", "%u", run->stats.mails);
    cq_event_addf(ev, "listed", "%u", run->stats.listed);
    cq_event_addf(ev, "taken", "%u", run->stats.taken);
    cq_event_addf(ev, "failed", "%u", run->stats.failed);
    cq_event_end(ev);
}

gboolean
cq_collect_run(CqSession *session, const CqConfig *config,
               const CqCollectOptions *options, CqCollectFunc each,
               gpointer data, CqCollectStats *stats, GError **error)
{
    Run run = {.session = session, .config = config, .options = options};
    gboolean ok = options->dry_run
                      ? cq_session_require(session, CQ_PERM_READ_ALL,
                                           "preview collection lists", error)
                      : cq_session_require(session, CQ_PERM_ADMIN,
                                           "send collection lists", error);

    ok = ok && run_init(&run, error) && select_gauges(&run, error) &&
         send_all(&run, each, data, error);
    log_summary(&run);
    if (stats != NULL)
        *stats = run.stats;
    run_clear(&run);
    return ok;
}
