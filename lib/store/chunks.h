/* Large contents kept in the store in fixed-size chunks: the raw message
 * of a mail (table mail_chunk) and the content of a stored document
 * (document_chunk), so that either, of any size, is written and read with
 * bounded memory, the same way on every backend.
 *
 * A writer is a GMimeStream that cq_mime_write() writes into: every full
 * chunk becomes a row at once, and the stream keeps the size and SHA-256
 * of everything written.  A reader is a GMimeStream over the rows of one
 * owner, fetching one chunk at a time.  Both belong to the caller (unref
 * them); the store must outlive them.
 */
#ifndef CQ_STORE_CHUNKS_H
#define CQ_STORE_CHUNKS_H

#include "mime/gmime-util.h"
#include "store/store.h"

#define CQ_CHUNK_SIZE (256 * 1024)

/* Whose chunks a stream reads or writes. */
typedef enum {
    CQ_CHUNKS_MAIL,     /* mail_chunk, by mail id */
    CQ_CHUNKS_DOCUMENT, /* document_chunk, by document_content id */
} CqChunkTable;

/* Writers and readers of @table's chunks of @owner, as those of mails
 * below. */
GMimeStream *cq_chunk_writer_new_for(CqStore *store, CqChunkTable table,
                                     gint64 owner);
GMimeStream *cq_chunk_reader_new_for(CqStore *store, CqChunkTable table,
                                     gint64 owner);

/* Writes the chunks of mail @mail_id; the caller holds a write
 * transaction until the writer is finished. */
GMimeStream *cq_chunk_writer_new(CqStore *store, gint64 mail_id);

/* Writes the last partial chunk and gives the total size and the hex
 * SHA-256 (newly allocated) of the bytes written.  A failure of any
 * earlier write is reported here too. */
gboolean cq_chunk_writer_finish(GMimeStream *writer, gint64 *size,
                                char **sha256, GError **error);

/* Reads the chunks of mail @mail_id in order.  A read error (a missing
 * chunk, a database failure) makes read() return -1; the reason is then
 * in cq_chunk_reader_error(). */
GMimeStream *cq_chunk_reader_new(CqStore *store, gint64 mail_id);
const GError *cq_chunk_reader_error(GMimeStream *reader);
/* Tells the reader the total size, which g_mime_stream_length() then
 * reports (a client announces it with SIZE=). */
void cq_chunk_reader_set_length(GMimeStream *reader, gint64 length);

/* Computes the size and hex SHA-256 of the stored chunks of @mail_id. */
gboolean cq_chunks_digest(CqStore *store, gint64 mail_id, gint64 *size,
                          char **sha256, GError **error);

#endif
