#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

smolweb_status sw_error_set(sw_error *err, smolweb_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void sw_error_prefix(sw_error *err, const char *fmt, ...) {
    if (!err) return;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t p = strlen(prefix), cap = sizeof err->msg - 1;
    if (p + 2 > cap) p = cap - 2;
    size_t old = strnlen(err->msg, cap);
    if (old > cap - p - 2) old = cap - p - 2; /* keep the prefix, truncate the tail */
    memmove(err->msg + p + 2, err->msg, old);
    memcpy(err->msg, prefix, p);
    err->msg[p] = ':';
    err->msg[p + 1] = ' ';
    err->msg[p + 2 + old] = '\0';
}

void sw_error_clear(sw_error *err) {
    if (!err) return;
    err->status = SMOLWEB_OK;
    err->msg[0] = '\0';
}
