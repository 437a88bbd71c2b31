#include "smolweb.h"

const char *smolweb_status_str(smolweb_status status) {
    switch (status) {
    case SMOLWEB_OK: return "ok";
    case SMOLWEB_ERR_INVALID_ARG: return "invalid argument";
    case SMOLWEB_ERR_IO: return "I/O error";
    case SMOLWEB_ERR_FORMAT: return "malformed input";
    case SMOLWEB_ERR_UNSUPPORTED: return "unsupported";
    case SMOLWEB_ERR_SHAPE: return "shape mismatch";
    case SMOLWEB_ERR_MISSING: return "missing";
    case SMOLWEB_ERR_INTEGRITY: return "integrity check failed";
    case SMOLWEB_ERR_NOMEM: return "out of memory";
    case SMOLWEB_ERR_CONTEXT: return "context length exceeded";
    case SMOLWEB_ERR_STATE: return "invalid state";
    default: return "unknown status";
    }
}
