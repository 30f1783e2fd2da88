#include "tls/digest.h"

#include <openssl/evp.h>

struct _CqSha256 {
    EVP_MD_CTX *ctx;
};

CqSha256 *
cq_sha256_new(void)
{
    CqSha256 *sha = g_new0(CqSha256, 1);
    sha->ctx = EVP_MD_CTX_new();
    if (sha->ctx == NULL || !EVP_DigestInit_ex(sha->ctx, EVP_sha256(), NULL))
        g_error("SHA-256: OpenSSL cannot initialise a digest");
    return sha;
}

void
cq_sha256_update(CqSha256 *sha, const void *data, gsize len)
{
    if (len > 0)
        EVP_DigestUpdate(sha->ctx, data, len);
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
    return final_hex(sha->ctx);
}

char *
cq_sha256_peek_hex(const CqSha256 *sha)
{
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
    if (!EVP_DigestInit_ex(sha->ctx, EVP_sha256(), NULL))
        g_error("SHA-256: OpenSSL cannot initialise a digest");
}

void
cq_sha256_free(CqSha256 *sha)
{
    if (sha == NULL)
        return;
    EVP_MD_CTX_free(sha->ctx);
    g_free(sha);
}

char *
cq_sha256_of(const void *data, gsize len)
{
    g_autoptr(CqSha256) sha = cq_sha256_new();
    cq_sha256_update(sha, data, len);
    return cq_sha256_hex(sha);
}
