#include "smtp/body.h"

#include "common/error.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 65536

typedef struct {
    CqSmtpSinkFunc func;
    gpointer sink;
    gboolean line_start; /* the next byte starts a line */
    gboolean after_cr;   /* the last byte was CR */
    gint64 bytes;
} Stuffer;

static void
emit(Stuffer *st, const char *data, gsize len)
{
    st->func(st->sink, data, len);
    st->bytes += (gint64)len;
}

/* Copies @len bytes of @data, doubling a "." at a line start and writing
 * CR before an LF that lacks one. */
static void
stuff(Stuffer *st, const char *data, gsize len)
{
    const char *p = data, *end = data + len;

    while (p < end) {
        if (st->line_start && *p == '.')
            emit(st, ".", 1);
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        const char *stop = nl ? nl : end;
        if (nl != NULL && (nl > p ? nl[-1] != '\r' : !st->after_cr)) {
            emit(st, p, (gsize)(nl - p));
            emit(st, "\r\n", 2);
        } else {
            emit(st, p, (gsize)(stop - p) + (nl ? 1 : 0));
        }
        st->after_cr = nl == NULL && stop > p && stop[-1] == '\r';
        st->line_start = nl != NULL;
        p = nl ? nl + 1 : end;
    }
}

gboolean
cq_smtp_body_copy(GMimeStream *message, CqSmtpSinkFunc func, gpointer sink,
                  gint64 *bytes, GError **error)
{
    Stuffer st = {.func = func, .sink = sink, .line_start = TRUE};
    char *block = g_malloc(BLOCK);
    gboolean ok = TRUE;

    /* A bounded stream (a substream) says -1 at its end, not 0. */
    while (!g_mime_stream_eos(message)) {
        errno = 0;
        gssize n = g_mime_stream_read(message, block, BLOCK);
        if (n < 0 && g_mime_stream_eos(message))
            break;
        if (n < 0) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                        "reading the message: %s",
                        errno ? g_strerror(errno) : "stream error");
            ok = FALSE;
            break;
        }
        if (n == 0)
            break;
        stuff(&st, block, (gsize)n);
    }
    g_free(block);
    if (ok && !st.line_start) /* the last line gets its line end */
        emit(&st, st.after_cr ? "\n" : "\r\n", st.after_cr ? 1 : 2);
    *bytes = st.bytes;
    return ok;
}

static void
queue_sink(gpointer sink, const char *data, gsize len)
{
    cq_smtp_conn_queue_data(sink, data, len);
}

gboolean
cq_smtp_body_queue(CqSmtpConn *conn, GMimeStream *message, gint64 *bytes,
                   GError **error)
{
    if (!cq_smtp_body_copy(message, queue_sink, conn, bytes, error))
        return FALSE;
    cq_smtp_conn_queue_data(conn, ".\r\n", 3);
    return TRUE;
}

GMimeStream *
cq_smtp_body_downgrade(GMimeStream *message, GError **error)
{
    g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(message);
    g_autofree char *path = NULL;

    cq_mime_init();
    g_mime_parser_set_persist_stream(parser, TRUE);
    g_autoptr(GMimeMessage) parsed =
        g_mime_parser_construct_message(parser, NULL);
    if (parsed == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_INVALID,
                    "the message to re-encode as 7-bit is not MIME");
        return NULL;
    }
    g_mime_object_encode(GMIME_OBJECT(parsed),
                         GMIME_ENCODING_CONSTRAINT_7BIT);
    int fd = g_file_open_tmp("caqmail-7bit-XXXXXX", &path, NULL);
    if (fd < 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                    "temporary file for the 7-bit message: %s",
                    g_strerror(errno));
        return NULL;
    }
    unlink(path);
    GMimeStream *out = g_mime_stream_fs_new(fd);
    GMimeFormatOptions *format = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(format,
                                             GMIME_NEWLINE_FORMAT_DOS);
    gssize written =
        g_mime_object_write_to_stream(GMIME_OBJECT(parsed), format, out);
    g_mime_format_options_free(format);
    if (written < 0 || g_mime_stream_flush(out) != 0 ||
        g_mime_stream_reset(out) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                    "writing the 7-bit message failed");
        g_object_unref(out);
        return NULL;
    }
    return out;
}
