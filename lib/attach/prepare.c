#include "attach/prepare.h"

#include "common/error.h"

#include <string.h>

/* "Prüfbericht.docx" becomes "Prüfbericht.pdf". */
static char *
pdf_name(const char *filename)
{
    const char *dot = strrchr(filename, '.');
    gsize stem = dot != NULL && dot != filename ? (gsize)(dot - filename)
                                                : strlen(filename);
    g_autofree char *base = g_strndup(filename, stem);
    return g_strconcat(base, ".pdf", NULL);
}

static gboolean
convert_one(const CqConvertOptions *options, const CqAttachment *attachment,
            gint64 max_size, CqConversion *conversion, GError **error)
{
    if (!cq_convert_to_pdf(options, attachment->path, attachment->filename,
                           conversion, error)) {
        g_prefix_error(error, "attachment '%s': ", attachment->filename);
        return FALSE;
    }
    if (max_size > 0 && conversion->pdf_size > max_size) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_TOO_LARGE,
                    "attachment '%s': its PDF of %" G_GINT64_FORMAT
                    " bytes is over the limit of %" G_GINT64_FORMAT,
                    attachment->filename, conversion->pdf_size, max_size);
        cq_conversion_clear(conversion);
        return FALSE;
    }
    return TRUE;
}

/* Points @attachment at the PDF of @conversion. */
static void
apply(CqAttachment *attachment, CqConversion *conversion)
{
    if (conversion->pdf_path == NULL)
        return; /* a PDF already */
    g_free(attachment->path);
    attachment->path = g_steal_pointer(&conversion->pdf_path);
    char *name = pdf_name(attachment->filename);
    g_free(attachment->filename);
    attachment->filename = name;
    g_free(attachment->content_type);
    attachment->content_type = g_strdup("application/pdf");
    attachment->size = conversion->pdf_size;
    g_clear_pointer(&attachment->sha256, g_free);
    g_free(attachment->source_sha256);
    attachment->source_sha256 = g_steal_pointer(&conversion->source_sha256);
}

gboolean
cq_attach_to_pdf(const CqConvertOptions *options, CqAttachment *attachment,
                 gint64 max_size, GError **error)
{
    CqConversion conversion;

    if (!convert_one(options, attachment, max_size, &conversion, error))
        return FALSE;
    apply(attachment, &conversion);
    cq_conversion_clear(&conversion);
    return TRUE;
}

gboolean
cq_attach_all_to_pdf(const CqConvertOptions *options, CqMessage *message,
                     gint64 max_size, GError **error)
{
    GPtrArray *atts = message->attachments;
    g_autofree CqConversion *done = g_new0(CqConversion, atts->len + 1);
    gboolean ok = TRUE;

    for (guint i = 0; ok && i < atts->len; i++)
        ok = convert_one(options, atts->pdata[i], max_size, &done[i], error);
    for (guint i = 0; i < atts->len; i++) {
        if (ok)
            apply(atts->pdata[i], &done[i]);
        cq_conversion_clear(&done[i]);
    }
    return ok;
}
