#include "common/text.h"

#include "common/error.h"

#include <string.h>

gboolean
cq_text_check_header(const char *what, const char *value, GError **error)
{
    const char *end = NULL;

    if (!g_utf8_validate(value, -1, &end)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "%s: not valid UTF-8 at byte %ld", what,
                    (long)(end - value));
        return FALSE;
    }
    for (const char *p = value; *p; p++) {
        guchar c = (guchar)*p;
        if (c == '\r' || c == '\n') {
            g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                        "%s: contains a line break", what);
            return FALSE;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                        "%s: contains the control character 0x%02x", what,
                        c);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
cq_text_is_8bit(const char *text)
{
    for (const guchar *p = (const guchar *)text; *p; p++) {
        if (*p >= 0x80)
            return TRUE;
    }
    return FALSE;
}

char *
cq_text_ascii_down(char *text)
{
    for (char *p = text; *p; p++)
        *p = g_ascii_tolower(*p);
    return text;
}

char *
cq_text_printable(const char *text)
{
    GString *out = g_string_sized_new(strlen(text) + 8);
    const char *p = text;

    while (*p) {
        gunichar c = g_utf8_get_char_validated(p, -1);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            g_string_append_printf(out, "\\x%02x", (guchar)*p);
            p++;
            continue;
        }
        const char *next = g_utf8_next_char(p);
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
            g_string_append_printf(out, "\\x%02x", c);
        else
            g_string_append_len(out, p, next - p);
        p = next;
    }
    return g_string_free(out, FALSE);
}
