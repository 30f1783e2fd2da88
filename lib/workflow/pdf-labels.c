/* The fixed words of collection lists (pdf-list.h), apart from the
 * drawing, which libcaqmail.so loads as a module. */
#include "workflow/pdf-list.h"

static const CqPdfListLabels labels_de = {
    "Prüfmittel zur Kalibrierung",
    "Inhaber",
    "Datum",
    {"Inventar-Nr.", "Bezeichnung", "Standort", "Fällig am"},
    "Seite",
    "von",
};
static const CqPdfListLabels labels_en = {
    "Gauges to hand in for calibration",
    "Holder",
    "Date",
    {"Inventory no.", "Description", "Location", "Due"},
    "Page",
    "of",
};

const CqPdfListLabels *
cq_pdf_list_labels(const char *language)
{
    return g_strcmp0(language, "de") == 0 ? &labels_de : &labels_en;
}
