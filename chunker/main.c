/* smolweb-chunk: converts a Hugging Face folder or a GGUF file into a smolweb
 * model folder. Usage and contract: /work/shared/DESIGN.md section 1. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "convert.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: smolweb-chunk [--quant q4|q8|f16|f32] [--embed-quant q4|q8|f16|f32] INPUT OUT_DIR\n"
            "  INPUT    a Hugging Face model folder (config.json, model.safetensors or shards,\n"
            "           tokenizer.json, tokenizer_config.json) or a .gguf file\n"
            "  OUT_DIR  the model folder to write (manifest.json + chunks); replaced only on success\n"
            "  --quant        linear weights (default q4)\n"
            "  --embed-quant  token embedding / output head (default q8 under q4, else as --quant)\n");
}

static void on_progress(void *user, const char *line) {
    const struct timespec *t0 = user;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double s = (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
    fprintf(stderr, "[%6.1fs] %s\n", s, line);
}

static int parse_type(const char *flag, const char *v, sw_dtype *out) {
    int t = sw_dtype_from_name(v);
    if (t < 0) {
        fprintf(stderr, "error: %s: unknown type '%s' (expected q4, q8, f16 or f32)\n", flag, v ? v : "");
        return 0;
    }
    *out = (sw_dtype)t;
    return 1;
}

int main(int argc, char **argv) {
    sw_convert_params p = sw_convert_default_params();
    int embed_set = 0;
    const char *pos[2];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--quant") == 0 || strcmp(a, "--embed-quant") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "error: %s needs a value\n", a);
                return 2;
            }
            int is_embed = a[2] == 'e';
            if (!parse_type(a, argv[++i], is_embed ? &p.embed_quant : &p.quant)) return 2;
            embed_set |= is_embed;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "error: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            fprintf(stderr, "error: unexpected argument %s\n", a);
            return 2;
        }
    }
    if (npos != 2) {
        usage(stderr);
        return 2;
    }
    if (!embed_set) p.embed_quant = p.quant == SW_DTYPE_Q4 ? SW_DTYPE_Q8 : p.quant;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    p.on_progress = on_progress;
    p.user = &t0;
    sw_error err;
    if (sw_convert(pos[0], pos[1], &p, &err) != SMOLWEB_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    on_progress(&t0, "done");
    return 0;
}
