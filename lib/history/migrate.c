#include "history/migrate.h"

#include "common/error.h"
#include "history/history.h"

#include <string.h>

void
cq_migrate_result_clear(CqMigrateResult *result)
{
    g_clear_pointer(&result->head, g_free);
}

static gboolean
read_head(CqStore *store, char **hash, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store, "SELECT hash FROM history_head WHERE id = 1", error);
    if (stmt == NULL)
        return FALSE;
    CqStep step = cq_stmt_step(stmt, error);
    *hash = step == CQ_STEP_ROW ? cq_stmt_dup(stmt, 0) : NULL;
    cq_stmt_reset(stmt);
    return step == CQ_STEP_ROW;
}

/* The copy's chain, checked as an auditor would, by the same user. */
static gboolean
verify_copy(CqSession *source, CqStore *target, CqMigrateResult *result,
            GError **error)
{
    g_autofree char *expected = NULL;
    CqVerifyResult check = {0};
    CqSession *session = NULL;

    if (!read_head(source->store, &expected, error) ||
        (session = cq_session_new(target, source->login, error)) == NULL)
        return FALSE;
    gboolean ok = cq_history_verify(session, &check, NULL, NULL, error);
    session->store = NULL; /* the caller's */
    cq_session_free(session);
    if (ok && (check.broken != 0 || g_strcmp0(check.head, expected) != 0)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "the copy's history does not verify: %s",
                    check.broken != 0 ? check.problem
                                      : "it ends with another hash");
        ok = FALSE;
    }
    result->entries = check.entries;
    result->head = g_steal_pointer(&check.head);
    cq_verify_result_clear(&check);
    return ok;
}

static gboolean
copy_all(CqSession *source, CqStore *target, CqCopyProgress progress,
         gpointer data, CqMigrateResult *result, GError **error)
{
    if (!cq_store_begin(target, CQ_TX_WRITE, error))
        return FALSE;
    if (!cq_store_check_empty(target, error) ||
        !cq_store_copy(source->store, target, progress, data, &result->rows,
                       error) ||
        !verify_copy(source, target, result, error)) {
        cq_store_rollback(target);
        return FALSE;
    }
    return cq_store_commit(target, error);
}

gboolean
cq_migrate(CqSession *session, const char *target,
           const CqStoreOptions *options, CqCopyProgress progress,
           gpointer data, CqMigrateResult *result, GError **error)
{
    memset(result, 0, sizeof *result);
    if (!cq_session_require(session, CQ_PERM_ADMIN, "migrate the database",
                            error))
        return FALSE;
    if (strcmp(target, cq_store_location(session->store)) == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE,
                    "database '%s': source and target are the same", target);
        return FALSE;
    }
    /* No creation hook: the users come from the source. */
    CqStoreOptions plain;
    if (options != NULL)
        plain = *options;
    else
        cq_store_options_init(&plain);
    plain.on_create = NULL;
    g_autoptr(CqStore) store = cq_store_open(target, &plain, NULL, error);
    if (store == NULL || !cq_store_begin(session->store, CQ_TX_READ, error))
        return FALSE;
    gboolean ok = copy_all(session, store, progress, data, result, error);
    cq_store_end_read(session->store);
    return ok;
}
