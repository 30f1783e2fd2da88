#include "catalog/csv.h"

#include <string.h>

void
cq_csv_record_free(CqCsvRecord *record)
{
    if (record == NULL)
        return;
    g_strfreev(record->fields);
    g_free(record->error);
    g_free(record);
}

typedef struct {
    const char *p, *end;
    guint line;
} Cursor;

static gboolean
at_line_end(const Cursor *c)
{
    return c->p >= c->end || *c->p == '\n' ||
           (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n');
}

static void
skip_line_end(Cursor *c)
{
    if (c->p < c->end && *c->p == '\r')
        c->p++;
    if (c->p < c->end && *c->p == '\n') {
        c->p++;
        c->line++;
    }
}

/* Skips the rest of a malformed record's line. */
static void
skip_line(Cursor *c)
{
    while (!at_line_end(c))
        c->p++;
    skip_line_end(c);
}

static gboolean
read_quoted(Cursor *c, GString *field, char **error)
{
    c->p++; /* opening quote */
    for (;;) {
        if (c->p >= c->end) {
            *error = g_strdup("unterminated quoted field");
            return FALSE;
        }
        if (*c->p == '"') {
            if (c->p + 1 < c->end && c->p[1] == '"') {
                g_string_append_c(field, '"');
                c->p += 2;
                continue;
            }
            c->p++;
            break;
        }
        if (*c->p == '\n')
            c->line++;
        g_string_append_c(field, *c->p++);
    }
    if (!at_line_end(c) && *c->p != ',') {
        *error = g_strdup("text after a closing quote");
        return FALSE;
    }
    return TRUE;
}

static gboolean
read_plain(Cursor *c, GString *field, char **error)
{
    while (!at_line_end(c) && *c->p != ',') {
        if (*c->p == '"') {
            *error = g_strdup("a quote inside an unquoted field");
            return FALSE;
        }
        g_string_append_c(field, *c->p++);
    }
    return TRUE;
}

static gboolean
check_field(const GString *field, char **error)
{
    const char *bad = NULL;

    if (memchr(field->str, '\0', field->len) != NULL) {
        *error = g_strdup("a NUL byte");
        return FALSE;
    }
    if (!g_utf8_validate(field->str, (gssize)field->len, &bad)) {
        *error = g_strdup_printf("not valid UTF-8 (byte 0x%02x)", (guchar)*bad);
        return FALSE;
    }
    return TRUE;
}

static CqCsvRecord *
read_record(Cursor *c)
{
    CqCsvRecord *record = g_new0(CqCsvRecord, 1);
    g_autoptr(GStrvBuilder) fields = g_strv_builder_new();
    g_autoptr(GString) field = g_string_new(NULL);

    record->line = c->line;
    for (;;) {
        g_string_truncate(field, 0);
        gboolean ok = c->p < c->end && *c->p == '"'
                          ? read_quoted(c, field, &record->error)
                          : read_plain(c, field, &record->error);
        if (ok)
            ok = check_field(field, &record->error);
        if (!ok) {
            skip_line(c);
            break;
        }
        g_strv_builder_add(fields, field->str);
        if (at_line_end(c)) {
            skip_line_end(c);
            break;
        }
        c->p++; /* comma */
    }
    record->fields = g_strv_builder_end(fields);
    return record;
}

GPtrArray *
cq_csv_parse(const char *data, gsize len)
{
    GPtrArray *records =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_csv_record_free);
    Cursor c = {data, data + len, 1};

    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        c.p += 3;
    while (c.p < c.end) {
        if (at_line_end(&c)) {
            skip_line_end(&c);
            continue;
        }
        g_ptr_array_add(records, read_record(&c));
    }
    return records;
}

/* Quotes what would otherwise read differently: separators, quotes,
 * line ends, edge spaces, and a leading byte-order mark. */
static gboolean
needs_quotes(const char *field)
{
    return strpbrk(field, ",\"\r\n") != NULL || *field == ' ' ||
           g_str_has_prefix(field, "\xef\xbb\xbf") ||
           (*field != '\0' && field[strlen(field) - 1] == ' ');
}

void
cq_csv_append_line(GString *out, const char *const *fields, guint n_fields)
{
    for (guint i = 0; i < n_fields; i++) {
        const char *f = fields[i] ? fields[i] : "";
        if (i > 0)
            g_string_append_c(out, ',');
        if (!needs_quotes(f)) {
            g_string_append(out, f);
            continue;
        }
        g_string_append_c(out, '"');
        for (const char *p = f; *p; p++) {
            if (*p == '"')
                g_string_append_c(out, '"');
            g_string_append_c(out, *p);
        }
        g_string_append_c(out, '"');
    }
    g_string_append(out, "\r\n");
}
