#include "access/access.h"

#include "common/error.h"

#include <pwd.h>
#include <string.h>
#include <unistd.h>

#define MAX_IDENT 64

static const char *const perm_names[] = {
    "send", "read-own", "read-all", "edit-catalog", "administer",
};

const char *
cq_permission_name(CqPermission permission)
{
    for (guint i = 0; i < G_N_ELEMENTS(perm_names); i++) {
        if (permission == (1u << i))
            return perm_names[i];
    }
    return "unknown";
}

char *
cq_permissions_format(guint permissions)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < G_N_ELEMENTS(perm_names); i++) {
        if (permissions & (1u << i))
            g_string_append_printf(out, "%s%s", out->len ? ", " : "",
                                   perm_names[i]);
    }
    return g_string_free(out, FALSE);
}

static gboolean
check_token(const char *what, const char *text, const char *forbidden,
            GError **error)
{
    gboolean ok = text != NULL && *text != '\0' &&
                  g_utf8_validate(text, -1, NULL) &&
                  g_utf8_strlen(text, -1) <= MAX_IDENT;

    for (const char *p = text; ok && *p; p++) {
        guchar c = (guchar)*p;
        ok = c > ' ' && c != 0x7f && strchr(forbidden, c) == NULL;
    }
    if (!ok) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "%s '%s': use 1 to %d characters without spaces, "
                    "control characters or any of %s",
                    what, text ? text : "", MAX_IDENT, forbidden);
    }
    return ok;
}

gboolean
cq_ident_check(const char *what, const char *ident, GError **error)
{
    return check_token(what, ident, ":,;<>@\"'()", error);
}

gboolean
cq_login_check(const char *login, GError **error)
{
    return check_token("login", login, ":,;<>\"'()", error);
}

char *
cq_os_login(void)
{
    struct passwd *pw = getpwuid(geteuid());
    if (pw != NULL && pw->pw_name != NULL)
        return g_strdup(pw->pw_name);
    return g_strdup_printf("uid%u", (unsigned)geteuid());
}

static gboolean
load_permissions(CqStore *store, const char *login, guint *permissions,
                 gboolean *registered, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store,
        "SELECT u.id, r.permissions FROM app_user u"
        " LEFT JOIN user_role ur ON ur.user_id = u.id"
        " LEFT JOIN role r ON r.id = ur.role_id WHERE u.login = ?",
        error);
    CqStep step;

    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, login);
    *permissions = 0;
    *registered = FALSE;
    while ((step = cq_stmt_step(stmt, error)) == CQ_STEP_ROW) {
        *registered = TRUE;
        *permissions |= (guint)cq_stmt_int(stmt, 1);
    }
    cq_stmt_reset(stmt);
    if (*permissions & CQ_PERM_ADMIN)
        *permissions = CQ_PERM_ALL;
    return step == CQ_STEP_DONE;
}

static gboolean
insert_user(CqStore *store, const char *login, GError **error)
{
    CqStmt *stmt = cq_store_stmt(
        store, "INSERT INTO app_user (login, created) VALUES (?, ?)", error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, login);
    cq_stmt_bind_int(stmt, 2, cq_store_now());
    return cq_stmt_run(stmt, error);
}

static gboolean
grant_role(CqStore *store, const char *login, const char *role, GError **error)
{
    CqStmt *stmt = cq_store_stmt(store,
                                 "INSERT INTO user_role (user_id, role_id)"
                                 " SELECT u.id, r.id FROM app_user u, role r"
                                 " WHERE u.login = ? AND r.name = ?",
                                 error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, login);
    cq_stmt_bind_text(stmt, 2, role);
    return cq_stmt_run(stmt, error);
}

/* The creator of a new database and root administer it.  Runs in the
 * transaction that creates the schema: a process that opens the database
 * a moment later already finds them. */
static gboolean
bootstrap(CqStore *store, gpointer data, GError **error)
{
    g_autofree char *creator = cq_os_login();
    const char *admins[] = {creator, "root"};
    gint64 users = 0;

    if (!cq_store_begin(store, CQ_TX_WRITE, error))
        return FALSE;
    CqStmt *stmt = cq_store_stmt(store, "SELECT COUNT(*) FROM app_user", error);
    gboolean ok = stmt != NULL && cq_stmt_int_result(stmt, 0, &users, error);
    for (guint i = 0; ok && users == 0 && i < G_N_ELEMENTS(admins); i++) {
        if (i > 0 && strcmp(admins[i], admins[0]) == 0)
            continue;
        ok = insert_user(store, admins[i], error) &&
             grant_role(store, admins[i], "administrator", error);
    }
    if (!ok) {
        cq_store_rollback(store);
        return FALSE;
    }
    return cq_store_commit(store, error);
}

static gboolean
act_as(CqSession *session, const char *login, GError **error)
{
    if (!cq_session_require(session, CQ_PERM_ADMIN, "act for another user",
                            error))
        return FALSE;
    if (!cq_login_check(login, error))
        return FALSE;
    session->operator= session->login;
    session->login = g_strdup(login);
    if (!load_permissions(session->store, login, &session->permissions,
                          &session->registered, error))
        return FALSE;
    if (!session->registered) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND,
                    "user '%s' is not registered", login);
        return FALSE;
    }
    return TRUE;
}

CqSession *
cq_session_new(CqStore *store, const char *login, GError **error)
{
    g_autoptr(CqSession) session = g_new0(CqSession, 1);

    session->store = store;
    session->login = g_strdup(login);
    if (!load_permissions(store, login, &session->permissions,
                          &session->registered, error))
        return NULL;
    return g_steal_pointer(&session);
}

CqSession *
cq_session_open(const char *location, const CqStoreOptions *opts,
                const char *as, GError **error)
{
    CqStoreOptions options;
    if (opts != NULL)
        options = *opts;
    else
        cq_store_options_init(&options);
    options.on_create = bootstrap;
    CqStore *store = cq_store_open(location, &options, NULL, error);

    if (store == NULL)
        return NULL;
    g_autofree char *login = cq_os_login();
    g_autoptr(CqSession) session = cq_session_new(store, login, error);
    if (session == NULL) {
        cq_store_close(store);
        return NULL;
    }
    if (as != NULL && strcmp(as, login) != 0 && !act_as(session, as, error))
        return NULL;
    return g_steal_pointer(&session);
}

CqSession *
cq_session_open_shared(CqStore *store, const char *as, GError **error)
{
    g_autoptr(CqSession) session = g_new0(CqSession, 1);

    session->store = store;
    session->shares_store = TRUE;
    session->login = cq_os_login();
    if (!load_permissions(store, session->login, &session->permissions,
                          &session->registered, error))
        return NULL;
    if (as != NULL && strcmp(as, session->login) != 0 &&
        !act_as(session, as, error))
        return NULL;
    return g_steal_pointer(&session);
}

CqSession *
cq_session_open_config(const CqConfig *config, const char *as, GError **error)
{
    CqStoreOptions options = {
        .durable = g_strcmp0(config->store.sync, "full") == 0,
        .busy_timeout_ms = config->store.busy_timeout * 1000,
    };
    return cq_session_open(config->store.database, &options, as, error);
}

CqSession *
cq_session_derive(CqSession *session, const char *login, GError **error)
{
    g_autoptr(CqSession) derived = g_new0(CqSession, 1);

    derived->store = session->store;
    derived->shares_store = TRUE;
    derived->login = g_strdup(session->login);
    derived->operator= g_strdup(session->operator);
    derived->permissions = session->permissions;
    derived->registered = session->registered;
    if (login == NULL || strcmp(login, session->login) == 0)
        return g_steal_pointer(&derived);
    g_clear_pointer(&derived->operator, g_free);
    if (!act_as(derived, login, error))
        return NULL;
    return g_steal_pointer(&derived);
}

void
cq_session_free(CqSession *session)
{
    if (session == NULL)
        return;
    if (!session->shares_store)
        cq_store_close(session->store);
    g_free(session->login);
    g_free(session->operator);
    g_free(session);
}

gboolean
cq_session_may(const CqSession *session, guint permission)
{
    return (session->permissions & permission) == permission;
}

gboolean
cq_session_require(const CqSession *session, guint permission, const char *what,
                   GError **error)
{
    if (cq_session_may(session, permission))
        return TRUE;
    if (!session->registered) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_PERMISSION,
                    "user '%s' may not %s: not registered with caqmail "
                    "(an administrator adds users with 'caqmail user add')",
                    session->login, what);
        return FALSE;
    }
    guint missing = permission & ~session->permissions;
    g_set_error(error, CQ_ERROR, CQ_ERROR_PERMISSION,
                "user '%s' may not %s (needs permission '%s')", session->login,
                what,
                cq_permission_name((CqPermission)(missing & (~missing + 1))));
    return FALSE;
}

char *
cq_session_actor(const CqSession *session)
{
    if (session->operator== NULL)
        return g_strdup(session->login);
    return g_strdup_printf("%s (by %s)", session->login, session->operator);
}
