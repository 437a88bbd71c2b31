/* hf_config.h: a Hugging Face config.json (Llama family) -> sw_model_config.
 *
 * Accepts architectures containing "LlamaForCausalLM" or model_type "llama";
 * refuses (SMOLWEB_ERR_UNSUPPORTED) what this runtime cannot run: another
 * architecture, hidden_act other than silu, any rope_scaling, attention or
 * MLP biases. Optional keys take transformers' LlamaConfig defaults:
 * num_key_value_heads = num_attention_heads, head_dim = hidden_size /
 * num_attention_heads, rope_theta 10000, rms_norm_eps 1e-6,
 * max_position_embeddings 2048, tie_word_embeddings false, no bos/eos (-1).
 * The dimensions hidden_size, intermediate_size, num_hidden_layers,
 * num_attention_heads and vocab_size are required. Every message starts
 * with "config.json: ". */
#ifndef SW_HF_CONFIG_H
#define SW_HF_CONFIG_H

#include <stddef.h>

#include "error.h"
#include "source.h"

/* Parses len bytes of untrusted config.json text into *out (name left
 * empty), then validates it with sw_model_config_validate. */
smolweb_status sw_hf_config_parse(const char *json, size_t len, sw_model_config *out, sw_error *err);

/* Reads dir/config.json (at most 16 MB) and parses it; out->name is the
 * folder's last path component. */
smolweb_status sw_hf_config_load(const char *dir, sw_model_config *out, sw_error *err);

/* Checks the values any source's config must satisfy: positive sizes within
 * sane limits, hidden_size divisible by num_attention_heads, heads divisible by kv heads, an even head_dim (RoPE turns
 * pairs), hidden_size and intermediate_size multiples of the 32-wide
 * quantization group, positive rope_theta and rms_norm_eps, special ids
 * inside the vocabulary. Messages name the HF key ("hidden_size 577 is not
 * divisible by num_attention_heads 9"), with no file prefix. */
smolweb_status sw_model_config_validate(const sw_model_config *c, sw_error *err);

#endif
