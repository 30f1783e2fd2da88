/* caqmail error domain.
 *
 * Every fallible library function takes a `GError **error` as its last
 * argument and returns FALSE or NULL on failure.  The code says what kind of
 * failure it was, so that callers (the outbox, the front ends) can decide
 * without parsing the message; the message names the subject in quotes.
 */
#ifndef CQ_COMMON_ERROR_H
#define CQ_COMMON_ERROR_H

#include <glib.h>

#define CQ_ERROR (cq_error_quark())

typedef enum {
    CQ_ERROR_FAILED,      /* unexpected internal failure */
    CQ_ERROR_USAGE,       /* wrong use of a command or an API */
    CQ_ERROR_INVALID,     /* malformed input: address, header, file name */
    CQ_ERROR_NOINPUT,     /* an input file is missing or unreadable */
    CQ_ERROR_CONFIG,      /* configuration file or value is wrong */
    CQ_ERROR_IO,          /* reading or writing local files failed */
    CQ_ERROR_NOT_FOUND,   /* a referenced object does not exist */
    CQ_ERROR_PERMISSION,  /* the acting user may not do this */
    CQ_ERROR_UNAVAILABLE, /* a needed program or service is missing */
    CQ_ERROR_TEMPFAIL,    /* try again later: the failure may pass */
    CQ_ERROR_PERMFAIL,    /* refused for good */
    CQ_ERROR_PROTOCOL,    /* the peer broke the protocol */
    CQ_ERROR_TOO_LARGE,   /* over a configured or announced size limit */
} CqErrorCode;

GQuark cq_error_quark(void);

/* Maps an error to the sysexits.h code a command should exit with. */
int cq_error_exit_code(const GError *error);

#endif
