/* HTTP in libcaqmail.so: the module caqmail-http.so (http.h), loaded
 * the first time something is posted. */
#include "smtp/http.h"

#include "common/module.h"

GBytes *
cq_http_post(const char *what, const char *url, const char *content_type,
             GBytes *body, guint *status, GError **error)
{
    static gconstpointer loaded;
    const CqHttpModule *module =
        cq_module_load("caqmail-http.so", "HTTP client", &loaded, error);

    if (module == NULL)
        return NULL;
    return module->post(what, url, content_type, body, status, error);
}
