/* Operators' changes to queued mail: retry and cancel. */
#include "outbox/outbox.h"

#include "common/error.h"
#include "history/history.h"

#include <string.h>

/* Runs @sql for mail @id; *@value is its first column of text, or NULL
 * without a row. */
static gboolean
lookup_text(CqStore *store, const char *sql, gint64 id, char **value,
            GError **error)
{
    CqStmt *stmt = cq_store_stmt(store, sql, error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, id);
    CqStep step = cq_stmt_step(stmt, error);
    *value = step == CQ_STEP_ROW ? cq_stmt_dup(stmt, 0) : NULL;
    cq_stmt_reset(stmt);
    return step != CQ_STEP_ERROR;
}

/* The state of a mail the acting user may change: the sender's own, or
 * any for an administrator.  Others' mail does not exist for them.  The
 * outbox row stays locked until the change is committed, so that no
 * worker claims the mail in between. */
static char *
own_state(CqSession *session, gint64 id, const char *what, GError **error)
{
    g_autofree char *state = NULL, *sender = NULL;

    if (!cq_session_require(session, CQ_PERM_SEND, what, error) ||
        !lookup_text(session->store,
                     "SELECT state FROM outbox WHERE mail_id = ? {for_update}",
                     id, &state, error) ||
        !lookup_text(session->store, "SELECT sender FROM mail WHERE id = ?", id,
                     &sender, error))
        return NULL;
    if (state != NULL && (g_strcmp0(sender, session->login) == 0 ||
                          cq_session_may(session, CQ_PERM_ADMIN)))
        return g_steal_pointer(&state);
    g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                "mail %" G_GINT64_FORMAT " does not exist", id);
    return NULL;
}

static gboolean
set_state(CqStore *store, gint64 id, const char *state, GError **error)
{
    gint64 now = cq_store_now();
    CqStmt *stmt = cq_store_stmt(
        store,
        "UPDATE outbox SET state = ?, next_attempt = ?, updated = ?,"
        " lease_owner = NULL, lease_until = NULL WHERE mail_id = ?",
        error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, state);
    cq_stmt_bind_int(stmt, 2, now);
    cq_stmt_bind_int(stmt, 3, now);
    cq_stmt_bind_int(stmt, 4, id);
    return cq_stmt_run(stmt, error);
}

/* The "retry" results of mail @id: for its recipients refused or left
 * uncertain, so that they count as pending again.  NULL on an error. */
static GArray *
reopened_rcpts(CqStore *store, gint64 id, GError **error)
{
    g_autoptr(GArray) rcpts =
        g_array_new(FALSE, FALSE, sizeof(CqHistoryResult));
    CqStmt *stmt = cq_store_stmt(
        store,
        "SELECT r.id FROM mail_rcpt r WHERE r.mail_id = ?"
        " AND (SELECT d.status FROM delivery_result d WHERE d.rcpt_id = r.id"
        " ORDER BY d.id DESC LIMIT 1) IN ('rejected', 'uncertain')"
        " ORDER BY r.position",
        error);
    if (stmt == NULL)
        return NULL;
    cq_stmt_bind_int(stmt, 1, id);
    CqStep step;
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        CqHistoryResult r = {.rcpt_id = cq_stmt_int(stmt, 0),
                             .status = "retry",
                             .reply = "queued again by an operator"};
        g_array_append_val(rcpts, r);
    }
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE ? g_steal_pointer(&rcpts) : NULL;
}

static gboolean
change(CqSession *session, gint64 id, const char *what,
       const char *const *allowed, const char *kind, const char *state,
       GError **error)
{
    g_autofree char *actor = cq_session_actor(session);
    g_autoptr(GArray) results = NULL;

    if (!cq_store_begin(session->store, CQ_TX_WRITE, error))
        return FALSE;
    g_autofree char *now = own_state(session, id, what, error);
    gboolean ok = now != NULL;
    if (ok && !g_strv_contains(allowed, now)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "mail %" G_GINT64_FORMAT " is %s and cannot be %s", id, now,
                    strcmp(kind, "retry") == 0 ? "retried" : "cancelled");
        ok = FALSE;
    }
    g_autofree char *detail =
        g_strdup_printf("state=%s was=%s", state, now ? now : "");
    if (ok && strcmp(kind, "retry") == 0)
        ok = (results = reopened_rcpts(session->store, id, error)) != NULL;
    guint n = results ? results->len : 0;
    ok = ok &&
         cq_history_append_results(
             session->store, kind, id, actor, detail,
             n ? &g_array_index(results, CqHistoryResult, 0) : NULL, n, NULL,
             error) &&
         set_state(session->store, id, state, error);
    if (!ok) {
        cq_store_rollback(session->store);
        return FALSE;
    }
    return cq_store_commit(session->store, error);
}

gboolean
cq_outbox_retry(CqSession *session, gint64 mail_id, GError **error)
{
    static const char *const allowed[] = {"deferred", "failed", "partly-sent",
                                          "uncertain", NULL};
    return change(session, mail_id, "retry mail", allowed, "retry", "queued",
                  error);
}

gboolean
cq_outbox_cancel(CqSession *session, gint64 mail_id, GError **error)
{
    static const char *const allowed[] = {"queued", "deferred", "uncertain",
                                          NULL};
    return change(session, mail_id, "cancel mail", allowed, "cancel",
                  "cancelled", error);
}
