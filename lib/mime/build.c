#include "mime/build.h"
#include "mime/build-private.h"

#include "common/error.h"
#include "common/text.h"
#include "mime/attachment-part.h"
#include "mime/digest-filter.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINE 998 /* RFC 5322 2.1.1, without the CRLF */

struct _CqMime {
    CqMessage *message;     /* borrowed; outlives us */
    GMimeMessage *mime;
    GPtrArray *digests;     /* CqDigestFilter per attachment */
    GMimeFormatOptions *format;
};

static gpointer
init_once(gpointer data)
{
    g_mime_init();
    return NULL;
}

void
cq_mime_init(void)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, init_once, NULL);
}

char *
cq_mime_normalize_lines(const char *text)
{
    GString *out = g_string_sized_new(strlen(text) + 1);

    for (const char *p = text; *p; p++) {
        if (*p == '\r') {
            g_string_append_c(out, '\n');
            if (p[1] == '\n')
                p++;
        } else {
            g_string_append_c(out, *p);
        }
    }
    if (out->len > 0 && out->str[out->len - 1] != '\n')
        g_string_append_c(out, '\n');
    return g_string_free(out, FALSE);
}

GMimeContentEncoding
cq_mime_text_encoding(const char *text, gboolean allow_8bit)
{
    gsize longest = 0, len = 0;
    gboolean eight = FALSE;

    for (const guchar *p = (const guchar *)text; *p; p++) {
        if (*p == '\n') {
            longest = MAX(longest, len);
            len = 0;
            continue;
        }
        eight |= *p >= 0x80;
        len++;
    }
    longest = MAX(longest, len);
    if (longest > MAX_LINE)
        return GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
    if (!eight)
        return GMIME_CONTENT_ENCODING_7BIT;
    return allow_8bit ? GMIME_CONTENT_ENCODING_8BIT
                      : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
}

static GMimeObject *
text_part(const char *subtype, const char *text, gboolean allow_8bit)
{
    GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);
    char *lines = cq_mime_normalize_lines(text);
    gsize len = strlen(lines);

    /* The bytes stay UTF-8: g_mime_text_part_set_text() would recode them
     * into the smallest charset that fits. */
    g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(
        lines, len);
    g_autoptr(GMimeDataWrapper) content = g_mime_data_wrapper_new_with_stream(
        stream, GMIME_CONTENT_ENCODING_DEFAULT);
    g_free(lines);
    g_mime_part_set_content(GMIME_PART(part), content);
    g_mime_text_part_set_charset(part, "utf-8");
    g_mime_part_set_content_encoding(
        GMIME_PART(part), cq_mime_text_encoding(text, allow_8bit));
    return GMIME_OBJECT(part);
}

static GMimeObject *
body_part(const CqMessage *message, gboolean allow_8bit)
{
    GMimeObject *plain = text_part("plain", message->text, allow_8bit);
    if (message->html == NULL)
        return plain;

    GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
    g_mime_multipart_set_epilogue(alt, "");
    GMimeObject *html = text_part("html", message->html, allow_8bit);
    g_mime_multipart_add(alt, plain);
    g_mime_multipart_add(alt, html);
    g_object_unref(plain);
    g_object_unref(html);
    return GMIME_OBJECT(alt);
}

static void
set_param_method(GMimeParamList *params, const char *name,
                 GMimeParamEncodingMethod method)
{
    GMimeParam *param = g_mime_param_list_get_parameter(params, name);
    if (param != NULL) {
        g_mime_param_set_encoding_method(param, method);
        g_mime_param_set_charset(param, "utf-8");
    }
}

/* Names the file twice: RFC 2231 for standard readers, RFC 2047 in
 * Content-Type's `name` for Outlook. */
static void
set_filename(GMimePart *part, const char *filename)
{
    GMimeObject *object = GMIME_OBJECT(part);

    g_mime_part_set_filename(part, filename);
    GMimeContentDisposition *disposition =
        g_mime_object_get_content_disposition(object);
    set_param_method(
        g_mime_content_disposition_get_parameters(disposition), "filename",
        GMIME_PARAM_ENCODING_METHOD_RFC2231);
    GMimeContentType *type = g_mime_object_get_content_type(object);
    set_param_method(g_mime_content_type_get_parameters(type), "name",
                     GMIME_PARAM_ENCODING_METHOD_RFC2047);
}

static int
open_attachment(const CqAttachment *att, GError **error)
{
    struct stat st;
    int fd = open(att->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOINPUT, "attachment '%s': %s",
                    att->path, g_strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_NOINPUT,
                    "attachment '%s': is not a regular file", att->path);
        close(fd);
        return -1;
    }
    return fd;
}

static GMimeObject *
attachment_part(CqMime *mime, CqAttachment *att, GError **error)
{
    int fd = open_attachment(att, error);
    if (fd < 0)
        return NULL;

    g_autoptr(GMimeContentType) type =
        g_mime_content_type_parse(NULL, att->content_type);
    /* The file is read through a checksum filter while it is written, so
     * the digest is of exactly the bytes that went out. */
    g_autoptr(GMimeStream) file = g_mime_stream_fs_new(fd);
    GMimeFilter *digest = cq_digest_filter_new();
    g_ptr_array_add(mime->digests, digest);
    GMimePart *part = cq_attachment_part_new(
        g_mime_content_type_get_media_type(type),
        g_mime_content_type_get_media_subtype(type), file, digest);
    set_filename(part, att->filename);
    return GMIME_OBJECT(part);
}

static GMimeObject *
content_tree(CqMime *mime, gboolean allow_8bit, GError **error)
{
    CqMessage *message = mime->message;
    GMimeObject *body = body_part(message, allow_8bit);

    if (message->attachments->len == 0)
        return body;

    GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
    g_mime_multipart_set_epilogue(mixed, "");
    g_mime_multipart_add(mixed, body);
    g_object_unref(body);
    for (guint i = 0; i < message->attachments->len; i++) {
        GMimeObject *part =
            attachment_part(mime, message->attachments->pdata[i], error);
        if (part == NULL) {
            g_object_unref(mixed);
            return NULL;
        }
        g_mime_multipart_add(mixed, part);
        g_object_unref(part);
    }
    return GMIME_OBJECT(mixed);
}

static InternetAddress *
mailbox(const CqAddress *address)
{
    g_autofree char *spec = cq_address_spec(address);
    InternetAddress *ia = internet_address_mailbox_new(address->name, spec);
    internet_address_set_charset(ia, "utf-8");
    return ia;
}

static void
add_addresses(GMimeMessage *mime, const CqMessage *message)
{
    InternetAddress *from = mailbox(message->from);
    internet_address_list_add(
        g_mime_message_get_addresses(mime, GMIME_ADDRESS_TYPE_FROM), from);
    g_object_unref(from); /* the list holds its own reference */

    for (guint i = 0; i < message->recipients->len; i++) {
        const CqRecipient *rcpt = message->recipients->pdata[i];
        GMimeAddressType type;
        if (rcpt->kind == CQ_RCPT_BCC)
            continue; /* Bcc stays in the envelope only */
        type = rcpt->kind == CQ_RCPT_TO ? GMIME_ADDRESS_TYPE_TO
                                        : GMIME_ADDRESS_TYPE_CC;
        InternetAddress *ia = mailbox(rcpt->address);
        internet_address_list_add(g_mime_message_get_addresses(mime, type),
                                  ia);
        g_object_unref(ia);
    }
}

const char *
cq_mime_id_domain(const CqMessage *message, const CqMimeOptions *options)
{
    if (options->message_id_domain != NULL)
        return options->message_id_domain;
    if (message->from->domain[0] != '[')
        return message->from->domain;
    return g_get_host_name();
}

char *
cq_mime_record_thread_id(const char *record, const char *domain)
{
    GString *id = g_string_new("caqmail.record.");

    for (const guchar *p = (const guchar *)record; *p; p++) {
        if (g_ascii_isalnum(*p) || *p == '-' || *p == '_')
            g_string_append_c(id, (char)*p);
        else
            g_string_append_printf(id, "=%02X", *p);
    }
    g_string_append_printf(id, "@%s", domain);
    return g_string_free(id, FALSE);
}

static gpointer
load_local_zone(gpointer data)
{
    return g_time_zone_new_local();
}

/* The local time zone, read once: reading it costs more than composing
 * a small message. */
static GTimeZone *
local_zone(void)
{
    static GOnce once = G_ONCE_INIT;
    return g_once(&once, load_local_zone, NULL);
}

void
cq_mime_assign_identity(CqMessage *message, const CqMimeOptions *options)
{
    if (message->message_id == NULL) {
        g_autofree char *uuid = g_uuid_string_random();
        g_autoptr(GString) compact = g_string_new(NULL);
        for (const char *p = uuid; *p; p++) {
            if (*p != '-')
                g_string_append_c(compact, *p);
        }
        message->message_id = g_strdup_printf(
            "%s@%s", compact->str, cq_mime_id_domain(message, options));
    }
    if (message->date == NULL)
        message->date = g_date_time_new_now(local_zone());
}

/* Encodes all of @text as RFC 2047 "B" words of at most 75 characters,
 * split on character boundaries and folded one word a line. */
static char *
encode_all_words(const char *text)
{
    GString *out = g_string_new(NULL);
    const char *p = text;

    while (*p) {
        const char *end = p;
        while (*end && end - p < 42)
            end = g_utf8_next_char(end);
        g_autofree char *b64 =
            g_base64_encode((const guchar *)p, (gsize)(end - p));
        g_string_append_printf(out, "%s=?UTF-8?B?%s?=",
                               out->len ? "\n " : " ", b64);
        p = end;
    }
    g_string_append_c(out, '\n');
    return g_string_free(out, FALSE);
}

/* GMime leaves text that looks like an encoded word as it is, and a
 * reader would then decode it; such a subject is encoded whole. */
static void
set_subject(GMimeMessage *mime, const char *subject)
{
    g_mime_message_set_subject(mime, subject, "utf-8");
    if (strstr(subject, "=?") == NULL)
        return;

    GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(mime));
    GMimeHeader *header = g_mime_header_list_get_header(list, "Subject");
    g_autofree char *raw = encode_all_words(subject);
    g_mime_header_set_raw_value(header, raw);
}

static void
add_headers(GMimeMessage *mime, const CqMessage *message,
            const CqMimeOptions *options)
{
    GMimeObject *object = GMIME_OBJECT(mime);

    g_mime_message_set_date(mime, message->date);
    add_addresses(mime, message);
    set_subject(mime, message->subject);
    g_mime_message_set_message_id(mime, message->message_id);

    if (message->record != NULL) {
        g_autofree char *root = cq_mime_record_thread_id(
            message->record, cq_mime_id_domain(message, options));
        g_autofree char *ref = g_strdup_printf("<%s>", root);
        g_mime_object_set_header(object, "References", ref, NULL);
        g_mime_object_set_header(object, "In-Reply-To", ref, NULL);
        g_mime_object_set_header(object, "X-Caqmail-Record",
                                 message->record, "utf-8");
    }
    if (cq_origin_is_automatic(message->origin))
        g_mime_object_set_header(object, "Auto-Submitted", "auto-generated",
                                 NULL);
    for (guint i = 0; i < message->headers->len; i++) {
        const CqHeader *header = message->headers->pdata[i];
        g_mime_object_append_header(object, header->name, header->value,
                                    "utf-8");
    }
}

/* A generous estimate of the composed size, to refuse early. */
static gint64
estimate_size(const CqMessage *message)
{
    gint64 size = 4096 + (gint64)strlen(message->text) * 3;

    if (message->html != NULL)
        size += (gint64)strlen(message->html) * 3;
    for (guint i = 0; i < message->attachments->len; i++) {
        const CqAttachment *att = message->attachments->pdata[i];
        size += (att->size + 56) / 57 * 78 + 512;
    }
    return size;
}

static gboolean
check_size(const CqMessage *message, const CqMimeOptions *options,
           GError **error)
{
    if (options->max_message_size <= 0)
        return TRUE;
    gint64 size = estimate_size(message);
    if (size <= options->max_message_size)
        return TRUE;
    g_set_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                "message of about %" G_GINT64_FORMAT " bytes is over the "
                "limit of %" G_GINT64_FORMAT " bytes",
                size, options->max_message_size);
    return FALSE;
}

gboolean
cq_mime_check(const CqMessage *message, const CqMimeOptions *options,
              GError **error)
{
    return cq_message_check(message, error) &&
           check_size(message, options, error);
}

CqMime *
cq_mime_build(CqMessage *message, const CqMimeOptions *options,
              GError **error)
{
    cq_mime_init();
    if (!cq_mime_check(message, options, error))
        return NULL;

    g_autoptr(CqMime) mime = g_new0(CqMime, 1);
    mime->message = message;
    mime->digests = g_ptr_array_new_with_free_func(g_object_unref);
    mime->format = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(mime->format,
                                             GMIME_NEWLINE_FORMAT_DOS);

    GMimeObject *body = content_tree(mime, options->allow_8bit, error);
    if (body == NULL)
        return NULL;
    mime->mime = g_mime_message_new(FALSE);
    g_mime_message_set_mime_part(mime->mime, body);
    g_object_unref(body);

    cq_mime_assign_identity(message, options);
    add_headers(mime->mime, message, options);
    return g_steal_pointer(&mime);
}

gboolean
cq_mime_write(CqMime *mime, GMimeStream *out, GError **error)
{
    errno = 0;
    if (g_mime_object_write_to_stream(GMIME_OBJECT(mime->mime), mime->format,
                                      out) < 0 ||
        g_mime_stream_flush(out) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                    "writing message <%s>: %s", mime->message->message_id,
                    errno ? g_strerror(errno) : "stream error");
        return FALSE;
    }

    GPtrArray *atts = mime->message->attachments;
    for (guint i = 0; i < atts->len; i++) {
        CqAttachment *att = atts->pdata[i];
        CqDigestFilter *digest = mime->digests->pdata[i];
        g_free(att->sha256);
        att->sha256 = cq_digest_filter_get_hex(digest);
        att->size = cq_digest_filter_get_size(digest);
    }
    return TRUE;
}

GBytes *
cq_mime_to_bytes(CqMime *mime, GError **error)
{
    g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();

    if (!cq_mime_write(mime, mem, error))
        return NULL;
    GByteArray *array = g_mime_stream_mem_get_byte_array(
        GMIME_STREAM_MEM(mem));
    return g_bytes_new(array->data, array->len);
}

GMimeMessage *
cq_mime_get_message(CqMime *mime)
{
    return mime->mime;
}

void
cq_mime_free(CqMime *mime)
{
    if (mime == NULL)
        return;
    g_clear_object(&mime->mime);
    g_clear_pointer(&mime->digests, g_ptr_array_unref);
    g_clear_pointer(&mime->format, g_mime_format_options_free);
    g_free(mime);
}
