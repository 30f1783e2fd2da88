#include "api/password.h"

#include "common/error.h"
#include "common/event.h"

#include <sodium.h>
#include <string.h>

#define MIN_PASSWORD 8
#define MAX_PASSWORD 1024

static gboolean
sodium_ready(GError **error)
{
    if (sodium_init() >= 0)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED,
                "libsodium could not be initialised");
    return FALSE;
}

static gboolean
password_acceptable(const char *password, GError **error)
{
    gsize len = password ? strlen(password) : 0;
    gboolean ok = len >= MIN_PASSWORD && len <= MAX_PASSWORD &&
                  g_utf8_validate(password, -1, NULL);

    for (const char *p = password; ok && *p; p++)
        ok = (guchar)*p >= ' ' && *p != 0x7f;
    if (!ok)
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "password: use %d to %d characters of UTF-8 text "
                    "without control characters",
                    MIN_PASSWORD, MAX_PASSWORD);
    return ok;
}

static char *
hash_password(const char *password, GError **error)
{
    char *hash = g_malloc0(crypto_pwhash_STRBYTES);

    if (crypto_pwhash_str_alg(hash, password, strlen(password),
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        g_free(hash);
        g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED,
                    "password: hashing ran out of memory");
        return NULL;
    }
    return hash;
}

static gboolean
store_hash(CqStore *store, const char *login, const char *hash, GError **error)
{
    CqStmt *stmt = cq_store_stmt(store,
                                 "DELETE FROM user_password WHERE user_id ="
                                 " (SELECT id FROM app_user WHERE login = ?)",
                                 error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, login);
    if (!cq_stmt_run(stmt, error))
        return FALSE;
    stmt = cq_store_stmt(store,
                         "INSERT INTO user_password (user_id, hash, updated)"
                         " SELECT id, ?, ? FROM app_user WHERE login = ?",
                         error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_text(stmt, 1, hash);
    cq_stmt_bind_int(stmt, 2, cq_store_now());
    cq_stmt_bind_text(stmt, 3, login);
    return cq_stmt_run(stmt, error);
}

static gboolean
may_set(CqSession *session, const char *login, GError **error)
{
    if (g_strcmp0(session->login, login) == 0 && session->registered)
        return TRUE;
    return cq_session_require(session, CQ_PERM_ADMIN,
                              "set another user's password", error);
}

gboolean
cq_password_set(CqSession *session, const char *login, const char *password,
                GError **error)
{
    g_autoptr(CqUser) user = NULL;
    char *hash = NULL;
    gboolean ok = FALSE;

    if (!cq_login_check(login, error) || !may_set(session, login, error) ||
        !password_acceptable(password, error) || !sodium_ready(error))
        return FALSE;
    if ((user = cq_user_get(session, login, error)) == NULL)
        return FALSE;
    if ((hash = hash_password(password, error)) == NULL)
        return FALSE;
    if (!cq_store_begin(session->store, CQ_TX_WRITE, error))
        goto out;
    ok = store_hash(session->store, login, hash, error);
    if (ok)
        ok = cq_store_commit(session->store, error);
    else
        cq_store_rollback(session->store);
    if (ok) {
        CqEvent *ev = cq_event_begin(CQ_LOG_NOTICE, "password-set");
        cq_event_add(ev, "login", login);
        cq_event_add(ev, "by", session->login);
        cq_event_end(ev);
    }
out:
    sodium_memzero(hash, crypto_pwhash_STRBYTES);
    g_free(hash);
    return ok;
}

static char *
load_hash(CqStore *store, const char *login, GError **error)
{
    CqStmt *stmt = cq_store_stmt(store,
                                 "SELECT p.hash FROM user_password p"
                                 " JOIN app_user u ON u.id = p.user_id"
                                 " WHERE u.login = ?",
                                 error);
    char *hash = NULL;

    if (stmt == NULL)
        return NULL;
    cq_stmt_bind_text(stmt, 1, login);
    if (cq_stmt_step(stmt, error) == CQ_STEP_ROW)
        hash = cq_stmt_dup(stmt, 0);
    cq_stmt_reset(stmt);
    return hash;
}

gboolean
cq_password_check(CqStore *store, const char *login, const char *password,
                  GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *hash = NULL;
    gboolean ok = FALSE;

    if (!sodium_ready(error))
        return FALSE;
    if (login != NULL && cq_login_check(login, NULL))
        hash = load_hash(store, login, &local);
    if (local != NULL) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (password != NULL && strlen(password) <= MAX_PASSWORD) {
        if (hash != NULL)
            ok =
                crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
        else
            g_free(hash_password(password, NULL)); /* the same cost */
    }
    if (!ok)
        g_set_error(error, CQ_ERROR, CQ_ERROR_PERMISSION,
                    "sign-in as '%s' refused: unknown login or wrong "
                    "password",
                    login ? login : "");
    return ok;
}
