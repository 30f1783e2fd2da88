/* Just enough of the OLE2 compound file format ([MS-CFB]) to tell the
 * legacy Office formats apart and to see whether they are protected by a
 * password: the sector allocation table, the directory, and the first
 * bytes of a stream.  Works on bytes in memory (a mapped file); every
 * sector number is checked, chains are bounded, so damaged or hostile
 * input is refused, never trusted.
 */
#ifndef CQ_ATTACH_OLE_H
#define CQ_ATTACH_OLE_H

#include <glib.h>

typedef struct {
    const guchar *data; /* the whole file, borrowed */
    gsize len;
    guint sector_shift;  /* 9 (512 bytes) or 12 (4096 bytes) */
    guint mini_shift;    /* 6 (64 bytes) */
    guint32 mini_cutoff; /* smaller streams live in the mini stream */
    guint32 *fat;        /* the allocation table, owned */
    gsize fat_len;
    guint32 dir_start;
    guint32 ministream_start; /* from the root entry */
} CqOle;

typedef struct {
    guint32 start; /* first sector (or mini sector) */
    guint64 size;
} CqOleStream;

/* Reads the header and allocation table of @data.  FALSE when @data is
 * not a compound file or is damaged.  Clear with cq_ole_clear(). */
gboolean cq_ole_open(CqOle *ole, const guchar *data, gsize len);
void cq_ole_clear(CqOle *ole);

/* Looks up a stream by its (ASCII) name anywhere in the directory. */
gboolean cq_ole_find(const CqOle *ole, const char *name, CqOleStream *stream);

/* Copies up to @len bytes from the start of @stream (at most one
 * sector) into @buf; returns how many bytes were copied. */
gsize cq_ole_read_head(const CqOle *ole, const CqOleStream *stream, guchar *buf,
                       gsize len);

#endif
