/* libFuzzer target: the address parser must never crash, leak or accept
 * an address whose parts break the rules it promises. */
#include "compose/address.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const CqAddress *a)
{
    g_autofree char *spec = cq_address_spec(a);
    g_autofree char *key = cq_address_key(a);

    if (strpbrk(spec, "\r\n") != NULL || strlen(spec) > 254 ||
        strpbrk(key, "\r\n") != NULL)
        __builtin_trap();
    if (a->name != NULL && strpbrk(a->name, "\r\n") != NULL)
        __builtin_trap();
    for (const char *p = a->domain; *p; p++) {
        if ((unsigned char)*p >= 0x80)
            __builtin_trap(); /* the domain must be ASCII */
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_strndup((const char *)data, size);
    GError *error = NULL;

    CqAddress *a = cq_address_parse(text, &error);
    if (a != NULL) {
        check(a);
        cq_address_free(a);
    }
    g_clear_error(&error);

    GPtrArray *list = cq_address_list_parse(text, TRUE, &error);
    for (guint i = 0; list && i < list->len; i++)
        check(list->pdata[i]);
    if (list != NULL)
        g_ptr_array_unref(list);
    g_clear_error(&error);
    return 0;
}
