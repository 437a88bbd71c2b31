/* sha256.h: SHA-256 through Mbed TLS (a maintained implementation, not ours),
 * incremental so a loader can hash bytes as they stream in. */
#ifndef SW_SHA256_H
#define SW_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct sw_sha256 sw_sha256;

/* Returns a new hashing context, or NULL if out of memory. */
sw_sha256 *sw_sha256_create(void);
void sw_sha256_update(sw_sha256 *ctx, const void *data, size_t len);
/* Writes the digest as 64 lowercase hex digits + NUL into hex (65 bytes) and
 * resets the context for reuse. */
void sw_sha256_finish_hex(sw_sha256 *ctx, char hex[65]);
/* NULL is a no-op. */
void sw_sha256_free(sw_sha256 *ctx);

/* One-shot digest of a buffer as hex. */
void sw_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
