#include "history/record.h"

#include "common/error.h"
#include "common/text.h"
#include "compose/message.h"

#include <string.h>

#define MAX_TITLE 200

void
cq_record_free(CqRecord *record)
{
    if (record == NULL)
        return;
    g_free(record->ident);
    g_free(record->kind);
    g_free(record->title);
    g_free(record->owner);
    g_free(record);
}

/* "8D-2026-0042" is of kind "8D"; an identifier without a dash is a
 * plain "record". */
static char *
kind_of(const char *ident)
{
    const char *dash = strchr(ident, '-');
    if (dash == NULL || dash == ident)
        return g_strdup("record");
    return g_strndup(ident, (gsize)(dash - ident));
}

static gboolean
check_fields(const char *kind, const char *title, const char *owner,
             GError **error)
{
    if (kind != NULL && !cq_ident_check("record kind", kind, error))
        return FALSE;
    if (owner != NULL && !cq_login_check(owner, error))
        return FALSE;
    if (title == NULL)
        return TRUE;
    if (!cq_text_check_header("record title", title, error))
        return FALSE;
    if (g_utf8_strlen(title, -1) <= MAX_TITLE)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "record title: longer than %d characters", MAX_TITLE);
    return FALSE;
}

static gboolean
find(CqStore *store, const char *ident, gint64 *id, GError **error)
{
    CqStmt *stmt =
        cq_store_stmt(store, "SELECT id FROM record WHERE ident = ?", error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, ident);
    return cq_stmt_int_result(stmt, 0, id, error);
}

static gboolean
insert(CqSession *session, const char *ident, const char *kind,
       const char *title, const char *owner, gint64 *id, GError **error)
{
    g_autofree char *derived = kind ? NULL : kind_of(ident);
    CqStmt *stmt =
        cq_store_stmt(session->store,
                      "INSERT INTO record (ident, kind, title, owner, created)"
                      " VALUES (?, ?, ?, ?, ?) {returning_id}",
                      error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, ident);
    cq_stmt_bind_text(stmt, 2, kind ? kind : derived);
    cq_stmt_bind_text(stmt, 3, title ? title : "");
    cq_stmt_bind_text(stmt, 4, owner ? owner : session->login);
    cq_stmt_bind_int(stmt, 5, cq_store_now());
    return cq_stmt_insert_id(stmt, id, error);
}

/* Creates the record unless another process just did: then its id is
 * read. */
static gboolean
insert_new(CqSession *session, const char *ident, gint64 *id, GError **error)
{
    g_autofree char *kind = kind_of(ident);
    CqStmt *stmt =
        cq_store_stmt(session->store,
                      "INSERT INTO record (ident, kind, title, owner, created)"
                      " VALUES (?, ?, '', ?, ?) ON CONFLICT (ident) DO NOTHING"
                      " {returning_id}",
                      error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, ident);
    cq_stmt_bind_text(stmt, 2, kind);
    cq_stmt_bind_text(stmt, 3, session->login);
    cq_stmt_bind_int(stmt, 4, cq_store_now());
    if (!cq_stmt_insert_id(stmt, id, error))
        return FALSE;
    return *id != 0 || find(session->store, ident, id, error);
}

gboolean
cq_record_ensure(CqSession *session, const char *ident, gint64 *id,
                 GError **error)
{
    if (!cq_record_id_check(ident, error) ||
        !find(session->store, ident, id, error))
        return FALSE;
    if (*id != 0)
        return TRUE;
    return cq_session_require(session, CQ_PERM_SEND, "create records", error) &&
           insert_new(session, ident, id, error);
}

static gboolean
finish(CqStore *store, gboolean ok, GError **error)
{
    if (!ok) {
        cq_store_rollback(store);
        return FALSE;
    }
    return cq_store_commit(store, error);
}

gboolean
cq_record_add(CqSession *session, const char *ident, const char *kind,
              const char *title, const char *owner, GError **error)
{
    gint64 id = 0;

    if (!cq_session_require(session, CQ_PERM_SEND, "create records", error) ||
        !cq_record_id_check(ident, error) ||
        !check_fields(kind, title, owner, error) ||
        !cq_store_begin(session->store, CQ_TX_WRITE, error))
        return FALSE;
    gboolean ok = find(session->store, ident, &id, error);
    if (ok && id != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "record '%s' already exists", ident);
        ok = FALSE;
    }
    ok = ok && insert(session, ident, kind, title, owner, &id, error);
    return finish(session->store, ok, error);
}

gboolean
cq_record_edit(CqSession *session, const char *ident, const char *kind,
               const char *title, const char *owner, GError **error)
{
    if (!check_fields(kind, title, owner, error) ||
        !cq_store_begin(session->store, CQ_TX_WRITE, error))
        return FALSE;
    g_autoptr(CqRecord) record = cq_record_get(session, ident, error);
    gboolean ok = record != NULL;
    if (ok && strcmp(record->owner, session->login) != 0)
        ok = cq_session_require(session, CQ_PERM_ADMIN,
                                "change a record of another owner", error);
    CqStmt *stmt = ok ? cq_store_stmt(session->store,
                                      "UPDATE record SET kind = ?, title = ?,"
                                      " owner = ? WHERE ident = ?",
                                      error)
                      : NULL;
    if (stmt != NULL) {
        cq_stmt_bind_text(stmt, 1, kind ? kind : record->kind);
        cq_stmt_bind_text(stmt, 2, title ? title : record->title);
        cq_stmt_bind_text(stmt, 3, owner ? owner : record->owner);
        cq_stmt_bind_text(stmt, 4, ident);
        ok = cq_stmt_run(stmt, error);
    }
    return finish(session->store, ok && stmt != NULL, error);
}

static GPtrArray *
query(CqSession *session, const char *ident, GError **error)
{
    g_autofree char *sql =
        g_strdup_printf("SELECT r.ident, r.kind, r.title, r.owner, r.created,"
                        " (SELECT COUNT(*) FROM mail m WHERE m.record_id = r.id"
                        " AND (? = 1 OR m.sender = ?))"
                        " FROM record r %s ORDER BY r.ident",
                        ident ? "WHERE r.ident = ?" : "");
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_record_free);
    CqStmt *stmt = cq_store_stmt(session->store, sql, error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return NULL;
    cq_stmt_bind_int(stmt, 1, cq_session_may(session, CQ_PERM_READ_ALL));
    cq_stmt_bind_text(stmt, 2,
                      cq_session_may(session, CQ_PERM_READ_OWN) ? session->login
                                                                : NULL);
    if (ident != NULL)
        cq_stmt_bind_text(stmt, 3, ident);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        CqRecord *r = g_new0(CqRecord, 1);
        r->ident = cq_stmt_dup(stmt, 0);
        r->kind = cq_stmt_dup(stmt, 1);
        r->title = cq_stmt_dup(stmt, 2);
        r->owner = cq_stmt_dup(stmt, 3);
        r->created = cq_stmt_int(stmt, 4);
        r->mails = cq_stmt_int(stmt, 5);
        g_ptr_array_add(out, r);
    }
    cq_stmt_reset(stmt);
    return step == CQ_STEP_DONE ? g_steal_pointer(&out) : NULL;
}

GPtrArray *
cq_record_list(CqSession *session, GError **error)
{
    if (!session->registered &&
        !cq_session_require(session, CQ_PERM_SEND, "read records", error))
        return NULL;
    return query(session, NULL, error);
}

CqRecord *
cq_record_get(CqSession *session, const char *ident, GError **error)
{
    if (!session->registered &&
        !cq_session_require(session, CQ_PERM_SEND, "read records", error))
        return NULL;
    g_autoptr(GPtrArray) found = query(session, ident, error);
    if (found == NULL)
        return NULL;
    if (found->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "record '%s' does not exist", ident);
        return NULL;
    }
    return g_ptr_array_steal_index(found, 0);
}
