#include "compose/message.h"

#include "common/error.h"
#include "common/text.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BODY_FILE (64 * 1024 * 1024)
#define MAX_RECORD_ID 64
#define SNIFF_BYTES 4096

static const char *const origin_names[] = {
    [CQ_ORIGIN_MANUAL] = "manual",
    [CQ_ORIGIN_DOCUMENT] = "document",
    [CQ_ORIGIN_REMINDER] = "reminder",
    [CQ_ORIGIN_COLLECTION] = "collection",
    [CQ_ORIGIN_SENDMAIL] = "sendmail",
    [CQ_ORIGIN_API] = "api",
};

/* Headers that the MIME builder writes itself and a caller may not set. */
static const char *const reserved_headers[] = {
    "From", "Sender", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID",
    "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
    "Content-Disposition", "References", "In-Reply-To", "Auto-Submitted",
    "X-Caqmail-Record", "Return-Path", "Received", NULL,
};

const char *
cq_origin_name(CqOrigin origin)
{
    if ((guint)origin < G_N_ELEMENTS(origin_names))
        return origin_names[origin];
    return "unknown";
}

gboolean
cq_origin_from_name(const char *name, CqOrigin *origin)
{
    for (guint i = 0; i < G_N_ELEMENTS(origin_names); i++) {
        if (g_strcmp0(name, origin_names[i]) == 0) {
            *origin = (CqOrigin)i;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
cq_origin_is_automatic(CqOrigin origin)
{
    return origin == CQ_ORIGIN_REMINDER || origin == CQ_ORIGIN_COLLECTION;
}

const char *
cq_recipient_kind_name(CqRecipientKind kind)
{
    switch (kind) {
    case CQ_RCPT_TO:
        return "to";
    case CQ_RCPT_CC:
        return "cc";
    case CQ_RCPT_BCC:
        return "bcc";
    }
    return "unknown";
}

void
cq_recipient_free(CqRecipient *recipient)
{
    if (recipient == NULL)
        return;
    cq_address_free(recipient->address);
    g_free(recipient->source);
    g_free(recipient);
}

void
cq_attachment_free(CqAttachment *attachment)
{
    if (attachment == NULL)
        return;
    g_free(attachment->path);
    g_free(attachment->filename);
    g_free(attachment->content_type);
    g_free(attachment->sha256);
    g_free(attachment->source);
    g_free(attachment->source_sha256);
    g_free(attachment);
}

static void
header_free(CqHeader *header)
{
    g_free(header->name);
    g_free(header->value);
    g_free(header);
}

CqMessage *
cq_message_new(CqOrigin origin)
{
    CqMessage *message = g_new0(CqMessage, 1);
    message->origin = origin;
    message->subject = g_strdup("");
    message->text = g_strdup("");
    message->recipients =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_recipient_free);
    message->attachments =
        g_ptr_array_new_with_free_func((GDestroyNotify)cq_attachment_free);
    message->headers =
        g_ptr_array_new_with_free_func((GDestroyNotify)header_free);
    return message;
}

void
cq_message_free(CqMessage *message)
{
    if (message == NULL)
        return;
    cq_address_free(message->from);
    g_ptr_array_unref(message->recipients);
    g_free(message->subject);
    g_free(message->text);
    g_free(message->html);
    g_ptr_array_unref(message->attachments);
    g_ptr_array_unref(message->headers);
    g_free(message->record);
    g_free(message->message_id);
    g_clear_pointer(&message->date, g_date_time_unref);
    g_free(message);
}

gboolean
cq_message_set_from(CqMessage *message, const char *address, GError **error)
{
    CqAddress *from = cq_address_parse(address, error);
    if (from == NULL) {
        g_prefix_error(error, "sender: ");
        return FALSE;
    }
    cq_address_free(message->from);
    message->from = from;
    return TRUE;
}

void
cq_message_add_address(CqMessage *message, CqRecipientKind kind,
                       const CqAddress *address, const char *source)
{
    CqRecipient *rcpt = g_new0(CqRecipient, 1);
    rcpt->address = cq_address_copy(address);
    rcpt->kind = kind;
    rcpt->source = g_strdup(source);
    g_ptr_array_add(message->recipients, rcpt);
}

gboolean
cq_message_add_recipients(CqMessage *message, CqRecipientKind kind,
                          const char *addresses, const char *source,
                          GError **error)
{
    g_autoptr(GPtrArray) list = cq_address_list_parse(addresses, FALSE,
                                                      error);
    if (list == NULL)
        return FALSE;
    for (guint i = 0; i < list->len; i++)
        cq_message_add_address(message, kind, list->pdata[i], source);
    return TRUE;
}

gboolean
cq_message_set_subject(CqMessage *message, const char *subject,
                       GError **error)
{
    if (!cq_text_check_header("subject", subject, error))
        return FALSE;
    g_free(message->subject);
    message->subject = g_strdup(subject);
    return TRUE;
}

static gboolean
check_body(const char *what, const char *text, gsize len, GError **error)
{
    const char *end = NULL;

    if (!g_utf8_validate_len(text, len, &end)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "%s: not valid UTF-8 at byte %ld", what,
                    (long)(end - text));
        return FALSE;
    }
    if (memchr(text, '\0', len) != NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "%s: contains a NUL byte", what);
        return FALSE;
    }
    return TRUE;
}

gboolean
cq_message_set_text(CqMessage *message, const char *text, GError **error)
{
    if (!check_body("text body", text, strlen(text), error))
        return FALSE;
    g_free(message->text);
    message->text = g_strdup(text);
    return TRUE;
}

gboolean
cq_message_set_html(CqMessage *message, const char *html, GError **error)
{
    if (html != NULL && !check_body("HTML body", html, strlen(html), error))
        return FALSE;
    g_free(message->html);
    message->html = g_strdup(html);
    return TRUE;
}

/* Reads all of @fd, failing past MAX_BODY_FILE bytes. */
static GByteArray *
read_all(int fd, const char *what, const char *path, GError **error)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    guint8 block[65536];
    ssize_t n;

    while ((n = read(fd, block, sizeof block)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_NOINPUT, "%s '%s': %s",
                        what, path, g_strerror(errno));
            return NULL;
        }
        if (buf->len + (gsize)n > MAX_BODY_FILE) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                        "%s '%s': larger than %d MiB", what, path,
                        MAX_BODY_FILE >> 20);
            return NULL;
        }
        g_byte_array_append(buf, block, (guint)n);
    }
    return g_steal_pointer(&buf);
}

/* A body from a file, or from a pipe such as standard input. */
static char *
read_body_file(const char *what, const char *path, GError **error)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int code = fd < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : errno;
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOINPUT, "%s '%s': %s", what,
                    path, g_strerror(code));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    g_autoptr(GByteArray) data = read_all(fd, what, path, error);
    close(fd);
    if (data == NULL)
        return NULL;
    g_autofree char *subject = g_strdup_printf("%s '%s'", what, path);
    if (data->len > 0 &&
        !check_body(subject, (const char *)data->data, data->len, error))
        return NULL;
    return g_strndup((const char *)data->data, data->len);
}

gboolean
cq_message_set_text_file(CqMessage *message, const char *path,
                         GError **error)
{
    char *text = read_body_file("body file", path, error);
    if (text == NULL)
        return FALSE;
    g_free(message->text);
    message->text = text;
    return TRUE;
}

gboolean
cq_message_set_html_file(CqMessage *message, const char *path,
                         GError **error)
{
    char *html = read_body_file("HTML file", path, error);
    if (html == NULL)
        return FALSE;
    g_free(message->html);
    message->html = html;
    return TRUE;
}

static gboolean
check_filename(const char *filename, GError **error)
{
    if (!cq_text_check_header("attachment name", filename, error))
        return FALSE;
    if (*filename == '\0' || strcmp(filename, ".") == 0 ||
        strcmp(filename, "..") == 0 || strchr(filename, '/') != NULL ||
        strchr(filename, '\\') != NULL) {
        g_autofree char *shown = cq_text_printable(filename);
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "attachment name '%s': must be a plain file name "
                    "without folder parts", shown);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_content_type(const char *type, GError **error)
{
    const char *slash = strchr(type, '/');
    gboolean ok = slash != NULL && slash != type && slash[1] != '\0';

    for (const char *p = type; ok && *p; p++) {
        if (p != slash && !g_ascii_isalnum(*p) &&
            strchr("!#$&-^_.+", *p) == NULL)
            ok = FALSE;
    }
    if (!ok)
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "content type '%s': expected type/subtype", type);
    return ok;
}

/* Opens @path for reading and checks that it is a regular file. */
static int
open_regular(const char *path, struct stat *st, GError **error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int err = errno;
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOINPUT,
                    "attachment '%s': %s", path,
                    err == ENOENT ? "no such file" : g_strerror(err));
        return -1;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOINPUT,
                    "attachment '%s': %s", path,
                    S_ISDIR(st->st_mode) ? "is a folder, not a file"
                                         : "is not a regular file");
        close(fd);
        return -1;
    }
    return fd;
}

static char *
detect_type(int fd, const char *filename)
{
    guchar head[SNIFF_BYTES];
    ssize_t n = pread(fd, head, sizeof head, 0);
    gboolean uncertain = FALSE;

    g_autofree char *guess = g_content_type_guess(
        filename, n > 0 ? head : NULL, n > 0 ? (gsize)n : 0, &uncertain);
    char *mime = g_content_type_get_mime_type(guess);
    if (mime == NULL || strchr(mime, '/') == NULL) {
        g_free(mime);
        return g_strdup("application/octet-stream");
    }
    return mime;
}

CqAttachment *
cq_message_add_attachment(CqMessage *message, const char *path,
                          const char *filename, const char *content_type,
                          gint64 max_size, GError **error)
{
    g_autofree char *base = g_path_get_basename(path);
    struct stat st;

    if (filename == NULL)
        filename = base;
    if (!check_filename(filename, error))
        return NULL;
    if (content_type != NULL && !check_content_type(content_type, error))
        return NULL;

    int fd = open_regular(path, &st, error);
    if (fd < 0)
        return NULL;
    if (max_size > 0 && st.st_size > max_size) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                    "attachment '%s': %" G_GINT64_FORMAT " bytes is over "
                    "the limit of %" G_GINT64_FORMAT,
                    path, (gint64)st.st_size, max_size);
        close(fd);
        return NULL;
    }

    CqAttachment *att = g_new0(CqAttachment, 1);
    att->path = g_strdup(path);
    att->filename = g_strdup(filename);
    att->content_type = content_type ? g_ascii_strdown(content_type, -1)
                                     : detect_type(fd, filename);
    att->size = st.st_size;
    close(fd);
    g_ptr_array_add(message->attachments, att);
    return att;
}

static gboolean
check_header_name(const char *name, GError **error)
{
    gboolean ok = *name != '\0' && strlen(name) <= 76;

    for (const char *p = name; ok && *p; p++)
        ok = *p > ' ' && *p < 0x7f && *p != ':';
    if (!ok) {
        g_autofree char *shown = cq_text_printable(name);
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "header name '%s': use printable ASCII without ':' or "
                    "spaces, at most 76 characters", shown);
        return FALSE;
    }
    for (guint i = 0; reserved_headers[i]; i++) {
        if (g_ascii_strcasecmp(name, reserved_headers[i]) == 0) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                        "header '%s': written by caqmail itself; use the "
                        "matching option instead", name);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
cq_message_add_header(CqMessage *message, const char *name,
                      const char *value, GError **error)
{
    if (!check_header_name(name, error))
        return FALSE;
    g_autofree char *what = g_strdup_printf("header '%s'", name);
    if (!cq_text_check_header(what, value, error))
        return FALSE;

    CqHeader *header = g_new0(CqHeader, 1);
    header->name = g_strdup(name);
    header->value = g_strdup(value);
    g_ptr_array_add(message->headers, header);
    return TRUE;
}

gboolean
cq_record_id_check(const char *record, GError **error)
{
    if (!cq_text_check_header("record identifier", record, error))
        return FALSE;
    glong chars = g_utf8_strlen(record, -1);
    gboolean ok = chars > 0 && chars <= MAX_RECORD_ID;
    for (const char *p = record; ok && *p; p++)
        ok = *p != ' ' && *p != '\t';
    if (!ok) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "record identifier '%s': use 1 to %d characters "
                    "without spaces", record, MAX_RECORD_ID);
    }
    return ok;
}

gboolean
cq_message_set_record(CqMessage *message, const char *record,
                      GError **error)
{
    if (record != NULL && !cq_record_id_check(record, error))
        return FALSE;
    g_free(message->record);
    message->record = g_strdup(record);
    return TRUE;
}

gboolean
cq_message_check(const CqMessage *message, GError **error)
{
    if (message->from == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "message has no sender");
        return FALSE;
    }
    if (message->recipients->len == 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "message has no recipient");
        return FALSE;
    }
    return TRUE;
}

gboolean
cq_message_needs_smtputf8(const CqMessage *message)
{
    if (message->from != NULL && message->from->smtputf8)
        return TRUE;
    for (guint i = 0; i < message->recipients->len; i++) {
        const CqRecipient *rcpt = message->recipients->pdata[i];
        if (rcpt->address->smtputf8)
            return TRUE;
    }
    return FALSE;
}
