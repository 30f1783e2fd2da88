/* The store itself: creation of a new database and its creation hook. */
#include "common/error.h"
#include "store/store.h"
#include "testdb.h"

#include <glib/gstdio.h>

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
    CqStmt *stmt = cq_store_stmt(store, "SELECT COUNT(*) FROM app_user",
                                 NULL);
    g_assert_true(cq_stmt_int_result(stmt, -1, &n, NULL));
    return n;
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
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autofree char *shm = g_strconcat(path, "-shm", NULL);
    g_unlink(path);
    g_unlink(wal);
    g_unlink(shm);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/store/create-hook", test_create_hook);
    return g_test_run();
}
