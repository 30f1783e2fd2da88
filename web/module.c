/* What the module caqmail-web.so provides (common/module.h). */
#include "common/module.h"
#include "web/server.h"

static const WebModule provided = {
    .server_new = web_server_new,
    .server_free = web_server_free,
    .server_uri = web_server_uri,
};

gconstpointer
cq_module_provide(void)
{
    return &provided;
}
