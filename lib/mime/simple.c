/* Direct composition of the commonest message: one text part, no HTML,
 * no attachments, no extra headers, and headers that each fit on one line
 * without quoting.  Reminders and bulk mails have that shape; writing
 * them straight into a buffer costs a fraction of building, writing and
 * freeing GMime's tree, and yields the same bytes (the tests compare
 * both composers).  Every other message goes through cq_mime_build().
 */
#include "mime/build-private.h"

#include <string.h>

#define FOLD_COLUMN 78 /* GMime folds header lines longer than this */

/* Characters of a display name that GMime writes as they are: RFC 5322
 * atext and the space between words. */
static gboolean
is_plain_name_char(guchar c)
{
    return g_ascii_isalnum(c) || c == ' ' ||
           (c < 0x80 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL && c != 0);
}

static gboolean
has_8bit(const char *text)
{
    for (const guchar *p = (const guchar *)text; *p; p++) {
        if (*p >= 0x80)
            return TRUE;
    }
    return FALSE;
}

/* Printable ASCII words with single spaces between them. */
static gboolean
is_simple_ascii(const char *text)
{
    if (text[0] == '\0' || text[0] == ' ')
        return FALSE;
    for (const char *p = text; *p; p++) {
        if (*p < 0x20 || *p > 0x7e || (p[0] == ' ' && p[1] == ' '))
            return FALSE;
    }
    return text[strlen(text) - 1] != ' ';
}

/* A display name as GMime writes it, or NULL when it would need quoting
 * or an unusual encoding: newly allocated. */
static char *
display_name(const char *name)
{
    if (strstr(name, "=?") != NULL)
        return NULL;
    for (const guchar *p = (const guchar *)name; *p; p++) {
        if (*p < 0x80 && !is_plain_name_char(*p))
            return NULL;
        if (p[0] == ' ' && p[1] == ' ')
            return NULL;
    }
    if (name[0] == ' ' || name[strlen(name) - 1] == ' ')
        return NULL;
    if (!has_8bit(name))
        return g_strdup(name);
    return g_mime_utils_header_encode_phrase(NULL, name, "utf-8");
}

/* Appends @address as a mailbox; FALSE when it has an unusual form. */
static gboolean
put_mailbox(GString *value, const CqAddress *address)
{
    g_autofree char *spec = cq_address_spec(address);

    if (address->smtputf8 || has_8bit(spec))
        return FALSE;
    if (address->name == NULL || address->name[0] == '\0') {
        g_string_append(value, spec);
        return TRUE;
    }
    g_autofree char *name = display_name(address->name);
    if (name == NULL)
        return FALSE;
    g_string_append_printf(value, "%s <%s>", name, spec);
    return TRUE;
}

/* Appends `Name: value` and CRLF; FALSE when the line would be folded. */
static gboolean
put_header(GString *out, const char *name, const char *value)
{
    if (strlen(name) + 2 + strlen(value) > FOLD_COLUMN)
        return FALSE;
    g_string_append(out, name);
    g_string_append(out, ": ");
    g_string_append(out, value);
    g_string_append(out, "\r\n");
    return TRUE;
}

/* Appends @lines (LF line ends) with CRLF line ends. */
static void
put_crlf(GString *out, const char *lines, gsize len)
{
    const char *end = lines + len;

    for (const char *p = lines; p < end;) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        if (nl == NULL) {
            g_string_append_len(out, p, end - p);
            break;
        }
        g_string_append_len(out, p, nl - p);
        g_string_append(out, "\r\n");
        p = nl + 1;
    }
}

/* The visible recipients of @kind; FALSE when one has an unusual form. */
static gboolean
put_recipients(GString *out, const CqMessage *message, CqRecipientKind kind,
               const char *header)
{
    g_autoptr(GString) value = g_string_new(NULL);

    for (guint i = 0; i < message->recipients->len; i++) {
        const CqRecipient *rcpt = message->recipients->pdata[i];
        if (rcpt->kind != kind)
            continue;
        if (value->len > 0)
            g_string_append(value, ", ");
        if (!put_mailbox(value, rcpt->address))
            return FALSE;
    }
    return value->len == 0 || put_header(out, header, value->str);
}

static gboolean
put_from(GString *out, const CqMessage *message)
{
    g_autoptr(GString) value = g_string_new(NULL);
    return put_mailbox(value, message->from) &&
           put_header(out, "From", value->str);
}

static gboolean
put_subject(GString *out, const char *subject)
{
    if (is_simple_ascii(subject))
        return strstr(subject, "=?") == NULL &&
               put_header(out, "Subject", subject);
    if (strstr(subject, "=?") != NULL || strpbrk(subject, "\t\r\n"))
        return FALSE;
    /* Encoded and folded by GMime's own header formatter, as the general
     * composer has it done. */
    GMimeHeaderList *list = g_mime_header_list_new(NULL);
    g_mime_header_list_set(list, "Subject", subject, "utf-8");
    g_autofree char *line = g_mime_header_list_to_string(list, NULL);
    g_object_unref(list);
    put_crlf(out, line, strlen(line));
    return TRUE;
}

static gboolean
put_record(GString *out, const CqMessage *message,
           const CqMimeOptions *options)
{
    if (message->record == NULL)
        return TRUE;
    if (!is_simple_ascii(message->record))
        return FALSE;
    g_autofree char *root = cq_mime_record_thread_id(
        message->record, cq_mime_id_domain(message, options));
    g_autofree char *ref = g_strdup_printf("<%s>", root);
    return put_header(out, "References", ref) &&
           put_header(out, "In-Reply-To", ref) &&
           put_header(out, "X-Caqmail-Record", message->record);
}

static gboolean
put_headers(GString *out, const CqMessage *message,
            const CqMimeOptions *options)
{
    g_autofree char *date = g_mime_utils_header_format_date(message->date);
    g_autofree char *id = g_strdup_printf("<%s>", message->message_id);

    g_string_append(out, "MIME-Version: 1.0\r\n");
    return put_header(out, "Date", date) && put_from(out, message) &&
           put_recipients(out, message, CQ_RCPT_TO, "To") &&
           put_recipients(out, message, CQ_RCPT_CC, "Cc") &&
           put_subject(out, message->subject) &&
           put_header(out, "Message-Id", id) &&
           put_record(out, message, options) &&
           (!cq_origin_is_automatic(message->origin) ||
            put_header(out, "Auto-Submitted", "auto-generated"));
}

static void
put_body(GString *out, const char *text, gboolean allow_8bit)
{
    GMimeContentEncoding encoding = cq_mime_text_encoding(text, allow_8bit);
    g_autofree char *lines = cq_mime_normalize_lines(text);
    gsize len = strlen(lines);

    g_string_append(out, "Content-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: ");
    g_string_append(out, g_mime_content_encoding_to_string(encoding));
    g_string_append(out, "\r\n\r\n");
    if (encoding != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE) {
        put_crlf(out, lines, len);
        return;
    }
    GMimeEncoding state;
    g_mime_encoding_init_encode(&state, encoding);
    g_autofree char *qp = g_malloc(g_mime_encoding_outlen(&state, len) + 4);
    gsize n = g_mime_encoding_flush(&state, lines, len, qp);
    put_crlf(out, qp, n);
}

static gboolean
is_simple_shape(const CqMessage *message)
{
    gboolean to = FALSE;

    for (guint i = 0; i < message->recipients->len; i++)
        to |= ((CqRecipient *)message->recipients->pdata[i])->kind ==
              CQ_RCPT_TO;
    return to && message->html == NULL && message->attachments->len == 0 &&
           message->headers->len == 0;
}

GBytes *
cq_mime_compose_simple(CqMessage *message, const CqMimeOptions *options,
                       GError **error)
{
    cq_mime_init();
    if (!cq_mime_check(message, options, error))
        return NULL;
    if (!is_simple_shape(message))
        return NULL;
    cq_mime_assign_identity(message, options);

    g_autoptr(GString) out = g_string_sized_new(1024 +
                                                strlen(message->text) * 3);
    if (!put_headers(out, message, options))
        return NULL;
    put_body(out, message->text, options->allow_8bit);
    gsize len = out->len;
    return g_bytes_new_take(g_string_free(g_steal_pointer(&out), FALSE), len);
}
