/* SHA-256 for attachments, raw messages and the history chain.  The hash
 * is computed by OpenSSL, which uses the processor's SHA instructions where
 * it has them; like TLS, it lives here so that no other folder calls
 * OpenSSL. */
#ifndef CQ_TLS_DIGEST_H
#define CQ_TLS_DIGEST_H

#include <glib.h>

typedef struct _CqSha256 CqSha256;

CqSha256 *cq_sha256_new(void);
void cq_sha256_update(CqSha256 *sha, const void *data, gsize len);
/* The lower-case hex digest of everything given so far; newly
 * allocated.  The hash may not be updated afterwards. */
char *cq_sha256_hex(CqSha256 *sha);
/* The hex digest of everything given so far, leaving the hash open for
 * more data; newly allocated. */
char *cq_sha256_peek_hex(const CqSha256 *sha);
/* Starts over as if newly created. */
void cq_sha256_reset(CqSha256 *sha);
void cq_sha256_free(CqSha256 *sha);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqSha256, cq_sha256_free)

/* Readies OpenSSL's SHA-256 for this process, so that from now on
 * every hash, however small, runs on the processor's SHA instructions:
 * for callers about to hash many short inputs (a batch of mails and
 * their history entries), where the one-time cost pays off. */
void cq_sha256_prepare(void);

/* The hex SHA-256 of @len bytes; newly allocated. */
char *cq_sha256_of(const void *data, gsize len);

#endif
