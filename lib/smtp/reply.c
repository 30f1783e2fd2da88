#include "smtp/reply.h"

#include "common/error.h"
#include "common/text.h"

#include <string.h>

void
cq_smtp_reply_init(CqSmtpReply *reply)
{
    *reply = (CqSmtpReply){0};
    reply->lines = g_ptr_array_new_with_free_func(g_free);
}

void
cq_smtp_reply_clear(CqSmtpReply *reply)
{
    if (reply->lines != NULL)
        g_ptr_array_set_size(reply->lines, 0);
    reply->code = 0;
    reply->enhanced[0] = '\0';
    reply->done = FALSE;
}

static gboolean
fail(GError **error, const char *line, gsize len, const char *why)
{
    g_autofree char *raw = g_strndup(line, MIN(len, 80));
    g_autofree char *shown = cq_text_printable(raw);
    g_set_error(error, CQ_ERROR, CQ_ERROR_PROTOCOL,
                "bad reply line '%s': %s", shown, why);
    return FALSE;
}

static guint
parse_code(const char *line)
{
    if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
        !g_ascii_isdigit(line[2]))
        return 0;
    return (guint)((line[0] - '0') * 100 + (line[1] - '0') * 10 +
                   (line[2] - '0'));
}

/* Length of a run of 1 to @max digits at @p, 0 when there is none. */
static gsize
digits(const char *p, const char *end, gsize max)
{
    gsize n = 0;
    while (p + n < end && g_ascii_isdigit(p[n]) && n <= max)
        n++;
    return n >= 1 && n <= max ? n : 0;
}

/* Length of the enhanced code at the start of @text, with its class
 * @klass, or 0.  class "." subject "." detail, then a space or the end. */
static gsize
enhanced_length(const char *text, const char *end, char klass)
{
    const char *p = text;
    gsize n;

    if (p + 2 > end || p[0] != klass || p[1] != '.')
        return 0;
    p += 2;
    if ((n = digits(p, end, 3)) == 0 || p + n >= end || p[n] != '.')
        return 0;
    p += n + 1;
    if ((n = digits(p, end, 3)) == 0)
        return 0;
    p += n;
    if (p < end && *p != ' ')
        return 0;
    return (gsize)(p - text);
}

static void
add_text(CqSmtpReply *reply, const char *text, const char *end)
{
    gsize n = enhanced_length(text, end, (char)('0' + reply->code / 100));

    if (n > 0) {
        if (reply->enhanced[0] == '\0') {
            /* The line is not NUL-terminated at @end: copy exactly n. */
            memcpy(reply->enhanced, text, n);
            reply->enhanced[n] = '\0';
        }
        text += n;
        if (text < end && *text == ' ')
            text++;
    }
    g_ptr_array_add(reply->lines, g_strndup(text, (gsize)(end - text)));
}

gboolean
cq_smtp_reply_feed(CqSmtpReply *reply, const char *line, gsize len,
                   GError **error)
{
    if (reply->done)
        cq_smtp_reply_clear(reply);
    if (len > CQ_SMTP_REPLY_MAX_LINE)
        return fail(error, line, len, "line too long");
    if (reply->lines->len >= CQ_SMTP_REPLY_MAX_LINES)
        return fail(error, line, len, "too many lines in one reply");
    if (memchr(line, '\0', len) != NULL)
        return fail(error, line, len, "NUL byte");
    guint code = len >= 3 ? parse_code(line) : 0;
    if (code == 0)
        return fail(error, line, len, "no reply code");
    if (len > 3 && line[3] != ' ' && line[3] != '-')
        return fail(error, line, len, "no separator after the code");
    if (reply->code != 0 && code != reply->code)
        return fail(error, line, len, "code changed within a reply");
    reply->code = code;
    reply->done = len == 3 || line[3] == ' ';
    add_text(reply, line + MIN(len, 4), line + len);
    return TRUE;
}

char *
cq_smtp_reply_text(const CqSmtpReply *reply)
{
    GString *text = g_string_new(NULL);

    for (guint i = 0; i < reply->lines->len; i++) {
        if (i > 0)
            g_string_append_c(text, '\n');
        g_string_append(text, reply->lines->pdata[i]);
    }
    return g_string_free(text, FALSE);
}

char *
cq_smtp_reply_summary(const CqSmtpReply *reply)
{
    GString *text = g_string_new(NULL);

    g_string_append_printf(text, "%u", reply->code);
    if (reply->enhanced[0] != '\0')
        g_string_append_printf(text, " %s", reply->enhanced);
    for (guint i = 0; i < reply->lines->len; i++) {
        g_autofree char *shown = cq_text_printable(reply->lines->pdata[i]);
        g_string_append(text, i == 0 ? " " : " / ");
        g_string_append(text, shown);
    }
    return g_string_free(text, FALSE);
}
