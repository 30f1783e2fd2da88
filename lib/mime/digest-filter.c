#include "mime/digest-filter.h"

struct _CqDigestFilter {
    GMimeFilter parent;
    GChecksum *checksum;
    gint64 size;
    gboolean restart; /* a reset happened; restart with the next data */
};

G_DEFINE_TYPE(CqDigestFilter, cq_digest_filter, GMIME_TYPE_FILTER)

static void
pass(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
     size_t *outlen, size_t *outprespace)
{
    CqDigestFilter *self = CQ_DIGEST_FILTER(filter);

    if (self->restart && len > 0) {
        g_checksum_reset(self->checksum);
        self->size = 0;
        self->restart = FALSE;
    }
    g_checksum_update(self->checksum, (const guchar *)in, (gssize)len);
    self->size += (gint64)len;
    *out = in;
    *outlen = len;
    *outprespace = prespace;
}

static void
reset(GMimeFilter *filter)
{
    CQ_DIGEST_FILTER(filter)->restart = TRUE;
}

static GMimeFilter *
copy(GMimeFilter *filter)
{
    return cq_digest_filter_new();
}

static void
finalize(GObject *object)
{
    g_checksum_free(CQ_DIGEST_FILTER(object)->checksum);
    G_OBJECT_CLASS(cq_digest_filter_parent_class)->finalize(object);
}

static void
cq_digest_filter_class_init(CqDigestFilterClass *klass)
{
    GMimeFilterClass *filter_class = GMIME_FILTER_CLASS(klass);

    G_OBJECT_CLASS(klass)->finalize = finalize;
    filter_class->copy = copy;
    filter_class->filter = pass;
    filter_class->complete = pass;
    filter_class->reset = reset;
}

static void
cq_digest_filter_init(CqDigestFilter *self)
{
    self->checksum = g_checksum_new(G_CHECKSUM_SHA256);
}

GMimeFilter *
cq_digest_filter_new(void)
{
    return g_object_new(CQ_TYPE_DIGEST_FILTER, NULL);
}

char *
cq_digest_filter_get_hex(CqDigestFilter *filter)
{
    g_autoptr(GChecksum) copy = g_checksum_copy(filter->checksum);
    return g_strdup(g_checksum_get_string(copy));
}

gint64
cq_digest_filter_get_size(CqDigestFilter *filter)
{
    return filter->size;
}
