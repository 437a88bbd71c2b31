/* smolweb-tokpack: packs a tokenizer on its own, for tests and inspection.
 *
 *   smolweb-tokpack HF_DIR|MODEL.gguf OUT.swt
 *
 * HF_DIR holds tokenizer.json (+ tokenizer_config.json); a .gguf file gives
 * its tokenizer.ggml.* metadata. Prints the packed size and the special ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "tokpack.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: smolweb-tokpack HF_DIR|MODEL.gguf OUT.swt\n");
        return 2;
    }
    const char *in = argv[1], *out_path = argv[2];
    size_t n = strlen(in);
    uint8_t *bytes = NULL;
    size_t len = 0;
    sw_tok_meta meta;
    sw_error err;
    smolweb_status st;
    if (n > 5 && strcmp(in + n - 5, ".gguf") == 0) {
        sw_gguf *g = sw_gguf_open(in, &err);
        st = g ? sw_tokpack_from_gguf(g, &bytes, &len, &meta, &err) : err.status;
        sw_gguf_free(g);
    } else {
        st = sw_tokpack_from_hf_dir(in, &bytes, &len, &meta, &err);
    }
    if (st) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    FILE *f = fopen(out_path, "wb");
    int ok = f && fwrite(bytes, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) fprintf(stderr, "error: %s: cannot write\n", out_path);
    else {
        fprintf(stderr, "%s: %zu bytes, %d ids, bos %d, eos %d, pad %d, stop", out_path, len, meta.vocab_size, meta.bos_id,
                meta.eos_id, meta.pad_id);
        for (int i = 0; i < meta.n_stop; i++) fprintf(stderr, " %d", meta.stop_ids[i]);
        fprintf(stderr, "\n");
    }
    free(bytes);
    sw_tok_meta_clear(&meta);
    return ok ? 0 : 1;
}
