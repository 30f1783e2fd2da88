#include "history/item.h"

#include "common/error.h"
#include "history/history.h"

void
cq_item_entry_free(CqItemEntry *entry)
{
    if (entry == NULL)
        return;
    g_free(entry->actor);
    g_free(entry->kind);
    g_free(entry->detail);
    g_free(entry);
}

/* The SQL texts are constants chosen by @item, never input. */
static const char *const insert_sql[] = {
    [CQ_ITEM_MEASURE] = "INSERT INTO item_history (measure_id, at, actor,"
                        " kind, level, mail_id, history_seq, detail)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [CQ_ITEM_GAUGE] = "INSERT INTO item_history (gauge_id, at, actor,"
                      " kind, level, mail_id, history_seq, detail)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
};
static const char *const list_sql[] = {
    [CQ_ITEM_MEASURE] = "SELECT at, actor, kind, level, mail_id, history_seq,"
                        " detail FROM item_history WHERE measure_id = ?"
                        " ORDER BY id",
    [CQ_ITEM_GAUGE] = "SELECT at, actor, kind, level, mail_id, history_seq,"
                      " detail FROM item_history WHERE gauge_id = ?"
                      " ORDER BY id",
};

static void
bind_optional(CqStmt *stmt, int index, gint64 value)
{
    if (value != 0)
        cq_stmt_bind_int(stmt, index, value);
    else
        cq_stmt_bind_null(stmt, index);
}

static gboolean
insert(CqSession *session, CqItemKind item, gint64 id, const char *kind,
       guint level, gint64 mail_id, gint64 seq, const char *detail,
       GError **error)
{
    g_autofree char *actor = cq_session_actor(session);
    CqStmt *stmt = cq_store_stmt(session->store, insert_sql[item], error);

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, id);
    cq_stmt_bind_int(stmt, 2, cq_store_now());
    cq_stmt_bind_text(stmt, 3, actor);
    cq_stmt_bind_text(stmt, 4, kind);
    cq_stmt_bind_int(stmt, 5, level);
    bind_optional(stmt, 6, mail_id);
    bind_optional(stmt, 7, seq);
    cq_stmt_bind_text(stmt, 8, detail ? detail : "");
    return cq_stmt_run(stmt, error);
}

gboolean
cq_item_history_add(CqSession *session, CqItemKind item, gint64 id,
                    const char *kind, guint level, const char *detail,
                    GError **error)
{
    return insert(session, item, id, kind, level, 0, 0, detail, error);
}

gboolean
cq_item_history_mail(CqSession *session, CqItemKind item, gint64 id,
                     const char *kind, guint level, gint64 mail_id,
                     const char *detail, GError **error)
{
    g_autofree char *actor = cq_session_actor(session);
    gint64 seq = 0;

    return cq_history_append_results(session->store, kind, mail_id, actor,
                                     detail, NULL, 0, &seq, error) &&
           insert(session, item, id, kind, level, mail_id, seq, detail, error);
}

static CqItemEntry *
entry_from_row(CqStmt *stmt)
{
    CqItemEntry *e = g_new0(CqItemEntry, 1);

    e->at = cq_stmt_int(stmt, 0);
    e->actor = cq_stmt_dup(stmt, 1);
    e->kind = cq_stmt_dup(stmt, 2);
    e->level = (guint)cq_stmt_int(stmt, 3);
    e->mail_id = cq_stmt_is_null(stmt, 4) ? 0 : cq_stmt_int(stmt, 4);
    e->history_seq = cq_stmt_is_null(stmt, 5) ? 0 : cq_stmt_int(stmt, 5);
    e->detail = cq_stmt_dup(stmt, 6);
    return e;
}

GPtrArray *
cq_item_history_list(CqStore *store, CqItemKind item, gint64 id, GError **error)
{
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_item_entry_free);
    CqStmt *stmt = cq_store_stmt(store, list_sql[item], error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return NULL;
    cq_stmt_bind_int(stmt, 1, id);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW)
        g_ptr_array_add(out, entry_from_row(stmt));
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE ? g_steal_pointer(&out) : NULL;
}
