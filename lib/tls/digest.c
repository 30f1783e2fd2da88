#include "tls/digest.h"

#include <openssl/evp.h>
#include <string.h>

/* OpenSSL's SHA-256 runs on the processor's SHA instructions, but its
 * first use in a process costs more than hashing a megabyte with GLib.
 * So a hash keeps its first bytes; if it ends before OPENSSL_FROM bytes,
 * GLib hashes them, and only a larger input brings in OpenSSL.  Once
 * OpenSSL is ready (cq_sha256_prepare), every hash goes to it. */
#define OPENSSL_FROM (256 * 1024)

struct _CqSha256 {
    GByteArray *head; /* input so far, while under OPENSSL_FROM */
    EVP_MD_CTX *ctx;  /* after that */
};

static gpointer
fetch_sha256(gpointer data)
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (md == NULL)
        g_error("SHA-256: OpenSSL has no SHA-256");
    return md;
}

static gint native; /* set once sha256_md() has fetched the digest */

static const EVP_MD *
sha256_md(void)
{
    static GOnce once = G_ONCE_INIT;
    const EVP_MD *md = g_once(&once, fetch_sha256, NULL);

    g_atomic_int_set(&native, 1);
    return md;
}

static gboolean
native_ready(void)
{
    return g_atomic_int_get(&native) != 0;
}

void
cq_sha256_prepare(void)
{
    (void)sha256_md();
}

static EVP_MD_CTX *
ctx_new(void)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || !EVP_DigestInit_ex2(ctx, sha256_md(), NULL))
        g_error("SHA-256: OpenSSL cannot initialise a digest");
    return ctx;
}

CqSha256 *
cq_sha256_new(void)
{
    CqSha256 *sha = g_new0(CqSha256, 1);
    sha->head = g_byte_array_new();
    if (native_ready())
        sha->ctx = ctx_new();
    return sha;
}

void
cq_sha256_update(CqSha256 *sha, const void *data, gsize len)
{
    if (len == 0)
        return;
    if (sha->ctx == NULL && sha->head->len + len <= OPENSSL_FROM) {
        g_byte_array_append(sha->head, data, (guint)len);
        return;
    }
    if (sha->ctx == NULL) {
        sha->ctx = ctx_new();
        EVP_DigestUpdate(sha->ctx, sha->head->data, sha->head->len);
        g_byte_array_set_size(sha->head, 0);
    }
    EVP_DigestUpdate(sha->ctx, data, len);
}

static char *
head_hex(const CqSha256 *sha)
{
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, sha->head->data,
                                       sha->head->len);
}

static char *
final_hex(EVP_MD_CTX *ctx)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    static const char hex[] = "0123456789abcdef";

    EVP_DigestFinal_ex(ctx, md, &len);
    char *out = g_malloc(len * 2 + 1);
    for (unsigned int i = 0; i < len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out[len * 2] = '\0';
    return out;
}

char *
cq_sha256_hex(CqSha256 *sha)
{
    if (sha->ctx == NULL)
        return head_hex(sha);
    return final_hex(sha->ctx);
}

char *
cq_sha256_peek_hex(const CqSha256 *sha)
{
    if (sha->ctx == NULL)
        return head_hex(sha);

    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    if (copy == NULL || !EVP_MD_CTX_copy_ex(copy, sha->ctx))
        g_error("SHA-256: OpenSSL cannot copy a digest");
    char *out = final_hex(copy);
    EVP_MD_CTX_free(copy);
    return out;
}

void
cq_sha256_reset(CqSha256 *sha)
{
    g_clear_pointer(&sha->ctx, EVP_MD_CTX_free);
    g_byte_array_set_size(sha->head, 0);
    if (native_ready())
        sha->ctx = ctx_new();
}

void
cq_sha256_free(CqSha256 *sha)
{
    if (sha == NULL)
        return;
    EVP_MD_CTX_free(sha->ctx);
    g_byte_array_unref(sha->head);
    g_free(sha);
}

char *
cq_sha256_of(const void *data, gsize len)
{
    if (native_ready()) {
        EVP_MD_CTX *ctx = ctx_new();
        EVP_DigestUpdate(ctx, data, len);
        char *hex = final_hex(ctx);
        EVP_MD_CTX_free(ctx);
        return hex;
    }
    g_autoptr(CqSha256) sha = cq_sha256_new();
    cq_sha256_update(sha, data, len);
    return cq_sha256_hex(sha);
}
