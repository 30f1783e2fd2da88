#include "attach/cache.h"

#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#define COPY_BLOCK (64 * 1024)

char *
cq_cache_path(const char *cache_dir, const char *source_sha256,
              const char *variant)
{
    g_autofree char *prefix = g_strndup(source_sha256, 2);
    g_autofree char *name =
        g_strdup_printf("%s-%s.pdf", source_sha256, variant);
    return g_build_filename(cache_dir, prefix, name, NULL);
}

static gboolean
write_all(int fd, const char *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

gboolean
cq_cache_copy_fd(int in_fd, int out_fd, GChecksum *sum, const char *what,
                 GError **error)
{
    g_autofree char *buf = g_malloc(COPY_BLOCK);

    for (;;) {
        ssize_t n = read(in_fd, buf, COPY_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "%s: %s", what,
                        g_strerror(errno));
            return FALSE;
        }
        if (n == 0)
            return TRUE;
        if (sum != NULL)
            g_checksum_update(sum, (const guchar *)buf, n);
        if (!write_all(out_fd, buf, (gsize)n)) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "%s: %s", what,
                        g_strerror(errno));
            return FALSE;
        }
    }
}

static int
open_temp(const char *folder, char **tmp_path, GError **error)
{
    if (g_mkdir_with_parents(folder, 0700) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "conversion cache '%s': %s",
                    folder, g_strerror(errno));
        return -1;
    }
    *tmp_path = g_build_filename(folder, ".tmp-XXXXXX", NULL);
    int fd = g_mkstemp_full(*tmp_path, O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "conversion cache '%s': %s",
                    folder, g_strerror(errno));
    return fd;
}

gboolean
cq_cache_store(const char *entry_path, const char *pdf, char **sha256,
               GError **error)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree char *folder = g_path_get_dirname(entry_path);
    g_autofree char *tmp = NULL;
    gboolean ok = FALSE;
    int in = -1, out = -1;

    in = open(pdf, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "PDF '%s': %s", pdf,
                    g_strerror(errno));
        return FALSE;
    }
    out = open_temp(folder, &tmp, error);
    if (out < 0)
        goto out;
    if (!cq_cache_copy_fd(in, out, sum, entry_path, error))
        goto out;
    int synced = fsync(out), closed = close(out);
    out = -1;
    if (synced != 0 || closed != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "conversion cache '%s': %s",
                    entry_path, g_strerror(errno));
        goto out;
    }
    if (g_rename(tmp, entry_path) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "conversion cache '%s': %s",
                    entry_path, g_strerror(errno));
        goto out;
    }
    *sha256 = g_strdup(g_checksum_get_string(sum));
    ok = TRUE;
out:
    if (out >= 0)
        close(out);
    if (!ok && tmp != NULL)
        g_unlink(tmp);
    close(in);
    return ok;
}

char *
cq_cache_entry_sha256(const char *entry_path)
{
    g_autoptr(GMappedFile) map = g_mapped_file_new(entry_path, FALSE, NULL);
    if (map == NULL)
        return NULL;
    return g_compute_checksum_for_data(
        G_CHECKSUM_SHA256, (const guchar *)g_mapped_file_get_contents(map),
        g_mapped_file_get_length(map));
}
