/* Just enough of the ZIP format (PKWARE's APPNOTE) to tell an Office Open
 * XML or OpenDocument file from other archives: the central directory,
 * ZIP64 end records, and stored or deflated members read into memory up
 * to a bound.  Works on bytes in memory (a mapped file); every offset
 * read from the archive is checked against its length, so damaged or
 * hostile input is refused, never trusted.
 */
#ifndef CQ_ATTACH_ZIP_H
#define CQ_ATTACH_ZIP_H

#include <glib.h>

typedef struct {
    const guchar *data; /* the whole archive, borrowed */
    gsize len;
    guint64 cd_offset; /* central directory */
    guint64 cd_size;
    guint64 entries;
} CqZip;

typedef struct {
    guint16 method; /* 0 stored, 8 deflated */
    guint16 flags;  /* bit 0: the member is encrypted */
    guint64 packed_size;
    guint64 size;
    guint64 local_offset; /* of the member's local header */
} CqZipEntry;

/* Finds the central directory of @data.  FALSE when there is none or it
 * lies outside the data: the archive is damaged or truncated. */
gboolean cq_zip_open(CqZip *zip, const guchar *data, gsize len);

/* Looks @name up in the central directory.  FALSE when it is missing or
 * the directory is damaged. */
gboolean cq_zip_find(const CqZip *zip, const char *name, CqZipEntry *entry);

/* The contents of @entry, at most @max bytes once unpacked; NULL when the
 * member is damaged, encrypted, larger than @max or packed with a method
 * other than stored or deflated.  Free with g_bytes_unref(). */
GBytes *cq_zip_read(const CqZip *zip, const CqZipEntry *entry, gsize max);

#endif
