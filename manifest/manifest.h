/* manifest.h: the model directory's manifest.json, read and written by one
 * module for the chunker and the runtime (schema: manifest.schema.json).
 *
 * Input is untrusted: sw_manifest_parse takes a length, checks every field's
 * type and range, and the cross-field rules the schema cannot state (head_dim
 * * heads fits, one file per layer, unique paths, paths that stay inside the
 * model folder). Each failure names the field. */
#ifndef SW_MANIFEST_H
#define SW_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SW_MANIFEST_FORMAT "smolweb-model"
#define SW_MANIFEST_VERSION 1

typedef enum sw_file_role {
    SW_ROLE_TOKENIZER = 0, /* tokenizer chunk */
    SW_ROLE_EMBEDDING = 1, /* token embedding, final norm, head when untied */
    SW_ROLE_LAYER = 2      /* one transformer layer */
} sw_file_role;

typedef struct sw_manifest_file {
    char *path;           /* relative path, e.g. "layer-007.swc" */
    uint64_t bytes;
    char sha256[65];      /* lowercase hex */
    sw_file_role role;
    int layer;            /* layer index for SW_ROLE_LAYER, else -1 */
} sw_manifest_file;

typedef struct sw_manifest {
    int format_version;
    char *name;
    char *architecture;           /* "llama" */
    uint64_t params;              /* parameter count */
    /* config */
    int hidden_size, intermediate_size, num_layers, num_heads, num_kv_heads, head_dim;
    int vocab_size, max_position_embeddings;
    double rope_theta, rms_norm_eps;
    int tie_word_embeddings;
    uint8_t *rope_layers;         /* num_layers flags: 1 if layer i applies RoPE */
    /* quantization */
    char weights_type[8];         /* "q4", "q8", "f16", "f32" */
    char embedding_type[8];
    int group_size;               /* 32 for q4/q8, 0 for f16/f32 */
    /* tokens */
    int bos_id, eos_id, pad_id;   /* -1 when none */
    int n_stop_ids;
    int *stop_ids;
    char *chat_template;          /* verbatim, may be NULL */
    char chat_format[16];         /* "chatml" or "other" */
    /* files */
    int n_files;
    sw_manifest_file *files;
    uint64_t total_bytes;         /* sum of files[].bytes */
} sw_manifest;

/* Parses and validates manifest JSON of len bytes (need not be NUL-terminated).
 * Returns a new manifest (free with sw_manifest_free), or NULL with err set. */
sw_manifest *sw_manifest_parse(const char *json, size_t len, sw_error *err);

/* Reads and parses a file; err messages are prefixed with the path. */
sw_manifest *sw_manifest_load(const char *path, sw_error *err);

/* Validates a manifest built in memory (the same rules as parsing). */
smolweb_status sw_manifest_validate(const sw_manifest *m, sw_error *err);

/* Serialises to pretty-printed JSON; returns a malloc'd NUL-terminated string or NULL
 * (out of memory, or m fails sw_manifest_validate). */
char *sw_manifest_to_json(const sw_manifest *m);

/* Returns the file entry for a role (and layer for SW_ROLE_LAYER), or NULL. */
const sw_manifest_file *sw_manifest_find(const sw_manifest *m, sw_file_role role, int layer);

/* Frees a manifest and everything it owns; NULL is a no-op. */
void sw_manifest_free(sw_manifest *m);

#endif
