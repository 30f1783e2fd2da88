#include "attach/zip.h"

#include "attach/bytes.h"

#include <gio/gio.h>
#include <string.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u

#define END_SIZE 22
#define END64_SIZE 56
#define LOCATOR64_SIZE 20
#define CENTRAL_SIZE 46
#define LOCAL_SIZE 30
#define MAX_COMMENT 0xffff
#define EXTRA_ZIP64 0x0001

/* TRUE when @len bytes at @offset lie inside the archive. */
static gboolean
inside(const CqZip *zip, guint64 offset, guint64 len)
{
    return offset <= zip->len && len <= zip->len - offset;
}

static gssize
find_end(const guchar *data, gsize len)
{
    if (len < END_SIZE)
        return -1;
    gsize lowest =
        len - END_SIZE > MAX_COMMENT ? len - END_SIZE - MAX_COMMENT : 0;
    for (gsize at = len - END_SIZE + 1; at-- > lowest;) {
        if (cq_le32(data + at) == SIG_END)
            return (gssize)at;
    }
    return -1;
}

/* Reads the ZIP64 end record that the locator before @end points to. */
static gboolean
read_end64(CqZip *zip, gsize end)
{
    if (end < LOCATOR64_SIZE)
        return FALSE;
    const guchar *loc = zip->data + end - LOCATOR64_SIZE;
    if (cq_le32(loc) != SIG_LOCATOR64)
        return FALSE;
    guint64 at = cq_le64(loc + 8);
    if (!inside(zip, at, END64_SIZE) || cq_le32(zip->data + at) != SIG_END64)
        return FALSE;
    const guchar *rec = zip->data + at;
    zip->entries = cq_le64(rec + 32);
    zip->cd_size = cq_le64(rec + 40);
    zip->cd_offset = cq_le64(rec + 48);
    return TRUE;
}

gboolean
cq_zip_open(CqZip *zip, const guchar *data, gsize len)
{
    memset(zip, 0, sizeof *zip);
    zip->data = data;
    zip->len = len;

    gssize end = find_end(data, len);
    if (end < 0)
        return FALSE;
    const guchar *rec = data + end;
    zip->entries = cq_le16(rec + 10);
    zip->cd_size = cq_le32(rec + 12);
    zip->cd_offset = cq_le32(rec + 16);
    if ((zip->entries == 0xffff || zip->cd_size == 0xffffffffu ||
         zip->cd_offset == 0xffffffffu) &&
        !read_end64(zip, (gsize)end))
        return FALSE;
    return inside(zip, zip->cd_offset, zip->cd_size);
}

/* Applies a ZIP64 extra field: it holds, in this order, the fields that
 * the central header marks with all ones. */
static gboolean
apply_zip64(CqZipEntry *entry, const guchar *extra, gsize len)
{
    while (len >= 4) {
        guint16 id = cq_le16(extra);
        gsize size = cq_le16(extra + 2);
        if (size > len - 4)
            return FALSE;
        if (id == EXTRA_ZIP64) {
            const guchar *p = extra + 4, *stop = p + size;
            guint64 *fields[] = {&entry->size, &entry->packed_size,
                                 &entry->local_offset};
            for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
                if (*fields[i] != 0xffffffffu)
                    continue;
                if (stop - p < 8)
                    return FALSE;
                *fields[i] = cq_le64(p);
                p += 8;
            }
            return TRUE;
        }
        extra += 4 + size;
        len -= 4 + size;
    }
    return TRUE;
}

gboolean
cq_zip_find(const CqZip *zip, const char *name, CqZipEntry *entry)
{
    gsize want = strlen(name);
    guint64 at = zip->cd_offset, stop = zip->cd_offset + zip->cd_size;

    for (guint64 i = 0; i < zip->entries; i++) {
        if (at + CENTRAL_SIZE > stop || cq_le32(zip->data + at) != SIG_CENTRAL)
            return FALSE;
        const guchar *h = zip->data + at;
        gsize name_len = cq_le16(h + 28), extra_len = cq_le16(h + 30);
        guint64 next =
            at + CENTRAL_SIZE + name_len + extra_len + cq_le16(h + 32);
        if (next > stop)
            return FALSE;
        if (name_len == want && memcmp(h + CENTRAL_SIZE, name, name_len) == 0) {
            entry->flags = cq_le16(h + 8);
            entry->method = cq_le16(h + 10);
            entry->packed_size = cq_le32(h + 20);
            entry->size = cq_le32(h + 24);
            entry->local_offset = cq_le32(h + 42);
            return apply_zip64(entry, h + CENTRAL_SIZE + name_len, extra_len);
        }
        at = next;
    }
    return FALSE;
}

static GBytes *
inflate_raw(const guchar *in, gsize in_len, gsize max)
{
    g_autoptr(GZlibDecompressor) z =
        g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_RAW);
    gsize cap = max + 1, used = 0, read = 0, written = 0;
    g_autofree guchar *out = g_malloc(cap);

    for (;;) {
        GConverterResult r = g_converter_convert(
            G_CONVERTER(z), in, in_len, out + used, cap - used,
            G_CONVERTER_INPUT_AT_END, &read, &written, NULL);
        if (r == G_CONVERTER_ERROR)
            return NULL;
        in += read;
        in_len -= read;
        used += written;
        if (used > max)
            return NULL;
        if (r == G_CONVERTER_FINISHED)
            return g_bytes_new_take(g_steal_pointer(&out), used);
        if (read == 0 && written == 0)
            return NULL;
    }
}

GBytes *
cq_zip_read(const CqZip *zip, const CqZipEntry *entry, gsize max)
{
    guint64 at = entry->local_offset;

    if ((entry->flags & 1) != 0 || entry->size > max ||
        !inside(zip, at, LOCAL_SIZE) || cq_le32(zip->data + at) != SIG_LOCAL)
        return NULL;
    const guchar *h = zip->data + at;
    guint64 start = at + LOCAL_SIZE + cq_le16(h + 26) + cq_le16(h + 28);
    if (!inside(zip, start, entry->packed_size))
        return NULL;
    const guchar *packed = zip->data + start;

    switch (entry->method) {
    case 0:
        if (entry->packed_size != entry->size)
            return NULL;
        return g_bytes_new(packed, entry->size);
    case 8:
        return inflate_raw(packed, entry->packed_size, max);
    default:
        return NULL;
    }
}
