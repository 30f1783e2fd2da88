/* How fast a reminder run queues its mails, next to how fast the outbox
 * takes plain mails of the same shape, in one process on one machine.
 *
 *     bench-remind FOLDER [MEASURES] [PERSONS]
 *
 * Creates in FOLDER (which must not hold a database yet) a catalog of
 * PERSONS persons (default 10,000: in departments of 50 with a head,
 * each with a supervisor and every third reading English) and MEASURES
 * open measures (default 100,000) due between 20 days ago and 3 days
 * ahead, so that every one reaches one of the four default reminder
 * levels today.  Then it measures, each in a fresh database with the
 * same catalog:
 *
 *   enqueue  cq_outbox_enqueue() of as many plain mails, each with a To
 *            and a Cc, a subject, a text and an HTML body of the size of
 *            a reminder, 200 to a transaction;
 *   remind   cq_remind_run(): selection, the policy, the recipients from
 *            the catalog, the templates in each reader's language, and
 *            each mail queued with its level and history entries, 200 to
 *            a transaction.
 *
 * Prints one line per step with mails per second and the processor time
 * used, and the ratio of the two rates by the clock and by processor
 * time (which moves less on a machine that others share).
 */
#include "catalog/catalog.h"
#include "deliver/direct.h"
#include "measures/measure.h"
#include "outbox/outbox.h"
#include "workflow/remind.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#define DEPARTMENT_SIZE 50
#define BATCH 200

static const char *const config_text =
    "[message]\nfrom = Qualitätsmanagement <qm@werk.example>\n"
    "message_id_domain = werk.example\n"
    "[remind]\nquality_management = QM-Leitung <qm-leitung@werk.example>\n";

static void
die(const char *what, const GError *error)
{
    fprintf(stderr, "bench-remind: %s: %s\n", what,
            error ? error->message : "failed");
    exit(1);
}

static char *
write_file(const char *folder, const char *name, const GString *text)
{
    g_autoptr(GError) error = NULL;
    char *path = g_build_filename(folder, name, NULL);

    if (!g_file_set_contents(path, text->str, (gssize)text->len, &error))
        die(path, error);
    return path;
}

/* Departments, and persons whose supervisor is the head of their
 * department; heads report to P-000001. */
static void
catalog_files(const char *folder, guint persons, char **departments,
              char **people, char **heads)
{
    g_autoptr(GString) d = g_string_new("ident,name,email,head\n");
    g_autoptr(GString) p =
        g_string_new("ident,name,email,department,supervisor,language\n");
    g_autoptr(GString) h = g_string_new("ident,name,email,head\n");

    for (guint i = 0; i < persons; i++) {
        guint dep = i / DEPARTMENT_SIZE, head = dep * DEPARTMENT_SIZE;
        if (i == head) {
            g_string_append_printf(d, "D-%04u,Abteilung %u,,\n", dep, dep);
            g_string_append_printf(h, "D-%04u,Abteilung %u,,P-%06u\n", dep, dep,
                                   head + 1);
        }
        char boss[16] = "";
        if (i != 0)
            g_snprintf(boss, sizeof boss, "P-%06u", i == head ? 1 : head + 1);
        g_string_append_printf(
            p, "P-%06u,Jürgen Müller %u,p%u@werk.example,D-%04u,%s,%s\n", i + 1,
            i + 1, i + 1, dep, boss, i % 3 == 0 ? "en" : "de");
    }
    *departments = write_file(folder, "departments.csv", d);
    *people = write_file(folder, "persons.csv", p);
    *heads = write_file(folder, "heads.csv", h);
}

static char *
measure_file(const char *folder, guint measures, guint persons, CqDay today)
{
    g_autoptr(GString) m = g_string_new("ident,record,title,responsible,due\n");

    for (guint i = 0; i < measures; i++) {
        char due[CQ_DAY_ISO_LEN];
        cq_day_format_iso(today - 20 + (CqDay)(i % 24), due);
        g_string_append_printf(m,
                               "M-%06u,8D-2026-%04u,Prüfanweisung PA-%u "
                               "überarbeiten & freigeben,P-%06u,%s\n",
                               i + 1, i % 5000 + 1, i, i % persons + 1, due);
    }
    return write_file(folder, "measures.csv", m);
}

static CqSession *
open_db(const char *folder, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename(folder, name, NULL);
    CqSession *s = cq_session_open(path, NULL, NULL, &error);

    if (s == NULL)
        die(path, error);
    return s;
}

static void
import_catalog(CqSession *s, char *const *files)
{
    const CqCatalogKind kinds[] = {CQ_CATALOG_DEPARTMENT, CQ_CATALOG_PERSON,
                                   CQ_CATALOG_DEPARTMENT};
    g_autoptr(GError) error = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        if (!cq_catalog_import(s, kinds[i], files[i], NULL, NULL, NULL, &error))
            die(files[i], error);
    }
}

/* A plain mail shaped like a reminder: To, Cc, record, text and HTML. */
static CqMessage *
plain_mail(guint i, guint persons, const GString *text, const GString *html)
{
    CqMessage *m = cq_message_new(CQ_ORIGIN_API);
    g_autofree char *to =
        g_strdup_printf("Jürgen Müller <p%u@werk.example>", i % persons + 1);
    g_autofree char *subject = g_strdup_printf(
        "Überfällig: Maßnahme M-%06u – Prüfanweisung PA-%u überarbeiten "
        "(fällig 02.03.2026)",
        i + 1, i);
    g_autofree char *record = g_strdup_printf("8D-2026-%04u", i % 5000 + 1);

    cq_message_set_from(m, "Qualitätsmanagement <qm@werk.example>", NULL);
    cq_message_add_recipients(m, CQ_RCPT_TO, to, NULL, NULL);
    cq_message_add_recipients(m, CQ_RCPT_CC, "Abteilung <p1@werk.example>",
                              NULL, NULL);
    cq_message_set_subject(m, subject, NULL);
    cq_message_set_text(m, text->str, NULL);
    cq_message_set_html(m, html->str, NULL);
    cq_message_set_record(m, record, NULL);
    return m;
}

static double
enqueue_plain(CqSession *s, const CqConfig *config, guint n, guint persons)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(GString) html = g_string_new("<!DOCTYPE html><html><body>");
    CqMimeOptions mime =
        cq_mime_options_from_config(config, cq_transport_allows_8bit(config));

    for (guint i = 0; i < 12; i++)
        g_string_append(text, "Die folgende Maßnahme ist seit 7 Tagen "
                              "überfällig; bitte erledigen.\n");
    for (guint i = 0; i < 12; i++)
        g_string_append(html, "<p>Die folgende Maßnahme ist seit <b>7 "
                              "Tagen</b> überfällig; bitte erledigen.</p>\n");
    g_string_append(html, "</body></html>\n");
    gint64 start = g_get_monotonic_time();
    for (guint i = 0; i < n; i += BATCH) {
        if (!cq_store_begin(s->store, CQ_TX_WRITE, &error))
            die("enqueue", error);
        for (guint k = i; k < MIN(n, i + BATCH); k++) {
            g_autoptr(CqMessage) m = plain_mail(k, persons, text, html);
            if (!cq_outbox_enqueue(s, m, &mime, NULL, &error))
                die("enqueue", error);
        }
        if (!cq_store_commit(s->store, &error))
            die("enqueue", error);
    }
    return (g_get_monotonic_time() - start) / 1e6;
}

/* Seconds of processor time this process has used. */
static double
cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Notes when the run has selected and planned, before it writes. */
static void
planned(guint done, guint total, gpointer data)
{
    gint64 *at = data;

    if (done == 0)
        *at = g_get_monotonic_time();
}

/* Two databases with the same catalog, "plain.db" and "remind.db", the
 * second with the measures. */
static void
setup(const char *folder, guint measures, guint persons, CqDay today,
      CqSession **plain, CqSession **remind)
{
    g_autoptr(GError) error = NULL;
    char *catalog[3];

    catalog_files(folder, persons, &catalog[0], &catalog[1], &catalog[2]);
    g_autofree char *measure_csv =
        measure_file(folder, measures, persons, today);
    *plain = open_db(folder, "plain.db");
    *remind = open_db(folder, "remind.db");
    import_catalog(*plain, catalog);
    import_catalog(*remind, catalog);
    gint64 start = g_get_monotonic_time();
    if (!cq_measure_import(*remind, measure_csv, NULL, &error))
        die(measure_csv, error);
    double imported = (g_get_monotonic_time() - start) / 1e6;
    printf("setup    persons=%u measures=%u import_per_second=%.0f\n", persons,
           measures, measures / imported);
    for (guint i = 0; i < G_N_ELEMENTS(catalog); i++)
        g_free(catalog[i]);
}

static CqConfig *
load_config(const char *folder)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) text = g_string_new(config_text);
    g_autofree char *path = write_file(folder, "caqmail.conf", text);
    CqConfig *config = cq_config_load_file(path, &error);

    if (config == NULL)
        die(path, error);
    return config;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    CqDay today = cq_day_from_ymd(2026, 3, 12);
    g_autoptr(CqSession) plain = NULL, s = NULL;

    if (argc < 2) {
        fprintf(stderr, "usage: bench-remind FOLDER [MEASURES] [PERSONS]\n");
        return 64;
    }
    guint measures = argc > 2 ? (guint)strtoul(argv[2], NULL, 10) : 100000;
    guint persons = argc > 3 ? (guint)strtoul(argv[3], NULL, 10) : 10000;
    g_autoptr(CqConfig) config = load_config(argv[1]);
    setup(argv[1], measures, persons, today, &plain, &s);

    double cpu = cpu_seconds();
    double t_plain = enqueue_plain(plain, config, measures, persons);
    double cpu_plain = cpu_seconds() - cpu;
    gint64 planned_at = 0;
    CqRemindOptions options = {.today = today,
                               .batch = BATCH,
                               .progress = planned,
                               .progress_data = &planned_at};
    CqRemindStats stats = {0};
    gint64 start = g_get_monotonic_time();
    cpu = cpu_seconds();
    if (!cq_remind_run(s, config, &options, NULL, NULL, &stats, &error))
        die("remind", error);
    double t_remind = (g_get_monotonic_time() - start) / 1e6;
    double cpu_remind = cpu_seconds() - cpu;

    double plain_rate = measures / t_plain,
           remind_rate = stats.mails / t_remind;
    printf("enqueue  mails=%u seconds=%.2f mails_per_second=%.0f "
           "cpu_seconds=%.2f\n",
           measures, t_plain, plain_rate, cpu_plain);
    printf("remind   mails=%u measures=%u seconds=%.2f mails_per_second=%.0f "
           "cpu_seconds=%.2f (selected and planned after %.2f s)\n",
           stats.mails, stats.reminded, t_remind, remind_rate, cpu_remind,
           (planned_at - start) / 1e6);
    printf("ratio    remind/enqueue=%.2f by the clock, %.2f by processor "
           "time (target at least 0.50)\n",
           remind_rate / plain_rate,
           (stats.mails / cpu_remind) / (measures / cpu_plain));
    return stats.failed == 0 ? 0 : 1;
}
