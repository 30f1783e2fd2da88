#include "mime/digest-filter.h"

#include "tls/digest.h"

struct _CqDigestFilter {
    GMimeFilter parent;
    CqSha256 *sha;
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
        cq_sha256_reset(self->sha);
        self->size = 0;
        self->restart = FALSE;
    }
    cq_sha256_update(self->sha, in, len);
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
    cq_sha256_free(CQ_DIGEST_FILTER(object)->sha);
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
    self->sha = cq_sha256_new();
}

GMimeFilter *
cq_digest_filter_new(void)
{
    return g_object_new(CQ_TYPE_DIGEST_FILTER, NULL);
}

char *
cq_digest_filter_get_hex(CqDigestFilter *filter)
{
    return cq_sha256_peek_hex(filter->sha);
}

gint64
cq_digest_filter_get_size(CqDigestFilter *filter)
{
    return filter->size;
}
