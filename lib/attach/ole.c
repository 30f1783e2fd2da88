#include "attach/ole.h"

#include "attach/bytes.h"

#include <string.h>

#define HEADER_SIZE 512
#define HEADER_DIFAT 109
#define MAX_REGULAR 0xfffffffau
#define FREE_SECTOR 0xffffffffu
#define ENTRY_SIZE 128
#define ENTRY_ROOT 5
#define ENTRY_STREAM 2

static const guchar signature[8] = {0xd0, 0xcf, 0x11, 0xe0,
                                    0xa1, 0xb1, 0x1a, 0xe1};

static gsize
sector_size(const CqOle *ole)
{
    return (gsize)1 << ole->sector_shift;
}

/* The sectors the file can hold: a bound for every chain. */
static gsize
sector_count(const CqOle *ole)
{
    return ole->len >> ole->sector_shift;
}

/* Points at sector @sid and sets *@avail to the bytes present of it (a
 * truncated last sector is shorter); NULL when it is outside the file. */
static const guchar *
sector(const CqOle *ole, guint32 sid, gsize *avail)
{
    if (sid > MAX_REGULAR)
        return NULL;
    guint64 at = ((guint64)sid + 1) << ole->sector_shift;
    if (at >= ole->len)
        return NULL;
    *avail = MIN(sector_size(ole), ole->len - at);
    return ole->data + at;
}

static guint32
next_sector(const CqOle *ole, guint32 sid)
{
    return sid < ole->fat_len ? ole->fat[sid] : FREE_SECTOR;
}

static void
load_fat_sector(CqOle *ole, gsize index, guint32 sid)
{
    gsize per = sector_size(ole) / 4, avail = 0;
    const guchar *p = sector(ole, sid, &avail);

    for (gsize i = 0; i < per; i++)
        ole->fat[index * per + i] =
            p != NULL && i * 4 + 4 <= avail ? cq_le32(p + i * 4) : FREE_SECTOR;
}

/* Reads the allocation table through the header's DIFAT entries and the
 * DIFAT sector chain. */
static gboolean
load_fat(CqOle *ole)
{
    const guchar *h = ole->data;
    gsize count = cq_le32(h + 0x2c), per = sector_size(ole) / 4, index = 0;

    /* Each table sector maps @per sectors; a few spare ones are common. */
    if (count == 0 || count > sector_count(ole) / per + 8)
        return FALSE;
    ole->fat_len = count * per;
    ole->fat = g_new(guint32, ole->fat_len);
    for (gsize i = 0; i < HEADER_DIFAT && index < count; i++)
        load_fat_sector(ole, index++, cq_le32(h + 0x4c + i * 4));

    guint32 difat = cq_le32(h + 0x44);
    for (gsize steps = 0; index < count; steps++) {
        gsize avail = 0;
        const guchar *p = sector(ole, difat, &avail);
        if (p == NULL || avail < sector_size(ole) || steps > sector_count(ole))
            return FALSE;
        for (gsize i = 0; i + 1 < per && index < count; i++)
            load_fat_sector(ole, index++, cq_le32(p + i * 4));
        difat = cq_le32(p + (per - 1) * 4);
    }
    return TRUE;
}

typedef gboolean (*EntryFunc)(const guchar *entry, gpointer user_data);

/* Calls @func for every directory entry until it returns TRUE. */
static gboolean
each_entry(const CqOle *ole, EntryFunc func, gpointer user_data)
{
    guint32 sid = ole->dir_start;

    for (gsize steps = 0; steps <= sector_count(ole); steps++) {
        gsize avail = 0;
        const guchar *p = sector(ole, sid, &avail);
        if (p == NULL)
            return FALSE;
        for (gsize at = 0; at + ENTRY_SIZE <= avail; at += ENTRY_SIZE) {
            if (func(p + at, user_data))
                return TRUE;
        }
        sid = next_sector(ole, sid);
    }
    return FALSE;
}

static gboolean
take_root(const guchar *entry, gpointer user_data)
{
    CqOle *ole = user_data;
    if (entry[0x42] != ENTRY_ROOT)
        return FALSE;
    ole->ministream_start = cq_le32(entry + 0x74);
    return TRUE;
}

gboolean
cq_ole_open(CqOle *ole, const guchar *data, gsize len)
{
    memset(ole, 0, sizeof *ole);
    ole->data = data;
    ole->len = len;
    if (len < HEADER_SIZE || memcmp(data, signature, sizeof signature) != 0)
        return FALSE;
    ole->sector_shift = cq_le16(data + 0x1e);
    ole->mini_shift = cq_le16(data + 0x20);
    if ((ole->sector_shift != 9 && ole->sector_shift != 12) ||
        ole->mini_shift >= ole->sector_shift)
        return FALSE;
    ole->dir_start = cq_le32(data + 0x30);
    ole->mini_cutoff = cq_le32(data + 0x38);
    ole->ministream_start = FREE_SECTOR;
    return load_fat(ole) && each_entry(ole, take_root, ole);
}

void
cq_ole_clear(CqOle *ole)
{
    g_clear_pointer(&ole->fat, g_free);
    ole->fat_len = 0;
}

typedef struct {
    const char *name;
    CqOleStream *stream;
} Lookup;

/* Compound file names are UTF-16LE and compare without regard to case. */
static gboolean
match_entry(const guchar *entry, gpointer user_data)
{
    Lookup *look = user_data;
    gsize n = strlen(look->name);

    if (entry[0x42] != ENTRY_STREAM || cq_le16(entry + 0x40) != (n + 1) * 2 ||
        n >= 32)
        return FALSE;
    for (gsize i = 0; i < n; i++) {
        if (entry[2 * i + 1] != 0 ||
            g_ascii_tolower(entry[2 * i]) != g_ascii_tolower(look->name[i]))
            return FALSE;
    }
    look->stream->start = cq_le32(entry + 0x74);
    look->stream->size = cq_le32(entry + 0x78);
    return TRUE;
}

gboolean
cq_ole_find(const CqOle *ole, const char *name, CqOleStream *stream)
{
    Lookup look = {name, stream};
    return each_entry(ole, match_entry, &look);
}

/* Finds where mini sector @mini lies: the mini stream is a chain of
 * regular sectors that starts at the root entry. */
static const guchar *
mini_sector(const CqOle *ole, guint32 mini, gsize *avail)
{
    guint64 offset = (guint64)mini << ole->mini_shift;
    guint64 index = offset >> ole->sector_shift;
    guint32 sid = ole->ministream_start;

    if (index > sector_count(ole))
        return NULL;
    for (guint64 i = 0; i < index; i++)
        sid = next_sector(ole, sid);
    gsize in_sector = (gsize)(offset & (sector_size(ole) - 1));
    const guchar *p = sector(ole, sid, avail);
    if (p == NULL || in_sector >= *avail)
        return NULL;
    *avail = MIN(*avail - in_sector, (gsize)1 << ole->mini_shift);
    return p + in_sector;
}

gsize
cq_ole_read_head(const CqOle *ole, const CqOleStream *stream, guchar *buf,
                 gsize len)
{
    gsize avail = 0;
    const guchar *p = stream->size < ole->mini_cutoff
                          ? mini_sector(ole, stream->start, &avail)
                          : sector(ole, stream->start, &avail);
    if (p == NULL)
        return 0;
    gsize n = MIN(MIN(len, avail), stream->size);
    memcpy(buf, p, n);
    return n;
}
