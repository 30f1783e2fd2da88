/* The MIME part of an attached file, written base64 in large blocks.
 *
 * GMime writes a base64 part through its encoder and then a newline
 * filter that looks at every encoded byte alone: for a large attachment
 * the two take most of the time of composing the message.  This part
 * encodes whole lines with their line ends at once and writes the same
 * bytes GMime would (76 characters a line, a line end after the last
 * one).  Everything else (headers, parsing, size) is GMimePart's own:
 * the part's content is the file, as a data wrapper. */
#ifndef CQ_MIME_ATTACHMENT_PART_H
#define CQ_MIME_ATTACHMENT_PART_H

#include "mime/gmime-util.h"

#define CQ_TYPE_ATTACHMENT_PART (cq_attachment_part_get_type())
G_DECLARE_FINAL_TYPE(CqAttachmentPart, cq_attachment_part, CQ, ATTACHMENT_PART,
                     GMimePart)

/* A part of type @media/@subtype, Content-Transfer-Encoding base64,
 * whose content is @file, read from its start each time the part is
 * written.  @digest (a filter, see digest-filter.h) is reset and then
 * passed every byte read. */
GMimePart *cq_attachment_part_new(const char *media, const char *subtype,
                                  GMimeStream *file, GMimeFilter *digest);

#endif
