/* The database a unit test runs on.
 *
 * Without CAQMAIL_TEST_DATABASE: a SQLite file in the test's folder.
 * With CAQMAIL_TEST_DATABASE=postgresql://caqtest@127.0.0.1:PORT (what
 * `tests/servers/postgres.py run` sets): a fresh, empty schema on that
 * server, one per call.  A test runs on both backends when it takes its
 * location from cq_test_db_new(), drops it with cq_test_db_drop() once every
 * store on it is closed, and is listed in pg_unit_tests in
 * tests/unit/meson.build (the suite 'postgresql').
 */
#ifndef CQ_TESTS_TESTDB_H
#define CQ_TESTS_TESTDB_H

#include <glib.h>

/* The location of a new, empty database; a file in @dir for SQLite.
 * Newly allocated; aborts the test when the server refuses. */
char *cq_test_db_new(const char *dir);

/* Drops a schema made by cq_test_db_new() on PostgreSQL; a SQLite
 * file goes with its folder, which the test removes. */
void cq_test_db_drop(const char *location);

gboolean cq_test_db_is_postgres(void);

#endif
