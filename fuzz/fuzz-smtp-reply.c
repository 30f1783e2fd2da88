/* libFuzzer target: the SMTP reply parser must never crash, leak or hand
 * out a reply that breaks its promises (code range, enhanced code class,
 * line bounds, no line ends in a summary). */
#include "smtp/reply.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const CqSmtpReply *reply)
{
    if (reply->code < 200 || reply->code > 559)
        __builtin_trap();
    if (reply->enhanced[0] != '\0' &&
        reply->enhanced[0] != (char)('0' + reply->code / 100))
        __builtin_trap();
    if (reply->lines->len == 0 ||
        reply->lines->len > CQ_SMTP_REPLY_MAX_LINES)
        __builtin_trap();
    g_autofree char *summary = cq_smtp_reply_summary(reply);
    if (strpbrk(summary, "\r\n") != NULL)
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    CqSmtpReply reply;

    cq_smtp_reply_init(&reply);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        gsize len = (gsize)(stop - p);
        GError *error = NULL;
        if (len > 0 && stop[-1] == '\r')
            len--;
        if (!cq_smtp_reply_feed(&reply, p, len, &error)) {
            g_clear_error(&error);
            cq_smtp_reply_clear(&reply);
        } else if (reply.done) {
            check(&reply);
        }
        p = nl ? nl + 1 : end;
    }
    g_ptr_array_unref(reply.lines);
    return 0;
}
