/* libFuzzer target: the safetensors header parser and the tensor reader
 * (untrusted files from a user's download), through the memory entry point. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* copy so the parser sees an exactly-sized heap buffer (ASan catches overreads) */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    sw_error err;
    sw_st_file *f = sw_st_open_memory(buf, size, "fuzz.safetensors", &err);
    if (f) {
        for (size_t i = 0; i < sw_st_count(f); i++) {
            const sw_st_tensor *t = sw_st_tensor_at(f, i);
            if (sw_st_find(f, t->name) != t) abort();
            /* accepted tensors lie inside the input, so count is bounded by size */
            if (t->end > size || t->count > size) abort();
            float *out = malloc((size_t)t->count * sizeof *out + 1);
            if (!out) continue;
            if (sw_st_read_f32(f, t, out, (size_t)t->count, &err) != SMOLWEB_OK) abort();
            free(out);
        }
        sw_st_free(f);
    }
    free(buf);
    return 0;
}
