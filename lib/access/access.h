/* Users, roles and permissions, and the session every library call acts
 * in.
 *
 * A session is an open store plus the user it acts as.  That user is
 * named by a login: normally the operating-system user running caqmail,
 * who is the catalog person with that login.  An administrator may act
 * for another user; the history then names both.  Permissions come from
 * roles (see `caqmail user roles`); a login that is not registered has no
 * permission at all.  Every check happens here in the library, so that
 * each front end gets the same rules.
 *
 * On a fresh database the operating-system user who created it and root
 * are registered as administrators.
 */
#ifndef CQ_ACCESS_ACCESS_H
#define CQ_ACCESS_ACCESS_H

#include "common/config.h"
#include "store/store.h"

typedef enum {
    CQ_PERM_SEND = 1 << 0,         /* send mail */
    CQ_PERM_READ_OWN = 1 << 1,     /* read the history of own mail */
    CQ_PERM_READ_ALL = 1 << 2,     /* read every mail's history */
    CQ_PERM_EDIT_CATALOG = 1 << 3, /* change the catalog */
    CQ_PERM_ADMIN = 1 << 4,        /* everything; act for other users */
} CqPermission;

#define CQ_PERM_ALL 0x1f

typedef struct {
    CqStore *store; /* owned */
    char *login;    /* the user acted as */
    char *operator; /* the real user when acting for another, or NULL */
    guint permissions;
    gboolean registered;
    gboolean shares_store; /* the store belongs to the session this one
                              was derived from */
} CqSession;

/* Opens the store at @location and acts as @act_as (NULL: the
 * operating-system user), which only an administrator may do for another
 * login. */
CqSession *cq_session_open(const char *location, const CqStoreOptions *opts,
                           const char *act_as, GError **error);
/* Opens the database that @config names ([store] database, sync,
 * busy_timeout) as cq_session_open() does. */
CqSession *cq_session_open_config(const CqConfig *config, const char *act_as,
                                  GError **error);
/* A session over an open store (taken over) acting as @login; for tests
 * and services that authenticate users themselves. */
CqSession *cq_session_new(CqStore *store, const char *login, GError **error);
/* A session over the store of @session acting as @login (NULL: as
 * @session does), for one caller that serves many users: acting as
 * another login needs the permission administer, and the history then
 * names @session's user as the operator.  @session must outlive the new
 * one, which does not close the store. */
CqSession *cq_session_derive(CqSession *session, const char *login,
                             GError **error);
/* A session over @store, kept open by the caller for many requests (a
 * prefork worker): acts as the operating-system user, or as @act_as as
 * cq_session_open() does, with the permissions as they are now.  Does
 * not close the store. */
CqSession *cq_session_open_shared(CqStore *store, const char *act_as,
                                  GError **error);
void cq_session_free(CqSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqSession, cq_session_free)

/* Fails with CQ_ERROR_PERMISSION unless the user holds @permission (or
 * administers); @what says what was attempted ("send mail"). */
gboolean cq_session_require(const CqSession *session, guint permission,
                            const char *what, GError **error);
gboolean cq_session_may(const CqSession *session, guint permission);
/* Who is named in the history: "login" or "login (by operator)". */
char *cq_session_actor(const CqSession *session);

/* The login of the operating-system user; newly allocated. */
char *cq_os_login(void);

const char *cq_permission_name(CqPermission permission);
/* "send, read-own" for a set of bits; newly allocated. */
char *cq_permissions_format(guint permissions);

typedef struct {
    char *login;
    char *person; /* ident of the catalog person with this login, or NULL */
    char *email;  /* that person's e-mail, or NULL */
    GStrv roles;
    guint permissions;
} CqUser;

void cq_user_free(CqUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CqUser, cq_user_free)

typedef struct {
    char *name;
    char *description;
    guint permissions;
} CqRole;

void cq_role_free(CqRole *role);

/* User administration; every call needs CQ_PERM_ADMIN.  @roles are role
 * names; a login is 1 to 64 characters without spaces or control
 * characters. */
gboolean cq_user_add(CqSession *session, const char *login,
                     const char *const *roles, GError **error);
gboolean cq_user_set_roles(CqSession *session, const char *login,
                           const char *const *add, const char *const *remove,
                           GError **error);
gboolean cq_user_remove(CqSession *session, const char *login, GError **error);
/* Any registered user may read the list of users and roles. */
GPtrArray *cq_user_list(CqSession *session, GError **error);
CqUser *cq_user_get(CqSession *session, const char *login, GError **error);
GPtrArray *cq_role_list(CqSession *session, GError **error);

/* Checks an identifier: 1 to 64 characters of printable non-space text,
 * none of `:` `,` `;` `<` `>` `@` `"` `'` `(` `)`.  A login may hold an
 * `@`.  @what names the subject in the message ("person identifier"). */
gboolean cq_ident_check(const char *what, const char *ident, GError **error);
gboolean cq_login_check(const char *login, GError **error);

#endif
