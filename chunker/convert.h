/* convert.h: the chunker's pipeline: a source model (HF folder or GGUF) in,
 * a model folder out (manifest.json, tokenizer.swt, embedding.swc,
 * layer-NNN.swc), per /work/shared/DESIGN.md section 2.
 *
 * The output is written into a fresh sibling folder, re-read and verified
 * (sizes, SHA-256, chunk validation, shapes against the manifest) and only
 * then renamed into place, so OUT_DIR is never left half-written and an
 * existing good model folder survives a failed run. */
#ifndef SW_CONVERT_H
#define SW_CONVERT_H

#include "error.h"
#include "quant.h"

typedef struct sw_convert_params {
    sw_dtype quant;        /* linear weights; default q4 */
    sw_dtype embed_quant;  /* token embedding / head; default q8 under q4, else = quant */
    /* Progress lines (no newline), or NULL. Called from the converting thread. */
    void (*on_progress)(void *user, const char *line);
    void *user;
} sw_convert_params;

/* Defaults: q4 weights, q8 embedding, no progress callback. */
sw_convert_params sw_convert_default_params(void);

/* Converts input (folder or .gguf) into out_dir. Returns SMOLWEB_OK, or a
 * status with err naming the file and problem; on failure out_dir is as it was. */
smolweb_status sw_convert(const char *input, const char *out_dir, const sw_convert_params *params, sw_error *err);

/* Re-reads a model folder and checks it completely: manifest valid, every
 * file present with the stated size and SHA-256, every chunk valid with the
 * tensors and shapes the manifest implies. */
smolweb_status sw_verify_model_dir(const char *dir, sw_error *err);

#endif
