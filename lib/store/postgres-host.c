/* The module caqmail-postgres.so: postgres.c over the functions that
 * libcaqmail.so hands it when it loads the module (backend.h).  The
 * names below are those postgres.c calls; they stay inside the module
 * (only cq_backend_module is exported), so the library's own functions of
 * the same names are the ones that run. */
#include "store/backend.h"

#include "common/error.h"

#include <gmodule.h>

static const CqBackendHost *library;

GQuark
cq_error_quark(void)
{
    return library->error_quark();
}

CqEvent *
cq_event_begin(CqLogLevel level, const char *name)
{
    return library->event_begin(level, name);
}

void
cq_event_add(CqEvent *event, const char *key, const char *value)
{
    library->event_add(event, key, value);
}

void
cq_event_end(CqEvent *event)
{
    library->event_end(event);
}

static const CqBackend *
init(const CqBackendHost *host)
{
    library = host;
    return &cq_backend_postgres;
}

G_MODULE_EXPORT extern const CqBackendModule cq_backend_module;

const CqBackendModule cq_backend_module = {
    .abi = CQ_BACKEND_HOST_ABI,
    .init = init,
};
