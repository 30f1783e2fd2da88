/* What the general composer (build.c) shares with the direct one
 * (simple.c), which must write exactly the same bytes. */
#ifndef CQ_MIME_BUILD_PRIVATE_H
#define CQ_MIME_BUILD_PRIVATE_H

#include "mime/build.h"

/* Converts CRLF and lone CR to LF and makes @text end with a line end;
 * newly allocated.  The writer turns every LF into CRLF. */
char *cq_mime_normalize_lines(const char *text);

/* The transfer encoding of a text part: 7bit, 8bit when allowed, or
 * quoted-printable for other bytes and lines over 998 octets. */
GMimeContentEncoding cq_mime_text_encoding(const char *text,
                                           gboolean allow_8bit);

/* The domain of generated Message-IDs; borrowed. */
const char *cq_mime_id_domain(const CqMessage *message,
                              const CqMimeOptions *options);

/* Gives @message a Message-ID and a Date when it has none. */
void cq_mime_assign_identity(CqMessage *message,
                             const CqMimeOptions *options);

/* Whether @message may be composed: complete, and under the size limit
 * of @options. */
gboolean cq_mime_check(const CqMessage *message, const CqMimeOptions *options,
                       GError **error);

#endif
