/* Collection-list PDFs, read back with poppler's pdftotext, pdfinfo and
 * pdffonts: every row with its umlauts, the header on every page, page
 * numbers, wrapping, real embedded fonts, and errors that leave nothing
 * behind. */
#include "common/error.h"
#include "workflow/pdf-list.h"

#include <glib/gstdio.h>
#include <string.h>

#define N_ROWS 150
#define LONG_ROW 7    /* a description that wraps over a few lines */
#define ENDLESS_ROW 9 /* one too long for any cell: cut with an ellipsis */

static const char *const descriptions[] = {
    "Bügelmessschraube 0–25 mm", "Grenzlehrdorn Ø12 H7",
    "Außenfeinmessgerät",        "Drehmomentschlüssel 50 N·m",
    "Härteprüfgerät HRC",        "Rauheitsmessgerät Ra/Rz",
    "Gewindelehrring M8×1,25",   "Höhenmessgerät 600 mm",
};

typedef struct {
    char *dir;
    char *path;
    CqPdfListRow rows[N_ROWS];
    char *texts[N_ROWS][4];
    char *endless;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
    GString *endless = g_string_new(NULL);

    f->dir = g_dir_make_tmp("caqmail-pdf-XXXXXX", NULL);
    f->path = g_build_filename(f->dir, "Abholliste Müller.pdf", NULL);
    for (int w = 0; w < 400; w++)
        g_string_append_printf(endless, "Wort%d ", w);
    f->endless = g_string_free(endless, FALSE);
    for (guint i = 0; i < N_ROWS; i++) {
        f->texts[i][0] = g_strdup_printf("PM-%04u", i + 1);
        if (i == LONG_ROW)
            f->texts[i][1] = g_strdup(
                "Koordinatenmessgerät mit Drehtisch, Tasterwechsler und "
                "Temperaturkompensation; Kalibrierung nur durch den "
                "Hersteller, Termin mindestens vier Wochen vorher "
                "abstimmen");
        else if (i == ENDLESS_ROW)
            f->texts[i][1] = g_strdup(f->endless);
        else
            f->texts[i][1] = g_strdup_printf(
                "%s Nr. %u", descriptions[i % G_N_ELEMENTS(descriptions)],
                i + 1);
        f->texts[i][2] = g_strdup_printf("Halle %u / Prüfraum Süd", i % 4);
        f->texts[i][3] =
            g_strdup_printf("%02u.%02u.2026", i % 28 + 1, i / 28 + 1);
        f->rows[i] = (CqPdfListRow){f->texts[i][0], f->texts[i][1],
                                    f->texts[i][2], f->texts[i][3], i % 5 == 0};
    }
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
    g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
    const char *name = NULL;

    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_build_filename(f->dir, name, NULL);
        g_unlink(path);
    }
    g_rmdir(f->dir);
    for (guint i = 0; i < N_ROWS; i++) {
        for (int c = 0; c < 4; c++)
            g_free(f->texts[i][c]);
    }
    g_free(f->endless);
    g_free(f->path);
    g_free(f->dir);
}

static CqPdfList
german_list(Fixture *f)
{
    return (CqPdfList){
        .labels = cq_pdf_list_labels("de"),
        .holder = "Jürgen Müller",
        .date = "12.03.2026",
        .note = "Bitte geben Sie die Prüfmittel bis Freitag im "
                "Kalibrierlabor (Gebäude Süd) ab.",
        .rows = f->rows,
        .n_rows = N_ROWS,
    };
}

/* Runs a poppler tool (no shell) and returns what it printed. */
static char *
run(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    char *out = NULL;
    int status = 0;

    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                 &out, NULL, &status, &error);
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    return out;
}

/* The text of one page, laid out as on the page. */
static char *
page_text(const char *path, guint page)
{
    g_autofree char *number = g_strdup_printf("%u", page);
    const char *argv[] = {"pdftotext", "-layout", "-enc", "UTF-8", "-f", number,
                          "-l",        number,    path,   "-",     NULL};

    return run(argv);
}

static guint
page_count(const char *path)
{
    const char *argv[] = {"pdfinfo", path, NULL};
    g_autofree char *info = run(argv);
    const char *pages = strstr(info, "\nPages:");

    g_assert_nonnull(pages);
    return (guint)g_ascii_strtoull(pages + 7 + strspn(pages + 7, " "), NULL,
                                   10);
}

/* TRUE when one line of @text holds both @a and @b. */
static gboolean
line_with(const char *text, const char *a, const char *b)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        if (strstr(lines[i], a) && strstr(lines[i], b))
            return TRUE;
    }
    return FALSE;
}

static void
test_rows(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    CqPdfList list = german_list(f);

    g_assert_true(cq_pdf_list_write(&list, f->path, &error));
    g_assert_no_error(error);
    guint pages = page_count(f->path);
    g_assert_cmpuint(pages, >=, 4);

    g_autoptr(GString) all = g_string_new(NULL);
    for (guint p = 1; p <= pages; p++) {
        g_autofree char *text = page_text(f->path, p);
        g_autofree char *footer = g_strdup_printf("Seite %u von %u", p, pages);
        /* Every page has the table's header and its number. */
        g_assert_true(line_with(text, "Inventar-Nr.", "Fällig am"));
        g_assert_true(line_with(text, "Bezeichnung", "Standort"));
        g_assert_nonnull(strstr(text, footer));
        if (p > 1)
            g_assert_true(line_with(text, "Prüfmittel zur Kalibrierung",
                                    "Jürgen Müller"));
        g_string_append(all, text);
    }
    g_assert_true(line_with(all->str, "Inhaber:", "Jürgen Müller"));
    g_assert_true(line_with(all->str, "Datum:", "12.03.2026"));
    g_assert_nonnull(strstr(all->str, "Gebäude Süd"));
    /* Every gauge once, in order, with its date and location on the
     * line of its inventory number. */
    const char *at = all->str;
    for (guint i = 0; i < N_ROWS; i++) {
        const char *found = strstr(at, f->texts[i][0]);
        if (found == NULL)
            g_error("row %s missing or out of order", f->texts[i][0]);
        at = found + 1;
        g_assert_true(line_with(all->str, f->texts[i][0], f->texts[i][3]));
        g_assert_true(line_with(all->str, f->texts[i][0], "Halle"));
        g_assert_nonnull(strstr(all->str, f->texts[i][2]));
        if (i != LONG_ROW && i != ENDLESS_ROW &&
            !line_with(all->str, f->texts[i][0], f->texts[i][1]))
            g_error("row %s lacks '%s'", f->texts[i][0], f->texts[i][1]);
    }
}

/* A long description wraps inside its column; an endless one stops after
 * CQ_PDF_LIST_MAX_LINES lines with an ellipsis. */
static void
test_wrapping(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    CqPdfList list = german_list(f);

    g_assert_true(cq_pdf_list_write(&list, f->path, &error));
    g_autofree char *text = page_text(f->path, 1);
    g_assert_true(line_with(text, "PM-0008", "Koordinatenmessgerät"));
    g_assert_false(line_with(text, "PM-0008", "abstimmen"));
    g_assert_nonnull(strstr(text, "abstimmen"));
    g_assert_nonnull(strstr(text, "Temperaturkompensation"));
    g_assert_true(line_with(text, "PM-0010", "Wort0"));
    g_assert_nonnull(strstr(text, "…"));
    g_assert_null(strstr(text, "Wort399"));
}

/* The glyphs come from a real font, embedded, with a Unicode map: umlauts
 * are text, not boxes that pdftotext happens to read. */
static void
test_fonts(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    CqPdfList list = german_list(f);

    g_assert_true(cq_pdf_list_write(&list, f->path, &error));
    const char *argv[] = {"pdffonts", f->path, NULL};
    g_autofree char *fonts = run(argv);
    g_auto(GStrv) lines = g_strsplit(fonts, "\n", -1);
    guint real = 0;

    for (guint i = 2; lines[i] && *lines[i]; i++) {
        g_assert_null(strstr(lines[i], "Type 3"));
        if (strstr(lines[i], "DejaVuSans") || strstr(lines[i], "Liberation"))
            real++;
        /* emb, sub and uni are all "yes" */
        g_assert_nonnull(strstr(lines[i], "yes yes yes"));
    }
    g_assert_cmpuint(real, >=, 2); /* regular and bold */
}

static void
test_english(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    CqPdfList list = {.labels = cq_pdf_list_labels("en"),
                      .holder = "Änne Groß",
                      .date = "2026-03-12",
                      .rows = f->rows,
                      .n_rows = 3};

    g_assert_true(cq_pdf_list_write(&list, f->path, &error));
    g_assert_cmpuint(page_count(f->path), ==, 1);
    g_autofree char *text = page_text(f->path, 1);
    g_assert_true(line_with(text, "Inventory no.", "Due"));
    g_assert_true(line_with(text, "Holder:", "Änne Groß"));
    g_assert_nonnull(strstr(text, "Page 1 of 1"));
    g_assert_nonnull(strstr(text, "Gauges to hand in for calibration"));
    g_assert_true(line_with(text, "PM-0003", "Außenfeinmessgerät"));
}

/* An empty list is still a list: one page with its header. */
static void
test_empty(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    CqPdfList list = german_list(f);

    list.n_rows = 0;
    list.note = NULL;
    g_assert_true(cq_pdf_list_write(&list, f->path, &error));
    g_assert_cmpuint(page_count(f->path), ==, 1);
    g_autofree char *text = page_text(f->path, 1);
    g_assert_true(line_with(text, "Inventar-Nr.", "Fällig am"));
    g_assert_nonnull(strstr(text, "Seite 1 von 1"));
}

static guint
files_in(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    guint n = 0;

    while (d != NULL && g_dir_read_name(d) != NULL)
        n++;
    return n;
}

/* Bad input changes nothing: the old file stays, no temporary is left. */
static void
test_invalid_text(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    CqPdfList list = german_list(f);
    g_autofree char *after = NULL;

    g_assert_true(g_file_set_contents(f->path, "alt", -1, NULL));
    f->rows[41].location = "Halle \xfc";
    g_assert_false(cq_pdf_list_write(&list, f->path, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "collection list: row 42, location: not valid UTF-8");
    g_clear_error(&error);
    list.holder = "M\xfcller";
    g_assert_false(cq_pdf_list_write(&list, f->path, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "the holder"));
    g_assert_true(g_file_get_contents(f->path, &after, NULL, NULL));
    g_assert_cmpstr(after, ==, "alt");
    g_assert_cmpuint(files_in(f->dir), ==, 1);
}

static void
test_unwritable(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    CqPdfList list = german_list(f);
    g_autofree char *path =
        g_build_filename(f->dir, "fehlt", "liste.pdf", NULL);

    g_assert_false(cq_pdf_list_write(&list, path, &error));
    g_assert_error(error, CQ_ERROR, CQ_ERROR_IO);
    g_assert_true(g_str_has_prefix(error->message, "collection list '"));
    g_assert_nonnull(strstr(error->message, "fehlt/liste.pdf"));
    g_assert_cmpuint(files_in(f->dir), ==, 0);
}

#define ADD(path, func)                                                        \
    g_test_add(path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD("/pdf-list/rows", test_rows);
    ADD("/pdf-list/wrapping", test_wrapping);
    ADD("/pdf-list/fonts", test_fonts);
    ADD("/pdf-list/english", test_english);
    ADD("/pdf-list/empty", test_empty);
    ADD("/pdf-list/invalid-text", test_invalid_text);
    ADD("/pdf-list/unwritable", test_unwritable);
    return g_test_run();
}
