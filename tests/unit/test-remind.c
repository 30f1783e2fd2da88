/* The reminder run through the library on a real database (a SQLite
 * file, or PostgreSQL in the suite 'postgresql'): measures
 * added through the C API, two runs that have both chosen their mails
 * before either writes, levels taken back after a due date moved, and a
 * dry run that changes nothing. */
#include "catalog/catalog.h"
#include "common/error.h"
#include "history/mails.h"
#include "measures/measure.h"
#include "workflow/remind.h"
#include "testdb.h"

#include <glib/gstdio.h>

static const char *const persons_csv =
    "ident,name,email,supervisor,language\n"
    "P-5,Jürgen Müller,j.mueller@werk.example,,de\n"
    "P-1,Änne Groß,a.gross@werk.example,P-5,de\n"
    "P-2,Karl Weiß,k.weiss@werk.example,P-5,en\n";

static const char *const config_ini =
    "[message]\nfrom = QM <qm@werk.example>\n"
    "[remind.level.1]\noffset = -3\n"
    "[remind.level.2]\noffset = 1\nmode = digest\n"
    "[remind.level.3]\noffset = 7\ncc = supervisor\n";

typedef struct {
    char *dir;
    char *db;
    CqConfig *config;
    CqSession *admin;
} Fixture;

static char *
write_file(Fixture *f, const char *name, const char *text)
{
    g_autoptr(GError) error = NULL;
    char *path = g_build_filename(f->dir, name, NULL);

    g_file_set_contents(path, text, -1, &error);
    g_assert_no_error(error);
    return path;
}

static void
add_measure(Fixture *f, const char *ident, const char *person, CqDay due)
{
    g_autoptr(GError) error = NULL;
    CqMeasureNew m = {
        .ident = ident,
        .record = "8D-2026-0042",
        .title = "Gehäuse abdichten",
        .responsible = person,
        .due = due,
    };

    g_assert_true(cq_measure_add(f->admin, &m, &error));
    g_assert_no_error(error);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("caqmail-remind-XXXXXX", &error);
    g_assert_no_error(error);
    f->db = cq_test_db_new(f->dir);
    f->admin = cq_session_open(f->db, NULL, NULL, &error);
    g_assert_no_error(error);
    g_autofree char *persons = write_file(f, "persons.csv", persons_csv);
    g_assert_true(cq_catalog_import(f->admin, CQ_CATALOG_PERSON, persons, NULL,
                                    NULL, NULL, &error));
    g_autofree char *ini = write_file(f, "caqmail.conf", config_ini);
    f->config = cq_config_load_file(ini, &error);
    g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
    const char *name = NULL;

    cq_session_free(f->admin);
    cq_config_free(f->config);
    cq_test_db_drop(f->db);
    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_build_filename(f->dir, name, NULL);
        g_assert_cmpint(g_unlink(path), ==, 0);
    }
    g_assert_cmpint(g_rmdir(f->dir), ==, 0);
    g_free(f->db);
    g_free(f->dir);
}

static guint
count_mails(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    CqMailFilter all = {0};
    g_autoptr(GPtrArray) mails = cq_mail_query(f->admin, &all, &error);

    g_assert_no_error(error);
    return mails->len;
}

static guint
level_of(Fixture *f, const char *ident)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqMeasure) m = cq_measure_get(f->admin, ident, &error);

    g_assert_no_error(error);
    return m->level;
}

/* ---- Two runs at once ---- */

typedef struct {
    GMutex lock;
    GCond cond;
    guint planned; /* runs that know their mails */
} Meeting;

typedef struct {
    Fixture *f;
    Meeting *meeting;
    CqDay today;
    CqRemindStats stats;
} Racer;

/* Holds each run, once it has chosen its mails, until both have. */
static void
meet(guint done, guint total, gpointer data)
{
    Meeting *m = data;

    if (done != 0)
        return;
    g_mutex_lock(&m->lock);
    m->planned++;
    g_cond_broadcast(&m->cond);
    while (m->planned < 2)
        g_cond_wait(&m->cond, &m->lock);
    g_mutex_unlock(&m->lock);
}

static gpointer
race(gpointer data)
{
    Racer *r = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(CqSession) s = cq_session_open(r->f->db, NULL, NULL, &error);
    CqRemindOptions options = {
        .today = r->today,
        .progress = meet,
        .progress_data = r->meeting,
    };

    g_assert_no_error(error);
    g_assert_true(cq_remind_run(s, r->f->config, &options, NULL, NULL,
                                &r->stats, &error));
    g_assert_no_error(error);
    return NULL;
}

static void
test_concurrent_runs(Fixture *f, gconstpointer data)
{
    CqDay today = cq_day_from_ymd(2026, 3, 11);
    Meeting meeting = {0};
    Racer racers[2] = {
        {f, &meeting, today, {0}},
        {f, &meeting, today, {0}},
    };

    /* Level 1 for M-1 and M-3 (due in three days), level 2 as one digest
     * for M-2 and M-4 (due yesterday), level 3 for M-5. */
    add_measure(f, "M-1", "P-1", today + 3);
    add_measure(f, "M-2", "P-1", today - 1);
    add_measure(f, "M-3", "P-2", today + 3);
    add_measure(f, "M-4", "P-1", today - 1);
    add_measure(f, "M-5", "P-2", today - 8);
    g_mutex_init(&meeting.lock);
    g_cond_init(&meeting.cond);
    GThread *a = g_thread_new("run-a", race, &racers[0]);
    GThread *b = g_thread_new("run-b", race, &racers[1]);
    g_thread_join(a);
    g_thread_join(b);
    g_mutex_clear(&meeting.lock);
    g_cond_clear(&meeting.cond);

    const CqRemindStats *one = &racers[0].stats, *two = &racers[1].stats;
    /* Both chose the same four mails; one queued them, the other found
     * every measure taken. */
    g_assert_cmpuint(one->mails + two->mails, ==, 4);
    g_assert_cmpuint(MIN(one->mails, two->mails), ==, 0);
    g_assert_cmpuint(one->taken + two->taken, ==, 5);
    g_assert_cmpuint(one->reminded + two->reminded, ==, 5);
    g_assert_cmpuint(count_mails(f), ==, 4);
    g_assert_cmpuint(level_of(f, "M-1"), ==, 1);
    g_assert_cmpuint(level_of(f, "M-2"), ==, 2);
    g_assert_cmpuint(level_of(f, "M-5"), ==, 3);
}

/* ---- Levels and dry runs ---- */

static CqRemindStats
run_on(Fixture *f, CqDay today, gboolean dry)
{
    g_autoptr(GError) error = NULL;
    CqRemindOptions options = {.today = today, .dry_run = dry};
    CqRemindStats stats = {0};

    g_assert_true(cq_remind_run(f->admin, f->config, &options, NULL, NULL,
                                &stats, &error));
    g_assert_no_error(error);
    return stats;
}

static const char *
last_entry(Fixture *f, const char *ident)
{
    static char kind[32];
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) history = cq_measure_history(f->admin, ident, &error);

    g_assert_no_error(error);
    const CqItemEntry *e = history->pdata[history->len - 1];
    g_strlcpy(kind, e->kind, sizeof kind);
    return kind;
}

static void
test_moved_due_date(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    CqDay today = cq_day_from_ymd(2026, 3, 11);
    CqMeasureChange later = {.due = today + 10};

    add_measure(f, "M-1", "P-1", today - 8);
    g_assert_cmpuint(run_on(f, today, FALSE).mails, ==, 1);
    g_assert_cmpuint(level_of(f, "M-1"), ==, 3);
    g_assert_true(cq_measure_edit(f->admin, "M-1", &later, &error));
    CqRemindStats st = run_on(f, today, FALSE);
    g_assert_cmpuint(st.mails, ==, 0);
    g_assert_cmpuint(st.lowered, ==, 1);
    g_assert_cmpuint(level_of(f, "M-1"), ==, 0);
    g_assert_cmpstr(last_entry(f, "M-1"), ==, "level");
    /* The levels come again from the new date. */
    g_assert_cmpuint(run_on(f, today + 7, FALSE).mails, ==, 1);
    g_assert_cmpuint(level_of(f, "M-1"), ==, 1);
    g_assert_cmpstr(last_entry(f, "M-1"), ==, "reminder");
    g_assert_cmpuint(count_mails(f), ==, 2);
}

static void
test_done_and_dry_run(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    CqDay today = cq_day_from_ymd(2026, 3, 11);

    add_measure(f, "M-1", "P-1", today + 3);
    add_measure(f, "M-2", "P-2", today + 3);
    CqRemindStats dry = run_on(f, today, TRUE);
    g_assert_cmpuint(dry.mails, ==, 2);
    g_assert_cmpuint(count_mails(f), ==, 0);
    g_assert_cmpuint(level_of(f, "M-1"), ==, 0);
    g_assert_cmpstr(last_entry(f, "M-1"), ==, "added");
    g_assert_true(
        cq_measure_set_status(f->admin, "M-2", CQ_MEASURE_DONE, &error));
    g_assert_cmpuint(run_on(f, today, FALSE).mails, ==, 1);
    g_assert_cmpuint(level_of(f, "M-2"), ==, 0);
    g_assert_cmpuint(run_on(f, today + 30, FALSE).reminded, ==, 1);
}

#define ADD(path, func)                                                        \
    g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD("/remind/concurrent-runs", test_concurrent_runs);
    ADD("/remind/moved-due-date", test_moved_due_date);
    ADD("/remind/done-and-dry-run", test_done_and_dry_run);
    return g_test_run();
}
