#include "workflow/pdf-list.h"

#include "common/error.h"

#include <cairo-pdf.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <pango/pangocairo.h>
#include <string.h>
#include <unistd.h>

/* A4 in points, and the layout of a page. */
#define PAGE_W 595.28
#define PAGE_H 841.89
#define MARGIN 50.0
#define FOOTER_Y (PAGE_H - 32.0)
#define BOTTOM (PAGE_H - MARGIN - 10.0)
#define PAD 3.0
#define FONT "DejaVu Sans,Liberation Sans,sans-serif"
/* Far more than a cell shows; the rest would only bloat the text layer
 * that readers copy from. */
#define MAX_TEXT_CHARS 600

static const double column_share[4] = {0.18, 0.42, 0.25, 0.15};

typedef struct {
    const CqPdfList *list;
    cairo_t *cr;
    PangoFontMap *fonts; /* our own: the default one lives for ever */
    PangoContext *pango;
    double col_x[5];  /* column edges */
    double first_top; /* where the table starts on the first page */
    double next_top;  /* ... and on the pages after it */
    double head_h;    /* the table's header row */
    double *row_h;
    double *row_y;
    guint *row_page;
    guint n_pages;
} Drawer;

/* ---- Text ---- */

/* @text, cut after MAX_TEXT_CHARS characters with an ellipsis. */
static void
set_text(PangoLayout *layout, const char *text)
{
    const char *cut = text;
    glong n = 0;

    while (*cut && n < MAX_TEXT_CHARS) {
        cut = g_utf8_next_char(cut);
        n++;
    }
    if (*cut == '\0') {
        pango_layout_set_text(layout, text, -1);
        return;
    }
    g_autofree char *shown = g_strdup_printf("%.*s…", (int)(cut - text), text);
    pango_layout_set_text(layout, shown, -1);
}

static PangoLayout *
text_layout(Drawer *d, const char *text, double size, gboolean bold,
            double width)
{
    PangoLayout *layout = pango_layout_new(d->pango);
    PangoFontDescription *font = pango_font_description_from_string(FONT);

    pango_font_description_set_size(font, (gint)(size * PANGO_SCALE));
    pango_font_description_set_weight(font, bold ? PANGO_WEIGHT_BOLD
                                                 : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
    pango_layout_set_width(layout, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    pango_layout_set_height(layout, -CQ_PDF_LIST_MAX_LINES);
    set_text(layout, text ? text : "");
    return layout;
}

static double
layout_height(PangoLayout *layout)
{
    int w = 0, h = 0;

    pango_layout_get_size(layout, &w, &h);
    return (double)h / PANGO_SCALE;
}

/* Draws @text at (@x, @y); returns its height. */
static double
draw_text(Drawer *d, double x, double y, const char *text, double size,
          gboolean bold, double width)
{
    PangoLayout *layout = text_layout(d, text, size, bold, width);
    double h = layout_height(layout);

    cairo_move_to(d->cr, x, y);
    pango_cairo_show_layout(d->cr, layout);
    g_object_unref(layout);
    return h;
}

static double
text_height(Drawer *d, const char *text, double size, gboolean bold,
            double width)
{
    PangoLayout *layout = text_layout(d, text, size, bold, width);
    double h = layout_height(layout);

    g_object_unref(layout);
    return h;
}

/* ---- Rows ---- */

static const char *
cell_text(const CqPdfListRow *row, int column)
{
    const char *texts[4] = {row->inventory, row->description, row->location,
                            row->due};
    return texts[column] ? texts[column] : "";
}

static double
column_width(const Drawer *d, int column)
{
    return d->col_x[column + 1] - d->col_x[column] - 2 * PAD;
}

/* The height of a row whose cells hold @texts, drawn as draw_row() does. */
static double
row_height(Drawer *d, const char *const texts[4], gboolean bold,
           gboolean due_bold)
{
    double h = 0;

    for (int c = 0; c < 4; c++) {
        gboolean strong = bold || (c == 3 && due_bold);
        h = MAX(h, text_height(d, texts[c], 9, strong, column_width(d, c)));
    }
    return h + 2 * PAD;
}

static void
draw_row(Drawer *d, const char *const texts[4], double y, double h,
         gboolean bold, gboolean due_bold)
{
    for (int c = 0; c < 4; c++) {
        gboolean strong = bold || (c == 3 && due_bold);
        draw_text(d, d->col_x[c] + PAD, y + PAD, texts[c], 9, strong,
                  column_width(d, c));
    }
    cairo_set_line_width(d->cr, 0.4);
    cairo_move_to(d->cr, d->col_x[0], y + h);
    cairo_line_to(d->cr, d->col_x[4], y + h);
    cairo_stroke(d->cr);
}

static void
draw_table_head(Drawer *d, double y)
{
    const char *const *texts = d->list->labels->columns;

    cairo_set_source_rgb(d->cr, 0.88, 0.88, 0.88);
    cairo_rectangle(d->cr, d->col_x[0], y, d->col_x[4] - d->col_x[0],
                    d->head_h);
    cairo_fill(d->cr);
    cairo_set_source_rgb(d->cr, 0, 0, 0);
    draw_row(d, texts, y, d->head_h, TRUE, FALSE);
}

/* ---- Pages ---- */

/* Draws (or only measures) a paragraph of a page's head at *y and moves
 * *y below it. */
static void
head_line(Drawer *d, gboolean draw, double *y, const char *text, double size,
          gboolean bold, double gap)
{
    double width = PAGE_W - 2 * MARGIN;

    *y += (draw ? draw_text(d, MARGIN, *y, text, size, bold, width)
                : text_height(d, text, size, bold, width)) +
          gap;
}

/* The head of the first page; returns where the table starts. */
static double
first_head(Drawer *d, gboolean draw)
{
    const CqPdfList *list = d->list;
    const CqPdfListLabels *labels = list->labels;
    g_autofree char *holder =
        g_strdup_printf("%s: %s", labels->holder, list->holder);
    g_autofree char *date = g_strdup_printf("%s: %s", labels->date, list->date);
    double y = MARGIN;

    head_line(d, draw, &y, labels->title, 16, TRUE, 8);
    head_line(d, draw, &y, holder, 10, FALSE, 2);
    head_line(d, draw, &y, date, 10, FALSE, 6);
    if (list->note != NULL && *list->note != '\0')
        head_line(d, draw, &y, list->note, 10, FALSE, 6);
    return y + 6;
}

/* The head of the pages after the first; returns where the table starts. */
static double
next_head(Drawer *d, gboolean draw)
{
    g_autofree char *line = g_strdup_printf(
        "%s – %s – %s", d->list->labels->title, d->list->holder, d->list->date);
    double y = MARGIN;

    head_line(d, draw, &y, line, 9, TRUE, 8);
    return y;
}

static void
draw_footer(Drawer *d, guint page)
{
    g_autofree char *text =
        g_strdup_printf("%s %u %s %u", d->list->labels->page, page + 1,
                        d->list->labels->of, d->n_pages);
    PangoLayout *layout = text_layout(d, text, 8, FALSE, PAGE_W);
    int w = 0, h = 0;

    pango_layout_get_size(layout, &w, &h);
    cairo_move_to(d->cr, (PAGE_W - (double)w / PANGO_SCALE) / 2, FOOTER_Y);
    pango_cairo_show_layout(d->cr, layout);
    g_object_unref(layout);
}

/* Measures every row and decides on which page and where it goes. */
static void
paginate(Drawer *d)
{
    const CqPdfList *list = d->list;
    double y = d->first_top + d->head_h;
    guint page = 0;

    for (gsize i = 0; i < list->n_rows; i++) {
        const CqPdfListRow *row = &list->rows[i];
        const char *texts[4] = {cell_text(row, 0), cell_text(row, 1),
                                cell_text(row, 2), cell_text(row, 3)};
        d->row_h[i] = row_height(d, texts, FALSE, row->overdue);
        if (y + d->row_h[i] > BOTTOM && y > d->next_top + d->head_h) {
            page++;
            y = d->next_top + d->head_h;
        }
        d->row_page[i] = page;
        d->row_y[i] = y;
        y += d->row_h[i];
    }
    d->n_pages = page + 1;
}

static void
draw_pages(Drawer *d)
{
    const CqPdfList *list = d->list;
    gsize i = 0;

    for (guint page = 0; page < d->n_pages; page++) {
        double top = page == 0 ? first_head(d, TRUE) : next_head(d, TRUE);
        draw_table_head(d, top);
        for (; i < list->n_rows && d->row_page[i] == page; i++) {
            const CqPdfListRow *row = &list->rows[i];
            const char *texts[4] = {cell_text(row, 0), cell_text(row, 1),
                                    cell_text(row, 2), cell_text(row, 3)};
            draw_row(d, texts, d->row_y[i], d->row_h[i], FALSE, row->overdue);
        }
        draw_footer(d, page);
        cairo_show_page(d->cr);
    }
}

static void
drawer_init(Drawer *d, const CqPdfList *list, cairo_t *cr)
{
    cairo_font_options_t *options = cairo_font_options_create();
    double width = PAGE_W - 2 * MARGIN;

    d->list = list;
    d->cr = cr;
    d->fonts = pango_cairo_font_map_new();
    d->pango = pango_font_map_create_context(d->fonts);
    pango_cairo_update_context(cr, d->pango);
    pango_cairo_context_set_resolution(d->pango, 72);
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(d->pango, options);
    cairo_font_options_destroy(options);
    d->col_x[0] = MARGIN;
    for (int c = 0; c < 4; c++)
        d->col_x[c + 1] = d->col_x[c] + width * column_share[c];
    d->row_h = g_new0(double, list->n_rows + 1);
    d->row_y = g_new0(double, list->n_rows + 1);
    d->row_page = g_new0(guint, list->n_rows + 1);
    d->head_h = row_height(d, list->labels->columns, TRUE, FALSE);
    d->first_top = first_head(d, FALSE);
    d->next_top = next_head(d, FALSE);
}

static void
drawer_clear(Drawer *d)
{
    g_clear_object(&d->pango);
    g_clear_object(&d->fonts);
    g_free(d->row_h);
    g_free(d->row_y);
    g_free(d->row_page);
}

/* ---- Input ---- */

static gboolean
check_text(const char *what, gsize row, const char *text, GError **error)
{
    if (text == NULL || g_utf8_validate(text, -1, NULL))
        return TRUE;
    if (row == 0)
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "collection list: %s is not valid UTF-8", what);
    else
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "collection list: row %zu, %s: not valid UTF-8", row, what);
    return FALSE;
}

static gboolean
check_list(const CqPdfList *list, GError **error)
{
    static const char *const columns[4] = {"inventory number", "description",
                                           "location", "due date"};

    if (!check_text("the holder", 0, list->holder, error) ||
        !check_text("the date", 0, list->date, error) ||
        !check_text("the note", 0, list->note, error))
        return FALSE;
    for (gsize i = 0; i < list->n_rows; i++) {
        for (int c = 0; c < 4; c++) {
            if (!check_text(columns[c], i + 1, cell_text(&list->rows[i], c),
                            error))
                return FALSE;
        }
    }
    return TRUE;
}

/* ---- The file ---- */

typedef struct {
    int fd;
    int error; /* errno of the first failed write */
} Sink;

static cairo_status_t
sink_write(void *closure, const unsigned char *data, unsigned int length)
{
    Sink *sink = closure;

    while (length > 0 && sink->error == 0) {
        ssize_t n = write(sink->fd, data, length);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sink->error = errno;
            break;
        }
        data += n;
        length -= (unsigned int)n;
    }
    return sink->error ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

/* Draws every page into @sink; FALSE with @error when cairo fails. */
static gboolean
draw_document(const CqPdfList *list, Sink *sink, const char *path,
              GError **error)
{
    cairo_surface_t *surface =
        cairo_pdf_surface_create_for_stream(sink_write, sink, PAGE_W, PAGE_H);
    cairo_t *cr = cairo_create(surface);
    Drawer d = {0};

    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE,
                                   list->labels->title);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR,
                                   "caqmail");
    drawer_init(&d, list, cr);
    paginate(&d);
    draw_pages(&d);
    drawer_clear(&d);
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    cairo_status_t status = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (sink->error != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "collection list '%s': %s",
                    path, g_strerror(sink->error));
        return FALSE;
    }
    if (status != CAIRO_STATUS_SUCCESS) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_FAILED,
                    "collection list '%s': cairo: %s", path,
                    cairo_status_to_string(status));
        return FALSE;
    }
    return TRUE;
}

gboolean
cq_pdf_list_write(const CqPdfList *list, const char *path, GError **error)
{
    g_return_val_if_fail(list != NULL && list->labels != NULL, FALSE);
    g_autofree char *tmp = g_strconcat(path, ".XXXXXX", NULL);
    Sink sink = {.fd = -1};
    gboolean ok = FALSE;

    if (!check_list(list, error))
        return FALSE;
    sink.fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
    if (sink.fd < 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "collection list '%s': %s",
                    path, g_strerror(errno));
        return FALSE;
    }
    if (!draw_document(list, &sink, path, error))
        goto out;
    if (fsync(sink.fd) != 0 || close(sink.fd) != 0) {
        sink.fd = -1;
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "collection list '%s': %s",
                    path, g_strerror(errno));
        goto out;
    }
    sink.fd = -1;
    if (g_rename(tmp, path) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "collection list '%s': %s",
                    path, g_strerror(errno));
        goto out;
    }
    ok = TRUE;
out:
    if (sink.fd >= 0)
        close(sink.fd);
    if (!ok)
        g_unlink(tmp);
    return ok;
}
