/* What every user of GMime in caqmail needs: one-time initialization and
 * g_autoptr() support for the GMime types (GMime 3.2 declares none). */
#ifndef CQ_MIME_GMIME_UTIL_H
#define CQ_MIME_GMIME_UTIL_H

#include <gmime/gmime.h>

/* Initializes GMime once per process; safe to call from any thread and
 * before every use of GMime. */
void cq_mime_init(void);

#ifndef GMIME_HAS_AUTOPTR
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeContentType, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeDataWrapper, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeFilter, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeObject, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimePart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(InternetAddressList, g_object_unref)
#endif

#endif
