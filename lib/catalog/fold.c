#include "catalog/fold.h"

#include <string.h>

static const char *
german(gunichar c)
{
    switch (c) {
    case 0x00e4: /* ä */
        return "ae";
    case 0x00f6: /* ö */
        return "oe";
    case 0x00fc: /* ü */
        return "ue";
    default:
        return NULL;
    }
}

static char *
fold(const char *text, gboolean transliterate)
{
    g_autofree char *valid = g_utf8_make_valid(text, -1);
    g_autofree char *lower = g_utf8_casefold(valid, -1);
    GString *out = g_string_sized_new(strlen(lower) + 8);

    for (const char *p = lower; *p; p = g_utf8_next_char(p)) {
        if ((guchar)*p < 0x80) {
            g_string_append_c(out, *p); /* nothing to fold */
            continue;
        }
        gunichar c = g_utf8_get_char(p);
        const char *t = transliterate ? german(c) : NULL;
        if (t != NULL) {
            g_string_append(out, t);
            continue;
        }
        if (c == 0x00df) { /* ß: casefold already makes it ss */
            g_string_append(out, "ss");
            continue;
        }
        gunichar decomposed[8];
        gsize n = g_unichar_fully_decompose(c, FALSE, decomposed, 8);
        for (gsize i = 0; i < n; i++) {
            if (!g_unichar_ismark(decomposed[i]))
                g_string_append_unichar(out, decomposed[i]);
        }
    }
    return g_string_free(out, FALSE);
}

char *
cq_fold_strip(const char *text)
{
    return fold(text, FALSE);
}

char *
cq_fold_german(const char *text)
{
    return fold(text, TRUE);
}

void
cq_fold_add_key(GString *key, const char *text)
{
    if (text == NULL || *text == '\0')
        return;
    g_autofree char *a = cq_fold_strip(text);
    if (key->len > 0)
        g_string_append_c(key, ' ');
    g_string_append(key, a);
    for (const char *p = text; *p; p++) {
        if ((guchar)*p >= 0x80) {
            /* Only text beyond ASCII can read otherwise in German. */
            g_autofree char *b = cq_fold_german(text);
            if (strcmp(a, b) != 0)
                g_string_append_printf(key, " %s", b);
            break;
        }
    }
}
