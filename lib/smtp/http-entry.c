/* What the module caqmail-http.so provides (common/module.h). */
#include "common/module.h"
#include "smtp/http.h"

static const CqHttpModule provided = {
    .post = cq_http_post,
};

gconstpointer
cq_module_provide(void)
{
    return &provided;
}
