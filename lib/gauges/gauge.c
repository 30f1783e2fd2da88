/* Gauges: adding, changing, reading, importing. */
#include "gauges/gauge.h"

#include "catalog/catalog.h"
#include "catalog/csv.h"
#include "common/error.h"
#include "common/text.h"

#include <string.h>

static const char *const status_names[] = {
    [CQ_GAUGE_IN_USE] = "in-use",
    [CQ_GAUGE_COLLECTION_REQUESTED] = "collection-requested",
    [CQ_GAUGE_IN_CALIBRATION] = "in-calibration",
    [CQ_GAUGE_BLOCKED] = "blocked",
};

const char *
cq_gauge_status_name(CqGaugeStatus status)
{
    g_return_val_if_fail(status <= CQ_GAUGE_BLOCKED, NULL);
    return status_names[status];
}

gboolean
cq_gauge_status_parse(const char *name, CqGaugeStatus *status, GError **error)
{
    for (guint i = 0; i < G_N_ELEMENTS(status_names); i++) {
        if (g_strcmp0(name, status_names[i]) == 0) {
            *status = (CqGaugeStatus)i;
            return TRUE;
        }
    }
    g_autofree char *shown = cq_text_printable(name ? name : "");
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "gauge status '%s': use in-use, collection-requested, "
                "in-calibration or blocked",
                shown);
    return FALSE;
}

void
cq_gauge_free(CqGauge *gauge)
{
    if (gauge == NULL)
        return;
    g_free(gauge->inventory);
    g_free(gauge->description);
    g_free(gauge->holder);
    g_free(gauge->holder_name);
    g_free(gauge->location);
    g_free(gauge);
}

/* ---- Reading ---- */

#define GAUGE_SELECT                                                           \
    "SELECT g.id, g.inventory, g.description, p.ident, p.name, g.location,"    \
    " g.interval_months, g.due, g.status, g.last_listed, g.created,"           \
    " g.updated FROM gauge g JOIN person p ON p.id = g.holder_id"

static CqDay
day_column(CqStmt *stmt, int column)
{
    CqDay day = CQ_DAY_NONE;

    if (!cq_stmt_is_null(stmt, column) &&
        !cq_day_parse("date", cq_stmt_text(stmt, column), &day, NULL))
        day = CQ_DAY_NONE;
    return day;
}

static CqGauge *
gauge_from_row(CqStmt *stmt, gint64 *id)
{
    CqGauge *g = g_new0(CqGauge, 1);

    if (id != NULL)
        *id = cq_stmt_int(stmt, 0);
    g->inventory = cq_stmt_dup(stmt, 1);
    g->description = cq_stmt_dup(stmt, 2);
    g->holder = cq_stmt_dup(stmt, 3);
    g->holder_name = cq_stmt_dup(stmt, 4);
    g->location = cq_stmt_dup(stmt, 5);
    g->interval_months = (guint)cq_stmt_int(stmt, 6);
    g->due = day_column(stmt, 7);
    cq_gauge_status_parse(cq_stmt_text(stmt, 8), &g->status, NULL);
    g->last_listed = day_column(stmt, 9);
    g->created = cq_stmt_int(stmt, 10);
    g->updated = cq_stmt_int(stmt, 11);
    return g;
}

/* Loads gauge @inventory; *@gauge stays NULL when there is none. */
static gboolean
load(CqStore *store, const char *inventory, CqGauge **gauge, gint64 *id,
     GError **error)
{
    CqStmt *stmt =
        cq_store_stmt(store, GAUGE_SELECT " WHERE g.inventory = ?", error);
    CqStep step = CQ_STEP_ERROR;

    *gauge = NULL;
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, inventory);
    step = cq_stmt_step(stmt, error);
    if (step == CQ_STEP_ROW)
        *gauge = gauge_from_row(stmt, id);
    cq_stmt_reset(stmt);
    return step != CQ_STEP_ERROR;
}

static gboolean
require_reader(CqSession *session, GError **error)
{
    if (session->registered)
        return TRUE;
    return cq_session_require(session, CQ_PERM_SEND, "read gauges", error);
}

GPtrArray *
cq_gauge_list(CqSession *session, const CqGaugeFilter *filter, GError **error)
{
    const CqGaugeFilter none = {0};
    const CqGaugeFilter *f = filter ? filter : &none;
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_gauge_free);
    CqStmt *stmt = NULL;
    CqStep step = CQ_STEP_ERROR;

    if (!require_reader(session, error))
        return NULL;
    stmt = cq_store_stmt(session->store,
                         GAUGE_SELECT " WHERE (? = 0 OR g.status = ?)"
                                      " AND (? = 0 OR p.ident = ?)"
                                      " ORDER BY g.due, g.inventory",
                         error);
    if (stmt == NULL)
        return NULL;
    cq_stmt_bind_int(stmt, 1, f->status != NULL);
    cq_stmt_bind_text(stmt, 2,
                      f->status ? cq_gauge_status_name(*f->status) : "");
    cq_stmt_bind_int(stmt, 3, f->holder != NULL);
    cq_stmt_bind_text(stmt, 4, f->holder ? f->holder : "");
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW)
        g_ptr_array_add(out, gauge_from_row(stmt, NULL));
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE ? g_steal_pointer(&out) : NULL;
}

static CqGauge *
get(CqSession *session, const char *inventory, gint64 *id, GError **error)
{
    CqGauge *gauge = NULL;

    if (!require_reader(session, error) ||
        !load(session->store, inventory, &gauge, id, error))
        return NULL;
    if (gauge == NULL)
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "gauge '%s' does not exist", inventory);
    return gauge;
}

CqGauge *
cq_gauge_get(CqSession *session, const char *inventory, GError **error)
{
    return get(session, inventory, NULL, error);
}

GPtrArray *
cq_gauge_history(CqSession *session, const char *inventory, GError **error)
{
    gint64 id = 0;
    g_autoptr(CqGauge) gauge = get(session, inventory, &id, error);

    if (gauge == NULL)
        return NULL;
    return cq_item_history_list(session->store, CQ_ITEM_GAUGE, id, error);
}

/* ---- Writing ---- */

/* The values to store: the fields given over what the gauge has. */
typedef struct {
    const char *description, *holder, *location;
    guint interval;
    CqDay due;
    CqGaugeStatus status;
    gint64 holder_id;
    char *holder_ident;
} Merged;

static gboolean
check_text(const char *what, const char *text, gboolean required,
           GError **error)
{
    if (text == NULL || *text == '\0') {
        if (!required)
            return TRUE;
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID, "%s: missing", what);
        return FALSE;
    }
    if (!cq_text_check_header(what, text, error))
        return FALSE;
    if (g_utf8_strlen(text, -1) <= CQ_GAUGE_MAX_TEXT)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "%s: longer than %d characters", what, CQ_GAUGE_MAX_TEXT);
    return FALSE;
}

static gboolean
check_merged(const Merged *m, GError **error)
{
    if (!check_text("gauge description", m->description, TRUE, error) ||
        !check_text("gauge location", m->location, FALSE, error))
        return FALSE;
    if (m->interval < 1 || m->interval > CQ_GAUGE_MAX_INTERVAL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "calibration interval: give 1 to %d months",
                    CQ_GAUGE_MAX_INTERVAL);
        return FALSE;
    }
    if (m->due != CQ_DAY_NONE)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "calibration due date: missing");
    return FALSE;
}

static void
merge(const CqGaugeFields *f, const CqGauge *old, Merged *m)
{
    m->description =
        f->description ? f->description : (old ? old->description : NULL);
    m->holder = f->holder ? f->holder : (old ? old->holder : NULL);
    m->location = f->location ? f->location : (old ? old->location : "");
    m->interval = f->interval_months ? f->interval_months
                                     : (old ? old->interval_months : 0);
    m->due = f->due != CQ_DAY_NONE ? f->due : (old ? old->due : CQ_DAY_NONE);
    m->status = f->status ? *f->status : (old ? old->status : CQ_GAUGE_IN_USE);
}

static gboolean
write_row(CqSession *session, const char *inventory, const Merged *m,
          const CqGauge *old, gint64 *id, GError **error)
{
    char due[CQ_DAY_ISO_LEN], listed[CQ_DAY_ISO_LEN];
    gboolean keep_listed =
        old != NULL && old->due == m->due && old->last_listed != CQ_DAY_NONE;
    CqStmt *stmt = cq_store_stmt(
        session->store,
        old ? "UPDATE gauge SET description = ?, holder_id = ?, location = ?,"
              " interval_months = ?, due = ?, status = ?, last_listed = ?,"
              " updated = ? WHERE inventory = ? RETURNING id"
            : "INSERT INTO gauge (description, holder_id, location,"
              " interval_months, due, status, last_listed, updated,"
              " inventory, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
              " {returning_id}",
        error);

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, m->description);
    cq_stmt_bind_int(stmt, 2, m->holder_id);
    cq_stmt_bind_text(stmt, 3, m->location);
    cq_stmt_bind_int(stmt, 4, m->interval);
    cq_stmt_bind_text(stmt, 5, cq_day_format_iso(m->due, due));
    cq_stmt_bind_text(stmt, 6, cq_gauge_status_name(m->status));
    cq_stmt_bind_text(stmt, 7,
                      keep_listed ? cq_day_format_iso(old->last_listed, listed)
                                  : NULL);
    cq_stmt_bind_int(stmt, 8, cq_store_now());
    cq_stmt_bind_text(stmt, 9, inventory);
    if (old == NULL) {
        cq_stmt_bind_int(stmt, 10, cq_store_now());
        return cq_stmt_insert_id(stmt, id, error);
    }
    return cq_stmt_int_result(stmt, 0, id, error);
}

static void
note(GString *detail, const char *field, const char *before, const char *after)
{
    if (g_strcmp0(before, after) == 0)
        return;
    g_string_append_printf(detail, "%s%s %s -> %s", detail->len ? "; " : "",
                           field, before, after);
}

/* What the history says about the change from @old to @m. */
static char *
describe(const CqGauge *old, const Merged *m)
{
    GString *detail = g_string_new(NULL);
    char before[CQ_DAY_ISO_LEN], after[CQ_DAY_ISO_LEN];

    if (old == NULL) {
        g_string_printf(detail, "holder %s; due %s; status %s", m->holder_ident,
                        cq_day_format_iso(m->due, after),
                        cq_gauge_status_name(m->status));
        return g_string_free(detail, FALSE);
    }
    if (g_strcmp0(old->description, m->description) != 0)
        g_string_append(detail, "description");
    note(detail, "holder", old->holder, m->holder_ident);
    note(detail, "location", old->location, m->location);
    g_autofree char *i1 = g_strdup_printf("%u", old->interval_months);
    g_autofree char *i2 = g_strdup_printf("%u", m->interval);
    note(detail, "interval", i1, i2);
    note(detail, "due", cq_day_format_iso(old->due, before),
         cq_day_format_iso(m->due, after));
    note(detail, "status", cq_gauge_status_name(old->status),
         cq_gauge_status_name(m->status));
    return g_string_free(detail, FALSE);
}

static gboolean
store(CqSession *session, const CqGaugeFields *f, const CqGauge *old,
      gboolean *written, GError **error)
{
    Merged m = {0};
    gint64 id = 0;

    merge(f, old, &m);
    gboolean ok = check_merged(&m, error) &&
                  cq_catalog_find_person(session, "gauge holder", m.holder,
                                         &m.holder_id, &m.holder_ident, error);
    g_autofree char *detail = ok ? describe(old, &m) : NULL;
    *written = ok && *detail != '\0';
    if (ok && *written)
        ok = write_row(session, f->inventory, &m, old, &id, error) &&
             cq_item_history_add(session, CQ_ITEM_GAUGE, id,
                                 old ? "changed" : "added", 0, detail, error);
    g_free(m.holder_ident);
    return ok;
}

typedef enum {
    MODE_ADD,
    MODE_EDIT,
    MODE_EITHER,
} Mode;

static gboolean
store_checked(CqSession *session, const CqGaugeFields *f, Mode mode,
              gboolean *written, GError **error)
{
    g_autoptr(CqGauge) old = NULL;

    if (!cq_session_require(session, CQ_PERM_EDIT_CATALOG, "change gauges",
                            error) ||
        !cq_ident_check("inventory number", f->inventory, error) ||
        !load(session->store, f->inventory, &old, NULL, error))
        return FALSE;
    if (old != NULL && mode == MODE_ADD) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "gauge '%s' already exists", f->inventory);
        return FALSE;
    }
    if (old == NULL && mode == MODE_EDIT) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "gauge '%s' does not exist", f->inventory);
        return FALSE;
    }
    return store(session, f, old, written, error);
}

static gboolean
store_one(CqSession *session, const CqGaugeFields *f, Mode mode, GError **error)
{
    gboolean written = FALSE;

    if (!cq_store_begin(session->store, CQ_TX_WRITE, error))
        return FALSE;
    if (!store_checked(session, f, mode, &written, error)) {
        cq_store_rollback(session->store);
        return FALSE;
    }
    return cq_store_commit(session->store, error);
}

gboolean
cq_gauge_add(CqSession *session, const CqGaugeFields *fields, GError **error)
{
    return store_one(session, fields, MODE_ADD, error);
}

gboolean
cq_gauge_edit(CqSession *session, const CqGaugeFields *fields, GError **error)
{
    return store_one(session, fields, MODE_EDIT, error);
}

/* ---- Import ---- */

static const char *const columns[] = {
    "inventory", "description", "holder", "location",
    "interval",  "due",         "status", NULL,
};
static const char *const required[] = {
    "inventory", "description", "holder", "interval", "due", NULL,
};

static gboolean
parse_record(const CqCsvImport *im, const CqCsvRecord *rec, CqGaugeFields *f,
             CqGaugeStatus *status, GError **error)
{
    const char *interval = cq_csv_import_value(im, rec, "interval");
    const char *status_name = cq_csv_import_value(im, rec, "status");
    guint64 months = 0;

    f->inventory = cq_csv_import_value(im, rec, "inventory");
    f->description = cq_csv_import_value(im, rec, "description");
    f->holder = cq_csv_import_value(im, rec, "holder");
    f->location = cq_csv_import_value(im, rec, "location");
    if (!g_ascii_string_to_unsigned(interval, 10, 1, CQ_GAUGE_MAX_INTERVAL,
                                    &months, NULL)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "calibration interval '%s': give 1 to %d months", interval,
                    CQ_GAUGE_MAX_INTERVAL);
        return FALSE;
    }
    f->interval_months = (guint)months;
    if (!cq_day_parse("due date", cq_csv_import_value(im, rec, "due"), &f->due,
                      error))
        return FALSE;
    if (status_name == NULL || *status_name == '\0')
        return TRUE;
    f->status = status;
    return cq_gauge_status_parse(status_name, status, error);
}

static gboolean
write_record(const CqCsvImport *im, const CqCsvRecord *rec, gpointer data,
             gboolean *written, GError **error)
{
    CqGaugeFields f = {0};
    CqGaugeStatus status = CQ_GAUGE_IN_USE;

    return parse_record(im, rec, &f, &status, error) &&
           store_checked(data, &f, MODE_EITHER, written, error);
}

gboolean
cq_gauge_import(CqSession *session, const char *path, guint *count,
                GError **error)
{
    CqCsvImport im;

    if (!cq_session_require(session, CQ_PERM_EDIT_CATALOG, "import gauges",
                            error) ||
        !cq_csv_import_open(&im, path, columns, required, error))
        return FALSE;
    gboolean ok = cq_csv_import_run(&im, session->store, "inventory", "gauge",
                                    write_record, session, count, error);
    cq_csv_import_clear(&im);
    return ok;
}
