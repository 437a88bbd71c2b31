/* libFuzzer target: the weight chunk parser (untrusted bytes from the network
 * or a cache) and the layout check the loader runs after it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* copy so the parser sees an exactly-sized heap buffer (ASan catches overreads) */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    sw_chunk_view v;
    sw_error err;
    if (sw_chunk_parse(buf, size, &v, &err) == SMOLWEB_OK) {
        uint64_t sum = 0;
        for (uint32_t i = 0; i < v.n_tensors; i++) {
            const sw_chunk_tensor *t = &v.tensors[i];
            /* touch the first and last byte of every tensor the parser accepted */
            sum += t->data[0] + t->data[t->nbytes - 1];
            if (sw_chunk_find(&v, t->name) != t) abort();
        }
        sw_dims d = {64, 128, 4, 2, 16, 256, 1};
        sw_layout_tensor want[SW_CHUNK_MAX_TENSORS];
        int n = v.role == 2 ? sw_layout_layer(&d, want) : sw_layout_embedding(&d, want);
        (void)sw_layout_check_chunk(&v, want, n, SW_DTYPE_Q4, SW_DTYPE_Q8, &err);
        (void)sum;
    }
    free(buf);
    return 0;
}
