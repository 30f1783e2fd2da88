/* Modules: the parts of libcaqmail.so and of the front ends whose
 * libraries most processes never need, in shared objects of their own
 * that are loaded the first time they are needed.  Linking libpq, cairo
 * and Pango, or libsoup into every process would cost each one millions
 * of instructions in the dynamic loader before main().
 *
 * A module is in the folder caqmail/ beside libcaqmail.so, installed as
 * in the build tree (lib/caqmail/meson.build); it is found from where
 * the library itself was loaded, never from the environment.  The static
 * library that the tests and benchmarks link has the same code linked
 * in instead.
 *
 * A module calls no internal function of libcaqmail.so by its name:
 * the library hands it the few that modules need (CqModuleHost), and
 * only when the module was built for the same table (CQ_MODULE_ABI).
 * module-host.c, linked into every module, forwards the usual names to
 * them and exports the module's entry, CqModule, under
 * CQ_MODULE_SYMBOL.  What
 * a module provides (a table of functions) comes from its
 * cq_module_provide(). */
#ifndef CQ_COMMON_MODULE_H
#define CQ_COMMON_MODULE_H

#include "common/event.h"

#include <glib.h>

/* Changes whenever CqModuleHost, CqModule or what a module provides
 * does. */
#define CQ_MODULE_ABI 2

typedef struct {
    GQuark (*error_quark)(void);
    CqEvent *(*event_begin)(CqLogLevel level, const char *name);
    void (*event_add)(CqEvent *event, const char *key, const char *value);
    void (*event_end)(CqEvent *event);
} CqModuleHost;

#define CQ_MODULE_SYMBOL "cq_module"

typedef struct {
    int abi;
    gconstpointer (*init)(const CqModuleHost *host);
} CqModule;

/* In the library and the front ends: what the module @name
 * ("caqmail-postgres.so") provides, loaded once and kept in *@loaded.  Fails with
 * CQ_ERROR_UNAVAILABLE, "@feature: module 'PATH' ...", when the module
 * is missing, cannot be loaded or was built for another table. */
gconstpointer cq_module_load(const char *name, const char *feature,
                             gconstpointer *loaded, GError **error);

/* The file libcaqmail.so was loaded from, as the loader named it (the
 * program itself when the library is linked in), or NULL. */
char *cq_module_library_path(void);

/* In a module: what it provides.  The web server's module links
 * libcaqmail.so too, for the public API. */
gconstpointer cq_module_provide(void);

#endif
