/* generate.c: prefill in slices with KV-cache prefix reuse, and the
 * token-at-a-time decode step. */
#include "model.h"

static smolweb_status need_weights(smolweb_model *m) {
    int32_t first;
    int32_t missing = smolweb_model_missing_chunks(m, &first, 1);
    if (missing == 0) return SMOLWEB_OK;
    return sw_error_set(&m->err, SMOLWEB_ERR_STATE, "%d chunk(s) still missing (first: %s); load every chunk first",
                        missing, m->man->files[first].path);
}

int32_t smolweb_common_prefix(const smolweb_model *m, const int32_t *ids, int32_t n) {
    int32_t i = 0;
    while (i < n && i < m->n_past && m->cache_ids[i] == ids[i]) i++;
    return i;
}

void smolweb_reset(smolweb_model *m) {
    m->n_past = 0;
    m->pending = -1;
    m->logits_valid = 0;
}

smolweb_status smolweb_prefill(smolweb_model *m, const int32_t *ids, int32_t n, int32_t max_tokens, int32_t *n_done) {
    smolweb_status st = need_weights(m);
    if (st) return st;
    if (n <= 0 || !ids) return sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "an empty prompt cannot be prefilled");
    if (n > m->n_ctx)
        return sw_error_set(&m->err, SMOLWEB_ERR_CONTEXT, "the prompt has %d tokens, the context holds %d", n, m->n_ctx);
    m->pending = -1;
    int32_t keep = smolweb_common_prefix(m, ids, n);
    /* a fully cached prompt still needs its last token's logits: rerun it */
    if (keep == n && !(m->n_past == n && m->logits_valid)) keep = n - 1;
    if (keep < m->n_past) {
        m->n_past = keep;
        m->logits_valid = 0;
    }
    int32_t budget = max_tokens > 0 ? max_tokens : n;
    while (m->n_past < n && budget > 0) {
        int32_t step = n - m->n_past;
        if (step > m->batch) step = m->batch;
        if (step > budget) step = budget;
        m->logits_valid = 0;
        st = sw_forward(m, ids + m->n_past, step);
        if (st) return st;
        budget -= step;
    }
    if (n_done) *n_done = m->n_past;
    return SMOLWEB_OK;
}

smolweb_status smolweb_decode_step(smolweb_model *m, smolweb_sampler *s, int32_t *token) {
    smolweb_status st = need_weights(m);
    if (st) return st;
    if (m->pending >= 0) {
        if (m->n_past >= m->n_ctx)
            return sw_error_set(&m->err, SMOLWEB_ERR_CONTEXT, "the context of %d tokens is full", m->n_ctx);
        int32_t t = m->pending;
        m->pending = -1;
        st = sw_forward(m, &t, 1);
        if (st) return st;
    }
    if (!m->logits_valid) return sw_error_set(&m->err, SMOLWEB_ERR_STATE, "nothing to decode from: prefill a prompt first");
    int32_t id = smolweb_sampler_sample(s, m->s.logits);
    if (id < 0) return sw_error_set(&m->err, SMOLWEB_ERR_STATE, "the logits are not finite");
    m->pending = id;
    *token = id;
    return SMOLWEB_OK;
}

const float *smolweb_logits(const smolweb_model *m) { return m->logits_valid ? m->s.logits : NULL; }
