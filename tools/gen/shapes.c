#include "shapes.h"

#include <string.h>

static const sw_shape k_shapes[] = {
    /* id              mimics                  hidden inter layers heads kv  rope_theta max_pos */
    {"smollm2-135m", "SmolLM2-135M-Instruct", 576, 1536, 30, 9, 3, 100000.0, 8192},
    {"smollm2-360m", "SmolLM2-360M-Instruct", 960, 2560, 32, 15, 5, 100000.0, 8192},
    {"smollm2-1.7b", "SmolLM2-1.7B-Instruct", 2048, 8192, 24, 32, 32, 130000.0, 8192},
    {"smollm-135m", "SmolLM-135M-Instruct", 576, 1536, 30, 9, 3, 10000.0, 2048},
    {"smollm-360m", "SmolLM-360M-Instruct", 960, 2560, 32, 15, 5, 10000.0, 2048},
    {"smollm-1.7b", "SmolLM-1.7B-Instruct", 2048, 8192, 24, 32, 32, 10000.0, 2048},
    {"tiny", "tiny (test shape)", 64, 128, 4, 4, 2, 100000.0, 2048},
};

const sw_shape *sw_shape_find(const char *id) {
    for (size_t i = 0; i < sizeof k_shapes / sizeof k_shapes[0]; i++)
        if (strcmp(k_shapes[i].id, id) == 0) return &k_shapes[i];
    return NULL;
}

const sw_shape *sw_shapes(int *n) {
    *n = (int)(sizeof k_shapes / sizeof k_shapes[0]);
    return k_shapes;
}
