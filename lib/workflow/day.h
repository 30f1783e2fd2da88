/* Calendar days: the unit of due dates, reminder offsets and collection
 * windows.
 *
 * A CqDay counts days since 1970-01-01 in the proleptic Gregorian
 * calendar; day arithmetic is plain integer arithmetic.  Dates enter and
 * leave as ISO 8601 text (YYYY-MM-DD), the form the database and the
 * command line use.
 */
#ifndef CQ_WORKFLOW_DAY_H
#define CQ_WORKFLOW_DAY_H

#include <glib.h>

typedef gint32 CqDay;

/* No date: a gauge never listed, a value not given. */
#define CQ_DAY_NONE G_MININT32

/* Years from 1 to 9999 are representable. */
#define CQ_DAY_ISO_LEN 11 /* "YYYY-MM-DD" and its NUL */

/* Parses exactly "YYYY-MM-DD" (a real calendar date).  On failure sets
 * CQ_ERROR_INVALID naming @what ("due date", "--date") and the text. */
gboolean cq_day_parse(const char *what, const char *text, CqDay *day,
                      GError **error);

CqDay cq_day_from_ymd(int year, int month, int day);
void cq_day_to_ymd(CqDay day, int *year, int *month, int *mday);

/* Writes "YYYY-MM-DD" into @buf and returns it. */
char *cq_day_format_iso(CqDay day, char buf[CQ_DAY_ISO_LEN]);

typedef enum {
    CQ_DAY_ISO,   /* 2026-12-15 */
    CQ_DAY_SHORT, /* as the language writes it: 15.12.2026 in German,
                     ISO otherwise */
    CQ_DAY_LONG,  /* written out: "15. Dezember 2026", "15 December
                     2026"; ISO for languages other than de and en */
} CqDayForm;

/* Appends @day in @form for readers of @language ("de", "en"; NULL: ISO
 * forms). */
void cq_day_append(GString *out, CqDay day, const char *language,
                   CqDayForm form);
/* The same, newly allocated. */
char *cq_day_format(CqDay day, const char *language, CqDayForm form);

/* Today's date in the local time zone. */
CqDay cq_day_today(void);

#endif
