/* libFuzzer target: type detection reads ZIP and OLE2 structures from
 * untrusted files; it must never crash, read outside the input, leak, or
 * give an answer that contradicts itself. */
#include "attach/detect.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"Bericht.docx", "Messwerte.csv",
                                    "Zeichnung", "Audit.odt", "Foto.png"};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CqDocType type;

    cq_doc_sniff(data, size, &type);
    if (type.what == NULL || (type.damaged && type.kind != CQ_DOC_UNKNOWN))
        __builtin_trap();
    if ((type.charset != CQ_CHARSET_NONE) !=
        (type.kind == CQ_DOC_TEXT || type.kind == CQ_DOC_HTML))
        __builtin_trap();

    const char *name = names[size % G_N_ELEMENTS(names)];
    GError *error = NULL;
    if (cq_doc_identify(name, data, size, &type, &error)) {
        if (type.kind == CQ_DOC_UNKNOWN || type.encrypted || type.damaged)
            __builtin_trap();
        if (type.kind == CQ_DOC_CSV && strchr(";,\t|", type.separator) == NULL)
            __builtin_trap();
    } else if (error == NULL || strpbrk(error->message, "\r\n") != NULL) {
        __builtin_trap();
    }
    g_clear_error(&error);
    return 0;
}
