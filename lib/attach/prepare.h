/* Preparing attachments: the step between composing a message and
 * building its MIME.  On request, attachments are converted to PDF, so
 * that the recipient gets a file that opens everywhere.
 *
 * A converted attachment points at its PDF in the conversion cache, is
 * named like its source with ".pdf" instead of the source's extension,
 * has the type application/pdf and keeps the SHA-256 of its source in
 * source_sha256 (its `source` stays as it was); the SHA-256 of the PDF
 * itself is filled in when the message is written, as for any
 * attachment.  An attachment that already is a PDF is left as it is.
 */
#ifndef CQ_ATTACH_PREPARE_H
#define CQ_ATTACH_PREPARE_H

#include "attach/convert.h"
#include "compose/message.h"

/* Replaces @attachment by its PDF.  The PDF must not be larger than
 * @max_size bytes (0: no limit).  On failure @attachment is unchanged and
 * the message names it. */
gboolean cq_attach_to_pdf(const CqConvertOptions *options,
                          CqAttachment *attachment, gint64 max_size,
                          GError **error);

/* Converts every attachment of @message that is not a PDF.  All or
 * nothing: when one fails, the message is unchanged. */
gboolean cq_attach_all_to_pdf(const CqConvertOptions *options,
                              CqMessage *message, gint64 max_size,
                              GError **error);

#endif
