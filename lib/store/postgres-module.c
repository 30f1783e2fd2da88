/* The PostgreSQL backend of libcaqmail.so, loaded from its module the
 * first time a postgresql:// database is opened.  The module is
 * installed in the folder caqmail/ beside the library and lies right
 * beside it in the build tree; it is found from where the library
 * itself was loaded, never from the environment. */
#include "store/backend.h"

#include "common/error.h"

#include <dlfcn.h>
#include <gmodule.h>

#define MODULE_NAME "caqmail-postgres.so"

static const CqBackendHost host = {
    .error_quark = cq_error_quark,
    .event_begin = cq_event_begin,
    .event_add = cq_event_add,
    .event_end = cq_event_end,
};

static GMutex lock;
static const CqBackend *loaded;

/* The folder libcaqmail.so was loaded from, absolute. */
static char *
library_folder(void)
{
    Dl_info info = {0};
    g_autofree char *folder = NULL;

    if (dladdr(&host, &info) == 0 || info.dli_fname == NULL)
        return NULL;
    folder = g_path_get_dirname(info.dli_fname);
    return g_canonicalize_filename(folder, NULL);
}

/* Where the module is: installed, or else in the build tree. */
static char *
module_path(const char *folder)
{
    char *installed = g_build_filename(folder, "caqmail", MODULE_NAME, NULL);
    char *beside = NULL;

    if (g_file_test(installed, G_FILE_TEST_EXISTS))
        return installed;
    beside = g_build_filename(folder, MODULE_NAME, NULL);
    if (g_file_test(beside, G_FILE_TEST_EXISTS)) {
        g_free(installed);
        return beside;
    }
    g_free(beside);
    return installed;
}

static const CqBackend *
load(const char *path, GError **error)
{
    gpointer symbol = NULL;
    const CqBackendModule *entry;
    const CqBackend *backend = NULL;
    GModule *module = g_module_open(path, G_MODULE_BIND_LOCAL);

    if (module == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "PostgreSQL support: module '%s' cannot be loaded: %s",
                    path, g_module_error());
        return NULL;
    }
    if (g_module_symbol(module, CQ_BACKEND_MODULE_SYMBOL, &symbol)) {
        entry = symbol;
        if (entry->abi == CQ_BACKEND_HOST_ABI)
            backend = entry->init(&host);
    }
    if (backend == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "PostgreSQL support: module '%s' does not belong to "
                    "this libcaqmail", path);
        g_module_close(module);
        return NULL;
    }
    g_module_make_resident(module);
    return backend;
}

static const CqBackend *
find_and_load(GError **error)
{
    g_autofree char *folder = library_folder();
    g_autofree char *path = NULL;

    if (folder == NULL) {
        g_set_error(error, CQ_ERROR, CQ_ERROR_UNAVAILABLE,
                    "PostgreSQL support: the folder libcaqmail was loaded "
                    "from is unknown");
        return NULL;
    }
    path = module_path(folder);
    return load(path, error);
}

const CqBackend *
cq_backend_postgres_get(GError **error)
{
    const CqBackend *backend;

    g_mutex_lock(&lock);
    if (loaded == NULL)
        loaded = find_and_load(error);
    backend = loaded;
    g_mutex_unlock(&lock);
    return backend;
}
