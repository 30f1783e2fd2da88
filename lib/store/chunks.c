#include "store/chunks.h"

#include "common/error.h"
#include "tls/digest.h"

#include <string.h>

#define CQ_TYPE_CHUNK_STREAM (cq_chunk_stream_get_type())
G_DECLARE_FINAL_TYPE(CqChunkStream, cq_chunk_stream, CQ, CHUNK_STREAM,
                     GMimeStream)

/* The statements of each chunk table: insert (owner, seq, data), and
 * select data by owner and seq. */
static const struct {
    const char *insert;
    const char *select;
} tables[] = {
    [CQ_CHUNKS_MAIL] = {"INSERT INTO mail_chunk (mail_id, seq, data)"
                        " VALUES (?, ?, ?)",
                        "SELECT data FROM mail_chunk"
                        " WHERE mail_id = ? AND seq = ?"},
    [CQ_CHUNKS_DOCUMENT] = {"INSERT INTO document_chunk (content_id, seq,"
                            " data) VALUES (?, ?, ?)",
                            "SELECT data FROM document_chunk"
                            " WHERE content_id = ? AND seq = ?"},
};

struct _CqChunkStream {
    GMimeStream parent;
    CqStore *store;
    CqChunkTable table;
    gint64 owner;
    gboolean writing;
    GByteArray *buffer; /* the chunk being filled or read */
    gsize offset;       /* read position within buffer */
    gint64 seq;         /* next chunk to write or read */
    gboolean eos;
    CqSha256 *checksum; /* writer only */
    gint64 size;        /* written so far, or the known total */
    GError *error;      /* the first failure */
};

G_DEFINE_TYPE(CqChunkStream, cq_chunk_stream, GMIME_TYPE_STREAM)

static gboolean
flush_chunk(CqChunkStream *self)
{
    if (self->buffer->len == 0 || self->error != NULL)
        return self->error == NULL;

    CqStmt *stmt =
        cq_store_stmt(self->store, tables[self->table].insert, &self->error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, self->owner);
    cq_stmt_bind_int(stmt, 2, self->seq);
    cq_stmt_bind_blob(stmt, 3, self->buffer->data, self->buffer->len);
    if (!cq_stmt_run(stmt, &self->error))
        return FALSE;
    self->seq++;
    g_byte_array_set_size(self->buffer, 0);
    return TRUE;
}

static ssize_t
stream_write(GMimeStream *stream, const char *buf, size_t len)
{
    CqChunkStream *self = CQ_CHUNK_STREAM(stream);
    size_t done = 0;

    if (!self->writing || self->error != NULL)
        return -1;
    cq_sha256_update(self->checksum, buf, len);
    self->size += (gint64)len;
    while (done < len) {
        size_t room = CQ_CHUNK_SIZE - self->buffer->len;
        size_t n = MIN(room, len - done);
        g_byte_array_append(self->buffer, (const guint8 *)buf + done, (guint)n);
        done += n;
        if (self->buffer->len == CQ_CHUNK_SIZE && !flush_chunk(self))
            return -1;
    }
    stream->position += (gint64)len;
    return (ssize_t)len;
}

/* Loads the next chunk; FALSE at the end or on failure. */
static gboolean
load_chunk(CqChunkStream *self)
{
    CqStmt *stmt =
        cq_store_stmt(self->store, tables[self->table].select, &self->error);
    if (stmt == NULL)
        return FALSE;
    cq_stmt_bind_int(stmt, 1, self->owner);
    cq_stmt_bind_int(stmt, 2, self->seq);
    CqStep step = cq_stmt_step(stmt, &self->error);
    g_byte_array_set_size(self->buffer, 0);
    self->offset = 0;
    if (step == CQ_STEP_ROW) {
        gsize len = 0;
        const void *data = cq_stmt_blob(stmt, 0, &len);
        g_byte_array_append(self->buffer, data, (guint)len);
        self->seq++;
    } else if (step == CQ_STEP_DONE) {
        self->eos = TRUE;
    }
    cq_stmt_reset(stmt);
    return step == CQ_STEP_ROW;
}

static ssize_t
stream_read(GMimeStream *stream, char *buf, size_t len)
{
    CqChunkStream *self = CQ_CHUNK_STREAM(stream);

    if (self->writing || self->error != NULL)
        return -1;
    while (self->offset >= self->buffer->len) {
        if (self->eos)
            return 0;
        if (!load_chunk(self))
            return self->error != NULL ? -1 : 0;
    }
    size_t n = MIN(len, self->buffer->len - self->offset);
    memcpy(buf, self->buffer->data + self->offset, n);
    self->offset += n;
    stream->position += (gint64)n;
    return (ssize_t)n;
}

static int
stream_flush(GMimeStream *stream)
{
    return CQ_CHUNK_STREAM(stream)->error != NULL ? -1 : 0;
}

static int
stream_close(GMimeStream *stream)
{
    return 0;
}

static gboolean
stream_eos(GMimeStream *stream)
{
    CqChunkStream *self = CQ_CHUNK_STREAM(stream);
    return self->eos && self->offset >= self->buffer->len;
}

static int
stream_reset(GMimeStream *stream)
{
    CqChunkStream *self = CQ_CHUNK_STREAM(stream);

    if (self->writing)
        return -1;
    self->seq = 0;
    self->eos = FALSE;
    self->offset = 0;
    g_byte_array_set_size(self->buffer, 0);
    stream->position = 0;
    return 0;
}

static gint64
stream_seek(GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
    return -1;
}

static gint64
stream_tell(GMimeStream *stream)
{
    return stream->position;
}

static gint64
stream_length(GMimeStream *stream)
{
    CqChunkStream *self = CQ_CHUNK_STREAM(stream);
    return self->writing || self->size <= 0 ? -1 : self->size;
}

static GMimeStream *
stream_substream(GMimeStream *stream, gint64 start, gint64 end)
{
    return NULL;
}

static void
finalize(GObject *object)
{
    CqChunkStream *self = CQ_CHUNK_STREAM(object);

    g_byte_array_unref(self->buffer);
    g_clear_pointer(&self->checksum, cq_sha256_free);
    g_clear_error(&self->error);
    G_OBJECT_CLASS(cq_chunk_stream_parent_class)->finalize(object);
}

static void
cq_chunk_stream_class_init(CqChunkStreamClass *klass)
{
    GMimeStreamClass *stream = GMIME_STREAM_CLASS(klass);

    G_OBJECT_CLASS(klass)->finalize = finalize;
    stream->read = stream_read;
    stream->write = stream_write;
    stream->flush = stream_flush;
    stream->close = stream_close;
    stream->eos = stream_eos;
    stream->reset = stream_reset;
    stream->seek = stream_seek;
    stream->tell = stream_tell;
    stream->length = stream_length;
    stream->substream = stream_substream;
}

static void
cq_chunk_stream_init(CqChunkStream *self)
{
    self->buffer = g_byte_array_sized_new(CQ_CHUNK_SIZE);
}

static GMimeStream *
chunk_stream_new(CqStore *store, CqChunkTable table, gint64 owner,
                 gboolean writing)
{
    cq_mime_init();
    CqChunkStream *self = g_object_new(CQ_TYPE_CHUNK_STREAM, NULL);
    g_mime_stream_construct(GMIME_STREAM(self), 0, -1);
    self->store = store;
    self->table = table;
    self->owner = owner;
    self->writing = writing;
    if (writing)
        self->checksum = cq_sha256_new();
    return GMIME_STREAM(self);
}

GMimeStream *
cq_chunk_writer_new_for(CqStore *store, CqChunkTable table, gint64 owner)
{
    return chunk_stream_new(store, table, owner, TRUE);
}

GMimeStream *
cq_chunk_reader_new_for(CqStore *store, CqChunkTable table, gint64 owner)
{
    return chunk_stream_new(store, table, owner, FALSE);
}

GMimeStream *
cq_chunk_writer_new(CqStore *store, gint64 mail_id)
{
    return chunk_stream_new(store, CQ_CHUNKS_MAIL, mail_id, TRUE);
}

GMimeStream *
cq_chunk_reader_new(CqStore *store, gint64 mail_id)
{
    return chunk_stream_new(store, CQ_CHUNKS_MAIL, mail_id, FALSE);
}

gboolean
cq_chunk_writer_finish(GMimeStream *writer, gint64 *size, char **sha256,
                       GError **error)
{
    CqChunkStream *self = CQ_CHUNK_STREAM(writer);

    if (!flush_chunk(self)) {
        g_propagate_error(error, g_error_copy(self->error));
        return FALSE;
    }
    *size = self->size;
    *sha256 = cq_sha256_hex(self->checksum);
    return TRUE;
}

void
cq_chunk_reader_set_length(GMimeStream *reader, gint64 length)
{
    CQ_CHUNK_STREAM(reader)->size = length;
}

const GError *
cq_chunk_reader_error(GMimeStream *reader)
{
    return CQ_CHUNK_STREAM(reader)->error;
}

gboolean
cq_chunks_digest(CqStore *store, gint64 mail_id, gint64 *size, char **sha256,
                 GError **error)
{
    g_autoptr(GMimeStream) reader = cq_chunk_reader_new(store, mail_id);
    g_autoptr(CqSha256) checksum = cq_sha256_new();
    char buf[16384];
    ssize_t n;

    *size = 0;
    while ((n = g_mime_stream_read(reader, buf, sizeof buf)) > 0) {
        cq_sha256_update(checksum, buf, (gsize)n);
        *size += n;
    }
    if (n < 0) {
        g_propagate_error(error, g_error_copy(cq_chunk_reader_error(reader)));
        return FALSE;
    }
    *sha256 = cq_sha256_hex(checksum);
    return TRUE;
}
