/* Collection lists in libcaqmail.so: drawn by the module caqmail-pdf.so
 * (pdf-list.h), loaded the first time a list is drawn. */
#include "workflow/pdf-list.h"

#include "common/module.h"

gboolean
cq_pdf_list_write(const CqPdfList *list, const char *path, GError **error)
{
    static gconstpointer loaded;
    const CqPdfListModule *module = cq_module_load(
        "caqmail-pdf.so", "PDF collection lists", &loaded, error);

    return module != NULL && module->write(list, path, error);
}
