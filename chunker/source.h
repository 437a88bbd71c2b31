/* source.h: a model the chunker reads, whatever its file format.
 *
 * A source gives the model's configuration and its tensors by their Hugging
 * Face names ("model.layers.7.mlp.up_proj.weight"), shaped as PyTorch shapes
 * them ([out, in] for a linear weight), converted to f32. Every reader treats
 * its bytes as untrusted. The GGUF reader undoes llama.cpp's Q/K row
 * permutation, so both inputs give the same tensors. */
#ifndef SW_SOURCE_H
#define SW_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct sw_model_config {
    char name[128];         /* e.g. "SmolLM2-135M-Instruct" (folder or general.name) */
    char architecture[32];  /* "llama" */
    int hidden_size;
    int intermediate_size;
    int num_layers;
    int num_heads;
    int num_kv_heads;
    int head_dim;           /* hidden_size / num_heads unless config says otherwise */
    int vocab_size;
    int max_position_embeddings;
    double rope_theta;
    double rms_norm_eps;
    int tie_word_embeddings; /* 1: the output head is the token embedding */
    int bos_token_id;        /* -1 when the config has none */
    int eos_token_id;        /* -1 when the config has none */
} sw_model_config;

typedef struct sw_tensor_info {
    int ndim;               /* 1 or 2 */
    int64_t shape[2];       /* PyTorch order: shape[0] = rows (out), shape[1] = cols (in) */
} sw_tensor_info;

typedef enum sw_source_kind { SW_SOURCE_HF = 0, SW_SOURCE_GGUF = 1 } sw_source_kind;

typedef struct sw_source sw_source;

typedef struct sw_source_ops {
    /* Returns 1 and fills info if the tensor exists, else 0. */
    int (*find)(sw_source *src, const char *hf_name, sw_tensor_info *info);
    /* Reads the whole tensor as f32 into out (count = product of its shape).
     * Fails with a message naming the file and tensor. */
    smolweb_status (*read_f32)(sw_source *src, const char *hf_name, float *out, size_t count, sw_error *err);
    void (*free)(sw_source *src);
} sw_source_ops;

struct sw_source {
    const sw_source_ops *ops;
    sw_source_kind kind;
    sw_model_config config;
    char path[1024];        /* the folder or .gguf file the user named */
    void *impl;             /* reader-owned state */
};

/* Opens a Hugging Face folder (config.json + model.safetensors or sharded
 * model-0000x-of-0000y.safetensors with model.safetensors.index.json).
 * Validates config.json and every tensor header; returns NULL with err set on failure. */
sw_source *sw_source_open_hf(const char *dir, sw_error *err);

/* Opens a GGUF v2/v3 file; returns NULL with err set on failure. */
sw_source *sw_source_open_gguf(const char *path, sw_error *err);

/* Opens either kind: a directory is a HF folder, anything else a GGUF file. */
sw_source *sw_source_open(const char *path, sw_error *err);

/* Checks config values and that every tensor the llama architecture needs is
 * present with the shape the config implies ("missing tensor model.layers.7.mlp.up_proj.weight",
 * "shape mismatch: ..."). */
smolweb_status sw_source_check(sw_source *src, sw_error *err);

/* Frees a source; NULL is a no-op. */
void sw_source_free(sw_source *src);

#endif
