/* User administration: logins and the roles they hold. */
#include "access/access.h"

#include "common/error.h"

void
cq_user_free(CqUser *user)
{
    if (user == NULL)
        return;
    g_free(user->login);
    g_free(user->person);
    g_free(user->email);
    g_strfreev(user->roles);
    g_free(user);
}

void
cq_role_free(CqRole *role)
{
    if (role == NULL)
        return;
    g_free(role->name);
    g_free(role->description);
    g_free(role);
}

static gboolean
lookup_id(CqStore *store, const char *sql, const char *key, gint64 *id,
          GError **error)
{
    CqStmt *stmt = cq_store_stmt(store, sql, error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, key);
    return cq_stmt_int_result(stmt, 0, id, error);
}

static gboolean
user_id(CqStore *store, const char *login, gint64 *id, GError **error)
{
    if (!lookup_id(store, "SELECT id FROM app_user WHERE login = ?", login, id,
                   error))
        return FALSE;
    if (*id != 0)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                "user '%s' is not registered", login);
    return FALSE;
}

static gboolean
role_id(CqStore *store, const char *role, gint64 *id, GError **error)
{
    if (!lookup_id(store, "SELECT id FROM role WHERE name = ?", role, id,
                   error))
        return FALSE;
    if (*id != 0)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                "role '%s' does not exist (see 'caqmail user roles')", role);
    return FALSE;
}

static gboolean
change_role(CqStore *store, gint64 user, const char *role, gboolean grant,
            GError **error)
{
    gint64 rid = 0;
    if (!role_id(store, role, &rid, error))
        return FALSE;

    CqStmt *stmt = cq_store_stmt(
        store,
        grant ? "INSERT INTO user_role (user_id, role_id) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING"
              : "DELETE FROM user_role WHERE user_id = ? AND role_id = ?",
        error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, user);
    cq_stmt_bind_int(stmt, 2, rid);
    return cq_stmt_run(stmt, error);
}

static gboolean
change_roles(CqStore *store, gint64 user, const char *const *roles,
             gboolean grant, GError **error)
{
    for (guint i = 0; roles && roles[i]; i++) {
        if (!change_role(store, user, roles[i], grant, error))
            return FALSE;
    }
    return TRUE;
}

/* Refuses a change that would leave nobody to administer. */
static gboolean
check_admin_left(CqStore *store, GError **error)
{
    gint64 admins = 0;
    /* Two administrators removing each other at once: the second waits
     * here for the first, then counts what is left. */
    CqStmt *stmt = cq_store_stmt(
        store, "SELECT id FROM role WHERE permissions >= 16 {for_update}",
        error);
    if (stmt == NULL || !cq_stmt_run(stmt, error))
        return FALSE;
    stmt = cq_store_stmt(
        store,
        "SELECT COUNT(*) FROM user_role ur JOIN role r ON r.id = ur.role_id"
        " WHERE r.permissions >= 16",
        error);
    if (stmt == NULL || !cq_stmt_int_result(stmt, 0, &admins, error))
        return FALSE;
    if (admins > 0)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                "the last administrator cannot be removed");
    return FALSE;
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
cq_user_add(CqSession *session, const char *login, const char *const *roles,
            GError **error)
{
    CqStore *store = session->store;
    gint64 id = 0;

    if (!cq_session_require(session, CQ_PERM_ADMIN, "add users", error) ||
        !cq_login_check(login, error) ||
        !cq_store_begin(store, CQ_TX_WRITE, error))
        return FALSE;
    gboolean ok = lookup_id(store, "SELECT id FROM app_user WHERE login = ?",
                            login, &id, error);
    if (ok && id != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "user '%s' is already registered", login);
        ok = FALSE;
    }
    CqStmt *stmt = ok ? cq_store_stmt(store,
                                      "INSERT INTO app_user (login, created)"
                                      " VALUES (?, ?) {returning_id}",
                                      error)
                      : NULL;
    if (stmt != NULL) {
        cq_stmt_bind_text(stmt, 1, login);
        cq_stmt_bind_int(stmt, 2, cq_store_now());
        ok = cq_stmt_insert_id(stmt, &id, error);
    }
    ok = ok && stmt != NULL &&
         change_roles(store, id,
                      roles && roles[0] ? roles
                                        : (const char *const[]){"sender", NULL},
                      TRUE, error);
    return finish(store, ok, error);
}

gboolean
cq_user_set_roles(CqSession *session, const char *login, const char *const *add,
                  const char *const *remove, GError **error)
{
    CqStore *store = session->store;
    gint64 id = 0;

    if (!cq_session_require(session, CQ_PERM_ADMIN, "change roles", error) ||
        !cq_store_begin(store, CQ_TX_WRITE, error))
        return FALSE;
    gboolean ok = user_id(store, login, &id, error) &&
                  change_roles(store, id, add, TRUE, error) &&
                  change_roles(store, id, remove, FALSE, error) &&
                  check_admin_left(store, error);
    return finish(store, ok, error);
}

gboolean
cq_user_remove(CqSession *session, const char *login, GError **error)
{
    CqStore *store = session->store;
    gint64 id = 0;

    if (!cq_session_require(session, CQ_PERM_ADMIN, "remove users", error) ||
        !cq_store_begin(store, CQ_TX_WRITE, error))
        return FALSE;
    gboolean ok = user_id(store, login, &id, error);
    CqStmt *stmt =
        ok ? cq_store_stmt(store, "DELETE FROM app_user WHERE id = ?", error)
           : NULL;
    if (stmt != NULL) {
        cq_stmt_bind_int(stmt, 1, id);
        ok = cq_stmt_run(stmt, error) && check_admin_left(store, error);
    }
    return finish(store, ok && stmt != NULL, error);
}

static GStrv
user_roles(CqStore *store, gint64 id, guint *permissions, GError **error)
{
    g_autoptr(GStrvBuilder) names = g_strv_builder_new();
    CqStmt *stmt =
        cq_store_stmt(store,
                      "SELECT r.name, r.permissions FROM user_role ur"
                      " JOIN role r ON r.id = ur.role_id WHERE ur.user_id = ?"
                      " ORDER BY r.name",
                      error);
    CqStep step = CQ_STEP_ERROR;

    if (stmt == NULL)
        return NULL;
    cq_stmt_bind_int(stmt, 1, id);
    *permissions = 0;
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        g_strv_builder_add(names, cq_stmt_text(stmt, 0));
        *permissions |= (guint)cq_stmt_int(stmt, 1);
    }
    cq_stmt_reset(stmt);
    if (*permissions & CQ_PERM_ADMIN)
        *permissions = CQ_PERM_ALL;
    return step == CQ_STEP_DONE ? g_strv_builder_end(names) : NULL;
}

static const char user_select[] =
    "SELECT u.id, u.login, p.ident, p.email FROM app_user u"
    " LEFT JOIN person p ON p.login = u.login";

static GPtrArray *
query_users(CqSession *session, const char *login, GError **error)
{
    g_autofree char *sql = g_strdup_printf("%s%s ORDER BY u.login", user_select,
                                           login ? " WHERE u.login = ?" : "");
    g_autoptr(GPtrArray) users =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_user_free);
    CqStmt *stmt = cq_store_stmt(session->store, sql, error);
    CqStep step = CQ_STEP_ERROR;
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));

    if (stmt == NULL)
        return NULL;
    if (login != NULL)
        cq_stmt_bind_text(stmt, 1, login);
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        CqUser *user = g_new0(CqUser, 1);
        gint64 id = cq_stmt_int(stmt, 0);
        user->login = cq_stmt_dup(stmt, 1);
        user->person = cq_stmt_dup(stmt, 2);
        user->email = cq_stmt_dup(stmt, 3);
        g_ptr_array_add(users, user);
        g_array_append_val(ids, id);
    }
    cq_stmt_reset(stmt);
    if (step != CQ_STEP_DONE)
        return NULL;
    for (guint i = 0; i < users->len; i++) {
        CqUser *user = users->pdata[i];
        user->roles = user_roles(session->store, g_array_index(ids, gint64, i),
                                 &user->permissions, error);
        if (user->roles == NULL)
            return NULL;
    }
    return g_steal_pointer(&users);
}

GPtrArray *
cq_user_list(CqSession *session, GError **error)
{
    if (!session->registered) {
        cq_session_require(session, CQ_PERM_SEND, "list users", error);
        return NULL;
    }
    return query_users(session, NULL, error);
}

CqUser *
cq_user_get(CqSession *session, const char *login, GError **error)
{
    if (!session->registered) {
        cq_session_require(session, CQ_PERM_SEND, "show users", error);
        return NULL;
    }
    g_autoptr(GPtrArray) users = query_users(session, login, error);
    if (users == NULL)
        return NULL;
    if (users->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "user '%s' is not registered", login);
        return NULL;
    }
    return g_ptr_array_steal_index(users, 0);
}

GPtrArray *
cq_role_list(CqSession *session, GError **error)
{
    GPtrArray *roles =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_role_free);
    CqStmt *stmt = cq_store_stmt(
        session->store,
        "SELECT name, description, permissions FROM role ORDER BY id", error);
    CqStep step = CQ_STEP_ERROR;

    while (stmt != NULL && (step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        CqRole *role = g_new0(CqRole, 1);
        role->name = cq_stmt_dup(stmt, 0);
        role->description = cq_stmt_dup(stmt, 1);
        role->permissions = (guint)cq_stmt_int(stmt, 2);
        g_ptr_array_add(roles, role);
    }
    if (stmt != NULL)
        cq_stmt_reset(stmt);
    if (step != CQ_STEP_DONE) {
        g_ptr_array_unref(roles);
        return NULL;
    }
    return roles;
}
