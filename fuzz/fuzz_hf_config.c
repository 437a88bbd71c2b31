/* libFuzzer target: config.json parsing and validation (untrusted text from
 * a downloaded model folder). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hf_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size ? size : 1); /* exactly sized, not NUL-terminated */
    if (!buf) return 0;
    memcpy(buf, data, size);
    sw_model_config c;
    sw_error err;
    if (sw_hf_config_parse(buf, size, &c, &err) == SMOLWEB_OK) {
        /* what parse accepted, validate accepts, and the values are sane */
        if (sw_model_config_validate(&c, &err) != SMOLWEB_OK) abort();
        if (c.hidden_size % c.num_heads || c.num_heads % c.num_kv_heads || c.head_dim < 1) abort();
    } else if (err.msg[0] == '\0' || strncmp(err.msg, "config.json: ", 13) != 0) {
        abort(); /* every failure names the file */
    }
    free(buf);
    return 0;
}
