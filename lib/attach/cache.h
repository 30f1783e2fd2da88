/* The cache of converted PDFs.
 *
 * A PDF is kept under the SHA-256 of its source and a variant that names
 * how it was converted (filters and options), in a folder per first two
 * hex digits: CACHE/ab/abcdef...-0123456789abcdef.pdf.  The same source
 * converted the same way is never converted twice.  Entries are written
 * to a temporary file in the same folder, flushed and renamed into place,
 * so readers see a whole PDF or none, and processes that convert the
 * same source at once simply write the same entry twice.
 */
#ifndef CQ_ATTACH_CACHE_H
#define CQ_ATTACH_CACHE_H

#include <glib.h>

/* The path of the entry for @source_sha256 and @variant, whether or not
 * it exists.  Newly allocated. */
char *cq_cache_path(const char *cache_dir, const char *source_sha256,
                    const char *variant);

/* Copies the PDF at @pdf into the cache as the entry at @entry_path
 * (from cq_cache_path()), atomically, and sets *@sha256 to the hex
 * SHA-256 of what was stored (newly allocated). */
gboolean cq_cache_store(const char *entry_path, const char *pdf,
                        char **sha256, GError **error);

/* The hex SHA-256 of the entry at @entry_path, or NULL when it cannot be
 * read.  Newly allocated. */
char *cq_cache_entry_sha256(const char *entry_path);

/* Copies everything from @in_fd to @out_fd, feeding @sum when it is not
 * NULL; errors name @what. */
gboolean cq_cache_copy_fd(int in_fd, int out_fd, GChecksum *sum,
                          const char *what, GError **error);

#endif
