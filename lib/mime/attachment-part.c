/* An attachment's part, written base64 in large blocks
 * (attachment-part.h). */
#include "mime/attachment-part.h"

#include <string.h>

/* Bytes a line of 76 base64 characters holds (RFC 2045 6.8). */
#define LINE_BYTES 57
#define LINE_CHARS 76
/* Lines encoded at a time. */
#define BLOCK_LINES 1024

struct _CqAttachmentPart {
    GMimePart parent;
    GMimeStream *file;
    GMimeFilter *digest;
};

G_DEFINE_TYPE(CqAttachmentPart, cq_attachment_part, GMIME_TYPE_PART)

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encodes @len bytes (at most a line) into @out, padded; returns the
 * characters written. */
static size_t
encode_line(const guint8 *in, size_t len, char *out)
{
    char *o = out;
    size_t i = 0;

    for (; i + 3 <= len; i += 3) {
        guint32 v = (guint32)in[i] << 16 | (guint32)in[i + 1] << 8 | in[i + 2];
        o[0] = alphabet[v >> 18];
        o[1] = alphabet[(v >> 12) & 63];
        o[2] = alphabet[(v >> 6) & 63];
        o[3] = alphabet[v & 63];
        o += 4;
    }
    if (i < len) {
        guint32 v = (guint32)in[i] << 16;
        if (i + 1 < len)
            v |= (guint32)in[i + 1] << 8;
        o[0] = alphabet[v >> 18];
        o[1] = alphabet[(v >> 12) & 63];
        o[2] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        o[3] = '=';
        o += 4;
    }
    return (size_t)(o - out);
}

/* Encodes @len bytes into lines, each ended by @newline; returns the
 * characters written. */
static size_t
encode_lines(const guint8 *in, size_t len, const char *newline,
             size_t newline_len, char *out)
{
    char *o = out;

    for (size_t done = 0; done < len; done += LINE_BYTES) {
        o += encode_line(in + done, MIN(LINE_BYTES, len - done), o);
        memcpy(o, newline, newline_len);
        o += newline_len;
    }
    return (size_t)(o - out);
}

/* Fills @buf from the file as far as it goes; the bytes read, 0 at its
 * end, -1 on an error. */
static ssize_t
read_block(CqAttachmentPart *self, guint8 *buf, size_t size)
{
    size_t have = 0;

    while (have < size) {
        ssize_t n =
            g_mime_stream_read(self->file, (char *)buf + have, size - have);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        char *out;
        size_t outlen, outprespace;
        g_mime_filter_filter(self->digest, (char *)buf + have, (size_t)n, 0,
                             &out, &outlen, &outprespace);
        have += (size_t)n;
    }
    return (ssize_t)have;
}

static ssize_t
write_content(CqAttachmentPart *self, const char *newline, GMimeStream *out)
{
    const size_t size = (size_t)LINE_BYTES * BLOCK_LINES;
    size_t newline_len = strlen(newline);
    g_autofree guint8 *in = g_malloc(size);
    g_autofree char *text =
        g_malloc((size_t)(LINE_CHARS + newline_len) * BLOCK_LINES);
    ssize_t total = 0, n;

    if (g_mime_stream_reset(self->file) != 0)
        return -1;
    g_mime_filter_reset(self->digest);
    do {
        if ((n = read_block(self, in, size)) < 0)
            return -1;
        size_t len = encode_lines(in, (size_t)n, newline, newline_len, text);
        if (len > 0 && g_mime_stream_write(out, text, len) != (ssize_t)len)
            return -1;
        total += (ssize_t)len;
    } while ((size_t)n == size);
    return total;
}

/* As GMimePart writes itself: headers, an empty line, the content. */
static ssize_t
write_to_stream(GMimeObject *object, GMimeFormatOptions *options,
                gboolean content_only, GMimeStream *stream)
{
    CqAttachmentPart *self = CQ_ATTACHMENT_PART(object);
    const char *newline = g_mime_format_options_get_newline(options);
    ssize_t total = 0, n;

    if (!content_only) {
        n = g_mime_header_list_write_to_stream(object->headers, options,
                                               stream);
        if (n < 0 || g_mime_stream_write_string(stream, newline) < 0)
            return -1;
        total += n + (ssize_t)strlen(newline);
    }
    if ((n = write_content(self, newline, stream)) < 0)
        return -1;
    return total + n;
}

static void
dispose(GObject *object)
{
    CqAttachmentPart *self = CQ_ATTACHMENT_PART(object);

    g_clear_object(&self->file);
    g_clear_object(&self->digest);
    G_OBJECT_CLASS(cq_attachment_part_parent_class)->dispose(object);
}

static void
cq_attachment_part_class_init(CqAttachmentPartClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = dispose;
    GMIME_OBJECT_CLASS(klass)->write_to_stream = write_to_stream;
}

static void
cq_attachment_part_init(CqAttachmentPart *self)
{
}

GMimePart *
cq_attachment_part_new(const char *media, const char *subtype,
                       GMimeStream *file, GMimeFilter *digest)
{
    CqAttachmentPart *self = g_object_new(CQ_TYPE_ATTACHMENT_PART, NULL);
    GMimePart *part = GMIME_PART(self);
    g_autoptr(GMimeContentType) type = g_mime_content_type_new(media, subtype);
    g_autoptr(GMimeDataWrapper) content = g_mime_data_wrapper_new_with_stream(
        file, GMIME_CONTENT_ENCODING_DEFAULT);

    self->file = g_object_ref(file);
    self->digest = g_object_ref(digest);
    g_mime_object_set_content_type(GMIME_OBJECT(part), type);
    g_mime_part_set_content(part, content);
    g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
    return part;
}
