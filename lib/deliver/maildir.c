#include "deliver/maildir.h"

#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

gboolean
cq_maildir_ensure(const char *maildir, GError **error)
{
    static const char *const subdirs[] = {"tmp", "new", "cur"};

    for (guint i = 0; i < G_N_ELEMENTS(subdirs); i++) {
        g_autofree char *path = g_build_filename(maildir, subdirs[i], NULL);
        if (g_mkdir_with_parents(path, 0700) != 0) {
            g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "maildir '%s': %s",
                        path, g_strerror(errno));
            return FALSE;
        }
    }
    return TRUE;
}

/* A name unique on this host: time, microseconds, process and counter,
 * then the host name with '/' and ':' replaced (Maildir convention). */
static char *
unique_name(void)
{
    static gint counter;
    gint64 now = g_get_real_time();
    g_autofree char *host = g_strdup(g_get_host_name());

    g_strdelimit(host, "/:", '_');
    return g_strdup_printf("%" G_GINT64_FORMAT ".M%06dP%dQ%d.%s",
                           now / G_USEC_PER_SEC, (int)(now % G_USEC_PER_SEC),
                           (int)getpid(), g_atomic_int_add(&counter, 1),
                           host);
}

typedef gboolean (*WriteFunc)(GMimeStream *out, gpointer data,
                              GError **error);

static gboolean
write_file(int fd, WriteFunc write_func, gpointer data, GError **error)
{
    g_autoptr(GMimeStream) file = g_mime_stream_fs_new(fd);
    g_mime_stream_fs_set_owner(GMIME_STREAM_FS(file), FALSE);
    g_autoptr(GMimeStream) out = g_mime_stream_filter_new(file);
    g_autoptr(GMimeFilter) lf = g_mime_filter_dos2unix_new(FALSE);

    g_mime_stream_filter_add(GMIME_STREAM_FILTER(out), lf);
    if (!write_func(out, data, error))
        return FALSE;
    if (g_mime_stream_flush(out) != 0 || fsync(fd) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "maildir: %s",
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/* Makes the new directory entry durable. */
static gboolean
sync_folder(const char *maildir, const char *sub, GError **error)
{
    g_autofree char *path = g_build_filename(maildir, sub, NULL);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || fsync(fd) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "maildir '%s': %s", path,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return FALSE;
    }
    close(fd);
    return TRUE;
}

static char *
deliver(const char *maildir, WriteFunc write_func, gpointer data,
        GError **error)
{
    if (!cq_maildir_ensure(maildir, error))
        return NULL;

    g_autofree char *name = unique_name();
    g_autofree char *tmp = g_build_filename(maildir, "tmp", name, NULL);
    char *final = g_build_filename(maildir, "new", name, NULL);

    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "maildir file '%s': %s",
                    tmp, g_strerror(errno));
        g_free(final);
        return NULL;
    }
    gboolean ok = write_file(fd, write_func, data, error);
    if (close(fd) != 0 && ok) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "maildir file '%s': %s",
                    tmp, g_strerror(errno));
        ok = FALSE;
    }
    if (ok && link(tmp, final) != 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "maildir file '%s': %s",
                    final, g_strerror(errno));
        ok = FALSE;
    }
    g_unlink(tmp);
    if (ok)
        ok = sync_folder(maildir, "new", error);
    if (!ok)
        g_clear_pointer(&final, g_free);
    return final;
}

static gboolean
write_mime(GMimeStream *out, gpointer data, GError **error)
{
    return cq_mime_write(data, out, error);
}

static gboolean
write_bytes(GMimeStream *out, gpointer data, GError **error)
{
    gsize len = 0;
    const char *raw = g_bytes_get_data(data, &len);

    if (g_mime_stream_write(out, raw, len) != (ssize_t)len) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO, "maildir: %s",
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

static gboolean
write_stream(GMimeStream *out, gpointer data, GError **error)
{
    if (g_mime_stream_write_to_stream(data, out) < 0) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_IO,
                    "maildir: reading the stored message failed");
        return FALSE;
    }
    return TRUE;
}

char *
cq_maildir_deliver_stream(const char *maildir, GMimeStream *raw,
                          GError **error)
{
    return deliver(maildir, write_stream, raw, error);
}

char *
cq_maildir_deliver(const char *maildir, CqMime *mime, GError **error)
{
    return deliver(maildir, write_mime, mime, error);
}

char *
cq_maildir_deliver_bytes(const char *maildir, GBytes *raw, GError **error)
{
    return deliver(maildir, write_bytes, raw, error);
}
