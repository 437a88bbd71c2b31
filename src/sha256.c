#include "sha256.h"

#include <stdlib.h>

#include <mbedtls/sha256.h>

struct sw_sha256 {
    mbedtls_sha256_context ctx;
};

sw_sha256 *sw_sha256_create(void) {
    sw_sha256 *s = malloc(sizeof *s);
    if (!s) return NULL;
    mbedtls_sha256_init(&s->ctx);
    mbedtls_sha256_starts_ret(&s->ctx, 0);
    return s;
}

void sw_sha256_update(sw_sha256 *s, const void *data, size_t len) {
    mbedtls_sha256_update_ret(&s->ctx, data, len);
}

static void to_hex(const unsigned char d[32], char hex[65]) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

void sw_sha256_finish_hex(sw_sha256 *s, char hex[65]) {
    unsigned char d[32];
    mbedtls_sha256_finish_ret(&s->ctx, d);
    to_hex(d, hex);
    mbedtls_sha256_starts_ret(&s->ctx, 0);
}

void sw_sha256_free(sw_sha256 *s) {
    if (!s) return;
    mbedtls_sha256_free(&s->ctx);
    free(s);
}

void sw_sha256_hex(const void *data, size_t len, char hex[65]) {
    unsigned char d[32];
    mbedtls_sha256_ret(data, len, d, 0);
    to_hex(d, hex);
}
