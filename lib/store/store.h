/* The store: caqmail's database behind one narrow interface.
 *
 * Every module speaks SQL through this interface and nothing else: the
 * statements are written once, portably, with `?` placeholders and a few
 * dialect words in braces that the backend replaces:
 *
 *     {serial}       an integer primary key that numbers itself
 *     {blob}         a column of bytes
 *     {int}          a 64-bit integer
 *     {skip_locked}  "FOR UPDATE SKIP LOCKED" where the backend has row
 *                    locks, nothing where a write transaction locks all
 *     {for_update}   "FOR UPDATE" where the backend has row locks
 *
 * Every statement is prepared once per connection and cached under its
 * text; values are only ever bound, never pasted into SQL.
 *
 * The embedded backend is SQLite (WAL, foreign keys, a busy timeout, and
 * BEGIN IMMEDIATE for writers, so that several processes share one file
 * safely).  A location of the form "postgresql://..." (or
 * "postgres://...") names a PostgreSQL database (postgres.c), for
 * installations whose users and workers run on several machines.  What
 * portable code must know about it:
 *   - a write transaction does not lock the database, only the rows it
 *     touches: a transaction that reads and then writes what depends on
 *     it locks what it read ({for_update}), or lets a constraint decide
 *     (INSERT ... ON CONFLICT DO NOTHING); rows of the outbox are locked
 *     before the history's head, never after it;
 *   - a statement that fails ends the whole transaction: roll back, do
 *     not carry on with the next statement;
 *   - a read transaction is a snapshot and may not write or lock;
 *   - the rows of a statement may be read whole into memory: a statement
 *     that can return very many rows pages itself (ORDER BY key, LIMIT).
 *
 * A CqStore is one connection, used by one thread at a time.  Statements
 * returned by cq_store_stmt() belong to the store and stay valid until it
 * is closed.
 */
#ifndef CQ_STORE_STORE_H
#define CQ_STORE_STORE_H

#include <glib.h>

typedef struct _CqStore CqStore;
typedef struct _CqStmt CqStmt;

typedef enum {
    CQ_TX_READ,  /* a consistent snapshot for reading */
    CQ_TX_WRITE, /* takes the write lock at once */
} CqTxKind;

typedef enum {
    CQ_STEP_ERROR,
    CQ_STEP_ROW,
    CQ_STEP_DONE,
} CqStep;

/* Runs inside the transaction that creates the schema of a new database,
 * so that whatever it writes exists as soon as the schema does. */
typedef gboolean (*CqStoreCreateFunc)(CqStore *store, gpointer data,
                                      GError **error);

typedef struct {
    gboolean durable;            /* every commit reaches the disk (fsync) */
    gint64 busy_timeout_ms;      /* how long to wait for another writer */
    CqStoreCreateFunc on_create; /* may be NULL */
    gpointer on_create_data;
} CqStoreOptions;

/* Fills @options with the defaults: durable commits, a minute of waiting
 * for another writer, no creation hook. */
void cq_store_options_init(CqStoreOptions *options);

/* Whether @location names a file (SQLite), not a database server. */
gboolean cq_store_location_is_file(const char *location);

/* Opens the database at @location (a file path, or a backend URI) and
 * brings its schema up to date; the file and its folder are created on
 * first use.  @options may be NULL for the defaults.  *@created (may be
 * NULL) tells whether the schema was created by this call. */
CqStore *cq_store_open(const char *location, const CqStoreOptions *options,
                       gboolean *created, GError **error);
void cq_store_close(CqStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqStore, cq_store_close)

/* The schema version of the open database, and the newest this build
 * knows. */
int cq_store_schema_version(CqStore *store);
int cq_store_schema_latest(void);
const char *cq_store_location(CqStore *store);
/* "sqlite" or "postgresql". */
const char *cq_store_backend_name(CqStore *store);

/* After rows were inserted with their ids given (a copy of another
 * database), moves the counter of @table's {serial} @column past them. */
gboolean cq_store_sync_serial(CqStore *store, const char *table,
                              const char *column, GError **error);

/* Transactions nest: only the outermost begin and commit reach the
 * database.  A rollback at any depth dooms the whole transaction; the
 * outermost commit then fails and rolls back.  A write transaction cannot
 * begin inside a read transaction. */
gboolean cq_store_begin(CqStore *store, CqTxKind kind, GError **error);
gboolean cq_store_commit(CqStore *store, GError **error);
void cq_store_rollback(CqStore *store);
/* A write transaction whose loss in a power failure does no harm (a
 * claim that is then simply made again): its commit need not reach the
 * disk before it returns.  Cannot nest in another transaction. */
gboolean cq_store_begin_relaxed(CqStore *store, GError **error);
/* Ends a level that only read: never dooms an enclosing transaction. */
void cq_store_end_read(CqStore *store);
gboolean cq_store_in_transaction(CqStore *store);

/* Returns the prepared statement for @sql, reset and with its bindings
 * cleared; the store owns it. */
CqStmt *cq_store_stmt(CqStore *store, const char *sql, GError **error);

/* Prepares @sql, binds nothing and runs it to the end. */
gboolean cq_store_exec(CqStore *store, const char *sql, GError **error);

/* Binding, 1-based.  A NULL text binds SQL NULL.  Text is copied; a blob
 * is not, and must stay valid until the statement has been stepped. */
void cq_stmt_bind_text(CqStmt *stmt, int index, const char *value);
void cq_stmt_bind_int(CqStmt *stmt, int index, gint64 value);
void cq_stmt_bind_blob(CqStmt *stmt, int index, const void *data, gsize len);
void cq_stmt_bind_null(CqStmt *stmt, int index);

/* Runs the statement one row further. */
CqStep cq_stmt_step(CqStmt *stmt, GError **error);
/* Runs the statement to its end and resets it. */
gboolean cq_stmt_run(CqStmt *stmt, GError **error);
/* Runs an INSERT of one row into a table with a {serial} id whose text
 * ends in {returning_id}, and gives the new row's id, or 0 when it added
 * none (ON CONFLICT DO NOTHING).  UPDATE and DELETE use RETURNING and
 * cq_stmt_int_result(). */
gboolean cq_stmt_insert_id(CqStmt *stmt, gint64 *id, GError **error);
/* Runs a statement that yields one integer (or none: @fallback). */
gboolean cq_stmt_int_result(CqStmt *stmt, gint64 fallback, gint64 *value,
                            GError **error);
void cq_stmt_reset(CqStmt *stmt);

/* Columns of the current row, 0-based.  Text and blobs stay valid until
 * the next step or reset; NULL text reads as NULL. */
const char *cq_stmt_text(CqStmt *stmt, int column);
char *cq_stmt_dup(CqStmt *stmt, int column);
gint64 cq_stmt_int(CqStmt *stmt, int column);
const void *cq_stmt_blob(CqStmt *stmt, int column, gsize *len);
gboolean cq_stmt_is_null(CqStmt *stmt, int column);

/* The current time as stored: microseconds since 1970 (UTC). */
gint64 cq_store_now(void);

/* Makes @text safe inside a LIKE pattern with ESCAPE '\': escapes %, _
 * and \.  Newly allocated. */
char *cq_store_like_escape(const char *text);

#endif
