/* error.h: the one error-reporting seam shared by the runtime, the manifest
 * reader and the chunker. A failing function fills a caller-owned sw_error
 * with a status and a one-line message naming the file and the problem, and
 * returns the status. Library code never prints and never exits. */
#ifndef SW_ERROR_H
#define SW_ERROR_H

#include "smolweb.h"

typedef struct sw_error {
    smolweb_status status;
    char msg[512];
} sw_error;

/* Sets err (if non-NULL) to status and a printf-formatted message; returns status. */
smolweb_status sw_error_set(sw_error *err, smolweb_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prefixes the message already in err with "prefix: " (used to add a file name). */
void sw_error_prefix(sw_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Clears err to SMOLWEB_OK with an empty message. */
void sw_error_clear(sw_error *err);

#endif
