#include "workflow/day.h"

#include "common/error.h"
#include "common/text.h"

/* GDate's Julian day of 1970-01-01. */
#define EPOCH_JULIAN 719163

CqDay
cq_day_from_ymd(int year, int month, int day)
{
    GDate date;

    g_date_clear(&date, 1);
    g_date_set_dmy(&date, (GDateDay)day, (GDateMonth)month, (GDateYear)year);
    return (CqDay)((gint64)g_date_get_julian(&date) - EPOCH_JULIAN);
}

void
cq_day_to_ymd(CqDay day, int *year, int *month, int *mday)
{
    GDate date;

    g_date_clear(&date, 1);
    g_date_set_julian(&date, (guint32)(day + EPOCH_JULIAN));
    *year = g_date_get_year(&date);
    *month = g_date_get_month(&date);
    *mday = g_date_get_day(&date);
}

char *
cq_day_format_iso(CqDay day, char buf[CQ_DAY_ISO_LEN])
{
    int y = 0, m = 0, d = 0;

    cq_day_to_ymd(day, &y, &m, &d);
    g_snprintf(buf, CQ_DAY_ISO_LEN, "%04d-%02d-%02d", y, m, d);
    return buf;
}

static const char *const months_de[] = {
    "Januar", "Februar", "März",      "April",   "Mai",      "Juni",
    "Juli",   "August",  "September", "Oktober", "November", "Dezember",
};
static const char *const months_en[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December",
};

void
cq_day_append(GString *out, CqDay day, const char *language, CqDayForm form)
{
    int y = 0, m = 0, d = 0;
    gboolean de = g_strcmp0(language, "de") == 0;
    gboolean en = g_strcmp0(language, "en") == 0;

    cq_day_to_ymd(day, &y, &m, &d);
    if (form == CQ_DAY_LONG && de)
        g_string_append_printf(out, "%d. %s %d", d, months_de[m - 1], y);
    else if (form == CQ_DAY_LONG && en)
        g_string_append_printf(out, "%d %s %d", d, months_en[m - 1], y);
    else if (form != CQ_DAY_ISO && de)
        g_string_append_printf(out, "%02d.%02d.%04d", d, m, y);
    else
        g_string_append_printf(out, "%04d-%02d-%02d", y, m, d);
}

char *
cq_day_format(CqDay day, const char *language, CqDayForm form)
{
    GString *out = g_string_new(NULL);

    cq_day_append(out, day, language, form);
    return g_string_free(out, FALSE);
}

static gboolean
digits(const char *text, int n, int *value)
{
    *value = 0;
    for (int i = 0; i < n; i++) {
        if (!g_ascii_isdigit(text[i]))
            return FALSE;
        *value = *value * 10 + (text[i] - '0');
    }
    return TRUE;
}

gboolean
cq_day_parse(const char *what, const char *text, CqDay *day, GError **error)
{
    int y = 0, m = 0, d = 0;

    if (text != NULL && digits(text, 4, &y) && text[4] == '-' &&
        digits(text + 5, 2, &m) && text[7] == '-' && digits(text + 8, 2, &d) &&
        text[10] == '\0' && y >= 1 &&
        g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y)) {
        *day = cq_day_from_ymd(y, m, d);
        return TRUE;
    }
    g_autofree char *shown = cq_text_printable(text ? text : "");
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "%s '%s': not a date of the form YYYY-MM-DD", what, shown);
    return FALSE;
}

CqDay
cq_day_today(void)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();

    return cq_day_from_ymd(g_date_time_get_year(now),
                           g_date_time_get_month(now),
                           g_date_time_get_day_of_month(now));
}
