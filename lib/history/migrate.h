/* Moving an installation to another database (`caqmail migrate`), for
 * example from its SQLite file to PostgreSQL: everything is copied into
 * an empty database in one transaction, which commits only when the
 * copy's history chain verifies entry by entry and ends with the hash
 * the original ends with.  Workers and senders should be stopped first:
 * what they write to the original meanwhile is not copied.
 */
#ifndef CQ_HISTORY_MIGRATE_H
#define CQ_HISTORY_MIGRATE_H

#include "access/access.h"
#include "store/copy.h"

typedef struct {
    gint64 rows;    /* rows copied */
    gint64 entries; /* history entries verified in the copy */
    char *head;     /* the hash of the last one */
} CqMigrateResult;

void cq_migrate_result_clear(CqMigrateResult *result);

/* Copies the database @session acts on into the one at @target (its
 * schema is created when missing; it must hold no data).  Needs the
 * permission administer.  @options may be NULL; @progress may be NULL. */
gboolean cq_migrate(CqSession *session, const char *target,
                    const CqStoreOptions *options, CqCopyProgress progress,
                    gpointer data, CqMigrateResult *result, GError **error);

#endif
