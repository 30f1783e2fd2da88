/* Collection lists as PDF: the gauges a holder hands in for calibration,
 * drawn with cairo and Pango.
 *
 * An A4 page in portrait holds the title, the holder, the date and an
 * optional note, then a table with one row per gauge: inventory number,
 * description, location and due date (bold when overdue).  Long texts wrap
 * within their column (at most CQ_PDF_LIST_MAX_LINES lines per cell, then
 * an ellipsis; the text layer keeps a few hundred characters more, for
 * copying); rows never split, and every page repeats the table's
 * header and carries "page N of M".  Text is set in DejaVu Sans (Liberation
 * Sans, then any sans-serif as fallbacks), embedded in the file.
 */
#ifndef CQ_WORKFLOW_PDF_LIST_H
#define CQ_WORKFLOW_PDF_LIST_H

#include <glib.h>

#define CQ_PDF_LIST_MAX_LINES 8

/* The fixed words of a list, in the reader's language. */
typedef struct {
    const char *title;      /* "Prüfmittel zur Kalibrierung" */
    const char *holder;     /* "Inhaber" */
    const char *date;       /* "Datum" */
    const char *columns[4]; /* inventory, description, location, due */
    const char *page;       /* "Seite" */
    const char *of;         /* "von" */
} CqPdfListLabels;

/* The built-in words for @language ("de"; anything else: English). */
const CqPdfListLabels *cq_pdf_list_labels(const char *language);

typedef struct {
    const char *inventory;
    const char *description;
    const char *location;
    const char *due; /* as the reader writes dates: "20.03.2026" */
    gboolean overdue;
} CqPdfListRow;

typedef struct {
    const CqPdfListLabels *labels;
    const char *holder; /* the holder's name */
    const char *date;   /* the list's date, written out */
    const char *note;   /* a paragraph above the table, or NULL */
    const CqPdfListRow *rows;
    gsize n_rows;
} CqPdfList;

/* Draws @list into a PDF file at @path, replacing it only when the whole
 * file is written.  Every text must be valid UTF-8 (CQ_ERROR_INVALID,
 * naming the row and column); a file that cannot be written fails with
 * CQ_ERROR_IO naming @path and leaves nothing behind. */
gboolean cq_pdf_list_write(const CqPdfList *list, const char *path,
                           GError **error);

/* The drawing with cairo and Pango is linked into the static library;
 * libcaqmail.so loads it from the module caqmail-pdf.so the first time
 * a list is drawn (pdf-list-module.c; common/module.h), so that other
 * processes never load cairo, Pango, fontconfig, HarfBuzz and X11's
 * libraries.  Without the module cq_pdf_list_write() fails with
 * CQ_ERROR_UNAVAILABLE naming it.  What the module provides: */
typedef struct {
    gboolean (*write)(const CqPdfList *list, const char *path,
                      GError **error);
} CqPdfListModule;

#endif
