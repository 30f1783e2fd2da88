/* Little-endian integers read from untrusted bytes; callers check the
 * bounds first. */
#ifndef CQ_ATTACH_BYTES_H
#define CQ_ATTACH_BYTES_H

#include <glib.h>

static inline guint16
cq_le16(const guchar *p)
{
    return (guint16)(p[0] | p[1] << 8);
}

static inline guint32
cq_le32(const guchar *p)
{
    return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 |
           (guint32)p[3] << 24;
}

static inline guint64
cq_le64(const guchar *p)
{
    return (guint64)cq_le32(p) | (guint64)cq_le32(p + 4) << 32;
}

#endif
