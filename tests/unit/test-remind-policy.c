/* The policies of the automatic mails: their configuration, which level
 * of reminder a measure gets and on which days a gauge goes on its
 * holder's collection list, each walked through a month day by day. */
#include "common/error.h"
#include "workflow/collect-policy.h"
#include "workflow/remind-policy.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *
write_config(const char *text)
{
    g_autoptr(GError) error = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("caqmail-remind-XXXXXX.conf", &path, &error);

    g_assert_no_error(error);
    close(fd);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static CqConfig *
config_from(const char *text, GError **error)
{
    g_autofree char *path = write_config(text);
    CqConfig *config = cq_config_load_file(path, error);

    g_unlink(path);
    return config;
}

/* Loads @text as a configuration file and builds the policy from it. */
static CqRemindPolicy *
policy_from(const char *text, GError **error)
{
    g_autoptr(CqConfig) config = config_from(text, error);

    return config ? cq_remind_policy_new(config, error) : NULL;
}

static CqCollectPolicy *
collect_policy_from(const char *text, GError **error)
{
    g_autoptr(CqConfig) config = config_from(text, error);

    return config ? cq_collect_policy_new(config, error) : NULL;
}

static gboolean
runs_on(const char *runs, int mday)
{
    if (runs == NULL)
        return TRUE;
    g_auto(GStrv) days = g_strsplit(runs, ",", -1);
    for (guint i = 0; days[i]; i++) {
        if (atoi(days[i]) == mday)
            return TRUE;
    }
    return FALSE;
}

#define QM "[remind]\nquality_management = QM <qm@example.com>\n"

/* ---- Configuration ---- */

static void
test_defaults(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqRemindPolicy) policy = policy_from(QM, &error);
    static const int offsets[] = {-3, 1, 7, 14};
    static const guint n_cc[] = {0, 0, 1, 2};

    g_assert_no_error(error);
    g_assert_cmpuint(policy->n_levels, ==, 4);
    for (guint i = 0; i < 4; i++) {
        const CqRemindLevel *level = &policy->levels[i];
        g_assert_cmpuint(level->number, ==, i + 1);
        g_assert_cmpint(level->offset, ==, offsets[i]);
        g_assert_cmpuint(level->n_to, ==, 1);
        g_assert_cmpint(level->to[0].kind, ==, CQ_ROLE_RESPONSIBLE);
        g_assert_cmpuint(level->n_cc, ==, n_cc[i]);
        g_assert_cmpint(level->mode, ==, CQ_REMIND_PER_MEASURE);
        g_assert_cmpstr(level->template_name, ==, "reminder");
    }
    g_assert_cmpint(policy->levels[3].cc[0].kind, ==, CQ_ROLE_SUPERVISOR);
    g_assert_cmpint(policy->levels[3].cc[1].kind, ==,
                    CQ_ROLE_QUALITY_MANAGEMENT);
    g_assert_cmpstr(policy->levels[3].cc[1].name, ==, "QM <qm@example.com>");
    g_assert_true(cq_remind_policy_level(policy, 3) == &policy->levels[2]);
    g_assert_null(cq_remind_policy_level(policy, 5));
}

/* The built-in levels copy quality management at level 4: without its
 * address the policy is refused, not sent short. */
static void
test_defaults_need_qm(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqConfig) config = cq_config_load_file(NULL, &error);
    g_autoptr(CqRemindPolicy) policy = cq_remind_policy_new(config, &error);

    g_assert_null(policy);
    g_assert_error(error, CQ_ERROR, CQ_ERROR_CONFIG);
    g_assert_cmpstr(error->message, ==,
                    "config 'built-in defaults': [remind.level.4] role "
                    "'quality-management' needs the setting "
                    "quality_management in [remind]");
}

static void
test_custom(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqRemindPolicy) policy = policy_from(
        "[remind.level.10]\noffset = 30\nto = supervisor\n"
        "cc = list:Werkleitung Süd , department-head\ntemplate = eskalation\n"
        "[remind.level.2]\noffset = 0\nmode = digest\n",
        &error);

    g_assert_no_error(error);
    g_assert_cmpuint(policy->n_levels, ==, 2);
    const CqRemindLevel *two = &policy->levels[0];
    g_assert_cmpuint(two->number, ==, 2);
    g_assert_cmpint(two->offset, ==, 0);
    g_assert_cmpint(two->mode, ==, CQ_REMIND_DIGEST);
    g_assert_cmpstr(two->template_name, ==, "reminder-digest");
    g_assert_cmpuint(two->n_cc, ==, 0);
    const CqRemindLevel *ten = &policy->levels[1];
    g_assert_cmpuint(ten->number, ==, 10);
    g_assert_cmpint(ten->to[0].kind, ==, CQ_ROLE_SUPERVISOR);
    g_assert_cmpuint(ten->n_cc, ==, 2);
    g_assert_cmpint(ten->cc[0].kind, ==, CQ_ROLE_LIST);
    g_assert_cmpstr(ten->cc[0].name, ==, "Werkleitung Süd");
    g_assert_cmpint(ten->cc[1].kind, ==, CQ_ROLE_DEPARTMENT_HEAD);
    g_assert_cmpstr(ten->template_name, ==, "eskalation");
}

/* `caqmail config` shows the levels in effect. */
static void
test_dump(void)
{
    g_autofree char *path = write_config(
        "[remind.level.1]\noffset = -2\ncc = list:QS\nmode = digest\n");
    g_autoptr(CqConfig) config = cq_config_load_file(path, NULL);
    g_autofree char *dump = cq_config_dump(config);

    g_unlink(path);
    g_assert_nonnull(strstr(dump, "\n[remind.level.1]\noffset = -2\n"
                                  "to = responsible\ncc = list:QS\n"
                                  "template = \nmode = digest\n"));
    g_assert_null(strstr(dump, "[remind.level.2]"));
}

typedef struct {
    const char *path;
    const char *config;
    const char *message; /* a part of the expected message */
} BadConfig;

static const BadConfig bad_configs[] = {
    {"/collect/config/lab", "[gauges]\nlab = Labor <labor@>\n",
     "[gauges] lab: "},
    {"/collect/config/template", "[gauges]\ntemplate = Abhol Liste\n",
     "[gauges] template: 'Abhol Liste' is not a template name"},
    {"/collect/config/repeat-zero", "[gauges]\nrepeat_days = 0\n",
     "setting 'gauges.repeat_days': '0' is not valid"},
    {"/collect/config/within-negative", "[gauges]\nwithin_days = -1\n",
     "setting 'gauges.within_days': '-1' is not valid"},
    {"/collect/config/unknown", "[gauges]\ninterval = 7\n",
     "unknown setting 'interval' in section [gauges]"},
    {"/remind/config/unknown-role", "[remind.level.1]\noffset = 1\ncc = boss\n",
     "[remind.level.1] cc: unknown role 'boss' (responsible, supervisor"},
    {"/remind/config/empty-list", "[remind.level.1]\noffset = 1\nto = list:\n",
     "[remind.level.1] to: role 'list:' needs a list name"},
    {"/remind/config/empty-role",
     "[remind.level.1]\noffset = 1\ncc = supervisor,,responsible\n",
     "cc: unknown role ''"},
    {"/remind/config/no-to", "[remind.level.1]\noffset = 1\nto =\n",
     "[remind.level.1] to: needs at least one role"},
    {"/remind/config/no-offset", "[remind.level.1]\nto = responsible\n",
     "section [remind.level.1] needs the setting 'offset'"},
    {"/remind/config/bad-offset", "[remind.level.1]\noffset = soon\n",
     "setting 'remind.level.1.offset': 'soon' is not valid"},
    {"/remind/config/huge-offset", "[remind.level.1]\noffset = 5000\n",
     "'5000' is not valid"},
    {"/remind/config/order",
     "[remind.level.1]\noffset = 3\n[remind.level.2]\noffset = 3\n",
     "[remind.level.2] offset 3: must be later than the offset 3 of level 1"},
    {"/remind/config/order-numbers",
     "[remind.level.2]\noffset = 1\n[remind.level.1]\noffset = 5\n",
     "[remind.level.2] offset 1: must be later"},
    {"/remind/config/no-number", "[remind.level]\noffset = 1\n",
     "section [remind.level] needs a number from 1 to 999"},
    {"/remind/config/zero", "[remind.level.0]\noffset = 1\n",
     "section [remind.level.0] needs a number"},
    {"/remind/config/leading-zero", "[remind.level.01]\noffset = 1\n",
     "section [remind.level.01] needs a number"},
    {"/remind/config/word", "[remind.level.x]\noffset = 1\n",
     "section [remind.level.x] needs a number"},
    {"/remind/config/similar-section", "[remind.levels]\noffset = 1\n",
     "unknown section [remind.levels]"},
    {"/remind/config/unknown-key",
     "[remind.level.1]\noffset = 1\nbcc = supervisor\n",
     "unknown setting 'bcc' in section [remind.level.1]"},
    {"/remind/config/mode", "[remind.level.1]\noffset = 1\nmode = weekly\n",
     "'weekly' is not valid (expected per-measure|digest)"},
    {"/remind/config/template",
     "[remind.level.1]\noffset = 1\ntemplate = ../../etc/x\n",
     "[remind.level.1] template: '../../etc/x' is not a template name"},
    {"/remind/config/qm-address",
     "[remind]\nquality_management = qm@@example.com\n"
     "[remind.level.1]\noffset = 1\ncc = quality-management\n",
     "[remind] quality_management: "},
    {"/remind/config/qm-missing",
     "[remind.level.1]\noffset = 1\nto = quality-management\n",
     "role 'quality-management' needs the setting quality_management"},
};

static void
test_bad_config(gconstpointer data)
{
    const BadConfig *c = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(CqConfig) config = config_from(c->config, &error);

    if (config != NULL && g_str_has_prefix(c->path, "/remind/")) {
        g_autoptr(CqRemindPolicy) policy = cq_remind_policy_new(config, &error);
        g_assert_null(policy);
    } else if (config != NULL) {
        g_autoptr(CqCollectPolicy) policy =
            cq_collect_policy_new(config, &error);
        g_assert_null(policy);
    }
    g_assert_error(error, CQ_ERROR, CQ_ERROR_CONFIG);
    if (strstr(error->message, c->message) == NULL)
        g_error("got '%s', wanted '%s'", error->message, c->message);
}

/* ---- A month, day by day ---- */

/* One measure in March 2026 under the built-in levels (-3, +1, +7, +14
 * days).  Runs happen on @runs (days of the month, NULL: every day), each
 * run twice, as a repeated run would.  On day @move_day the due date
 * becomes @moved_due; from @done_day on the measure is done.  @expected
 * lists "day:level" for every mail sent. */
typedef struct {
    const char *path;
    const char *due;
    const char *runs;
    int move_day;
    const char *moved_due;
    int done_day;
    const char *expected;
} WalkCase;

static const WalkCase walk_cases[] = {
    {"/remind/walk/daily", "2026-03-10", NULL, 0, NULL, 0,
     "7:1 11:2 17:3 24:4"},
    {"/remind/walk/due-on-the-first", "2026-03-01", NULL, 0, NULL, 0,
     "1:1 2:2 8:3 15:4"},
    {"/remind/walk/long-overdue", "2026-02-01", NULL, 0, NULL, 0, "1:4"},
    {"/remind/walk/not-yet", "2026-04-10", NULL, 0, NULL, 0, ""},
    {"/remind/walk/last-day", "2026-04-03", NULL, 0, NULL, 0, "31:1"},
    {"/remind/walk/catch-up", "2026-03-10", "1,20,31", 0, NULL, 0, "20:3 31:4"},
    {"/remind/walk/catch-up-skips-one", "2026-03-10", "8,9,10,18,25", 0, NULL,
     0, "8:1 18:3 25:4"},
    {"/remind/walk/weekly-runs", "2026-03-10", "2,9,16,23,30", 0, NULL, 0,
     "9:1 16:2 23:3 30:4"},
    {"/remind/walk/done", "2026-03-10", NULL, 0, NULL, 12, "7:1 11:2"},
    {"/remind/walk/done-before", "2026-03-10", NULL, 0, NULL, 1, ""},
    {"/remind/walk/moved-later", "2026-03-10", NULL, 12, "2026-03-20", 0,
     "7:1 11:2 17:1 21:2 27:3"},
    {"/remind/walk/moved-later-partly", "2026-03-10", NULL, 18, "2026-03-12", 0,
     "7:1 11:2 17:3 19:3 26:4"},
    {"/remind/walk/moved-later-same-level", "2026-03-10", NULL, 12,
     "2026-03-11", 0, "7:1 11:2 18:3 25:4"},
    {"/remind/walk/moved-earlier", "2026-03-20", NULL, 5, "2026-03-08", 0,
     "5:1 9:2 15:3 22:4"},
    {"/remind/walk/moved-earlier-jump", "2026-03-31", NULL, 10, "2026-03-01", 0,
     "10:3 15:4"},
    {"/remind/walk/moved-after-last", "2026-03-01", NULL, 16, "2026-03-14", 0,
     "1:1 2:2 8:3 15:4 21:3 28:4"},
};

static int
day_of_march(CqDay day)
{
    return day - cq_day_from_ymd(2026, 3, 1) + 1;
}

/* One run on @today: what the remind command does for one measure. */
static void
run_once(const CqRemindPolicy *policy, CqDay due, CqDay today, guint *level,
         GString *sent)
{
    CqRemindStep step = cq_remind_policy_step(policy, due, today, *level);

    if (step.send) {
        g_assert_cmpuint(step.level, >, *level);
        g_assert_nonnull(cq_remind_policy_level(policy, step.level));
        g_string_append_printf(sent, "%s%d:%u", sent->len ? " " : "",
                               day_of_march(today), step.level);
    }
    *level = step.level;
}

static void
test_walk(gconstpointer data)
{
    const WalkCase *c = data;
    g_autoptr(CqRemindPolicy) policy = policy_from(QM, NULL);
    g_autoptr(GString) sent = g_string_new(NULL);
    CqDay due = 0, moved = 0;
    guint level = 0;

    g_assert_true(cq_day_parse("due", c->due, &due, NULL));
    if (c->moved_due != NULL)
        g_assert_true(cq_day_parse("due", c->moved_due, &moved, NULL));
    for (int mday = 1; mday <= 31; mday++) {
        CqDay today = cq_day_from_ymd(2026, 3, mday);
        if (mday == c->move_day)
            due = moved;
        if (c->done_day != 0 && mday >= c->done_day)
            break;
        if (!runs_on(c->runs, mday))
            continue;
        run_once(policy, due, today, &level, sent);
        /* The same run again sends nothing. */
        gsize before = sent->len;
        run_once(policy, due, today, &level, sent);
        g_assert_cmpuint(sent->len, ==, before);
    }
    g_assert_cmpstr(sent->str, ==, c->expected);
}

/* A level is reached on due + offset, not a day before. */
static void
test_reached(void)
{
    g_autoptr(CqRemindPolicy) policy = policy_from(QM, NULL);
    CqDay due = cq_day_from_ymd(2026, 3, 10);
    static const struct {
        int delta;
        guint level;
    } cases[] = {
        {-30, 0}, {-4, 0}, {-3, 1}, {0, 1},  {1, 2},
        {6, 2},   {7, 3},  {13, 3}, {14, 4}, {400, 4},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpuint(
            cq_remind_policy_reached(policy, due, due + cases[i].delta), ==,
            cases[i].level);
}

/* Measures due after the horizon reach no level; the horizon itself does. */
static void
test_horizon(void)
{
    g_autoptr(CqRemindPolicy) policy = policy_from(QM, NULL);
    CqDay today = cq_day_from_ymd(2026, 3, 15);
    CqDay horizon = cq_remind_policy_horizon(policy, today);

    g_assert_cmpint(horizon, ==, cq_day_from_ymd(2026, 3, 18));
    g_assert_cmpuint(cq_remind_policy_reached(policy, horizon, today), ==, 1);
    for (CqDay due = horizon + 1; due < horizon + 60; due++)
        g_assert_cmpuint(cq_remind_policy_reached(policy, due, today), ==, 0);
}

/* A single digest level on the due day. */
static void
test_single_level(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqRemindPolicy) policy =
        policy_from("[remind.level.1]\noffset = 0\nmode = digest\n", &error);
    CqDay due = cq_day_from_ymd(2026, 3, 10);
    guint level = 0;
    g_autoptr(GString) sent = g_string_new(NULL);

    g_assert_no_error(error);
    for (int mday = 1; mday <= 31; mday++)
        run_once(policy, due, cq_day_from_ymd(2026, 3, mday), &level, sent);
    g_assert_cmpstr(sent->str, ==, "10:1");
}

/* ---- Collection lists ---- */

static void
test_collect_defaults(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqConfig) config = cq_config_load_file(NULL, &error);
    g_autoptr(CqCollectPolicy) policy = cq_collect_policy_new(config, &error);

    g_assert_no_error(error);
    g_assert_cmpint(policy->within_days, ==, 14);
    g_assert_cmpint(policy->repeat_days, ==, 7);
    g_assert_null(policy->lab);
    g_assert_cmpstr(policy->template_name, ==, "collection");
}

static void
test_collect_custom(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(CqCollectPolicy) policy = collect_policy_from(
        "[gauges]\nwithin_days = 21\nrepeat_days = 3\n"
        "lab = Kalibrierlabor Süd <kalibrierung@example.com>\n"
        "template = abholliste\n",
        &error);

    g_assert_no_error(error);
    g_assert_cmpint(policy->within_days, ==, 21);
    g_assert_cmpint(policy->repeat_days, ==, 3);
    g_assert_cmpstr(policy->lab, ==,
                    "Kalibrierlabor Süd <kalibrierung@example.com>");
    g_assert_cmpstr(policy->template_name, ==, "abholliste");
}

/* One gauge in March 2026, window and repeat interval as given.  Runs
 * happen on @runs (NULL: every day), each twice.  On @calibrated_day the
 * gauge comes back from calibration with its next due date a year later.
 * @expected lists the days it went on a list. */
typedef struct {
    const char *path;
    int within, repeat;
    const char *due;
    const char *runs;
    int calibrated_day;
    const char *expected;
} CollectCase;

static const CollectCase collect_cases[] = {
    {"/collect/walk/daily", 14, 7, "2026-03-20", NULL, 0, "6 13 20 27"},
    {"/collect/walk/overdue", 14, 7, "2026-02-01", NULL, 0, "1 8 15 22 29"},
    {"/collect/walk/far", 14, 7, "2026-05-01", NULL, 0, ""},
    {"/collect/walk/window-edge", 14, 7, "2026-04-14", NULL, 0, "31"},
    {"/collect/walk/due-only", 0, 7, "2026-03-20", NULL, 0, "20 27"},
    {"/collect/walk/repeat-daily", 2, 1, "2026-03-28", NULL, 0,
     "26 27 28 29 30 31"},
    {"/collect/walk/calibrated", 14, 7, "2026-03-20", NULL, 10, "6"},
    {"/collect/walk/sparse-runs", 14, 7, "2026-03-20", "1,10,12,17,30", 0,
     "10 17 30"},
    {"/collect/walk/long-repeat", 30, 30, "2026-03-05", NULL, 0, "1 31"},
};

static void
test_collect_walk(gconstpointer data)
{
    const CollectCase *c = data;
    CqCollectPolicy policy = {.within_days = c->within,
                              .repeat_days = c->repeat};
    g_autoptr(GString) listed = g_string_new(NULL);
    CqDay due = 0, last = CQ_DAY_NONE;

    g_assert_true(cq_day_parse("due", c->due, &due, NULL));
    for (int mday = 1; mday <= 31; mday++) {
        CqDay today = cq_day_from_ymd(2026, 3, mday);
        if (mday == c->calibrated_day)
            due = cq_day_from_ymd(2027, 3, mday);
        if (!runs_on(c->runs, mday))
            continue;
        if (cq_collect_policy_lists(&policy, due, today, last)) {
            g_string_append_printf(listed, "%s%d", listed->len ? " " : "",
                                   mday);
            last = today;
        }
        /* A second run on the same day lists nothing. */
        g_assert_false(cq_collect_policy_lists(&policy, due, today, last));
    }
    g_assert_cmpstr(listed->str, ==, c->expected);
}

/* A list dated after today (a run with an earlier --date) holds it back. */
static void
test_listed_later(void)
{
    CqCollectPolicy policy = {.within_days = 14, .repeat_days = 7};
    CqDay today = cq_day_from_ymd(2026, 3, 10);

    g_assert_false(cq_collect_policy_lists(&policy, today, today, today + 1));
    g_assert_true(cq_collect_policy_lists(&policy, today, today, today - 7));
    g_assert_cmpint(cq_collect_policy_horizon(&policy, today), ==,
                    cq_day_from_ymd(2026, 3, 24));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/remind/config/defaults", test_defaults);
    g_test_add_func("/remind/config/defaults-need-qm", test_defaults_need_qm);
    g_test_add_func("/remind/config/custom", test_custom);
    g_test_add_func("/remind/config/dump", test_dump);
    for (gsize i = 0; i < G_N_ELEMENTS(bad_configs); i++)
        g_test_add_data_func(bad_configs[i].path, &bad_configs[i],
                             test_bad_config);
    for (gsize i = 0; i < G_N_ELEMENTS(walk_cases); i++)
        g_test_add_data_func(walk_cases[i].path, &walk_cases[i], test_walk);
    g_test_add_func("/remind/reached", test_reached);
    g_test_add_func("/remind/horizon", test_horizon);
    g_test_add_func("/remind/single-level", test_single_level);
    g_test_add_func("/collect/config/defaults", test_collect_defaults);
    g_test_add_func("/collect/config/custom", test_collect_custom);
    for (gsize i = 0; i < G_N_ELEMENTS(collect_cases); i++)
        g_test_add_data_func(collect_cases[i].path, &collect_cases[i],
                             test_collect_walk);
    g_test_add_func("/collect/listed-later", test_listed_later);
    return g_test_run();
}
