/* The store itself, on each backend: creation of a new database and its
 * creation hook, what every backend must do alike (placeholders, bytes,
 * snapshots, error classes), copying a database into another, and the
 * PostgreSQL locations refused before any connection. */
#include "common/error.h"
#include "store/copy.h"
#include "store/store.h"
#include "store/wal-checkpoint.h"
#include "testdb.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    guint calls;
    gboolean fail;
    gboolean in_transaction;
} HookState;

static gboolean
hook(CqStore *store, gpointer data, GError **error)
{
    HookState *state = data;

    state->calls++;
    state->in_transaction = cq_store_in_transaction(store);
    if (!cq_store_exec(store,
                       "INSERT INTO app_user (login, created) "
                       "VALUES ('creator', 0)",
                       error))
        return FALSE;
    if (state->fail) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED, "hook refused");
        return FALSE;
    }
    return TRUE;
}

static gint64
count_users(CqStore *store)
{
    gint64 n = -1;
    CqStmt *stmt = cq_store_stmt(store, "SELECT COUNT(*) FROM app_user", NULL);
    g_assert_true(cq_stmt_int_result(stmt, -1, &n, NULL));
    return n;
}

/* Removes a SQLite file with its WAL and index, and its folder. */
static void
remove_sqlite(char *dir, const char *path)
{
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autofree char *shm = g_strconcat(path, "-shm", NULL);

    g_unlink(path);
    g_unlink(wal);
    g_unlink(shm);
    g_rmdir(dir);
}

/* The hook runs once, inside the transaction that creates the schema;
 * when it fails, nothing of the schema is left, and the next open creates
 * it again. */
static void
test_create_hook(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("caqmail-store-XXXXXX", NULL);
    g_autofree char *path = cq_test_db_new(dir);
    HookState state = {.fail = TRUE};
    CqStoreOptions options;
    gboolean created = FALSE;

    cq_store_options_init(&options);
    options.on_create = hook;
    options.on_create_data = &state;
    g_assert_null(cq_store_open(path, &options, &created, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_FAILED);
    g_clear_error(&error);
    g_assert_true(state.in_transaction);

    state.fail = FALSE;
    CqStore *store = cq_store_open(path, &options, &created, &error);
    g_assert_no_error(error);
    g_assert_true(created);
    g_assert_cmpuint(state.calls, ==, 2);
    g_assert_cmpint(count_users(store), ==, 1);
    cq_store_close(store);

    store = cq_store_open(path, &options, &created, &error);
    g_assert_no_error(error);
    g_assert_false(created);
    g_assert_cmpuint(state.calls, ==, 2);
    g_assert_cmpint(count_users(store), ==, 1);
    cq_store_close(store);

    cq_test_db_drop(path);
    remove_sqlite(dir, path);
}

static gint64
file_size(const char *path)
{
    GStatBuf st;

    g_assert_cmpint(g_stat(path, &st), ==, 0);
    return (gint64)st.st_size;
}

static gpointer
commit_later(gpointer data)
{
    g_usleep(300 * 1000);
    g_assert_cmpint(sqlite3_exec(data, "COMMIT", NULL, NULL, NULL), ==,
                    SQLITE_OK);
    return NULL;
}

/* A new database that another process holds locked while it is still in
 * rollback mode (as when it switches it to WAL at the same moment) is
 * waited for, not refused. */
static void
test_wal_switch_waits(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("caqmail-store-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "new.db", NULL);
    sqlite3 *other = NULL;

    g_assert_cmpint(sqlite3_open(path, &other), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(other,
                                 "CREATE TABLE early (x);"
                                 "BEGIN IMMEDIATE;"
                                 "INSERT INTO early VALUES (1)",
                                 NULL, NULL, NULL),
                    ==, SQLITE_OK);
    GThread *later = g_thread_new("commit", commit_later, other);
    CqStore *store = cq_store_open(path, NULL, NULL, &error);
    g_assert_no_error(error);
    g_thread_join(later);
    cq_store_close(store);
    sqlite3_close(other);
    remove_sqlite(dir, path);
}

/* Opens the store at @path, runs @sql and closes it again, as a command
 * would. */
static void
exec_once(const char *path, const char *sql)
{
    g_autoptr(GError) error = NULL;
    CqStore *store = cq_store_open(path, NULL, NULL, &error);

    g_assert_no_error(error);
    g_assert_true(cq_store_exec(store, sql, &error));
    g_assert_no_error(error);
    cq_store_close(store);
}

/* A commit that makes the WAL far larger than its threshold has it
 * copied into the database (on the checkpointer's thread) by the time the
 * store is closed, and leaves it empty; commits below the threshold leave
 * the database file alone. */
static void
test_wal_checkpoint(void)
{
    g_autofree char *dir = g_dir_make_tmp("caqmail-store-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "wal.db", NULL);
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    const gint64 blob = 20 * 1024 * 1024;
    g_autofree char *insert = g_strdup_printf(
        "INSERT INTO filler VALUES (zeroblob(%" G_GINT64_FORMAT "))", blob);

    g_assert_cmpint(blob / 4096, >, CQ_WAL_BACKGROUND_FRAMES);
    exec_once(path, "CREATE TABLE filler (data BLOB)");
    exec_once(path, "INSERT INTO filler VALUES (zeroblob(1000))");
    g_assert_cmpint(file_size(path), <, blob / 4);
    g_assert_cmpint(file_size(wal), >, 0);

    exec_once(path, insert);
    g_assert_cmpint(file_size(path), >=, blob);
    g_assert_cmpint(file_size(wal), ==, 0);
    remove_sqlite(dir, path);
}

/* A connection that leaves the WAL at CQ_WAL_CLOSE_FRAMES or more,
 * though below the checkpoint's threshold, empties it when closed, so
 * that the next process need not read it; a smaller WAL stays. */
static void
test_wal_emptied_at_close(void)
{
    g_autofree char *dir = g_dir_make_tmp("caqmail-store-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "wal.db", NULL);
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    const gint64 blob = (CQ_WAL_CLOSE_FRAMES + 20) * 4096;
    g_autofree char *insert = g_strdup_printf(
        "INSERT INTO filler VALUES (zeroblob(%" G_GINT64_FORMAT "))", blob);

    g_assert_cmpint(blob / 4096 + 50, <, CQ_WAL_CHECKPOINT_FRAMES);
    exec_once(path, "CREATE TABLE filler (data BLOB)");
    exec_once(path, "INSERT INTO filler VALUES (zeroblob(16000))");
    g_assert_cmpint(file_size(wal), >, 0);
    g_assert_cmpint(file_size(wal), <, CQ_WAL_CLOSE_FRAMES * 4096);

    exec_once(path, insert);
    g_assert_cmpint(file_size(wal), ==, 0);
    g_assert_cmpint(file_size(path), >=, blob);
    remove_sqlite(dir, path);
}

/* Processes that each open the store, commit a little and close it (the
 * command line's way) keep the WAL below its threshold: each one that
 * checkpoints leaves it empty, although the next one cannot tell which
 * frames were copied. */
static void
test_wal_bounded(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("caqmail-store-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "wal.db", NULL);
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    const gint64 frame = 4096 + 24;

    exec_once(path, "CREATE TABLE filler (data BLOB)");
    for (int i = 0; i < 400; i++) {
        exec_once(path, "INSERT INTO filler VALUES (zeroblob(16000))");
        g_assert_cmpint(file_size(wal), <,
                        (CQ_WAL_CHECKPOINT_FRAMES + 50) * frame);
    }
    CqStore *store = cq_store_open(path, NULL, NULL, &error);
    g_assert_no_error(error);
    gint64 rows = -1;
    CqStmt *stmt = cq_store_stmt(store, "SELECT COUNT(*) FROM filler", NULL);
    g_assert_true(cq_stmt_int_result(stmt, -1, &rows, NULL));
    g_assert_cmpint(rows, ==, 400);
    cq_store_close(store);
    g_assert_cmpint(file_size(path), >, CQ_WAL_CHECKPOINT_FRAMES * 4096);
    remove_sqlite(dir, path);
}

typedef struct {
    char *dir;
    char *db;
    CqStore *store;
} Fixture;

static CqStore *
open_store(const char *location, gint64 busy_timeout_ms)
{
    g_autoptr(GError) error = NULL;
    CqStoreOptions options;

    cq_store_options_init(&options);
    options.busy_timeout_ms = busy_timeout_ms;
    CqStore *store = cq_store_open(location, &options, NULL, &error);
    g_assert_no_error(error);
    return store;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("caqmail-store-XXXXXX", NULL);
    f->db = cq_test_db_new(f->dir);
    f->store = open_store(f->db, 60000);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    cq_store_close(f->store);
    cq_test_db_drop(f->db);
    const char *names[] = {"caqmail.db", "caqmail.db-wal", "caqmail.db-shm",
                           "source.db",  "source.db-wal",  "source.db-shm"};
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *p = g_build_filename(f->dir, names[i], NULL);
        g_unlink(p);
    }
    g_rmdir(f->dir);
    g_free(f->db);
    g_free(f->dir);
}

static void
exec_ok(CqStore *store, const char *sql)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(cq_store_exec(store, sql, &error));
    g_assert_no_error(error);
}

static gint64
int_of(CqStore *store, const char *sql)
{
    g_autoptr(GError) error = NULL;
    gint64 value = -1;
    CqStmt *stmt = cq_store_stmt(store, sql, &error);
    g_assert_no_error(error);
    g_assert_true(cq_stmt_int_result(stmt, -1, &value, &error));
    return value;
}

static void
check_bytes(CqStore *store, const guint8 *bytes, gsize size)
{
    g_autoptr(GError) error = NULL;
    CqStmt *stmt =
        cq_store_stmt(store, "SELECT data FROM bytes ORDER BY id", &error);
    gsize expect[] = {size, 0};

    for (int i = 0; i < 3; i++) {
        gsize len = 99;
        g_assert_true(cq_stmt_step(stmt, &error) == CQ_STEP_ROW);
        const guint8 *got = cq_stmt_blob(stmt, 0, &len);
        g_assert_cmpint(cq_stmt_is_null(stmt, 0), ==, i == 2);
        if (i < 2)
            g_assert_cmpmem(got, len, bytes, expect[i]);
    }
    g_assert_true(cq_stmt_step(stmt, &error) == CQ_STEP_DONE);
    cq_stmt_reset(stmt);
}

static gint64
insert_record(CqStore *store, const char *ident)
{
    g_autoptr(GError) error = NULL;
    gint64 id = -1;
    CqStmt *stmt = cq_store_stmt(
        store,
        "INSERT INTO record (ident, kind, title, owner, created)"
        " VALUES (?, 'test', '', 'o', 0) ON CONFLICT (ident) DO NOTHING"
        " {returning_id}",
        &error);

    g_assert_no_error(error);
    cq_stmt_bind_text(stmt, 1, ident);
    g_assert_true(cq_stmt_insert_id(stmt, &id, &error));
    g_assert_no_error(error);
    return id;
}

/* A new row's id, on every backend; an INSERT that added nothing gives
 * 0, not the id of the row added before it. */
static void
test_insert_id(Fixture *f, gconstpointer data)
{
    gint64 first = insert_record(f->store, "8D-1");

    g_assert_cmpint(first, >, 0);
    g_assert_cmpint(insert_record(f->store, "8D-1"), ==, 0);
    gint64 second = insert_record(f->store, "8D-2");
    g_assert_cmpint(second, >, first);
    g_assert_cmpint(int_of(f->store, "SELECT id FROM record"
                                     " WHERE ident = '8D-2'"),
                    ==, second);
}

/* Placeholders inside quotes stay text, truth values read as 1 and 0,
 * bytes of every value survive, NULL stays NULL. */
static void
test_values(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    guint8 bytes[256];

    for (guint i = 0; i < sizeof bytes; i++)
        bytes[i] = (guint8)(255 - i);
    CqStmt *stmt =
        cq_store_stmt(f->store, "SELECT '?' || ?, 1 = 1, 1 = 2", &error);
    g_assert_no_error(error);
    cq_stmt_bind_text(stmt, 1, "x'?");
    g_assert_true(cq_stmt_step(stmt, &error) == CQ_STEP_ROW);
    g_assert_cmpstr(cq_stmt_text(stmt, 0), ==, "?x'?");
    g_assert_cmpint(cq_stmt_int(stmt, 1), ==, 1);
    g_assert_cmpint(cq_stmt_int(stmt, 2), ==, 0);
    cq_stmt_reset(stmt);

    exec_ok(f->store, "CREATE TABLE bytes (id {int}, data {blob})");
    stmt = cq_store_stmt(f->store, "INSERT INTO bytes VALUES (?, ?)", &error);
    for (int i = 0; i < 3; i++) {
        cq_stmt_bind_int(stmt, 1, i);
        if (i == 2)
            cq_stmt_bind_null(stmt, 2);
        else
            cq_stmt_bind_blob(stmt, 2, bytes, i == 0 ? sizeof bytes : 0);
        g_assert_true(cq_stmt_run(stmt, &error));
    }
    /* twice: a backend may fetch bytes another way the second time */
    for (int round = 0; round < 2; round++)
        check_bytes(f->store, bytes, sizeof bytes);
}

/* A read transaction sees one moment, whatever others commit. */
static void
test_snapshot(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqStore) other = open_store(f->db, 60000);
    const char *count = "SELECT COUNT(*) FROM app_user";

    g_assert_true(cq_store_begin(f->store, CQ_TX_READ, &error));
    g_assert_cmpint(int_of(f->store, count), ==, 0);
    exec_ok(other, "INSERT INTO app_user (login, created) VALUES ('a', 0)");
    g_assert_cmpint(int_of(f->store, count), ==, 0);
    cq_store_end_read(f->store);
    g_assert_cmpint(int_of(f->store, count), ==, 1);
}

/* Waiting for another writer ends after the busy timeout, as a failure
 * that may pass; a violated constraint is invalid input. */
static void
test_error_classes(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqStore) impatient = open_store(f->db, 100);
    const char *touch = "UPDATE history_head SET seq = seq WHERE id = 1";

    g_assert_true(cq_store_begin(f->store, CQ_TX_WRITE, &error));
    exec_ok(f->store, touch);
    gboolean ok = cq_store_begin(impatient, CQ_TX_WRITE, &error) &&
                  cq_store_exec(impatient, touch, &error);
    g_assert_false(ok);
    g_assert_error(error, CQ_ERROR, CQ_ERROR_TEMPFAIL);
    g_clear_error(&error);
    if (cq_store_in_transaction(impatient))
        cq_store_rollback(impatient);
    g_assert_true(cq_store_commit(f->store, &error));

    g_assert_false(
        cq_store_exec(f->store,
                      "INSERT INTO role (name, permissions, description)"
                      " VALUES ('sender', 1, 'twice')",
                      &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
}

/* A source with references that point forward and bytes of every
 * value; the copy has the same rows, and new rows get new ids. */
static const char *const source_rows[] = {
    "INSERT INTO department (id, ident, name, head_id) VALUES (1, 'QM',"
    " 'Qualität', NULL)",
    "INSERT INTO person (id, ident, name, email, department_id,"
    " supervisor_id) VALUES (1, 'P-1', 'Änne', 'a@x.example', 1, NULL)",
    "INSERT INTO person (id, ident, name, email, department_id,"
    " supervisor_id) VALUES (7, 'P-7', 'Jürgen', 'j@x.example', 1, NULL)",
    "UPDATE department SET head_id = 7 WHERE id = 1",
    "UPDATE person SET supervisor_id = 7 WHERE id = 1",
    "INSERT INTO app_user (id, login, created) VALUES (3, 'qm', 5)",
    "INSERT INTO user_role (user_id, role_id) VALUES (3, 4)",
    "INSERT INTO mail (id, message_id, sender, envelope_from, from_display,"
    " subject, origin, smtputf8, body_8bit, raw_size, raw_sha256, created)"
    " VALUES (4, '<m@x>', 'qm', 'qm@x.example', 'QM', 'Maß', 'manual', 0,"
    " 1, 3, 'ab', 9)",
    "INSERT INTO outbox (mail_id, state, queued, next_attempt, updated)"
    " VALUES (4, 'queued', 1, 2, 3)",
    NULL,
};

static void
fill_source(CqStore *source)
{
    g_autoptr(GError) error = NULL;
    guint8 chunk[300];

    for (guint i = 0; i < sizeof chunk; i++)
        chunk[i] = (guint8)i;
    for (guint i = 0; source_rows[i]; i++)
        exec_ok(source, source_rows[i]);
    CqStmt *stmt = cq_store_stmt(
        source, "INSERT INTO mail_chunk (mail_id, seq, data) VALUES (4, ?, ?)",
        &error);
    for (int seq = 0; seq < 20; seq++) {
        cq_stmt_bind_int(stmt, 1, seq);
        cq_stmt_bind_blob(stmt, 2, chunk, sizeof chunk - (gsize)seq);
        g_assert_true(cq_stmt_run(stmt, &error));
    }
}

static void
test_copy(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename(f->dir, "source.db", NULL);
    g_autoptr(CqStore) source = open_store(path, 60000);
    gint64 rows = 0;

    fill_source(source);
    g_assert_true(cq_store_begin(source, CQ_TX_READ, &error));
    g_assert_true(cq_store_begin(f->store, CQ_TX_WRITE, &error));
    g_assert_true(cq_store_check_empty(f->store, &error));
    gboolean ok = cq_store_copy(source, f->store, NULL, NULL, &rows, &error);
    g_assert_no_error(error);
    g_assert_true(ok);
    g_assert_true(cq_store_commit(f->store, &error));
    cq_store_end_read(source);
    /* 4 roles, the history's head, the document counter, 1 department,
     * 2 persons, user, role, mail, outbox, 20 chunks */
    g_assert_cmpint(rows, ==, 33);
    g_assert_cmpint(int_of(f->store, "SELECT head_id FROM department"), ==, 7);
    g_assert_cmpint(
        int_of(f->store, "SELECT supervisor_id FROM person WHERE id = 1"), ==,
        7);
    g_assert_cmpint(
        int_of(f->store, "SELECT SUM(LENGTH(data)) FROM mail_chunk"), ==,
        20 * 300 - 190);
    exec_ok(f->store, "INSERT INTO person (ident, name, email)"
                      " VALUES ('P-8', 'Neu', 'n@x.example')");
    g_assert_cmpint(
        int_of(f->store, "SELECT id FROM person WHERE ident = 'P-8'"), ==, 8);

    g_assert_false(cq_store_check_empty(f->store, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the columns of @table, sorted and joined by ", ". */
static char *
columns_of(CqStore *store, const char *table)
{
    g_autoptr(GError) error = NULL;
    gboolean pg = strcmp(cq_store_backend_name(store), "postgresql") == 0;
    CqStmt *stmt = cq_store_stmt(
        store,
        pg ? "SELECT column_name FROM information_schema.columns"
             " WHERE table_schema = current_schema() AND table_name = ?"
           : "SELECT name FROM pragma_table_info(?)",
        &error);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

    g_assert_no_error(error);
    cq_stmt_bind_text(stmt, 1, table);
    while (cq_stmt_step(stmt, &error) == CQ_STEP_ROW)
        g_ptr_array_add(names, cq_stmt_dup(stmt, 0));
    cq_stmt_reset(stmt);
    qsort(names->pdata, names->len, sizeof(char *), compare_names);
    g_ptr_array_add(names, NULL);
    return g_strjoinv(", ", (char **)names->pdata);
}

static char *
sorted_list(const char *columns)
{
    g_auto(GStrv) names = g_strsplit(columns, ", ", -1);
    qsort(names, g_strv_length(names), sizeof *names, compare_names);
    return g_strjoinv(", ", names);
}

/* Every table of the schema, with every column, is one the copy knows. */
static void
test_copy_knows_every_table(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gboolean pg = strcmp(cq_store_backend_name(f->store), "postgresql") == 0;
    CqStmt *stmt = cq_store_stmt(
        f->store,
        pg ? "SELECT table_name FROM information_schema.tables"
             " WHERE table_schema = current_schema()"
           : "SELECT name FROM sqlite_master WHERE type = 'table'",
        &error);
    const char *const *known = cq_store_copy_tables();
    g_autoptr(GPtrArray) tables = g_ptr_array_new_with_free_func(g_free);

    g_assert_no_error(error);
    while (cq_stmt_step(stmt, &error) == CQ_STEP_ROW) {
        if (strcmp(cq_stmt_text(stmt, 0), "schema_version") != 0)
            g_ptr_array_add(tables, cq_stmt_dup(stmt, 0));
    }
    cq_stmt_reset(stmt);
    for (guint i = 0; i < tables->len; i++) {
        const char *name = tables->pdata[i];
        const char *copied = cq_store_copy_columns(name);
        if (copied == NULL)
            g_error("table '%s' is not in lib/store/copy.c", name);
        g_autofree char *have = columns_of(f->store, name);
        g_autofree char *want = sorted_list(copied);
        g_assert_cmpstr(have, ==, want);
    }
    g_assert_cmpuint(tables->len, ==, g_strv_length((char **)known));
}

/* A password in a location is refused before any connection, and the
 * message does not repeat it. */
static void
test_password_refused(void)
{
    const char *locations[] = {
        "postgresql://caqmail:Geheim-7@db.example/caqmail",
        "postgres://caqmail@db.example/caqmail?password=Geheim-7",
    };
    for (guint i = 0; i < G_N_ELEMENTS(locations); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_null(cq_store_open(locations[i], NULL, NULL, &error));
        g_assert_error(error, CQ_ERROR, CQ_ERROR_CONFIG);
        g_assert_nonnull(strstr(error->message, "~/.pgpass"));
        g_assert_null(strstr(error->message, "Geheim"));
    }
}

/* No server: unavailable, not a crash and not a file named so. */
static void
test_no_server(void)
{
    g_autoptr(GError) error = NULL;
    g_assert_null(cq_store_open("postgresql://caqmail@127.0.0.1:1/caqmail",
                                NULL, NULL, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE);
    g_assert_false(g_file_test("postgresql:", G_FILE_TEST_EXISTS));
}

/* The server ends the session (a restart): the next statement fails,
 * the one after it runs on a new connection. */
static void
test_reconnect(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    if (!cq_test_db_is_postgres()) {
        g_test_skip("PostgreSQL only");
        return;
    }
    g_autoptr(CqStore) other = open_store(f->db, 60000);
    gint64 pid = int_of(f->store, "SELECT pg_backend_pid()");
    CqStmt *stmt =
        cq_store_stmt(other, "SELECT pg_terminate_backend(?)", &error);
    cq_stmt_bind_int(stmt, 1, pid);
    g_assert_true(cq_stmt_run(stmt, &error));
    g_assert_false(cq_store_exec(f->store, "SELECT 1", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE);
    g_clear_error(&error);
    g_assert_cmpint(int_of(f->store, "SELECT COUNT(*) FROM role"), ==, 4);
    g_assert_cmpint(int_of(f->store, "SELECT pg_backend_pid()"), !=, pid);
}

#define ADD(path, func)                                                        \
    g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/store/create-hook", test_create_hook);
    g_test_add_func("/store/sqlite/wal-checkpoint", test_wal_checkpoint);
    g_test_add_func("/store/sqlite/wal-bounded", test_wal_bounded);
    g_test_add_func("/store/sqlite/wal-emptied-at-close",
                    test_wal_emptied_at_close);
    g_test_add_func("/store/sqlite/wal-switch-waits", test_wal_switch_waits);
    ADD("/store/values", test_values);
    ADD("/store/insert-id", test_insert_id);
    ADD("/store/snapshot", test_snapshot);
    ADD("/store/error-classes", test_error_classes);
    ADD("/store/copy", test_copy);
    ADD("/store/copy/every-table", test_copy_knows_every_table);
    ADD("/store/postgresql/reconnect", test_reconnect);
    g_test_add_func("/store/postgresql/password-refused",
                    test_password_refused);
    g_test_add_func("/store/postgresql/no-server", test_no_server);
    return g_test_run();
}
