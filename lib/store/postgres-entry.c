/* What the module caqmail-postgres.so provides (common/module.h). */
#include "common/module.h"
#include "store/backend.h"

gconstpointer
cq_module_provide(void)
{
    return &cq_backend_postgres;
}
