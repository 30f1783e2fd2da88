/* libFuzzer target: the header reader of messages taken as they are
 * (sendmail) must never crash or leak, whatever the bytes; what it
 * accepts, extracting recipients from must not crash either. */
#include <caqmail/caqmail.h>

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static CaqmailContext *
context(void)
{
    static CaqmailContext *shared;

    if (shared == NULL)
        shared = caqmail_context_open(NULL, NULL);
    if (shared == NULL)
        __builtin_trap(); /* the built-in defaults always load */
    return shared;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *error = NULL;
    CaqmailRawMessage *raw =
        caqmail_raw_message_new(context(), (const char *)data, size, &error);

    if (raw == NULL) {
        if (error == NULL || error->domain != CAQMAIL_ERROR)
            __builtin_trap(); /* every refusal says why */
        g_error_free(error);
        return 0;
    }
    if (!caqmail_raw_message_extract_recipients(raw, &error))
        g_clear_error(&error);
    caqmail_raw_message_free(raw);
    return 0;
}
