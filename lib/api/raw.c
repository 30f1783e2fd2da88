/* CaqmailRawMessage: a complete message handed over as it is, the way
 * sendmail takes one.  Its header is checked line by line (at most 998
 * octets, UTF-8, field or continuation); the header ends at the first
 * empty line, or at the first line that is neither, which then starts
 * the body (as sendmail reads it).  Only the header fields a submission
 * must carry are added: From, Date and Message-ID where missing.  The
 * body is kept byte for byte, with CRLF line ends. */
#include "api/api.h"

#include "common/error.h"
#include "common/text.h"
#include "mime/gmime-util.h"
#include "outbox/outbox.h"
#include "resolve/resolve.h"

#include <string.h>

#define MAX_LINE 998

typedef struct {
    char *name; /* as written */
    char *text; /* the whole field, folded lines joined by CRLF */
} Field;

struct _CaqmailRawMessage {
    CaqmailContext *context;
    GPtrArray *fields; /* of Field, in order */
    GString *body;     /* CRLF line ends */
    CqAddress *sender; /* envelope sender, or NULL */
    char *full_name;   /* for a From field that caqmail adds */
    GPtrArray *rcpts;  /* of CqAddress, the envelope */
    GPtrArray *kinds;  /* CqRecipientKind of each, as pointers */
    char *record;
};

static void
field_free(gpointer data)
{
    Field *field = data;
    g_free(field->name);
    g_free(field->text);
    g_free(field);
}

/* The length of the field name that starts @line, or 0 when @line is no
 * header field ("Name:" of printable ASCII, perhaps blanks before ':'). */
static gsize
field_name_length(const char *line, gsize len)
{
    gsize n = 0;

    while (n < len && line[n] > 32 && line[n] < 127 && line[n] != ':')
        n++;
    gsize end = n;
    while (end < len && (line[end] == ' ' || line[end] == '\t'))
        end++;
    return n > 0 && end < len && line[end] == ':' ? n : 0;
}

typedef struct {
    const char *p, *end;
    guint number;
} Lines;

/* The next line without its line end; FALSE at the end of the data. */
static gboolean
next_line(Lines *lines, const char **line, gsize *len)
{
    if (lines->p >= lines->end)
        return FALSE;
    const char *nl = memchr(lines->p, '\n', lines->end - lines->p);
    const char *stop = nl ? nl : lines->end;
    *line = lines->p;
    *len = stop - lines->p;
    if (*len > 0 && (*line)[*len - 1] == '\r')
        (*len)--;
    lines->p = nl ? nl + 1 : lines->end;
    lines->number++;
    return TRUE;
}

static gboolean
check_header_line(const Lines *lines, const char *line, gsize len,
                  const char *name, GError **error)
{
    if (len > MAX_LINE) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "header line %u ('%s'): %zu octets, more than the %d "
                    "that RFC 5322 allows",
                    lines->number, name, len, MAX_LINE);
        return FALSE;
    }
    if (!g_utf8_validate_len(line, len, NULL)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "header line %u ('%s'): not UTF-8 (non-ASCII text in a "
                    "header must be UTF-8 or RFC 2047 encoded)",
                    lines->number, name);
        return FALSE;
    }
    return TRUE;
}

/* Adds one header line to @fields: a new field or a continuation.
 * Returns FALSE with no error when @line starts the body. */
static gboolean
add_header_line(GPtrArray *fields, const Lines *lines, const char *line,
                gsize len, GError **error)
{
    gboolean folded = len > 0 && (line[0] == ' ' || line[0] == '\t');
    gsize name_len = folded ? 0 : field_name_length(line, len);

    if ((folded && fields->len == 0) || (!folded && name_len == 0))
        return FALSE;
    Field *last = folded ? fields->pdata[fields->len - 1] : NULL;
    g_autofree char *name =
        folded ? g_strdup(last->name) : g_strndup(line, name_len);
    if (!check_header_line(lines, line, len, name, error))
        return FALSE;
    if (folded) {
        g_autofree char *text = last->text;
        last->text = g_strdup_printf("%s\r\n%.*s", text, (int)len, line);
        return TRUE;
    }
    Field *field = g_new0(Field, 1);
    field->name = g_steal_pointer(&name);
    field->text = g_strndup(line, len);
    g_ptr_array_add(fields, field);
    return TRUE;
}

static void
append_body_line(GString *body, const char *line, gsize len)
{
    g_string_append_len(body, line, len);
    g_string_append(body, "\r\n");
}

static gboolean
parse(CaqmailRawMessage *raw, const char *data, gsize length, GError **error)
{
    Lines lines = {.p = data, .end = data + length};
    const char *line = NULL;
    gsize len = 0;
    gboolean in_header = TRUE;

    while (next_line(&lines, &line, &len)) {
        if (in_header && lines.number == 1 && len >= 5 &&
            memcmp(line, "From ", 5) == 0)
            continue; /* an mbox separator, as sendmail drops it */
        if (in_header && len == 0) {
            in_header = FALSE;
            continue;
        }
        if (in_header) {
            GError *local = NULL;
            if (add_header_line(raw->fields, &lines, line, len, &local))
                continue;
            if (local != NULL) {
                g_propagate_error(error, local);
                return FALSE;
            }
            in_header = FALSE;
        }
        append_body_line(raw->body, line, len);
    }
    return TRUE;
}

static gboolean
is_blank(const char *data, gsize length)
{
    for (gsize i = 0; i < length; i++) {
        if (!g_ascii_isspace(data[i]))
            return FALSE;
    }
    return TRUE;
}

CaqmailRawMessage *
caqmail_raw_message_new(CaqmailContext *context, const char *data, gsize length,
                        GError **error)
{
    g_return_val_if_fail(context != NULL, NULL);
    if (data == NULL || is_blank(data, length)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOINPUT, "the message is empty");
        return NULL;
    }
    gint64 max = context->config->message.max_message_size;
    if (max > 0 && length > (guint64)max) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                    "the message has %zu bytes, more than [message] "
                    "max_message_size (%" G_GINT64_FORMAT ")",
                    length, max);
        return NULL;
    }
    CaqmailRawMessage *raw = g_new0(CaqmailRawMessage, 1);
    raw->context = context;
    raw->fields = g_ptr_array_new_with_free_func(field_free);
    raw->body = g_string_new(NULL);
    raw->rcpts =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_address_free);
    raw->kinds = g_ptr_array_new();
    if (!parse(raw, data, length, error)) {
        caqmail_raw_message_free(raw);
        return NULL;
    }
    return raw;
}

void
caqmail_raw_message_free(CaqmailRawMessage *raw)
{
    if (raw == NULL)
        return;
    g_ptr_array_unref(raw->fields);
    g_string_free(raw->body, TRUE);
    cq_address_free(raw->sender);
    g_free(raw->full_name);
    g_ptr_array_unref(raw->rcpts);
    g_ptr_array_unref(raw->kinds);
    g_free(raw->record);
    g_free(raw);
}

gboolean
caqmail_raw_message_set_sender(CaqmailRawMessage *raw, const char *address,
                               const char *full_name, GError **error)
{
    CqAddress *sender = NULL;

    if (address != NULL && (sender = cq_address_parse(address, error)) == NULL)
        return FALSE;
    if (full_name != NULL &&
        !cq_text_check_header("full name", full_name, error)) {
        cq_address_free(sender);
        return FALSE;
    }
    cq_address_free(raw->sender);
    raw->sender = sender;
    g_free(raw->full_name);
    raw->full_name = g_strdup(full_name);
    return TRUE;
}

static gboolean
add_addresses(CaqmailRawMessage *raw, const char *text, CqRecipientKind kind,
              gboolean allow_empty, GError **error)
{
    g_autoptr(GPtrArray) list = cq_address_list_parse(text, allow_empty, error);
    if (list == NULL)
        return FALSE;
    for (guint i = 0; i < list->len; i++) {
        g_ptr_array_add(raw->rcpts, cq_address_copy(list->pdata[i]));
        g_ptr_array_add(raw->kinds, GINT_TO_POINTER(kind));
    }
    return TRUE;
}

gboolean
caqmail_raw_message_add_recipient(CaqmailRawMessage *raw, const char *address,
                                  GError **error)
{
    if (address == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "recipient: no address given");
        return FALSE;
    }
    return add_addresses(raw, address, CQ_RCPT_TO, FALSE, error);
}

/* The value of @field, unfolded. */
static char *
field_value(const Field *field)
{
    const char *colon = strchr(field->text, ':');
    GString *value = g_string_new(NULL);

    for (const char *p = colon + 1; *p; p++) {
        if (*p != '\r' && *p != '\n')
            g_string_append_c(value, *p);
    }
    return g_strstrip(g_string_free(value, FALSE));
}

static const Field *
find_field(const CaqmailRawMessage *raw, const char *name)
{
    for (guint i = 0; i < raw->fields->len; i++) {
        const Field *field = raw->fields->pdata[i];
        if (g_ascii_strcasecmp(field->name, name) == 0)
            return field;
    }
    return NULL;
}

gboolean
caqmail_raw_message_extract_recipients(CaqmailRawMessage *raw, GError **error)
{
    static const char *const names[] = {"To", "Cc", "Bcc"};
    guint before = raw->rcpts->len;

    for (guint i = 0; i < raw->fields->len; i++) {
        const Field *field = raw->fields->pdata[i];
        for (guint k = 0; k < G_N_ELEMENTS(names); k++) {
            if (g_ascii_strcasecmp(field->name, names[k]) != 0)
                continue;
            g_autofree char *value = field_value(field);
            if (!add_addresses(raw, value, (CqRecipientKind)k, TRUE, error)) {
                g_prefix_error(error, "header '%s': ", field->name);
                g_ptr_array_remove_range(raw->rcpts, before,
                                         raw->rcpts->len - before);
                g_ptr_array_set_size(raw->kinds, before);
                return FALSE;
            }
        }
    }
    for (guint i = raw->fields->len; i-- > 0;) {
        if (g_ascii_strcasecmp(((Field *)raw->fields->pdata[i])->name, "Bcc") ==
            0)
            g_ptr_array_remove_index(raw->fields, i);
    }
    return TRUE;
}

gboolean
caqmail_raw_message_set_record(CaqmailRawMessage *raw, const char *record,
                               GError **error)
{
    if (record != NULL && !cq_record_id_check(record, error))
        return FALSE;
    g_free(raw->record);
    raw->record = g_strdup(record);
    return TRUE;
}

/* ---- enqueueing -------------------------------------------------------- */

static void
add_field(CaqmailRawMessage *raw, const char *name, const char *value)
{
    Field *field = g_new0(Field, 1);
    field->name = g_strdup(name);
    field->text = g_strdup_printf("%s: %s", name, value);
    g_ptr_array_add(raw->fields, field);
}

static char *
new_message_id(const CqConfig *config, const CqAddress *from)
{
    g_autofree char *uuid = g_uuid_string_random();
    const char *domain = config->message.message_id_domain;

    if (domain == NULL)
        domain = from->domain[0] != '[' ? from->domain : g_get_host_name();
    g_strdelimit(uuid, "-", '.');
    return g_strdup_printf("%s@%s", uuid, domain);
}

/* The Message-ID for the history: the message's own, else a new one
 * that is added to the header. */
static char *
take_message_id(CaqmailRawMessage *raw, const CqAddress *from)
{
    const Field *field = find_field(raw, "Message-ID");
    if (field != NULL) {
        g_autofree char *value = field_value(field);
        g_strdelimit(value, "<>", ' ');
        g_strstrip(value);
        if (*value != '\0')
            return g_steal_pointer(&value);
    }
    char *id = new_message_id(raw->context->config, from);
    g_autofree char *bracketed = g_strdup_printf("<%s>", id);
    if (field == NULL)
        add_field(raw, "Message-ID", bracketed);
    return id;
}

static void
add_missing_fields(CaqmailRawMessage *raw, const CqAddress *from)
{
    if (find_field(raw, "From") == NULL) {
        g_autofree char *spec = cq_address_spec(from);
        const char *name = raw->full_name ? raw->full_name : from->name;
        InternetAddress *mailbox = internet_address_mailbox_new(name, spec);
        g_autofree char *text = internet_address_to_string(mailbox, NULL, TRUE);
        g_object_unref(mailbox);
        add_field(raw, "From", text);
    }
    if (find_field(raw, "Date") == NULL) {
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        g_autofree char *date = g_mime_utils_header_format_date(now);
        add_field(raw, "Date", date);
    }
}

static GBytes *
serialize(const CaqmailRawMessage *raw)
{
    GString *out = g_string_sized_new(raw->body->len + 1024);

    for (guint i = 0; i < raw->fields->len; i++) {
        g_string_append(out, ((Field *)raw->fields->pdata[i])->text);
        g_string_append(out, "\r\n");
    }
    g_string_append(out, "\r\n");
    g_string_append_len(out, raw->body->str, raw->body->len);
    return g_string_free_to_bytes(out);
}

/* The subject for the history, decoded. */
static void
set_subject(const CaqmailRawMessage *raw, CqMessage *m)
{
    const Field *field = find_field(raw, "Subject");
    if (field == NULL)
        return;
    g_autofree char *value = field_value(field);
    g_autofree char *decoded = g_mime_utils_header_decode_text(NULL, value);
    if (!cq_message_set_subject(m, decoded, NULL))
        cq_message_set_subject(m, "", NULL);
}

static gboolean
build_envelope(CaqmailRawMessage *raw, CqSession *session, CqMessage *m,
               GError **error)
{
    const CqConfig *config = raw->context->config;
    const char *record = raw->record ? raw->record : config->sendmail.record;
    g_autofree char *from = raw->sender
                                ? cq_address_display(raw->sender)
                                : cq_resolve_default_sender(session, config);

    if (raw->rcpts->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_USAGE,
                    "the message has no recipient: none was given, and "
                    "none was taken from To, Cc or Bcc");
        return FALSE;
    }
    if (!cq_message_set_from(m, from, error) ||
        (record && *record && !cq_message_set_record(m, record, error)))
        return FALSE;
    for (guint i = 0; i < raw->rcpts->len; i++)
        cq_message_add_address(
            m, (CqRecipientKind)GPOINTER_TO_INT(raw->kinds->pdata[i]),
            raw->rcpts->pdata[i], NULL);
    cq_resolve_dedup(m);
    set_subject(raw, m);
    return TRUE;
}

gboolean
caqmail_raw_message_enqueue(CaqmailRawMessage *raw, gint64 *mail_id,
                            GError **error)
{
    const CqConfig *config = raw->context->config;
    CqSession *session = cq_api_session(raw->context, error);
    CqOrigin origin = CQ_ORIGIN_SENDMAIL;

    if (session == NULL)
        return FALSE;
    cq_mime_init();
    cq_origin_from_name(config->sendmail.origin, &origin);
    g_autoptr(CqMessage) m = cq_message_new(origin);
    if (!build_envelope(raw, session, m, error))
        return cq_api_fail(error);
    /* Added fields are removed again, so that a failed call changes
     * nothing. */
    guint n_fields = raw->fields->len;
    m->message_id = take_message_id(raw, m->from);
    add_missing_fields(raw, m->from);
    g_autoptr(GBytes) bytes = serialize(raw);
    g_ptr_array_set_size(raw->fields, n_fields);
    return cq_outbox_enqueue_raw(session, m, bytes, mail_id, error) ||
           cq_api_fail(error);
}
