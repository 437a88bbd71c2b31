/* shapes.h: the SmolLM family's shapes, from the models' published
 * config.json files, in one table (plus a tiny shape for fast tests). */
#ifndef SW_GEN_SHAPES_H
#define SW_GEN_SHAPES_H

typedef struct sw_shape {
    const char *id;            /* command-line name, e.g. "smollm2-135m" */
    const char *hf_name;       /* the model it mimics */
    int hidden, intermediate, layers, heads, kv_heads;
    double rope_theta;
    int max_positions;
} sw_shape;

/* All: vocab 49152, rms_norm_eps 1e-5, SiLU, tied embeddings, head_dim = hidden / heads. */
#define SW_SHAPE_VOCAB 49152
#define SW_SHAPE_RMS_EPS 1e-5

/* Returns the shape with this id, or NULL. */
const sw_shape *sw_shape_find(const char *id);
/* The table and its length. */
const sw_shape *sw_shapes(int *n);

#endif
