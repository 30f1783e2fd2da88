/* Passwords of the web page on a real database: what is accepted, what
 * is stored (an Argon2id string, never the password), who may set one,
 * and that every wrong sign-in fails alike. */
#include "api/password.h"
#include "common/error.h"
#include "testdb.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
    char *dir;
    char *db;
    CqSession *admin;
    CqSession *alice; /* sender */
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    f->dir = g_dir_make_tmp("caqmail-password-XXXXXX", &error);
    g_assert_no_error(error);
    f->db = cq_test_db_new(f->dir);
    f->admin = cq_session_open(f->db, NULL, NULL, &error);
    g_assert_no_error(error);
    const char *roles[] = {"sender", NULL};
    g_assert_true(cq_user_add(f->admin, "alice", roles, &error));
    g_assert_true(cq_user_add(f->admin, "bob", roles, &error));
    g_assert_no_error(error);
    f->alice = cq_session_derive(f->admin, "alice", &error);
    g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    cq_session_free(f->alice);
    cq_session_free(f->admin);
    cq_test_db_drop(f->db);
    g_autofree char *wal = g_strconcat(f->db, "-wal", NULL);
    g_autofree char *shm = g_strconcat(f->db, "-shm", NULL);
    g_unlink(wal);
    g_unlink(shm);
    g_unlink(f->db);
    g_rmdir(f->dir);
    g_free(f->db);
    g_free(f->dir);
}

static char *
stored_hash(Fixture *f, const char *login)
{
    g_autoptr(GError) error = NULL;
    CqStmt *stmt = cq_store_stmt(f->admin->store,
                                 "SELECT p.hash FROM user_password p"
                                 " JOIN app_user u ON u.id = p.user_id"
                                 " WHERE u.login = ?",
                                 &error);
    char *hash = NULL;
    g_assert_no_error(error);
    cq_stmt_bind_text(stmt, 1, login);
    if (cq_stmt_step(stmt, &error) == CQ_STEP_ROW)
        hash = cq_stmt_dup(stmt, 0);
    cq_stmt_reset(stmt);
    return hash;
}

static const struct {
    const char *password;
    int code; /* -1: accepted */
} shapes[] = {
    {"Apfelbaum-42", -1},
    {"Grüße aus Köln", -1},
    {"12345678", -1},
    {"1234567", CQ_ERROR_INVALID},
    {"", CQ_ERROR_INVALID},
    {"mit\nZeilenende", CQ_ERROR_INVALID},
    {"mit\tTabulator", CQ_ERROR_INVALID},
    {"kein \xff UTF-8", CQ_ERROR_INVALID},
};

static void
test_shapes(Fixture *f, gconstpointer data)
{
    for (guint i = 0; i < G_N_ELEMENTS(shapes); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *before = stored_hash(f, "alice");
        gboolean ok =
            cq_password_set(f->admin, "alice", shapes[i].password, &error);
        g_autofree char *after = stored_hash(f, "alice");
        if (shapes[i].code < 0) {
            g_assert_no_error(error);
            g_assert_true(ok);
            g_assert_true(g_str_has_prefix(after, "$argon2id$"));
            g_assert_null(strstr(after, shapes[i].password));
            g_assert_true(cq_password_check(f->admin->store, "alice",
                                            shapes[i].password, NULL));
        } else {
            g_assert_error(error, CQ_ERROR, shapes[i].code);
            if (*shapes[i].password != '\0')
                g_assert_null(strstr(error->message, shapes[i].password));
            g_assert_cmpstr(before, ==, after); /* nothing changed */
        }
    }
}

static void
test_check(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(cq_password_set(f->admin, "alice", "Apfelbaum-42", &error));
    const struct {
        const char *login, *password;
    } wrong[] = {
        {"alice", "Apfelbaum-43"},   {"alice", ""}, {"bob", "Apfelbaum-42"},
        {"niemand", "Apfelbaum-42"}, {"", "x"},     {"al ice", "Apfelbaum-42"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(wrong); i++) {
        g_autoptr(GError) e = NULL;
        g_assert_false(cq_password_check(f->admin->store, wrong[i].login,
                                         wrong[i].password, &e));
        g_assert_error(e, CQ_ERROR, CQ_ERROR_PERMISSION);
        g_assert_nonnull(strstr(e->message, "unknown login or wrong"));
    }
    g_assert_true(
        cq_password_check(f->admin->store, "alice", "Apfelbaum-42", &error));
    g_autofree char *first = stored_hash(f, "alice");
    g_assert_true(cq_password_set(f->admin, "alice", "Apfelbaum-42", &error));
    g_autofree char *second = stored_hash(f, "alice");
    g_assert_cmpstr(first, !=, second); /* a new salt each time */
}

static void
test_who_may_set(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(
        cq_password_set(f->alice, "alice", "Eigenes-Passwort", &error));
    g_assert_no_error(error);
    g_assert_false(
        cq_password_set(f->alice, "bob", "Fremdes-Passwort", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_PERMISSION);
    g_clear_error(&error);
    g_assert_null(stored_hash(f, "bob"));
    g_assert_false(
        cq_password_set(f->admin, "niemand", "Passwort-123", &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_NOT_FOUND);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/password/shapes", Fixture, NULL, fixture_setup, test_shapes,
               fixture_teardown);
    g_test_add("/password/check", Fixture, NULL, fixture_setup, test_check,
               fixture_teardown);
    g_test_add("/password/who-may-set", Fixture, NULL, fixture_setup,
               test_who_may_set, fixture_teardown);
    return g_test_run();
}
