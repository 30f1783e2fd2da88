/* What the files of the public API share: the context behind a
 * CaqmailContext, and errors of other domains made public ones. */
#ifndef CQ_API_API_H
#define CQ_API_API_H

#define CAQMAIL_COMPILATION
#include <caqmail/caqmail.h>

#include "access/access.h"
#include "common/config.h"

struct _CaqmailContext {
    CqConfig *config;        /* owned unless @parent is set */
    CaqmailContext *parent;  /* the context this one acts for, or NULL */
    CqSession *session;      /* opened when first needed */
    char *login;             /* the user acted as */
};

/* The session of @context, opened when first needed. */
CqSession *cq_api_session(CaqmailContext *context, GError **error);

/* A session acting as @login over @context's store (NULL: @context's
 * own, not to be freed, is returned in *@session and NULL in *@owned). */
gboolean cq_api_session_as(CaqmailContext *context, const char *login,
                           CqSession **session, CqSession **owned,
                           GError **error);

/* Turns an error of another domain (GIO, GLib files) into one of
 * CAQMAIL_ERROR with the same message; returns FALSE for use in return
 * statements. */
gboolean cq_api_fail(GError **error);

#endif
