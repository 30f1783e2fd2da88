/* libFuzzer target: the CSV parser must never crash or leak, every
 * record it accepts must be valid UTF-8 without NUL bytes, and a record
 * written back and parsed again must come out the same. */
#include "catalog/csv.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_round_trip(const CqCsvRecord *rec)
{
    guint n = g_strv_length(rec->fields);
    g_autoptr(GString) line = g_string_new(NULL);

    cq_csv_append_line(line, (const char *const *)rec->fields, n);
    g_autoptr(GPtrArray) again = cq_csv_parse(line->str, line->len);
    /* A record of one empty field is an empty line, which is skipped. */
    if (n == 1 && *rec->fields[0] == '\0') {
        if (again->len != 0)
            __builtin_trap();
        return;
    }
    if (again->len != 1)
        __builtin_trap();
    const CqCsvRecord *r = again->pdata[0];
    if (r->error != NULL || g_strv_length(r->fields) != n)
        __builtin_trap();
    for (guint i = 0; i < n; i++) {
        if (strcmp(r->fields[i], rec->fields[i]) != 0)
            __builtin_trap();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GPtrArray) records = cq_csv_parse((const char *)data, size);
    guint last = 0;

    for (guint i = 0; i < records->len; i++) {
        const CqCsvRecord *rec = records->pdata[i];
        if (rec->line < last || rec->line == 0)
            __builtin_trap(); /* line numbers only grow */
        last = rec->line;
        if (rec->error != NULL)
            continue;
        for (guint k = 0; rec->fields[k]; k++) {
            if (!g_utf8_validate(rec->fields[k], -1, NULL))
                __builtin_trap();
        }
        check_round_trip(rec);
    }
    return 0;
}
