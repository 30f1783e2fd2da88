/* Importing measures from CSV, all or nothing. */
#include "measures/measure-private.h"

#include "catalog/csv.h"
#include "common/error.h"

static const char *const columns[] = {
    "ident", "record", "title", "responsible", "due", "status", "link", NULL,
};
static const char *const required[] = {
    "ident", "record", "title", "responsible", "due", NULL,
};

/* An empty optional field keeps what the measure has. */
static const char *
optional(const CqCsvImport *im, const CqCsvRecord *rec, const char *column)
{
    const char *value = cq_csv_import_value(im, rec, column);
    return value && *value ? value : NULL;
}

static gboolean
write_record(const CqCsvImport *im, const CqCsvRecord *rec, gpointer data,
             gboolean *written, GError **error)
{
    CqMeasureNew m = {
        .ident = cq_csv_import_value(im, rec, "ident"),
        .record = cq_csv_import_value(im, rec, "record"),
        .title = cq_csv_import_value(im, rec, "title"),
        .responsible = cq_csv_import_value(im, rec, "responsible"),
        .link = optional(im, rec, "link"),
    };
    const char *status_name = optional(im, rec, "status");
    CqMeasureStatus status = CQ_MEASURE_OPEN;

    if (!cq_day_parse("due date", cq_csv_import_value(im, rec, "due"), &m.due,
                      error) ||
        (status_name != NULL &&
         !cq_measure_status_parse(status_name, &status, error)))
        return FALSE;
    return cq_measure_store(data, &m, status_name ? &status : NULL,
                            CQ_MEASURE_EITHER, written, error);
}

gboolean
cq_measure_import(CqSession *session, const char *path, guint *count,
                  GError **error)
{
    CqCsvImport im;

    if (!cq_session_require(session, CQ_PERM_SEND, "import measures", error) ||
        !cq_csv_import_open(&im, path, columns, required, error))
        return FALSE;
    gboolean ok = cq_csv_import_run(&im, session->store, "ident", "measure",
                                    write_record, session, count, error);
    cq_csv_import_clear(&im);
    return ok;
}
