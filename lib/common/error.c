#include "common/error.h"

#include <sysexits.h>

G_DEFINE_QUARK(caqmail-error-quark, cq_error)

int
cq_error_exit_code(const GError *error)
{
    if (error == NULL)
        return EX_OK;
    if (error->domain != CQ_ERROR)
        return EX_SOFTWARE;

    switch ((CqErrorCode)error->code) {
    case CQ_ERROR_USAGE:
        return EX_USAGE;
    case CQ_ERROR_INVALID:
    case CQ_ERROR_TOO_LARGE:
        return EX_DATAERR;
    case CQ_ERROR_NOINPUT:
    case CQ_ERROR_NOT_FOUND:
        return EX_NOINPUT;
    case CQ_ERROR_CONFIG:
        return EX_CONFIG;
    case CQ_ERROR_IO:
        return EX_IOERR;
    case CQ_ERROR_PERMISSION:
        return EX_NOPERM;
    case CQ_ERROR_UNAVAILABLE:
        return EX_UNAVAILABLE;
    case CQ_ERROR_TEMPFAIL:
        return EX_TEMPFAIL;
    case CQ_ERROR_PROTOCOL:
        return EX_PROTOCOL;
    case CQ_ERROR_PERMFAIL:
        return EX_UNAVAILABLE;
    case CQ_ERROR_FAILED:
        break;
    }
    return EX_SOFTWARE;
}
