/* layout.h: which tensors each chunk holds and their shapes, derived from the
 * model's dimensions. One table serves the chunker (what to write), its
 * verifier and the runtime's chunk loader (what to expect). */
#ifndef SW_LAYOUT_H
#define SW_LAYOUT_H

#include <stdint.h>

#include "chunk.h"

typedef struct sw_dims {
    int hidden, intermediate, heads, kv_heads, head_dim, vocab;
    int tied; /* 1: no separate head tensor */
} sw_dims;

typedef struct sw_layout_tensor {
    const char *name;    /* chunk tensor name: "q", "up", "embed", ... */
    const char *hf_fmt;  /* Hugging Face name, printf format taking the layer index */
    uint32_t rows, cols; /* PyTorch [out, in]; rows = 1 for norm vectors */
    int is_norm;         /* norms stay f32 */
    int is_embedding;    /* embed / head: stored as the embedding type */
} sw_layout_tensor;

/* Fills out with a layer chunk's tensors in file order; returns the count (9). */
int sw_layout_layer(const sw_dims *d, sw_layout_tensor out[SW_CHUNK_MAX_TENSORS]);

/* Fills out with the embedding chunk's tensors (embed, norm, head if untied); returns the count. */
int sw_layout_embedding(const sw_dims *d, sw_layout_tensor out[SW_CHUNK_MAX_TENSORS]);

/* The dtype a tensor is stored as, given the weight and embedding types. */
sw_dtype sw_layout_dtype(const sw_layout_tensor *t, sw_dtype weights, sw_dtype embedding);

/* Checks a parsed chunk holds exactly the expected tensors with the expected
 * shapes and dtypes; err names the first difference. */
smolweb_status sw_layout_check_chunk(const sw_chunk_view *v, const sw_layout_tensor *want, int n, sw_dtype weights,
                                     sw_dtype embedding, sw_error *err);

#endif
