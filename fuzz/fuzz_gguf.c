/* libFuzzer target: the GGUF header parser (untrusted files from anywhere),
 * then everything a parsed file lets a caller do: the metadata getters, the
 * llama configuration, tensor lookups, and reading and dequantizing every
 * tensor from the in-memory buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "source_gguf.h"

static void touch_metadata(const sw_gguf *g) {
    static const char *keys[] = {"general.architecture", "general.name", "general.alignment",
                                 "llama.block_count", "llama.rope.freq_base", "tokenizer.ggml.tokens",
                                 "tokenizer.ggml.token_type", "tokenizer.ggml.merges", "tokenizer.chat_template"};
    volatile size_t sink = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *s;
        int64_t v;
        double f;
        int b;
        size_t n;
        const char *const *items;
        const uint32_t *lens;
        const int64_t *ints;
        if (sw_gguf_get_str(g, keys[i], &s)) sink += strlen(s);
        if (sw_gguf_get_int(g, keys[i], &v)) sink += (size_t)v;
        if (sw_gguf_get_float(g, keys[i], &f)) sink += f > 0;
        if (sw_gguf_get_bool(g, keys[i], &b)) sink += (size_t)b;
        if (sw_gguf_get_str_array(g, keys[i], &n, &items, &lens))
            for (size_t k = 0; k < n; k++) sink += lens[k] + (size_t)(items[k][lens[k]] == 0);
        if (sw_gguf_get_int_array(g, keys[i], &n, &ints) && n) sink += (size_t)(ints[0] + ints[n - 1]);
    }
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* copy so the parser sees an exactly-sized heap buffer (ASan catches overreads) */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    sw_error err;
    sw_gguf *g = sw_gguf_open_memory(buf, size, "fuzz.gguf", &err);
    if (g) {
        touch_metadata(g);
        sw_model_config cfg;
        (void)sw_gguf_llama_config(g, "fuzz.gguf", &cfg, &err);
        for (size_t i = 0; i < sw_gguf_tensor_count(g); i++) {
            const char *name = sw_gguf_tensor_name(g, i);
            uint32_t type;
            int nd;
            int64_t ne[4];
            if (!sw_gguf_tensor(g, name, &type, &nd, ne)) abort(); /* every listed tensor can be found */
            uint64_t count = (uint64_t)ne[0] * (uint64_t)ne[1] * (uint64_t)ne[2] * (uint64_t)ne[3];
            if (count > (1u << 24)) continue; /* data lies in the input, so this cannot happen for a valid type */
            float *out = malloc(count ? (size_t)count * sizeof *out : 1);
            if (!out) continue;
            if (sw_gguf_read_f32(g, name, out, (size_t)count, &err) == SMOLWEB_OK && count) {
                volatile float s = out[0] + out[count - 1];
                (void)s;
            }
            if (count && sw_gguf_read_f32(g, name, out, (size_t)count - 1, &err) == SMOLWEB_OK) abort();
            free(out);
        }
    }
    sw_gguf_free(g);
    free(buf);
    return 0;
}
