/* Finding and loading modules (module.h). */
#include "common/module.h"

#include "common/error.h"

#include <dlfcn.h>
#include <gmodule.h>

static const CqModuleHost host = {
    .error_quark = cq_error_quark,
    .event_begin = cq_event_begin,
    .event_add = cq_event_add,
    .event_end = cq_event_end,
};

static GMutex lock;

char *
cq_module_library_path(void)
{
    Dl_info info = {0};

    if (dladdr(&host, &info) == 0 || info.dli_fname == NULL)
        return NULL;
    return g_strdup(info.dli_fname);
}

/* The folder libcaqmail.so was loaded from, absolute. */
static char *
library_folder(void)
{
    g_autofree char *path = cq_module_library_path();
    g_autofree char *folder = NULL;

    if (path == NULL)
        return NULL;
    folder = g_path_get_dirname(path);
    return g_canonicalize_filename(folder, NULL);
}

static gconstpointer
load(const char *path, const char *feature, GError **error)
{
    gpointer symbol = NULL;
    const CqModule *entry;
    gconstpointer provided = NULL;
    GModule *module = NULL;

    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "%s: module '%s' is missing", feature, path);
        return NULL;
    }
    module = g_module_open(path, G_MODULE_BIND_LOCAL);
    if (module == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "%s: module '%s' cannot be loaded: %s", feature, path,
                    g_module_error());
        return NULL;
    }
    if (g_module_symbol(module, CQ_MODULE_SYMBOL, &symbol)) {
        entry = symbol;
        if (entry->abi == CQ_MODULE_ABI)
            provided = entry->init(&host);
    }
    if (provided == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "%s: module '%s' does not belong to this libcaqmail",
                    feature, path);
        g_module_close(module);
        return NULL;
    }
    g_module_make_resident(module);
    return provided;
}

static gconstpointer
find_and_load(const char *name, const char *feature, GError **error)
{
    g_autofree char *folder = library_folder();
    g_autofree char *path = NULL;

    if (folder == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "%s: the folder libcaqmail was loaded from is unknown",
                    feature);
        return NULL;
    }
    path = g_build_filename(folder, "caqmail", name, NULL);
    return load(path, feature, error);
}

gconstpointer
cq_module_load(const char *name, const char *feature, gconstpointer *loaded,
               GError **error)
{
    gconstpointer provided;

    g_mutex_lock(&lock);
    if (*loaded == NULL)
        *loaded = find_and_load(name, feature, error);
    provided = *loaded;
    g_mutex_unlock(&lock);
    return provided;
}
