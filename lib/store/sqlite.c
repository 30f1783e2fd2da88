/* The SQLite backend: one file, shared by processes through WAL. */
#include "store/backend.h"

#include "common/error.h"
#include "store/wal-checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

/* A new row's id comes from sqlite3_last_insert_rowid() ({returning_id}
 * is empty): RETURNING costs SQLite a result table of its own, twice an
 * INSERT's work. */
static const char *const sqlite_dialect[] = {
    "{serial}",
    "INTEGER PRIMARY KEY",
    "{int}",
    "INTEGER",
    "{blob}",
    "BLOB",
    "{skip_locked}",
    "",
    "{for_update}",
    "",
    "{returning_id}",
    "",
    NULL,
};

static void
set_db_error(sqlite3 *db, int rc, const char *what, GError **error)
{
    int primary = rc & 0xff;
    int code = CQ_ERROR_FAILED;

    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
        code = CQ_ERROR_TEMPFAIL;
    else if (primary == SQLITE_CONSTRAINT)
        code = CQ_ERROR_INVALID;
    else if (primary == SQLITE_FULL || primary == SQLITE_IOERR)
        code = CQ_ERROR_IO;
    g_set_error(error, CQ_ERROR, code, "database: %s: %s", what,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static gboolean
exec_plain(sqlite3 *db, const char *sql, GError **error)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return TRUE;
    set_db_error(db, rc, sql, error);
    return FALSE;
}

/* The file is created here, before SQLite opens it, so that its mode is
 * ours (0600, or what the umask allows a shared installation). */
static gboolean
ensure_file(const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);

    if (g_mkdir_with_parents(dir, 0700) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "database folder '%s': %s",
                    dir, g_strerror(errno));
        return FALSE;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(error, CQ_ERROR,
                    errno == EACCES ? CQ_ERROR_PERMISSION : CQ_ERROR_IO,
                    "database '%s': %s", path, g_strerror(errno));
        return FALSE;
    }
    close(fd);
    return TRUE;
}

/* Switching a new database to WAL locks its file for a moment, and a
 * process that finds it locked so (one opening it at the same time)
 * gets BUSY from SQLite at once, without its busy handler: wait here, as
 * long as for any other lock. */
static gboolean
set_wal(sqlite3 *db, gint64 timeout_ms, GError **error)
{
    const char *sql = "PRAGMA journal_mode=WAL";
    gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;
    gulong pause_us = 1000;
    int rc;

    while ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK &&
           (rc & 0xff) == SQLITE_BUSY && g_get_monotonic_time() < deadline) {
        g_usleep(pause_us);
        pause_us = MIN(pause_us * 2, 50000);
    }
    if (rc == SQLITE_OK)
        return TRUE;
    set_db_error(db, rc, sql, error);
    return FALSE;
}

static gboolean
configure(sqlite3 *db, const CqStoreOptions *options, GError **error)
{
    g_autofree char *sync = g_strdup_printf(
        "PRAGMA synchronous=%s", options->durable ? "FULL" : "NORMAL");

    sqlite3_busy_timeout(db, (int)options->busy_timeout_ms);
    sqlite3_extended_result_codes(db, 1);
    /* Every command is a short process: copying the WAL into the database
     * whenever one ends would cost each several flushes to disk.  The
     * checkpoints asked for as the WAL grows are enough; they run on a
     * thread of their own (wal-checkpoint.h). */
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    return set_wal(db, options->busy_timeout_ms, error) &&
           exec_plain(db, sync, error) &&
           exec_plain(db, "PRAGMA foreign_keys=ON", error) &&
           exec_plain(db, "PRAGMA journal_size_limit=" CQ_WAL_SIZE_LIMIT,
                      error) &&
           exec_plain(db, "PRAGMA trusted_schema=OFF", error);
}

static gpointer
sqlite_open(const char *location, const CqStoreOptions *options, GError **error)
{
    sqlite3 *db = NULL;

    if (!ensure_file(location, error))
        return NULL;
    int rc = sqlite3_open_v2(location, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        set_db_error(db, rc, location, error);
        sqlite3_close_v2(db);
        return NULL;
    }
    if (!configure(db, options, error)) {
        g_prefix_error(error, "'%s': ", location);
        sqlite3_close_v2(db);
        return NULL;
    }
    cq_wal_checkpointer_attach(db, location);
    return db;
}

static void
sqlite_close(gpointer conn)
{
    cq_wal_checkpointer_detach(conn);
    sqlite3_close_v2(conn);
}

static gboolean
sqlite_begin(gpointer conn, CqTxKind kind, GError **error)
{
    /* A writer takes the lock at once: a deferred transaction that reads
     * first and writes later could deadlock against another writer. */
    return exec_plain(conn, kind == CQ_TX_WRITE ? "BEGIN IMMEDIATE" : "BEGIN",
                      error);
}

static gboolean
sqlite_set_durable(gpointer conn, gboolean durable, GError **error)
{
    return exec_plain(
        conn, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
        error);
}

static gboolean
sqlite_commit(gpointer conn, GError **error)
{
    return exec_plain(conn, "COMMIT", error);
}

static void
sqlite_rollback(gpointer conn)
{
    if (!sqlite3_get_autocommit(conn))
        sqlite3_exec(conn, "ROLLBACK", NULL, NULL, NULL);
}

static gpointer
sqlite_prepare(gpointer conn, const char *sql, GError **error)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v3(conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                                NULL);
    if (rc != SQLITE_OK) {
        set_db_error(conn, rc, sql, error);
        return NULL;
    }
    return stmt;
}

static void
sqlite_finalize(gpointer stmt)
{
    sqlite3_finalize(stmt);
}

static void
sqlite_reset(gpointer stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

static void
sqlite_bind_text(gpointer stmt, int index, const char *value)
{
    if (value == NULL)
        sqlite3_bind_null(stmt, index);
    else
        sqlite3_bind_text(stmt, index, value, -1, SQLITE_TRANSIENT);
}

static void
sqlite_bind_int(gpointer stmt, int index, gint64 value)
{
    sqlite3_bind_int64(stmt, index, value);
}

static void
sqlite_bind_blob(gpointer stmt, int index, const void *data, gsize len)
{
    sqlite3_bind_blob64(stmt, index, len ? data : "", len, SQLITE_STATIC);
}

static void
sqlite_bind_null(gpointer stmt, int index)
{
    sqlite3_bind_null(stmt, index);
}

static CqStep
sqlite_step(gpointer stmt, GError **error)
{
    int rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW)
        return CQ_STEP_ROW;
    if (rc == SQLITE_DONE)
        return CQ_STEP_DONE;
    set_db_error(sqlite3_db_handle(stmt), rc, sqlite3_sql(stmt), error);
    sqlite3_reset(stmt);
    return CQ_STEP_ERROR;
}

static const char *
sqlite_column_text(gpointer stmt, int column)
{
    return (const char *)sqlite3_column_text(stmt, column);
}

static gint64
sqlite_column_int(gpointer stmt, int column)
{
    return sqlite3_column_int64(stmt, column);
}

static const void *
sqlite_column_blob(gpointer stmt, int column, gsize *len)
{
    const void *data = sqlite3_column_blob(stmt, column);
    *len = (gsize)sqlite3_column_bytes(stmt, column);
    return data;
}

static gboolean
sqlite_column_is_null(gpointer stmt, int column)
{
    return sqlite3_column_type(stmt, column) == SQLITE_NULL;
}

/* 0 when the INSERT added no row (ON CONFLICT DO NOTHING), as
 * RETURNING would give none. */
static gint64
sqlite_last_insert_id(gpointer conn)
{
    return sqlite3_changes(conn) == 1 ? sqlite3_last_insert_rowid(conn) : 0;
}

const CqBackend cq_backend_sqlite = {
    .name = "sqlite",
    .dialect = sqlite_dialect,
    .open = sqlite_open,
    .close = sqlite_close,
    .begin = sqlite_begin,
    .set_durable = sqlite_set_durable,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .prepare = sqlite_prepare,
    .finalize = sqlite_finalize,
    .reset = sqlite_reset,
    .bind_text = sqlite_bind_text,
    .bind_int = sqlite_bind_int,
    .bind_blob = sqlite_bind_blob,
    .bind_null = sqlite_bind_null,
    .step = sqlite_step,
    .column_text = sqlite_column_text,
    .column_int = sqlite_column_int,
    .column_blob = sqlite_column_blob,
    .column_is_null = sqlite_column_is_null,
    .last_insert_id = sqlite_last_insert_id,
};
