/* The PostgreSQL backend where it is linked into the program: the static
 * library that the tests and the benchmarks link. */
#include "store/backend.h"

const CqBackend *
cq_backend_postgres_get(GError **error)
{
    return &cq_backend_postgres;
}
