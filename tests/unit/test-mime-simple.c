/* The direct composer against the general one: for every message it
 * takes, the same bytes; every other shape is left to the general one. */
#include "mime/build.h"

#include <string.h>

typedef struct {
    const char *from;
    const char *to;
    const char *cc;
    const char *subject;
    const char *text;
    const char *record;
    CqOrigin origin;
    gboolean allow_8bit;
    gboolean simple; /* the direct composer takes it */
} Case;

static const Case cases[] = {
    {"qm@werk.example", "a@werk.example", NULL, "Hallo", "Text\n", NULL,
     CQ_ORIGIN_MANUAL, FALSE, TRUE},
    {"Qualität <qm@werk.example>", "Jürgen Müller <j@werk.example>",
     "Änne Groß <a@werk.example>, b@werk.example", "Maßnahme fällig",
     "Die Maßnahme ist fällig.\r\nZweite Zeile", "8D-2026-0042",
     CQ_ORIGIN_REMINDER, FALSE, TRUE},
    {"QM Leitung <qm@werk.example>", "x@werk.example", NULL,
     "Prüfmittel", "Grüße\n", NULL, CQ_ORIGIN_COLLECTION, TRUE, TRUE},
    {"qm@werk.example", "a@bücher.example", NULL, "IDN", "x", NULL,
     CQ_ORIGIN_MANUAL, FALSE, TRUE},
    /* a line over 998 octets: quoted-printable even with 8bit */
    {"qm@werk.example", "a@werk.example", NULL, "Lang", NULL, NULL,
     CQ_ORIGIN_MANUAL, TRUE, TRUE},
    /* a subject folded by GMime's header formatter */
    {"qm@werk.example", "a@werk.example", NULL,
     "Ein sehr langer Betreff, der über die Spalte achtundsiebzig hinaus "
     "geht und gefaltet wird",
     "x", NULL, CQ_ORIGIN_MANUAL, FALSE, TRUE},
    /* quoting, encoded-word look-alikes, long address lists: the general
     * composer */
    {"\"Müller, Jürgen\" <qm@werk.example>", "a@werk.example", NULL, "x",
     "x", NULL, CQ_ORIGIN_MANUAL, FALSE, FALSE},
    {"qm@werk.example", "a@werk.example", NULL, "=?utf-8?q?x?=", "x", NULL,
     CQ_ORIGIN_MANUAL, FALSE, FALSE},
    {"qm@werk.example",
     "erste.person@werk.example, zweite.person@werk.example, "
     "dritte.person@werk.example",
     NULL, "x", "x", NULL, CQ_ORIGIN_MANUAL, FALSE, FALSE},
    {"qm@werk.example", "jürgen@werk.example", NULL, "UTF-8 local part",
     "x", NULL, CQ_ORIGIN_MANUAL, TRUE, FALSE},
};

static CqMessage *
message_of(const Case *c, const char *text)
{
    CqMessage *m = cq_message_new(c->origin);
    g_autoptr(GError) error = NULL;

    g_assert_true(cq_message_set_from(m, c->from, &error));
    g_assert_true(cq_message_add_recipients(m, CQ_RCPT_TO, c->to, NULL,
                                            &error));
    if (c->cc != NULL)
        g_assert_true(cq_message_add_recipients(m, CQ_RCPT_CC, c->cc, NULL,
                                                &error));
    g_assert_true(cq_message_add_recipients(m, CQ_RCPT_BCC,
                                            "blind@werk.example", NULL,
                                            &error));
    g_assert_true(cq_message_set_subject(m, c->subject, &error));
    g_assert_true(cq_message_set_text(m, text, &error));
    if (c->record != NULL)
        g_assert_true(cq_message_set_record(m, c->record, &error));
    g_assert_no_error(error);
    m->message_id = g_strdup("0123456789abcdef@werk.example");
    m->date = g_date_time_new_from_iso8601("2026-12-03T09:05:07+01:00",
                                           NULL);
    return m;
}

/* Whether the direct composer took @c; if so, its bytes are checked
 * against the general composer's. */
static gboolean
compare(const Case *c, const char *text)
{
    CqMimeOptions options = {.allow_8bit = c->allow_8bit};
    g_autoptr(GError) error = NULL;
    g_autoptr(CqMessage) general = message_of(c, text);
    g_autoptr(CqMessage) direct = message_of(c, text);

    g_autoptr(GBytes) fast = cq_mime_compose_simple(direct, &options, &error);
    g_assert_no_error(error);
    if (fast == NULL)
        return FALSE;
    g_autoptr(CqMime) mime = cq_mime_build(general, &options, &error);
    g_assert_no_error(error);
    g_autoptr(GBytes) slow = cq_mime_to_bytes(mime, &error);
    g_assert_no_error(error);
    gsize n_fast = 0, n_slow = 0;
    const char *a = g_bytes_get_data(fast, &n_fast);
    const char *b = g_bytes_get_data(slow, &n_slow);
    if (n_fast != n_slow || memcmp(a, b, n_fast) != 0)
        g_error("composers differ:\n--- direct\n%.*s\n--- general\n%.*s",
                (int)n_fast, a, (int)n_slow, b);
    return TRUE;
}

static void
test_case(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *text = c->text
                                ? g_strdup(c->text)
                                : g_strnfill(1200, 'x');

    g_assert_cmpint(compare(c, text), ==, c->simple);
}

static const char *const names[] = {
    "", "Qualität", "Jürgen Müller", "QM-Team", "Żółć Łódź", "日本 語",
    "A", "O'Brien", "\"a.b\"", "Müller & Söhne", "\"x <y>\"",
    "Ünïcödé Ëxträ Lång",
};
static const char *const subjects[] = {
    "Hallo", "Maßnahme fällig", "8D-2026-0042: Prüfung", "€ 12,50",
    "Re: Réunion", "日本語の件名", "a  b", " leading", "Tab\there", "🙂 ok",
    "Mischung aus ASCII und Ümläuten in mehreren Wörtern hier",
};
static const char *const texts[] = {
    "x", "Grüße\n", "a\r\nb\rc\n", "Zeile mit = und Tab\t\n",
    "trailing space \nnext", ".\n..\nFrom me\n", "",
};

/* Every combination: where the direct composer takes a message, the
 * bytes agree; it takes most of them. */
static void
test_combinations(void)
{
    guint taken = 0, total = 0;

    for (guint n = 0; n < G_N_ELEMENTS(names); n++) {
        for (guint s = 0; s < G_N_ELEMENTS(subjects); s++) {
            for (guint t = 0; t < G_N_ELEMENTS(texts); t++) {
                g_autofree char *from = g_strdup_printf(
                    "%s <qm@werk.example>", names[n]);
                g_autofree char *to = g_strdup_printf(
                    "%s <to@werk.example>", names[(n + s) % 12]);
                Case c = {from, to, NULL, subjects[s], texts[t], "R-1",
                          CQ_ORIGIN_MANUAL, (n + t) % 2, TRUE};
                taken += compare(&c, texts[t]);
                total++;
            }
        }
    }
    g_test_message("direct composer took %u of %u", taken, total);
    g_assert_cmpuint(taken, >, total / 2);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/mime-simple/case/%u", i);
        g_test_add_data_func(path, &cases[i], test_case);
    }
    g_test_add_func("/mime-simple/combinations", test_combinations);
    return g_test_run();
}
