/* Linked into every module (module.h): the library functions that the
 * module's code calls, forwarded to those libcaqmail.so hands it.  They
 * stay inside the module, which exports only its entry. */
#include "common/module.h"

#include "common/error.h"

#include <gmodule.h>

static const CqModuleHost *library;

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

static gconstpointer
init(const CqModuleHost *host)
{
    library = host;
    return cq_module_provide();
}

G_MODULE_EXPORT extern const CqModule cq_module;

const CqModule cq_module = {
    .abi = CQ_MODULE_ABI,
    .init = init,
};
