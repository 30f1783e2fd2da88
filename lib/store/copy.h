/* Copying one database into another: every row of every table, with its
 * ids, hashes and bytes as they were, so that the history chain of the
 * copy verifies as the original does.  This is how an installation moves
 * from SQLite to PostgreSQL (`caqmail migrate`).
 *
 * The tables are listed in copy.c, in the order their references need;
 * a table or column added to the schema is added there too (test-store
 * fails until it is).  Rows are read in pages and written one by one: memory
 * stays bounded whatever the size of the database.
 */
#ifndef CQ_STORE_COPY_H
#define CQ_STORE_COPY_H

#include "store/store.h"

/* Called after each page of rows: the table and how many of its rows
 * are copied so far. */
typedef void (*CqCopyProgress)(const char *table, gint64 rows, gpointer data);

/* Copies everything from @from into @to.  The caller holds a read
 * transaction on @from and a write transaction on @to, whose schema has
 * the same version and holds no data (cq_store_check_empty()).  *@rows
 * (may be NULL) is the number of rows copied.  Fails when a table's
 * count differs afterwards. */
gboolean cq_store_copy(CqStore *from, CqStore *to, CqCopyProgress progress,
                       gpointer data, gint64 *rows, GError **error);

/* Fails with CQ_ERROR_INVALID, naming a table with rows, unless @store
 * holds nothing but what a new schema brings. */
gboolean cq_store_check_empty(CqStore *store, GError **error);

/* The tables the copy knows, NULL-terminated, and the columns it copies
 * of @table ("a, b, c"; NULL for a table it does not know). */
const char *const *cq_store_copy_tables(void);
const char *cq_store_copy_columns(const char *table);

#endif
