/* What a store backend provides: a connection, transactions and prepared
 * statements.  store.c holds everything that is the same for every
 * backend (statement cache, nesting of transactions, migrations); a
 * backend only speaks to its database.  Backends report failures as
 * CQ_ERROR_TEMPFAIL when another writer holds the lock past the busy
 * timeout (or a deadlock or serialization failure ended the
 * transaction), CQ_ERROR_INVALID for a violated constraint,
 * CQ_ERROR_UNAVAILABLE when the database server cannot be reached, and
 * CQ_ERROR_FAILED otherwise. */
#ifndef CQ_STORE_BACKEND_H
#define CQ_STORE_BACKEND_H

#include "store/store.h"

typedef struct {
    const char *name;
    /* Pairs of dialect word and its text, ending with NULL. */
    const char *const *dialect;
    gpointer (*open)(const char *location, const CqStoreOptions *options,
                     GError **error);
    void (*close)(gpointer conn);
    gboolean (*begin)(gpointer conn, CqTxKind kind, GError **error);
    /* Whether commits wait until they are on disk. */
    gboolean (*set_durable)(gpointer conn, gboolean durable, GError **error);
    gboolean (*commit)(gpointer conn, GError **error);
    void (*rollback)(gpointer conn);
    gpointer (*prepare)(gpointer conn, const char *sql, GError **error);
    void (*finalize)(gpointer stmt);
    void (*reset)(gpointer stmt);
    void (*bind_text)(gpointer stmt, int index, const char *value);
    void (*bind_int)(gpointer stmt, int index, gint64 value);
    void (*bind_blob)(gpointer stmt, int index, const void *data, gsize len);
    void (*bind_null)(gpointer stmt, int index);
    CqStep (*step)(gpointer stmt, GError **error);
    const char *(*column_text)(gpointer stmt, int column);
    gint64 (*column_int)(gpointer stmt, int column);
    const void *(*column_blob)(gpointer stmt, int column, gsize *len);
    gboolean (*column_is_null)(gpointer stmt, int column);
    /* Keeps other processes out of the schema until the transaction
     * ends; NULL where a write transaction already does. */
    gboolean (*lock_schema)(gpointer conn, GError **error);
    /* Moves the counter of a {serial} column past its largest value
     * after rows were inserted with their ids given; NULL where the
     * database does that by itself. */
    gboolean (*sync_serial)(gpointer conn, const char *table,
                            const char *column, GError **error);
    /* The id of the row the last INSERT made, 0 when it made none, for
     * dialects where {returning_id} is empty; NULL where the INSERT
     * returns it. */
    gint64 (*last_insert_id)(gpointer conn);
} CqBackend;

extern const CqBackend cq_backend_sqlite;
extern const CqBackend cq_backend_postgres;

/* The PostgreSQL backend: linked in (postgres-linked.c, for the static
 * library), or loaded from the module caqmail-postgres.so when first
 * needed (postgres-module.c, for libcaqmail.so; common/module.h), so
 * that a process on SQLite never loads libpq and the libraries it pulls
 * in.  Fails with CQ_ERROR_UNAVAILABLE naming the module when it cannot
 * be loaded. */
const CqBackend *cq_backend_postgres_get(GError **error);

/* The schema, one description for every backend: migration N is the
 * list of statements that takes version N-1 to N. */
typedef struct {
    int version;
    const char *const *statements; /* NULL-terminated */
} CqMigration;

const CqMigration *cq_schema_migrations(guint *count);

#endif
