/* stop.c: stop strings for streaming generation (contract in stop.h).
 *
 * An Aho-Corasick automaton over bytes. Node v stands for the string
 * text[off[v] .. off[v] + depth[v]) of the concatenated stop strings (a prefix
 * of the stop string that created it). After each byte the state is the node
 * for the longest suffix of the stream that is a prefix of some stop string;
 * that suffix is exactly what must be held back, so the held bytes are read
 * from the node and never stored separately. hit[v] is the longest stop
 * string that is a suffix of v's string (-1: none): when the state has one,
 * that stop string has just completed. */
#include "stop.h"

#include <stdlib.h>
#include <string.h>

struct sw_stop {
    uint8_t *text;     /* (total) the stop strings, concatenated */
    size_t *len;       /* (n) their lengths */
    size_t n;
    /* automaton: nodes 0 .. n_nodes-1, 0 is the root (the empty string) */
    int32_t *child;    /* (n_nodes) first child, -1: none */
    int32_t *sibling;  /* (n_nodes) next child of the same parent, -1: none */
    int32_t *fail;     /* (n_nodes) node of the longest proper suffix that is a node */
    int32_t *hit;      /* (n_nodes) stop string completed at this node, -1: none */
    uint32_t *off;     /* (n_nodes) where the node's string starts in text */
    uint32_t *depth;   /* (n_nodes) its length */
    uint8_t *byte;     /* (n_nodes) the last byte of its string */
    int32_t root_next[256]; /* transitions out of the root, complete */
    int32_t n_nodes;
    /* stream */
    int32_t state;
    int matched;       /* stop string index, -1 */
};

static int32_t find_child(const sw_stop *st, int32_t v, uint8_t c) {
    if (v == 0) return st->root_next[c] ? st->root_next[c] : -1;
    for (int32_t u = st->child[v]; u >= 0; u = st->sibling[u])
        if (st->byte[u] == c) return u;
    return -1;
}

/* The automaton's transition: follow failure links until a child for c. */
static int32_t next_state(const sw_stop *st, int32_t v, uint8_t c) {
    for (;;) {
        if (v == 0) return st->root_next[c];
        int32_t u = find_child(st, v, c);
        if (u >= 0) return u;
        v = st->fail[v];
    }
}

void sw_stop_free(sw_stop *st) {
    if (!st) return;
    free(st->text);
    free(st->len);
    free(st->child);
    free(st->sibling);
    free(st->fail);
    free(st->hit);
    free(st->off);
    free(st->depth);
    free(st->byte);
    free(st);
}

/* Inserts stop string i (at text + off, len bytes) into the trie. */
static void insert(sw_stop *st, size_t i, uint32_t off, size_t len) {
    int32_t v = 0;
    for (size_t j = 0; j < len; j++) {
        uint8_t c = st->text[off + j];
        int32_t u = find_child(st, v, c);
        if (u < 0) {
            u = st->n_nodes++;
            st->child[u] = -1;
            st->hit[u] = -1;
            st->off[u] = off;
            st->depth[u] = (uint32_t)(j + 1);
            st->byte[u] = c;
            if (v == 0) {
                st->sibling[u] = -1;
                st->root_next[c] = u;
            } else {
                st->sibling[u] = st->child[v];
                st->child[v] = u;
            }
        }
        v = u;
    }
    if (st->hit[v] < 0) st->hit[v] = (int32_t)i; /* duplicates: the lowest index */
}

/* Failure links and hits, breadth first: a node's links need only those of
 * shallower nodes. Returns 0 when out of memory (the queue). */
static int link(sw_stop *st) {
    int32_t *queue = malloc(sizeof *queue * (size_t)st->n_nodes);
    if (!queue) return 0;
    int32_t head = 0, tail = 0;
    for (int c = 0; c < 256; c++) {
        int32_t u = st->root_next[c];
        if (!u) continue;
        st->fail[u] = 0;
        queue[tail++] = u;
    }
    while (head < tail) {
        int32_t v = queue[head++];
        if (st->hit[v] < 0) st->hit[v] = st->hit[st->fail[v]]; /* own string is the longest */
        for (int32_t u = st->child[v]; u >= 0; u = st->sibling[u]) {
            st->fail[u] = next_state(st, st->fail[v], st->byte[u]);
            queue[tail++] = u;
        }
    }
    free(queue);
    return 1;
}

sw_stop *sw_stop_create(const uint8_t *const *strs, const size_t *lens, size_t n, sw_error *err) {
    if (n > 0 && (!strs || !lens)) {
        sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "stop strings: %zu strings but no array", n);
        return NULL;
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] == 0) {
            sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "stop string %zu is empty", i);
            return NULL;
        }
        if (!strs[i]) {
            sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "stop string %zu is NULL", i);
            return NULL;
        }
        if (lens[i] > SW_STOP_MAX_BYTES || total + lens[i] > SW_STOP_MAX_BYTES) {
            /* saturate rather than overflow when reporting */
            size_t all = 0;
            for (size_t j = 0; j < n; j++) all = lens[j] > SIZE_MAX - all ? SIZE_MAX : all + lens[j];
            sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "stop strings: %zu bytes in total, more than %d", all,
                         SW_STOP_MAX_BYTES);
            return NULL;
        }
        total += lens[i];
    }
    sw_stop *st = calloc(1, sizeof *st);
    if (!st) goto nomem;
    size_t nodes = total + 1;
    st->n = n;
    st->text = malloc(total ? total : 1);
    st->len = malloc(sizeof *st->len * (n ? n : 1));
    st->child = malloc(sizeof *st->child * nodes);
    st->sibling = malloc(sizeof *st->sibling * nodes);
    st->fail = malloc(sizeof *st->fail * nodes);
    st->hit = malloc(sizeof *st->hit * nodes);
    st->off = malloc(sizeof *st->off * nodes);
    st->depth = malloc(sizeof *st->depth * nodes);
    st->byte = malloc(nodes);
    if (!st->text || !st->len || !st->child || !st->sibling || !st->fail || !st->hit || !st->off || !st->depth ||
        !st->byte)
        goto nomem;
    /* the root */
    st->n_nodes = 1;
    st->child[0] = st->sibling[0] = -1;
    st->fail[0] = 0;
    st->hit[0] = -1;
    st->off[0] = st->depth[0] = 0;
    st->byte[0] = 0;
    uint32_t off = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(st->text + off, strs[i], lens[i]);
        st->len[i] = lens[i];
        insert(st, i, off, lens[i]);
        off += (uint32_t)lens[i];
    }
    if (!link(st)) goto nomem;
    sw_stop_reset(st);
    return st;
nomem:
    sw_stop_free(st);
    sw_error_set(err, SMOLWEB_ERR_NOMEM, "stop strings: out of memory");
    return NULL;
}

void sw_stop_reset(sw_stop *st) {
    if (!st) return;
    st->state = 0;
    st->matched = -1;
}

size_t sw_stop_held(const sw_stop *st) { return st ? st->depth[st->state] : 0; }

size_t sw_stop_out_bound(const sw_stop *st, size_t len) {
    size_t held = sw_stop_held(st);
    return len > SIZE_MAX - held ? SIZE_MAX : held + len;
}

int sw_stop_matched(const sw_stop *st) { return st ? st->matched : -1; }

/* Writes the first count bytes of (held string of node v) + piece to out. */
static void emit(const sw_stop *st, int32_t v, const uint8_t *piece, size_t count, uint8_t *out) {
    size_t held = st->depth[v];
    size_t from_held = count < held ? count : held;
    if (from_held) memcpy(out, st->text + st->off[v], from_held);
    if (count > held) memcpy(out + held, piece, count - held);
}

smolweb_status sw_stop_feed(sw_stop *st, const uint8_t *piece, size_t len, uint8_t *out, size_t cap,
                            size_t *out_len, int *stopped, sw_error *err) {
    if (!st || !out_len || !stopped || (len > 0 && (!piece || !out)))
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "stop: NULL argument to sw_stop_feed");
    if (st->matched >= 0)
        return sw_error_set(err, SMOLWEB_ERR_STATE, "stop: feed after stop string %d matched (reset first)",
                            st->matched);
    size_t need = sw_stop_out_bound(st, len);
    if (cap < need)
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "stop: output buffer of %zu bytes, the feed needs %zu", cap,
                            need);
    int32_t start = st->state, v = start;
    size_t held = st->depth[start];
    for (size_t i = 0; i < len; i++) {
        v = next_state(st, v, piece[i]);
        int32_t j = st->hit[v];
        if (j < 0) continue;
        /* stop string j ends at byte held + i of (held + piece) */
        size_t before = held + i + 1 - st->len[j];
        emit(st, start, piece, before, out);
        *out_len = before;
        *stopped = 1;
        st->matched = j;
        st->state = 0;
        return SMOLWEB_OK;
    }
    size_t count = held + len - st->depth[v];
    if (count) emit(st, start, piece, count, out);
    *out_len = count;
    *stopped = 0;
    st->state = v;
    return SMOLWEB_OK;
}

smolweb_status sw_stop_flush(sw_stop *st, uint8_t *out, size_t cap, size_t *out_len, sw_error *err) {
    if (!st || !out_len) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "stop: NULL argument to sw_stop_flush");
    size_t held = st->depth[st->state];
    if (cap < held || (held && !out))
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "stop: output buffer of %zu bytes, the flush needs %zu", cap,
                            held);
    if (held) memcpy(out, st->text + st->off[st->state], held);
    *out_len = held;
    st->state = 0;
    return SMOLWEB_OK;
}
