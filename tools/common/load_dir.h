/* load_dir.h: loading a model folder (chunker output) from disk into a
 * smolweb_model, for the native CLIs and tests. The runtime itself never
 * touches files: this reads each chunk straight into the buffer the model
 * allocated for it and commits it. */
#ifndef SW_LOAD_DIR_H
#define SW_LOAD_DIR_H

#include <stddef.h>

#include "smolweb.h"

/* Creates a model from dir/manifest.json and loads every chunk (SHA-256
 * checked). On failure returns a status, *out = NULL, and err names the file. */
smolweb_status sw_load_model_dir(const char *dir, const smolweb_model_params *params, smolweb_model **out, char *err,
                                 size_t err_len);

/* Reads a whole file into a malloc'd buffer (NUL-terminated); NULL on failure. */
char *sw_read_text_file(const char *path, size_t *len);

#endif
