/* manifest_equal.h: field-by-field comparison of two manifests, shared by
 * tests/test_manifest.c and fuzz/fuzz_manifest.c (the round-trip checks). */
#ifndef SW_TEST_MANIFEST_EQUAL_H
#define SW_TEST_MANIFEST_EQUAL_H

#include <string.h>

#include "manifest.h"

static int manifest_str_eq(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

/* Returns NULL if a and b hold the same values, else the first differing
 * field's name. Doubles compare exactly: the writer must round-trip them. */
static const char *manifest_diff(const sw_manifest *a, const sw_manifest *b) {
#define SW_DIFF(cond, name)                                                                                            \
    if (!(cond)) return name
    SW_DIFF(a->format_version == b->format_version, "format_version");
    SW_DIFF(manifest_str_eq(a->name, b->name), "name");
    SW_DIFF(manifest_str_eq(a->architecture, b->architecture), "architecture");
    SW_DIFF(a->params == b->params, "params");
    SW_DIFF(a->hidden_size == b->hidden_size, "hidden_size");
    SW_DIFF(a->intermediate_size == b->intermediate_size, "intermediate_size");
    SW_DIFF(a->num_layers == b->num_layers, "num_layers");
    SW_DIFF(a->num_heads == b->num_heads, "num_heads");
    SW_DIFF(a->num_kv_heads == b->num_kv_heads, "num_kv_heads");
    SW_DIFF(a->head_dim == b->head_dim, "head_dim");
    SW_DIFF(a->vocab_size == b->vocab_size, "vocab_size");
    SW_DIFF(a->max_position_embeddings == b->max_position_embeddings, "max_position_embeddings");
    SW_DIFF(a->rope_theta == b->rope_theta, "rope_theta");
    SW_DIFF(a->rms_norm_eps == b->rms_norm_eps, "rms_norm_eps");
    SW_DIFF(a->tie_word_embeddings == b->tie_word_embeddings, "tie_word_embeddings");
    SW_DIFF(memcmp(a->rope_layers, b->rope_layers, (size_t)a->num_layers) == 0, "rope_layers");
    SW_DIFF(strcmp(a->weights_type, b->weights_type) == 0, "weights_type");
    SW_DIFF(strcmp(a->embedding_type, b->embedding_type) == 0, "embedding_type");
    SW_DIFF(a->group_size == b->group_size, "group_size");
    SW_DIFF(a->bos_id == b->bos_id, "bos_id");
    SW_DIFF(a->eos_id == b->eos_id, "eos_id");
    SW_DIFF(a->pad_id == b->pad_id, "pad_id");
    SW_DIFF(a->n_stop_ids == b->n_stop_ids, "n_stop_ids");
    for (int i = 0; i < a->n_stop_ids; i++) SW_DIFF(a->stop_ids[i] == b->stop_ids[i], "stop_ids");
    SW_DIFF(manifest_str_eq(a->chat_template, b->chat_template), "chat_template");
    SW_DIFF(strcmp(a->chat_format, b->chat_format) == 0, "chat_format");
    SW_DIFF(a->n_files == b->n_files, "n_files");
    for (int i = 0; i < a->n_files; i++) {
        const sw_manifest_file *x = &a->files[i], *y = &b->files[i];
        SW_DIFF(manifest_str_eq(x->path, y->path), "files[].path");
        SW_DIFF(x->bytes == y->bytes, "files[].bytes");
        SW_DIFF(strcmp(x->sha256, y->sha256) == 0, "files[].sha256");
        SW_DIFF(x->role == y->role, "files[].role");
        SW_DIFF(x->layer == y->layer, "files[].layer");
    }
    SW_DIFF(a->total_bytes == b->total_bytes, "total_bytes");
#undef SW_DIFF
    return NULL;
}

#endif
