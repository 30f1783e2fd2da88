/* The PostgreSQL backend of libcaqmail.so: the module
 * caqmail-postgres.so (common/module.h), loaded the first time a
 * postgresql:// database is opened. */
#include "store/backend.h"

#include "common/module.h"

const CqBackend *
cq_backend_postgres_get(GError **error)
{
    static gconstpointer loaded;

    return cq_module_load("caqmail-postgres.so", "PostgreSQL support",
                          &loaded, error);
}
