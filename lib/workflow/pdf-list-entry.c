/* What the module caqmail-pdf.so provides (common/module.h). */
#include "common/module.h"
#include "workflow/pdf-list.h"

static const CqPdfListModule provided = {
    .write = cq_pdf_list_write,
};

gconstpointer
cq_module_provide(void)
{
    return &provided;
}
