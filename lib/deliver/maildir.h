/* Local delivery into a Maildir, the transport used when no SMTP server is
 * configured.  A message is written to tmp/, flushed to disk, and then
 * linked into new/, so that a reader never sees a partial file and a crash
 * leaves at most a stray file in tmp/.  Line ends are written as LF, as
 * mail programs expect of a Maildir. */
#ifndef CQ_DELIVER_MAILDIR_H
#define CQ_DELIVER_MAILDIR_H

#include "mime/build.h"

/* Creates @maildir with tmp/, new/ and cur/ (mode 0700) when missing. */
gboolean cq_maildir_ensure(const char *maildir, GError **error);

/* Delivers @mime into @maildir and returns the path of the new file. */
char *cq_maildir_deliver(const char *maildir, CqMime *mime, GError **error);

/* Delivers a composed message read from @raw (CRLF line ends). */
char *cq_maildir_deliver_stream(const char *maildir, GMimeStream *raw,
                                GError **error);

/* Delivers the bytes of a composed message (CRLF line ends). */
char *cq_maildir_deliver_bytes(const char *maildir, GBytes *raw,
                               GError **error);

#endif
