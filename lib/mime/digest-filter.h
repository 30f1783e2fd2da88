/* A pass-through GMime filter that computes the SHA-256 and the size of
 * what flows through it.
 *
 * A part resets it whenever it writes its content again, and may reset
 * it after writing too.  This filter keeps the last complete digest
 * across a reset and starts afresh only when data flows again, so the
 * digest can be read after the message was written. */
#ifndef CQ_MIME_DIGEST_FILTER_H
#define CQ_MIME_DIGEST_FILTER_H

#include "mime/gmime-util.h"

#define CQ_TYPE_DIGEST_FILTER (cq_digest_filter_get_type())
G_DECLARE_FINAL_TYPE(CqDigestFilter, cq_digest_filter, CQ, DIGEST_FILTER,
                     GMimeFilter)

GMimeFilter *cq_digest_filter_new(void);

/* The hex SHA-256 of the bytes of the last pass; newly allocated. */
char *cq_digest_filter_get_hex(CqDigestFilter *filter);

/* The number of bytes of the last pass. */
gint64 cq_digest_filter_get_size(CqDigestFilter *filter);

#endif
