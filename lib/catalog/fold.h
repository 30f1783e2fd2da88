/* Folding text for search: case and accents do not matter.
 *
 * A stored search key holds each word twice, once with accents stripped
 * ("Müller" -> "muller") and once transliterated the German way
 * ("Müller" -> "mueller", "Groß" -> "gross"); a query is folded the first
 * way only.  So "muller", "mueller" and "Müller" all find "Müller".
 */
#ifndef CQ_CATALOG_FOLD_H
#define CQ_CATALOG_FOLD_H

#include <glib.h>

/* Lower case, accents stripped, ß as ss; invalid UTF-8 is dropped.
 * Newly allocated. */
char *cq_fold_strip(const char *text);

/* Lower case, German umlauts as ae/oe/ue, other accents stripped.
 * Newly allocated. */
char *cq_fold_german(const char *text);

/* Appends both foldings of @text to @key, separated by spaces. */
void cq_fold_add_key(GString *key, const char *text);

#endif
