/* SHA-256: the same digest whether GLib or OpenSSL computes it, across
 * the size where one hands over to the other, in pieces of any size, and
 * once OpenSSL is prepared for every size. */
#include "tls/digest.h"

static const gsize sizes[] = {0, 1, 64, 262143, 262144, 262145, 3000000};

static void
test_sizes(gconstpointer data)
{
    gsize size = *(const gsize *)data;
    g_autofree guchar *buf = g_malloc(size + 1);

    for (gsize i = 0; i < size; i++)
        buf[i] = (guchar)(i * 7 + i / 251);
    g_autofree char *want =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, buf, size);

    g_autofree char *whole = cq_sha256_of(buf, size);
    g_assert_cmpstr(whole, ==, want);

    /* In pieces of 1000 bytes, with a look at the digest on the way. */
    g_autoptr(CqSha256) sha = cq_sha256_new();
    for (gsize off = 0; off < size; off += 1000) {
        cq_sha256_update(sha, buf + off, MIN(1000, size - off));
        if (off == 0) {
            g_autofree char *first = cq_sha256_peek_hex(sha);
            g_autofree char *expect = g_compute_checksum_for_data(
                G_CHECKSUM_SHA256, buf, MIN(1000, size));
            g_assert_cmpstr(first, ==, expect);
        }
    }
    g_autofree char *peeked = cq_sha256_peek_hex(sha);
    g_assert_cmpstr(peeked, ==, want);

    /* A reset starts over. */
    cq_sha256_reset(sha);
    cq_sha256_update(sha, buf, size);
    g_autofree char *again = cq_sha256_hex(sha);
    g_assert_cmpstr(again, ==, want);
}

static void
test_prepared(gconstpointer data)
{
    cq_sha256_prepare();
    test_sizes(data);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* First every size as a fresh process hashes it, then again once
     * OpenSSL is prepared (test paths run in the order added). */
    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autofree char *path = g_strdup_printf("/digest/size/%zu", sizes[i]);
        g_test_add_data_func(path, &sizes[i], test_sizes);
    }
    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autofree char *path =
            g_strdup_printf("/digest/prepared/%zu", sizes[i]);
        g_test_add_data_func(path, &sizes[i], test_prepared);
    }
    return g_test_run();
}
