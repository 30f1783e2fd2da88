#include "store/store.h"

#include "common/error.h"
#include "store/backend.h"

#include <string.h>

struct _CqStmt {
    CqStore *store;
    gpointer handle;
};

struct _CqStore {
    const CqBackend *backend;
    gpointer conn;
    char *location;
    GHashTable *stmts; /* SQL text -> CqStmt */
    int depth;         /* nesting of cq_store_begin() */
    CqTxKind tx_kind;
    gboolean doomed;  /* an inner level rolled back */
    gboolean durable; /* commits wait for the disk */
    gboolean relaxed; /* this transaction does not */
    int version;
};

static void
stmt_free(gpointer data)
{
    CqStmt *stmt = data;
    stmt->store->backend->finalize(stmt->handle);
    g_free(stmt);
}

/* Replaces the dialect words of @sql by the backend's text. */
static char *
apply_dialect(const CqBackend *backend, const char *sql)
{
    if (strchr(sql, '{') == NULL)
        return g_strdup(sql);

    GString *out = g_string_new(sql);
    for (const char *const *d = backend->dialect; *d; d += 2)
        g_string_replace(out, d[0], d[1], 0);
    return g_string_free(out, FALSE);
}

CqStmt *
cq_store_stmt(CqStore *store, const char *sql, GError **error)
{
    CqStmt *stmt = g_hash_table_lookup(store->stmts, sql);
    if (stmt != NULL) {
        store->backend->reset(stmt->handle);
        return stmt;
    }

    g_autofree char *text = apply_dialect(store->backend, sql);
    gpointer handle = store->backend->prepare(store->conn, text, error);
    if (handle == NULL)
        return NULL;
    stmt = g_new0(CqStmt, 1);
    stmt->store = store;
    stmt->handle = handle;
    g_hash_table_insert(store->stmts, g_strdup(sql), stmt);
    return stmt;
}

gboolean
cq_store_exec(CqStore *store, const char *sql, GError **error)
{
    CqStmt *stmt = cq_store_stmt(store, sql, error);
    return stmt != NULL && cq_stmt_run(stmt, error);
}

void
cq_stmt_bind_text(CqStmt *stmt, int index, const char *value)
{
    stmt->store->backend->bind_text(stmt->handle, index, value);
}

void
cq_stmt_bind_int(CqStmt *stmt, int index, gint64 value)
{
    stmt->store->backend->bind_int(stmt->handle, index, value);
}

void
cq_stmt_bind_blob(CqStmt *stmt, int index, const void *data, gsize len)
{
    stmt->store->backend->bind_blob(stmt->handle, index, data, len);
}

void
cq_stmt_bind_null(CqStmt *stmt, int index)
{
    stmt->store->backend->bind_null(stmt->handle, index);
}

CqStep
cq_stmt_step(CqStmt *stmt, GError **error)
{
    return stmt->store->backend->step(stmt->handle, error);
}

void
cq_stmt_reset(CqStmt *stmt)
{
    stmt->store->backend->reset(stmt->handle);
}

gboolean
cq_stmt_run(CqStmt *stmt, GError **error)
{
    CqStep step;

    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW)
        ;
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE;
}

gboolean
cq_stmt_insert_id(CqStmt *stmt, gint64 *id, GError **error)
{
    const CqBackend *backend = stmt->store->backend;

    if (backend->last_insert_id == NULL)
        return cq_stmt_int_result(stmt, 0, id, error);
    if (!cq_stmt_run(stmt, error))
        return FALSE;
    *id = backend->last_insert_id(stmt->store->conn);
    return TRUE;
}

gboolean
cq_stmt_int_result(CqStmt *stmt, gint64 fallback, gint64 *value, GError **error)
{
    CqStep step = cq_stmt_step(stmt, error);

    if (step == CQ_STEP_ERROR)
        return FALSE;
    *value = step == CQ_STEP_ROW && !cq_stmt_is_null(stmt, 0)
                 ? cq_stmt_int(stmt, 0)
                 : fallback;
    cq_stmt_reset(stmt);
    return TRUE;
}

const char *
cq_stmt_text(CqStmt *stmt, int column)
{
    return stmt->store->backend->column_text(stmt->handle, column);
}

char *
cq_stmt_dup(CqStmt *stmt, int column)
{
    return g_strdup(cq_stmt_text(stmt, column));
}

gint64
cq_stmt_int(CqStmt *stmt, int column)
{
    return stmt->store->backend->column_int(stmt->handle, column);
}

const void *
cq_stmt_blob(CqStmt *stmt, int column, gsize *len)
{
    return stmt->store->backend->column_blob(stmt->handle, column, len);
}

gboolean
cq_stmt_is_null(CqStmt *stmt, int column)
{
    return stmt->store->backend->column_is_null(stmt->handle, column);
}

gboolean
cq_store_begin(CqStore *store, CqTxKind kind, GError **error)
{
    if (store->depth > 0) {
        if (kind == CQ_TX_WRITE && store->tx_kind == CQ_TX_READ) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED,
                        "database: a write cannot begin inside a read");
            return FALSE;
        }
        store->depth++;
        return TRUE;
    }
    if (!store->backend->begin(store->conn, kind, error))
        return FALSE;
    store->depth = 1;
    store->tx_kind = kind;
    store->doomed = FALSE;
    return TRUE;
}

gboolean
cq_store_begin_relaxed(CqStore *store, GError **error)
{
    g_return_val_if_fail(store->depth == 0, FALSE);

    if (store->durable &&
        !store->backend->set_durable(store->conn, FALSE, error))
        return FALSE;
    store->relaxed = store->durable;
    if (cq_store_begin(store, CQ_TX_WRITE, error))
        return TRUE;
    if (store->relaxed)
        store->backend->set_durable(store->conn, TRUE, NULL);
    store->relaxed = FALSE;
    return FALSE;
}

/* Back to durable commits after a relaxed transaction ended. */
static void
end_relaxed(CqStore *store)
{
    if (!store->relaxed)
        return;
    store->relaxed = FALSE;
    store->backend->set_durable(store->conn, TRUE, NULL);
}

static gboolean
commit_outermost(CqStore *store, GError **error)
{
    if (store->doomed) {
        store->backend->rollback(store->conn);
        g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED,
                    "database: the transaction was rolled back");
        return FALSE;
    }
    if (store->backend->commit(store->conn, error))
        return TRUE;
    store->backend->rollback(store->conn);
    return FALSE;
}

gboolean
cq_store_commit(CqStore *store, GError **error)
{
    g_return_val_if_fail(store->depth > 0, FALSE);

    if (--store->depth > 0)
        return TRUE;
    gboolean ok = commit_outermost(store, error);
    end_relaxed(store);
    return ok;
}

void
cq_store_rollback(CqStore *store)
{
    g_return_if_fail(store->depth > 0);

    if (--store->depth > 0) {
        store->doomed = TRUE;
        return;
    }
    store->backend->rollback(store->conn);
    end_relaxed(store);
}

void
cq_store_end_read(CqStore *store)
{
    g_return_if_fail(store->depth > 0);

    if (--store->depth == 0) {
        store->backend->rollback(store->conn);
        end_relaxed(store);
    }
}

gboolean
cq_store_in_transaction(CqStore *store)
{
    return store->depth > 0;
}

gint64
cq_store_now(void)
{
    return g_get_real_time();
}

char *
cq_store_like_escape(const char *text)
{
    GString *out = g_string_sized_new(strlen(text) + 8);

    for (const char *p = text; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            g_string_append_c(out, '\\');
        g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}

const char *
cq_store_location(CqStore *store)
{
    return store->location;
}

const char *
cq_store_backend_name(CqStore *store)
{
    return store->backend->name;
}

gboolean
cq_store_sync_serial(CqStore *store, const char *table, const char *column,
                     GError **error)
{
    if (store->backend->sync_serial == NULL)
        return TRUE;
    return store->backend->sync_serial(store->conn, table, column, error);
}

int
cq_store_schema_version(CqStore *store)
{
    return store->version;
}

int
cq_store_schema_latest(void)
{
    guint count = 0;
    const CqMigration *migrations = cq_schema_migrations(&count);
    return migrations[count - 1].version;
}

static gboolean
read_version(CqStore *store, GError **error)
{
    gint64 version = 0;
    CqStmt *stmt =
        cq_store_stmt(store, "SELECT MAX(version) FROM schema_version", error);

    if (stmt == NULL || !cq_stmt_int_result(stmt, 0, &version, error))
        return FALSE;
    store->version = (int)version;
    return TRUE;
}

static gboolean
apply_migration(CqStore *store, const CqMigration *migration, GError **error)
{
    for (const char *const *sql = migration->statements; *sql; sql++) {
        g_autofree char *text = apply_dialect(store->backend, *sql);
        gpointer handle = store->backend->prepare(store->conn, text, error);
        if (handle == NULL)
            return FALSE;
        CqStep step = store->backend->step(handle, error);
        store->backend->finalize(handle);
        if (step == CQ_STEP_ERROR)
            return FALSE;
    }
    CqStmt *stmt = cq_store_stmt(
        store, "INSERT INTO schema_version (version) VALUES (?)", error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, migration->version);
    if (!cq_stmt_run(stmt, error))
        return FALSE;
    store->version = migration->version;
    return TRUE;
}

/* Brings the schema up to date under the write lock, so that two
 * processes opening a new file do not both create it. */
static gboolean
migrate(CqStore *store, const CqStoreOptions *options, gboolean *created,
        GError **error)
{
    guint count = 0;
    const CqMigration *migrations = cq_schema_migrations(&count);

    if (!cq_store_begin(store, CQ_TX_WRITE, error))
        return FALSE;
    gboolean ok = (store->backend->lock_schema == NULL ||
                   store->backend->lock_schema(store->conn, error)) &&
                  cq_store_exec(store,
                                "CREATE TABLE IF NOT EXISTS schema_version "
                                "(version {int} NOT NULL)",
                                error) &&
                  read_version(store, error);
    *created = ok && store->version == 0;
    if (ok && store->version > migrations[count - 1].version) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "database '%s': schema version %d is newer than this "
                    "caqmail knows (%d)",
                    store->location, store->version,
                    migrations[count - 1].version);
        ok = FALSE;
    }
    for (guint i = 0; ok && i < count; i++) {
        if (migrations[i].version > store->version)
            ok = apply_migration(store, &migrations[i], error);
    }
    if (ok && *created && options->on_create != NULL)
        ok = options->on_create(store, options->on_create_data, error);
    if (!ok) {
        cq_store_rollback(store);
        return FALSE;
    }
    return cq_store_commit(store, error);
}

static gboolean
is_postgres(const char *location)
{
    return g_str_has_prefix(location, "postgresql:") ||
           g_str_has_prefix(location, "postgres:");
}

static const CqBackend *
pick_backend(const char *location, GError **error)
{
    if (is_postgres(location))
        return cq_backend_postgres_get(error);
    return &cq_backend_sqlite;
}

gboolean
cq_store_location_is_file(const char *location)
{
    return !is_postgres(location);
}

void
cq_store_options_init(CqStoreOptions *options)
{
    *options = (CqStoreOptions){
        .durable = TRUE,
        .busy_timeout_ms = 60000,
    };
}

CqStore *
cq_store_open(const char *location, const CqStoreOptions *options,
              gboolean *created, GError **error)
{
    CqStoreOptions defaults;
    gboolean fresh = FALSE;
    const CqBackend *backend = pick_backend(location, error);

    if (backend == NULL)
        return NULL;
    if (options == NULL) {
        cq_store_options_init(&defaults);
        options = &defaults;
    }
    gpointer conn = backend->open(location, options, error);
    if (conn == NULL)
        return NULL;

    g_autoptr(CqStore) store = g_new0(CqStore, 1);
    store->backend = backend;
    store->conn = conn;
    store->location = g_strdup(location);
    store->durable = options->durable;
    store->stmts =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, stmt_free);
    if (!migrate(store, options, &fresh, error))
        return NULL;
    if (created != NULL)
        *created = fresh;
    return g_steal_pointer(&store);
}

void
cq_store_close(CqStore *store)
{
    if (store == NULL)
        return;
    if (store->depth > 0)
        store->backend->rollback(store->conn);
    g_clear_pointer(&store->stmts, g_hash_table_unref);
    store->backend->close(store->conn);
    g_free(store->location);
    g_free(store);
}
