/* Gauges: the test equipment that is calibrated at intervals, and whose
 * holders get collection lists (workflow/collect.h) when it falls due.
 *
 * A gauge has an inventory number unique among gauges, a description, a
 * holder (a catalog person), a location, a calibration interval in
 * months, the date its next calibration is due, and a status:
 *
 *   in-use                in the holder's hands
 *   collection-requested  on a collection list sent to the holder
 *   in-calibration        with the calibration lab
 *   blocked               not to be used; never listed
 *
 * It also keeps the day it was last put on a collection list; a new due
 * date (after a calibration) clears it.  Every change and every list is
 * an entry of the gauge's own history (history/item.h).
 *
 * Gauges are master data: any registered user may read them, changing
 * them needs the permission edit-catalog.  Bad input changes nothing.
 */
#ifndef CQ_GAUGES_GAUGE_H
#define CQ_GAUGES_GAUGE_H

#include "access/access.h"
#include "history/item.h"
#include "workflow/day.h"

#define CQ_GAUGE_MAX_TEXT 200
#define CQ_GAUGE_MAX_INTERVAL 240 /* months */

typedef enum {
    CQ_GAUGE_IN_USE,
    CQ_GAUGE_COLLECTION_REQUESTED,
    CQ_GAUGE_IN_CALIBRATION,
    CQ_GAUGE_BLOCKED,
} CqGaugeStatus;

/* "in-use", "collection-requested", "in-calibration", "blocked". */
const char *cq_gauge_status_name(CqGaugeStatus status);
gboolean cq_gauge_status_parse(const char *name, CqGaugeStatus *status,
                               GError **error);

/* The fields of a gauge to add or change; strings are borrowed.  When
 * changing, NULL, 0 and CQ_DAY_NONE keep a field. */
typedef struct {
    const char *inventory;
    const char *description;
    const char *holder; /* a person: identifier, login or person:IDENT */
    const char *location;
    guint interval_months;       /* 1 to CQ_GAUGE_MAX_INTERVAL */
    CqDay due;                   /* the next calibration */
    const CqGaugeStatus *status; /* NULL: in use for a new gauge */
} CqGaugeFields;

/* Adds a gauge; every field but location and status is needed. */
gboolean cq_gauge_add(CqSession *session, const CqGaugeFields *fields,
                      GError **error);
/* Changes the gauge fields->inventory. */
gboolean cq_gauge_edit(CqSession *session, const CqGaugeFields *fields,
                       GError **error);

typedef struct {
    char *inventory;
    char *description;
    char *holder;      /* the person's identifier */
    char *holder_name; /* and name */
    char *location;
    guint interval_months;
    CqDay due;
    CqGaugeStatus status;
    CqDay last_listed; /* CQ_DAY_NONE: not since its due date was set */
    gint64 created, updated;
} CqGauge;

void cq_gauge_free(CqGauge *gauge);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqGauge, cq_gauge_free)

typedef struct {
    const CqGaugeStatus *status; /* only this status; NULL: any */
    const char *holder;          /* only of this person (identifier) */
} CqGaugeFilter;

/* The gauges matching @filter (may be NULL), by due date: an owning
 * array of CqGauge. */
GPtrArray *cq_gauge_list(CqSession *session, const CqGaugeFilter *filter,
                         GError **error);
CqGauge *cq_gauge_get(CqSession *session, const char *inventory,
                      GError **error);
/* The history of the gauge, oldest first: an owning array of
 * CqItemEntry. */
GPtrArray *cq_gauge_history(CqSession *session, const char *inventory,
                            GError **error);

/* Imports gauges from a CSV file with the columns inventory,
 * description, holder, interval (months), due (YYYY-MM-DD), and
 * optionally location and status.  A gauge whose inventory number
 * exists is changed, others are added.  All or nothing: when any line
 * is bad, nothing is imported and the error names every bad line.
 * *@count (may be NULL) is set to the gauges written. */
gboolean cq_gauge_import(CqSession *session, const char *path, guint *count,
                         GError **error);

#endif
