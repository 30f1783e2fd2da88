/* Checks for text that goes into a message header or a protocol line. */
#ifndef CQ_COMMON_TEXT_H
#define CQ_COMMON_TEXT_H

#include <glib.h>

/* Accepts @value for a header when it is valid UTF-8 without line breaks
 * or other control characters (a tab is allowed).  Otherwise fails with
 * CQ_ERROR_INVALID and a message that names @what ("subject", "display
 * name") and what was wrong.  A line break in a header is what header
 * injection needs, so it is never repaired, only refused. */
gboolean cq_text_check_header(const char *what, const char *value,
                              GError **error);

/* TRUE when @text holds any byte above 0x7f. */
gboolean cq_text_is_8bit(const char *text);

/* A copy of @text that is safe to put into an error message or a log
 * line: control characters are written as \xNN and invalid UTF-8 bytes
 * as \xNN, everything else is kept.  Newly allocated. */
char *cq_text_printable(const char *text);

/* Lower-cases ASCII letters of @text in place and returns it. */
char *cq_text_ascii_down(char *text);

#endif
