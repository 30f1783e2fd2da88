/* Measures: corrective and preventive actions with a responsible person
 * and a due date, which the reminder run (workflow/remind.h) reminds of.
 *
 * A measure has an identifier unique among measures ("M-2026-0107"), the
 * quality record it belongs to (created when missing, as sending a mail
 * for it does), a title, a responsible person from the catalog, a due
 * date, a status (open, done, cancelled), an optional link into the CAQ
 * application, and the reminder level it stands at (0: none sent).  Every
 * change and every reminder is an entry of the measure's own history.
 *
 * Any registered user may read measures.  Adding and importing need the
 * permission send; changing one is for its owner (who added it), its
 * responsible person and administrators.  Bad input changes nothing.
 */
#ifndef CQ_MEASURES_MEASURE_H
#define CQ_MEASURES_MEASURE_H

#include "access/access.h"
#include "history/item.h"
#include "workflow/day.h"

#define CQ_MEASURE_MAX_TITLE 200
#define CQ_MEASURE_MAX_LINK 2000

typedef enum {
    CQ_MEASURE_OPEN,
    CQ_MEASURE_DONE,
    CQ_MEASURE_CANCELLED,
} CqMeasureStatus;

/* "open", "done", "cancelled". */
const char *cq_measure_status_name(CqMeasureStatus status);
gboolean cq_measure_status_parse(const char *name, CqMeasureStatus *status,
                                 GError **error);

/* What a new measure is given; strings are borrowed. */
typedef struct {
    const char *ident;
    const char *record; /* the quality record, e.g. 8D-2026-0042 */
    const char *title;
    const char *responsible; /* a person: identifier, login, person:IDENT */
    CqDay due;
    const char *link; /* http(s) address in the CAQ application, or NULL */
} CqMeasureNew;

/* Adds an open measure; the C API of the host application. */
gboolean cq_measure_add(CqSession *session, const CqMeasureNew *measure,
                        GError **error);

/* A change: NULL and CQ_DAY_NONE keep a field; a link of "" removes it. */
typedef struct {
    const char *title;
    const char *responsible;
    CqDay due;
    const char *link;
} CqMeasureChange;

/* Changes a measure.  A due date moved later takes back the reminder
 * levels that no longer apply at the next reminder run. */
gboolean cq_measure_edit(CqSession *session, const char *ident,
                         const CqMeasureChange *change, GError **error);
/* Marks a measure done or cancelled (no further reminders), or open
 * again. */
gboolean cq_measure_set_status(CqSession *session, const char *ident,
                               CqMeasureStatus status, GError **error);

typedef struct {
    char *ident;
    char *record;
    char *title;
    char *responsible;      /* the person's identifier */
    char *responsible_name; /* and name */
    CqDay due;
    CqMeasureStatus status;
    guint level;             /* the reminder level it stands at; 0: none */
    char *link;              /* or NULL */
    char *owner;             /* the login that added it */
    gint64 created, updated; /* microseconds since 1970 */
} CqMeasure;

void cq_measure_free(CqMeasure *measure);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqMeasure, cq_measure_free)

typedef struct {
    const CqMeasureStatus *status; /* only this status; NULL: any */
    const char *record;            /* only measures of this record */
    const char *responsible;       /* only of this person (identifier) */
} CqMeasureFilter;

/* The measures matching @filter (may be NULL), by due date: an owning
 * array of CqMeasure. */
GPtrArray *cq_measure_list(CqSession *session, const CqMeasureFilter *filter,
                           GError **error);
CqMeasure *cq_measure_get(CqSession *session, const char *ident,
                          GError **error);

/* The history of measure @ident, oldest first: an owning array of
 * CqItemEntry (history/item.h). */
GPtrArray *cq_measure_history(CqSession *session, const char *ident,
                              GError **error);

/* The row id of measure @ident, 0 when there is none. */
gboolean cq_measure_find_id(CqStore *store, const char *ident, gint64 *id,
                            GError **error);

/* Imports measures from a CSV file with the columns ident, record, title,
 * responsible, due (YYYY-MM-DD), and optionally status and link.  A
 * measure whose identifier exists is changed, others are added.  All or
 * nothing: when any line is bad, nothing is imported and the error names
 * every bad line.  *@count (may be NULL) is set to the measures
 * written. */
gboolean cq_measure_import(CqSession *session, const char *path, guint *count,
                           GError **error);

#endif
