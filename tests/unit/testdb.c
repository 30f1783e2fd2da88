#include "testdb.h"

#include <libpq-fe.h>
#include <string.h>
#include <unistd.h>

/* Creating a database takes the server half a second; a schema of its
 * own in the server's first database is as empty to caqmail, and made at
 * once.  Its location sets the search path. */

static const char *
server(void)
{
    const char *base = g_getenv("CAQMAIL_TEST_DATABASE");
    return base != NULL && g_str_has_prefix(base, "postgresql://") ? base
                                                                   : NULL;
}

gboolean
cq_test_db_is_postgres(void)
{
    return server() != NULL;
}

/* Runs one statement on the server's maintenance database. */
static void
admin(const char *sql)
{
    g_autofree char *uri = g_strdup_printf("%s/postgres", server());
    PGconn *pg = PQconnectdb(uri);
    PGresult *res = NULL;

    if (PQstatus(pg) == CONNECTION_OK)
        PQclear(PQexec(pg, "SET client_min_messages = warning"));
    if (PQstatus(pg) == CONNECTION_OK)
        res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        g_error("%s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
}

char *
cq_test_db_new(const char *dir)
{
    static guint counter;

    if (server() == NULL)
        return g_build_filename(dir, "caqmail.db", NULL);
    g_autofree char *name = g_strdup_printf("caqtest_%d_%u_%08x", (int)getpid(),
                                            ++counter, g_random_int());
    g_autofree char *sql = g_strdup_printf("CREATE SCHEMA %s", name);
    admin(sql);
    return g_strdup_printf("%s/postgres?options=-csearch_path%%3D%s", server(),
                           name);
}

void
cq_test_db_drop(const char *location)
{
    if (server() == NULL || !g_str_has_prefix(location, server()))
        return;
    const char *name = g_strrstr(location, "%3D") + 3;
    g_autofree char *sql = g_strdup_printf("DROP SCHEMA %s CASCADE", name);
    admin(sql);
}
