/* Internals of lib/measures shared by the single calls and the import. */
#ifndef CQ_MEASURES_MEASURE_PRIVATE_H
#define CQ_MEASURES_MEASURE_PRIVATE_H

#include "measures/measure.h"

typedef enum {
    CQ_MEASURE_NEW,      /* the identifier must be new */
    CQ_MEASURE_EXISTING, /* the identifier must exist */
    CQ_MEASURE_EITHER,   /* add or change */
} CqMeasureStoreMode;

/* Checks @fields and writes them as measure @fields->ident with @status,
 * with a history entry for what changed; the caller holds a write
 * transaction.  A NULL link or @status keeps what the measure has (none
 * and open for a new one).  *@written (may be NULL) tells whether
 * anything changed. */
gboolean cq_measure_store(CqSession *session, const CqMeasureNew *fields,
                          const CqMeasureStatus *status,
                          CqMeasureStoreMode mode, gboolean *written,
                          GError **error);

/* Ends a write transaction: commits when @ok, else rolls back. */
gboolean cq_measure_finish(CqStore *store, gboolean ok, GError **error);

#endif
