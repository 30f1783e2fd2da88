/* Measures: adding, changing, reading, and their own history. */
#include "measures/measure-private.h"

#include "catalog/catalog.h"
#include "common/error.h"
#include "common/text.h"
#include "compose/message.h"
#include "history/record.h"

#include <string.h>

static const char *const status_names[] = {
    [CQ_MEASURE_OPEN] = "open",
    [CQ_MEASURE_DONE] = "done",
    [CQ_MEASURE_CANCELLED] = "cancelled",
};

const char *
cq_measure_status_name(CqMeasureStatus status)
{
    g_return_val_if_fail(status <= CQ_MEASURE_CANCELLED, NULL);
    return status_names[status];
}

gboolean
cq_measure_status_parse(const char *name, CqMeasureStatus *status,
                        GError **error)
{
    for (guint i = 0; i < G_N_ELEMENTS(status_names); i++) {
        if (g_strcmp0(name, status_names[i]) == 0) {
            *status = (CqMeasureStatus)i;
            return TRUE;
        }
    }
    g_autofree char *shown = cq_text_printable(name ? name : "");
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "measure status '%s': use open, done or cancelled", shown);
    return FALSE;
}

void
cq_measure_free(CqMeasure *measure)
{
    if (measure == NULL)
        return;
    g_free(measure->ident);
    g_free(measure->record);
    g_free(measure->title);
    g_free(measure->responsible);
    g_free(measure->responsible_name);
    g_free(measure->link);
    g_free(measure->owner);
    g_free(measure);
}

/* ---- Checking input ---- */

static gboolean
check_title(const char *title, GError **error)
{
    if (title == NULL || *title == '\0') {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "measure title: must not be empty");
        return FALSE;
    }
    if (!cq_text_check_header("measure title", title, error))
        return FALSE;
    if (g_utf8_strlen(title, -1) <= CQ_MEASURE_MAX_TITLE)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "measure title: longer than %d characters",
                CQ_MEASURE_MAX_TITLE);
    return FALSE;
}

static gboolean
check_link(const char *link, GError **error)
{
    if (link == NULL || *link == '\0')
        return TRUE;
    if (!cq_text_check_header("measure link", link, error))
        return FALSE;
    g_autofree char *shown = cq_text_printable(link);
    if (strlen(link) > CQ_MEASURE_MAX_LINK || strchr(link, ' ') != NULL ||
        !(g_str_has_prefix(link, "https://") ||
          g_str_has_prefix(link, "http://"))) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "measure link '%s': not an http or https address of at "
                    "most %d characters",
                    shown, CQ_MEASURE_MAX_LINK);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_fields(const CqMeasureNew *m, GError **error)
{
    if (!cq_ident_check("measure identifier", m->ident, error) ||
        !cq_record_id_check(m->record, error) ||
        !check_title(m->title, error) || !check_link(m->link, error))
        return FALSE;
    if (m->due != CQ_DAY_NONE)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "measure '%s': the due date is missing", m->ident);
    return FALSE;
}

/* ---- The row as stored ---- */

typedef struct {
    gint64 id;
    char *ident, *record, *title, *responsible, *responsible_login;
    char *due, *status, *link, *owner;
} Row;

static void
row_clear(Row *row)
{
    g_free(row->ident);
    g_free(row->record);
    g_free(row->title);
    g_free(row->responsible);
    g_free(row->responsible_login);
    g_free(row->due);
    g_free(row->status);
    g_free(row->link);
    g_free(row->owner);
    memset(row, 0, sizeof *row);
}

/* Loads measure @ident into @row; row->id stays 0 when there is none. */
static gboolean
load_row(CqStore *store, const char *ident, Row *row, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store,
        "SELECT m.id, m.ident, r.ident, m.title, p.ident, p.login, m.due,"
        " m.status, m.link, m.owner FROM measure m"
        " JOIN record r ON r.id = m.record_id"
        " JOIN person p ON p.id = m.responsible_id WHERE m.ident = ?",
        error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, ident);
    step = cq_stmt_step(stmt, error);
    if (step == CQ_STEP_ROW) {
        row->id = cq_stmt_int(stmt, 0);
        row->ident = cq_stmt_dup(stmt, 1);
        row->record = cq_stmt_dup(stmt, 2);
        row->title = cq_stmt_dup(stmt, 3);
        row->responsible = cq_stmt_dup(stmt, 4);
        row->responsible_login = cq_stmt_dup(stmt, 5);
        row->due = cq_stmt_dup(stmt, 6);
        row->status = cq_stmt_dup(stmt, 7);
        row->link = cq_stmt_dup(stmt, 8);
        row->owner = cq_stmt_dup(stmt, 9);
    }
    cq_stmt_reset(stmt);
    return step != CQ_STEP_ERROR;
}

static gboolean
may_change(CqSession *session, const Row *row, GError **error)
{
    if (g_strcmp0(row->owner, session->login) == 0 ||
        g_strcmp0(row->responsible_login, session->login) == 0)
        return cq_session_require(session, CQ_PERM_SEND, "change measures",
                                  error);
    g_autofree char *what = g_strdup_printf(
        "change measure '%s' (its owner, its responsible person and "
        "administrators may)",
        row->ident);
    return cq_session_require(session, CQ_PERM_ADMIN, what, error);
}

/* ---- Writing ---- */

typedef struct {
    gint64 record; /* row ids */
    gint64 responsible;
    char *responsible_ident;
    char due[CQ_DAY_ISO_LEN];
    const char *status;
    const char *link; /* NULL: none */
} Resolved;

static gboolean
insert_row(CqSession *session, const CqMeasureNew *m, const Resolved *r,
           gint64 *id, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        session->store,
        "INSERT INTO measure (ident, record_id, title, responsible_id, due,"
        " status, level, link, owner, created, updated)"
        " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) {returning_id}",
        error);
    gint64 now = cq_store_now();

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, m->ident);
    cq_stmt_bind_int(stmt, 2, r->record);
    cq_stmt_bind_text(stmt, 3, m->title);
    cq_stmt_bind_int(stmt, 4, r->responsible);
    cq_stmt_bind_text(stmt, 5, r->due);
    cq_stmt_bind_text(stmt, 6, r->status);
    cq_stmt_bind_text(stmt, 7, r->link);
    cq_stmt_bind_text(stmt, 8, session->login);
    cq_stmt_bind_int(stmt, 9, now);
    cq_stmt_bind_int(stmt, 10, now);
    return cq_stmt_insert_id(stmt, id, error);
}

static gboolean
update_row(CqSession *session, const CqMeasureNew *m, const Resolved *r,
           gint64 id, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        session->store,
        "UPDATE measure SET record_id = ?, title = ?, responsible_id = ?,"
        " due = ?, status = ?, link = ?, updated = ? WHERE id = ?",
        error);

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, r->record);
    cq_stmt_bind_text(stmt, 2, m->title);
    cq_stmt_bind_int(stmt, 3, r->responsible);
    cq_stmt_bind_text(stmt, 4, r->due);
    cq_stmt_bind_text(stmt, 5, r->status);
    cq_stmt_bind_text(stmt, 6, r->link);
    cq_stmt_bind_int(stmt, 7, cq_store_now());
    cq_stmt_bind_int(stmt, 8, id);
    return cq_stmt_run(stmt, error);
}

static void
note_change(GString *detail, const char *field, const char *before,
            const char *after)
{
    if (g_strcmp0(before, after) == 0)
        return;
    if (detail->len > 0)
        g_string_append(detail, "; ");
    if (before == NULL || after == NULL || strcmp(field, "title") == 0)
        g_string_append(detail, field);
    else
        g_string_append_printf(detail, "%s %s -> %s", field, before, after);
}

/* What changed between @old and the new values, for the history. */
static char *
describe_change(const Row *old, const CqMeasureNew *m, const Resolved *r)
{
    GString *detail = g_string_new(NULL);

    note_change(detail, "record", old->record, m->record);
    note_change(detail, "title", old->title, m->title);
    note_change(detail, "responsible", old->responsible, r->responsible_ident);
    note_change(detail, "due", old->due, r->due);
    note_change(detail, "link", old->link, r->link);
    return g_string_free(detail, FALSE);
}

/* The history entry of a change of status: done, cancelled, reopened. */
static const char *
status_entry(const char *after)
{
    return strcmp(after, "open") == 0 ? "reopened" : after;
}

static gboolean
add_new(CqSession *session, const CqMeasureNew *m, const Resolved *r,
        GError **error)
{
    gint64 id = 0;
    g_autofree char *detail =
        g_strdup_printf("due %s; responsible %s; record %s", r->due,
                        r->responsible_ident, m->record);

    return insert_row(session, m, r, &id, error) &&
           cq_item_history_add(session, CQ_ITEM_MEASURE, id, "added", 0, detail,
                               error);
}

/* Writes what differs from @old, with its history entries. */
static gboolean
change_old(CqSession *session, const Row *old, const CqMeasureNew *m,
           const Resolved *r, gboolean *written, GError **error)
{
    g_autofree char *change = describe_change(old, m, r);
    gboolean status_changed = g_strcmp0(old->status, r->status) != 0;

    *written = status_changed || *change != '\0';
    if (!*written)
        return TRUE;
    if (!update_row(session, m, r, old->id, error))
        return FALSE;
    if (*change != '\0' &&
        !cq_item_history_add(session, CQ_ITEM_MEASURE, old->id, "changed", 0,
                             change, error))
        return FALSE;
    if (!status_changed)
        return TRUE;
    return cq_item_history_add(session, CQ_ITEM_MEASURE, old->id,
                               status_entry(r->status), 0, "", error);
}

/* Finds the rows @m points at, as @r; a NULL link or status keeps what
 * @old has (none and open for a new measure). */
static gboolean
resolve_fields(CqSession *session, const CqMeasureNew *m, const Row *old,
               const CqMeasureStatus *status, Resolved *r, GError **error)
{
    const char *link = m->link != NULL ? m->link : old->link;

    cq_day_format_iso(m->due, r->due);
    r->status = status    ? cq_measure_status_name(*status)
                : old->id ? old->status
                          : cq_measure_status_name(CQ_MEASURE_OPEN);
    r->link = link && *link ? link : NULL;
    return cq_catalog_find_person(session, "responsible person", m->responsible,
                                  &r->responsible, &r->responsible_ident,
                                  error) &&
           cq_record_ensure(session, m->record, &r->record, error);
}

static gboolean
check_existence(const Row *old, const CqMeasureNew *m, CqMeasureStoreMode mode,
                GError **error)
{
    if (old->id != 0 && mode == CQ_MEASURE_NEW) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "measure '%s' already exists", m->ident);
        return FALSE;
    }
    if (old->id == 0 && mode == CQ_MEASURE_EXISTING) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "measure '%s' does not exist", m->ident);
        return FALSE;
    }
    return TRUE;
}

gboolean
cq_measure_store(CqSession *session, const CqMeasureNew *m,
                 const CqMeasureStatus *status, CqMeasureStoreMode mode,
                 gboolean *written, GError **error)
{
    Row old = {0};
    Resolved r = {0};
    gboolean changed = TRUE;

    gboolean ok = check_fields(m, error) &&
                  load_row(session->store, m->ident, &old, error) &&
                  check_existence(&old, m, mode, error);
    if (ok)
        ok = old.id ? may_change(session, &old, error)
                    : cq_session_require(session, CQ_PERM_SEND, "add measures",
                                         error);
    ok = ok && resolve_fields(session, m, &old, status, &r, error);
    if (ok)
        ok = old.id == 0 ? add_new(session, m, &r, error)
                         : change_old(session, &old, m, &r, &changed, error);
    if (ok && written != NULL)
        *written = changed;
    row_clear(&old);
    g_free(r.responsible_ident);
    return ok;
}

gboolean
cq_measure_finish(CqStore *store, gboolean ok, GError **error)
{
    if (!ok) {
        cq_store_rollback(store);
        return FALSE;
    }
    return cq_store_commit(store, error);
}

gboolean
cq_measure_add(CqSession *session, const CqMeasureNew *measure, GError **error)
{
    if (!cq_session_require(session, CQ_PERM_SEND, "add measures", error) ||
        !cq_store_begin(session->store, CQ_TX_WRITE, error))
        return FALSE;
    gboolean ok =
        cq_measure_store(session, measure, NULL, CQ_MEASURE_NEW, NULL, error);
    return cq_measure_finish(session->store, ok, error);
}

/* Changes measure @ident: @change and @status (NULL: keep) over what is
 * stored. */
static gboolean
change_measure(CqSession *session, const char *ident,
               const CqMeasureChange *change, const CqMeasureStatus *status,
               GError **error)
{
    Row old = {0};
    CqMeasureNew m = {.ident = ident};

    gboolean ok = load_row(session->store, ident, &old, error);
    if (ok && old.id == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "measure '%s' does not exist", ident);
        ok = FALSE;
    }
    if (ok) {
        m.record = old.record;
        m.title = change->title ? change->title : old.title;
        m.responsible =
            change->responsible ? change->responsible : old.responsible;
        m.link = change->link;
        m.due = change->due;
        if (m.due == CQ_DAY_NONE)
            ok = cq_day_parse("due date", old.due, &m.due, error);
    }
    ok = ok && cq_measure_store(session, &m, status, CQ_MEASURE_EXISTING, NULL,
                                error);
    row_clear(&old);
    return ok;
}

gboolean
cq_measure_edit(CqSession *session, const char *ident,
                const CqMeasureChange *change, GError **error)
{
    if (!cq_store_begin(session->store, CQ_TX_WRITE, error))
        return FALSE;
    gboolean ok = change_measure(session, ident, change, NULL, error);
    return cq_measure_finish(session->store, ok, error);
}

gboolean
cq_measure_set_status(CqSession *session, const char *ident,
                      CqMeasureStatus status, GError **error)
{
    CqMeasureChange keep = {.due = CQ_DAY_NONE};

    if (!cq_store_begin(session->store, CQ_TX_WRITE, error))
        return FALSE;
    gboolean ok = change_measure(session, ident, &keep, &status, error);
    return cq_measure_finish(session->store, ok, error);
}

/* ---- Reading ---- */

static gboolean
require_reader(CqSession *session, GError **error)
{
    if (session->registered)
        return TRUE;
    return cq_session_require(session, CQ_PERM_SEND, "read measures", error);
}

static CqMeasure *
measure_from_row(CqStmt *stmt)
{
    CqMeasure *m = g_new0(CqMeasure, 1);

    m->ident = cq_stmt_dup(stmt, 0);
    m->record = cq_stmt_dup(stmt, 1);
    m->title = cq_stmt_dup(stmt, 2);
    m->responsible = cq_stmt_dup(stmt, 3);
    m->responsible_name = cq_stmt_dup(stmt, 4);
    if (!cq_day_parse("due date", cq_stmt_text(stmt, 5), &m->due, NULL))
        m->due = CQ_DAY_NONE;
    cq_measure_status_parse(cq_stmt_text(stmt, 6), &m->status, NULL);
    m->level = (guint)cq_stmt_int(stmt, 7);
    m->link = cq_stmt_dup(stmt, 8);
    m->owner = cq_stmt_dup(stmt, 9);
    m->created = cq_stmt_int(stmt, 10);
    m->updated = cq_stmt_int(stmt, 11);
    return m;
}

/* The SELECT for @filter; the values to bind go to @binds in order. */
static char *
list_sql(const CqMeasureFilter *f, const char *ident, GPtrArray *binds)
{
    GString *sql =
        g_string_new("SELECT m.ident, r.ident, m.title, p.ident, p.name, m.due,"
                     " m.status, m.level, m.link, m.owner, m.created, m.updated"
                     " FROM measure m JOIN record r ON r.id = m.record_id"
                     " JOIN person p ON p.id = m.responsible_id WHERE 1 = 1");

    if (ident != NULL) {
        g_string_append(sql, " AND m.ident = ?");
        g_ptr_array_add(binds, (gpointer)ident);
    }
    if (f != NULL && f->status != NULL) {
        g_string_append(sql, " AND m.status = ?");
        g_ptr_array_add(binds, (gpointer)cq_measure_status_name(*f->status));
    }
    if (f != NULL && f->record != NULL) {
        g_string_append(sql, " AND r.ident = ?");
        g_ptr_array_add(binds, (gpointer)f->record);
    }
    if (f != NULL && f->responsible != NULL) {
        g_string_append(sql, " AND p.ident = ?");
        g_ptr_array_add(binds, (gpointer)f->responsible);
    }
    g_string_append(sql, " ORDER BY m.due, m.ident");
    return g_string_free(sql, FALSE);
}

static GPtrArray *
query(CqSession *session, const CqMeasureFilter *filter, const char *ident,
      GError **error)
{
    g_autoptr(GPtrArray) binds = g_ptr_array_new();
    g_autofree char *sql = list_sql(filter, ident, binds);
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_measure_free);
    CqStmt *stmt = cq_store_stmt(session->store, sql, error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return NULL;
    for (guint i = 0; i < binds->len; i++)
        cq_stmt_bind_text(stmt, (int)i + 1, binds->pdata[i]);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW)
        g_ptr_array_add(out, measure_from_row(stmt));
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE ? g_steal_pointer(&out) : NULL;
}

GPtrArray *
cq_measure_list(CqSession *session, const CqMeasureFilter *filter,
                GError **error)
{
    if (!require_reader(session, error))
        return NULL;
    return query(session, filter, NULL, error);
}

CqMeasure *
cq_measure_get(CqSession *session, const char *ident, GError **error)
{
    if (!require_reader(session, error))
        return NULL;
    g_autoptr(GPtrArray) found = query(session, NULL, ident, error);
    if (found == NULL)
        return NULL;
    if (found->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "measure '%s' does not exist", ident);
        return NULL;
    }
    return g_ptr_array_steal_index(found, 0);
}

gboolean
cq_measure_find_id(CqStore *store, const char *ident, gint64 *id,
                   GError **error)
{
    CqStmt *stmt =
        cq_store_stmt(store, "SELECT id FROM measure WHERE ident = ?", error);

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, ident);
    return cq_stmt_int_result(stmt, 0, id, error);
}

GPtrArray *
cq_measure_history(CqSession *session, const char *ident, GError **error)
{
    g_autoptr(CqMeasure) measure = cq_measure_get(session, ident, error);
    gint64 id = 0;

    if (measure == NULL ||
        !cq_measure_find_id(session->store, ident, &id, error))
        return NULL;
    return cq_item_history_list(session->store, CQ_ITEM_MEASURE, id, error);
}
