/* tokenizer.c: byte-level BPE encode/decode from a packed tokenizer.
 * Format: tokenizer_format.h. Behaviour contract: tokenizer.h. */
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

#include "tokenizer_format.h"
#include "unicode.h"

/* ---- tables ---- */

#define NO_ID 0xFFFFFFFFu
/* Words up to this many initial symbols are merged by rescanning a small
 * array (fast for the short words that dominate text); longer ones use a
 * binary heap so a long word costs O(n log n). Both merge lowest rank first,
 * leftmost first among equal ranks, like the reference's heap. */
#define SMALL_WORD 48

typedef struct merge_slot {
    uint32_t left, right; /* left == NO_ID: empty slot */
    uint32_t rank, merged;
} merge_slot;

typedef struct added_tok {
    uint32_t id;
    uint32_t flags;
    uint32_t off, len; /* content in blob */
} added_tok;

/* The added tokens of one matching pass, bucketed by first byte, longest first. */
typedef struct added_set {
    uint32_t n;
    uint32_t *order;     /* n indexes into sw_tokenizer.added */
    uint32_t start[257]; /* bucket of byte c: order[start[c] .. start[c+1]) */
} added_set;

struct sw_tokenizer {
    uint32_t pre_flags, model_flags;
    int32_t unk_id;
    uint32_t n_vocab; /* V: vocabulary entries */
    uint32_t n_ids;   /* max(V, largest added id + 1) */
    uint8_t *blob;    /* a copy of the packed file: every byte string points into it */
    uint8_t *kind;          /* [n_vocab] SW_TOK_KIND_* */
    uint32_t *tok_off;      /* [n_vocab] vocabulary bytes (what merges build) */
    uint32_t *tok_len;
    uint32_t *piece_off;    /* [n_ids] what each id decodes to */
    uint32_t *piece_len;
    uint8_t *id_flags;      /* [n_ids] bit0: has a piece, bit1: special */
    uint32_t *vocab_hash;   /* kind-1 bytes -> id, open addressing, NO_ID empty */
    uint32_t vocab_mask;
    merge_slot *merges;
    uint32_t merge_mask;
    uint32_t byte_sym[256][2]; /* initial symbols of each byte */
    uint8_t byte_n[256];       /* how many of byte_sym */
    uint8_t byte_kind[256];    /* BK_* */
    uint32_t n_added;
    added_tok *added;
    added_set sets[2]; /* [0] non-normalized, [1] normalized */
};

enum { BK_DROP = 0, BK_TOKEN = 1, BK_FALLBACK = 2, BK_UNK = 3 };

#define IDF_PRESENT 1u
#define IDF_SPECIAL 2u

/* ---- small helpers ---- */

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads a LEB128 varint of at most 5 bytes fitting u32 from p[*pos..end). */
static int rd_varint(const uint8_t *p, size_t end, size_t *pos, uint32_t *out) {
    uint64_t v = 0;
    for (int i = 0; i < 5; i++) {
        if (*pos >= end) return 0;
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            if (v > 0xFFFFFFFFu) return 0;
            *out = (uint32_t)v;
            return 1;
        }
    }
    return 0;
}

static uint32_t hash_bytes(const uint8_t *s, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
    return h ^ (h >> 15);
}

static uint32_t hash_pair(uint32_t a, uint32_t b) {
    uint32_t h = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u) * 0x85EBCA77u;
    h ^= h >> 16;
    h *= 0x7FEB352Du;
    return h ^ (h >> 15);
}

static uint32_t pow2_at_least(uint64_t n) {
    uint32_t c = 16;
    while (c < n) c <<= 1;
    return c;
}

/* GPT-2's bytes_to_unicode: the char each byte is shown as in vocab strings. */
static uint32_t byte_char(uint8_t b) {
    if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE) return b;
    uint32_t n = 0;
    for (uint32_t c = 0; c < b; c++)
        if (!((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE)) n++;
    return 256 + n;
}

static uint32_t vocab_find(const sw_tokenizer *t, const uint8_t *s, size_t n) {
    if (n == 0) return NO_ID;
    uint32_t i = hash_bytes(s, n) & t->vocab_mask;
    for (;;) {
        uint32_t id = t->vocab_hash[i];
        if (id == NO_ID) return NO_ID;
        if (t->tok_len[id] == n && memcmp(t->blob + t->tok_off[id], s, n) == 0) return id;
        i = (i + 1) & t->vocab_mask;
    }
}

static const merge_slot *merge_find(const sw_tokenizer *t, uint32_t a, uint32_t b) {
    uint32_t i = hash_pair(a, b) & t->merge_mask;
    for (;;) {
        const merge_slot *s = &t->merges[i];
        if (s->left == NO_ID) return NULL;
        if (s->left == a && s->right == b) return s;
        i = (i + 1) & t->merge_mask;
    }
}

/* ---- loading ---- */

void sw_tokenizer_free(sw_tokenizer *t) {
    if (!t) return;
    free(t->blob);
    free(t->kind);
    free(t->tok_off);
    free(t->tok_len);
    free(t->piece_off);
    free(t->piece_len);
    free(t->id_flags);
    free(t->vocab_hash);
    free(t->merges);
    free(t->added);
    free(t->sets[0].order);
    free(t->sets[1].order);
    free(t);
}

typedef struct header {
    uint32_t pre_flags, model_flags, n_vocab, n_merges, n_added;
    int32_t unk_id;
    uint32_t vocab_size, merges_size, added_size, id_width;
} header;

static smolweb_status parse_header(const uint8_t *b, size_t len, header *h, sw_error *err) {
    if (len < SW_TOK_HEADER_SIZE) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: truncated header (%zu bytes)", len);
    if ((uint64_t)len >> 32) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: %zu bytes is too large", len);
    if (memcmp(b, SW_TOK_MAGIC, 4) != 0) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: bad magic (not a packed tokenizer)");
    uint32_t version = rd32(b + 4);
    if (version != SW_TOK_VERSION)
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "tokenizer: version %u not supported (expected %d)", version, SW_TOK_VERSION);
    if (rd32(b + 8) != SW_TOK_HEADER_SIZE)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: header size %u, expected %d", rd32(b + 8), SW_TOK_HEADER_SIZE);
    if (rd32(b + 12) != SW_TOK_MODEL_BYTE_BPE)
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "tokenizer: model kind %u not supported (expected byte-level BPE)", rd32(b + 12));
    h->pre_flags = rd32(b + 16);
    h->model_flags = rd32(b + 20);
    h->n_vocab = rd32(b + 24);
    h->n_merges = rd32(b + 28);
    h->n_added = rd32(b + 32);
    h->unk_id = (int32_t)rd32(b + 36);
    h->vocab_size = rd32(b + 40);
    h->merges_size = rd32(b + 44);
    h->added_size = rd32(b + 48);
    h->id_width = rd32(b + 52);
    if (h->pre_flags & ~SW_TOK_PRE_ALL) return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "tokenizer: unknown pre-tokenizer flags 0x%x", h->pre_flags);
    if ((h->pre_flags & SW_TOK_PRE_DIGITS_INDIVIDUAL) && !(h->pre_flags & SW_TOK_PRE_DIGITS))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: individual digits flag without digits flag");
    if (h->model_flags & ~SW_TOK_MODEL_ALL) return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "tokenizer: unknown model flags 0x%x", h->model_flags);
    if (h->n_vocab == 0 || h->n_vocab > SW_TOK_MAX_IDS)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: vocabulary count %u out of range (1..%u)", h->n_vocab, SW_TOK_MAX_IDS);
    if (h->n_merges > SW_TOK_MAX_MERGES)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: merge count %u out of range (max %u)", h->n_merges, SW_TOK_MAX_MERGES);
    if (h->n_added > SW_TOK_MAX_ADDED)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: added token count %u out of range (max %u)", h->n_added, SW_TOK_MAX_ADDED);
    uint32_t want_w = h->n_vocab <= 65536 ? 2 : 4;
    if (h->id_width != want_w)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: merge id width %u, expected %u", h->id_width, want_w);
    if ((uint64_t)h->merges_size != (uint64_t)h->n_merges * 2 * want_w)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: merges section is %u bytes, expected %llu", h->merges_size,
                            (unsigned long long)h->n_merges * 2 * want_w);
    for (int i = 56; i < 64; i++)
        if (b[i]) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: reserved header bytes are not zero");
    uint64_t total = (uint64_t)SW_TOK_HEADER_SIZE + h->vocab_size + h->merges_size + h->added_size;
    if (total != len)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: sections end at byte %llu but the file has %zu bytes",
                            (unsigned long long)total, len);
    return SMOLWEB_OK;
}

static smolweb_status load_vocab(sw_tokenizer *t, const uint8_t *b, size_t start, size_t end, sw_error *err) {
    uint32_t V = t->n_vocab;
    t->kind = malloc(V);
    t->tok_off = malloc(sizeof(uint32_t) * V);
    t->tok_len = malloc(sizeof(uint32_t) * V);
    t->vocab_mask = pow2_at_least((uint64_t)V * 2) - 1;
    t->vocab_hash = malloc(sizeof(uint32_t) * ((size_t)t->vocab_mask + 1));
    if (!t->kind || !t->tok_off || !t->tok_len || !t->vocab_hash)
        return sw_error_set(err, SMOLWEB_ERR_NOMEM, "tokenizer: out of memory for %u tokens", V);
    memset(t->vocab_hash, 0xFF, sizeof(uint32_t) * ((size_t)t->vocab_mask + 1));
    size_t pos = start;
    for (uint32_t id = 0; id < V; id++) {
        uint32_t tag;
        if (!rd_varint(b, end, &pos, &tag)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: vocabulary entry %u truncated", id);
        uint32_t kind = tag & 3, n = tag >> 2;
        if (kind > SW_TOK_KIND_RAW) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: vocabulary entry %u has unknown kind %u", id, kind);
        if (kind == SW_TOK_KIND_NONE && n) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: vocabulary entry %u has no token but %u bytes", id, n);
        if (kind == SW_TOK_KIND_BYTES && !n) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: vocabulary entry %u is empty", id);
        if (n > end - pos) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: vocabulary entry %u truncated", id);
        t->kind[id] = (uint8_t)kind;
        t->tok_off[id] = (uint32_t)pos; /* blob is a copy of the whole file */
        t->tok_len[id] = n;
        pos += n;
        if (kind != SW_TOK_KIND_BYTES) continue;
        uint32_t i = hash_bytes(b + t->tok_off[id], n) & t->vocab_mask;
        while (t->vocab_hash[i] != NO_ID) {
            uint32_t o = t->vocab_hash[i];
            if (t->tok_len[o] == n && memcmp(b + t->tok_off[o], b + t->tok_off[id], n) == 0)
                return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: vocabulary entries %u and %u have the same bytes", o, id);
            i = (i + 1) & t->vocab_mask;
        }
        t->vocab_hash[i] = id;
    }
    if (pos != end) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: %zu stray bytes after the vocabulary", end - pos);
    return SMOLWEB_OK;
}

static smolweb_status load_merges(sw_tokenizer *t, const uint8_t *b, size_t start, uint32_t n, uint32_t w, sw_error *err) {
    t->merge_mask = pow2_at_least((uint64_t)n * 2) - 1;
    t->merges = malloc(sizeof(merge_slot) * ((size_t)t->merge_mask + 1));
    if (!t->merges) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "tokenizer: out of memory for %u merges", n);
    memset(t->merges, 0xFF, sizeof(merge_slot) * ((size_t)t->merge_mask + 1));
    uint8_t *cat = NULL;
    size_t cat_cap = 0;
    smolweb_status st = SMOLWEB_OK;
    for (uint32_t r = 0; r < n && !st; r++) {
        const uint8_t *p = b + start + (size_t)r * 2 * w;
        uint32_t ids[2];
        for (int k = 0; k < 2; k++) ids[k] = w == 2 ? (uint32_t)p[2 * k] | (uint32_t)p[2 * k + 1] << 8 : rd32(p + 4 * k);
        for (int k = 0; k < 2 && !st; k++) {
            if (ids[k] >= t->n_vocab)
                st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: merge %u: id %u out of range", r, ids[k]);
            else if (t->kind[ids[k]] != SW_TOK_KIND_BYTES)
                st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: merge %u: id %u is not a byte-level token", r, ids[k]);
        }
        if (st) break;
        size_t la = t->tok_len[ids[0]], lb = t->tok_len[ids[1]];
        if (la + lb > cat_cap) {
            cat_cap = (la + lb) * 2;
            uint8_t *nc = realloc(cat, cat_cap);
            if (!nc) {
                st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "tokenizer: out of memory");
                break;
            }
            cat = nc;
        }
        memcpy(cat, b + t->tok_off[ids[0]], la);
        memcpy(cat + la, b + t->tok_off[ids[1]], lb);
        uint32_t merged = vocab_find(t, cat, la + lb);
        if (merged == NO_ID) {
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: merge %u: ids %u + %u make no token", r, ids[0], ids[1]);
            break;
        }
        uint32_t i = hash_pair(ids[0], ids[1]) & t->merge_mask;
        while (t->merges[i].left != NO_ID && !(t->merges[i].left == ids[0] && t->merges[i].right == ids[1]))
            i = (i + 1) & t->merge_mask;
        t->merges[i] = (merge_slot){ids[0], ids[1], r, merged}; /* a repeat takes the later rank */
    }
    free(cat);
    return st;
}

static smolweb_status load_added(sw_tokenizer *t, const uint8_t *b, size_t start, size_t end, sw_error *err) {
    t->added = calloc(t->n_added ? t->n_added : 1, sizeof(added_tok));
    uint32_t *piece_off = calloc(t->n_added ? t->n_added : 1, sizeof(uint32_t));
    uint32_t *piece_len = calloc(t->n_added ? t->n_added : 1, sizeof(uint32_t));
    smolweb_status st = SMOLWEB_OK;
    if (!t->added || !piece_off || !piece_len) st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "tokenizer: out of memory");
    size_t pos = start;
    uint32_t max_id = t->n_vocab - 1;
    for (uint32_t k = 0; k < t->n_added && !st; k++) {
        added_tok *a = &t->added[k];
        uint32_t clen, plen;
        if (end - pos < 5) {
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: added token %u truncated", k);
            break;
        }
        a->id = rd32(b + pos);
        a->flags = b[pos + 4];
        pos += 5;
        if (a->id >= SW_TOK_MAX_IDS) {
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: added token %u: id %u out of range", k, a->id);
            break;
        }
        if (a->flags & ~SW_TOK_ADDED_ALL) {
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: added token %u: unknown flags 0x%x", k, a->flags);
            break;
        }
        if (!rd_varint(b, end, &pos, &clen) || clen > end - pos) {
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: added token %u truncated", k);
            break;
        }
        if (clen == 0) {
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: added token %u is empty", k);
            break;
        }
        a->off = (uint32_t)pos;
        a->len = clen;
        pos += clen;
        if (!rd_varint(b, end, &pos, &plen) || plen > end - pos) {
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: added token %u truncated", k);
            break;
        }
        piece_off[k] = (uint32_t)pos;
        piece_len[k] = plen;
        pos += plen;
        if (a->id > max_id) max_id = a->id;
    }
    if (!st && pos != end) st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: %zu stray bytes after the added tokens", end - pos);
    if (!st) {
        t->n_ids = max_id + 1;
        t->piece_off = malloc(sizeof(uint32_t) * t->n_ids);
        t->piece_len = malloc(sizeof(uint32_t) * t->n_ids);
        t->id_flags = calloc(t->n_ids, 1);
        if (!t->piece_off || !t->piece_len || !t->id_flags) st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "tokenizer: out of memory");
    }
    if (!st) {
        for (uint32_t id = 0; id < t->n_ids; id++) {
            int in_vocab = id < t->n_vocab && t->kind[id] != SW_TOK_KIND_NONE;
            t->piece_off[id] = in_vocab ? t->tok_off[id] : 0;
            t->piece_len[id] = in_vocab ? t->tok_len[id] : 0;
            t->id_flags[id] = in_vocab ? IDF_PRESENT : 0;
        }
        for (uint32_t k = 0; k < t->n_added && !st; k++) {
            const added_tok *a = &t->added[k];
            for (uint32_t j = 0; j < k; j++)
                if (t->added[j].id == a->id) {
                    st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: added tokens %u and %u share id %u", j, k, a->id);
                    break;
                }
            /* the reference decodes an added id to the added token's content */
            t->piece_off[a->id] = piece_off[k];
            t->piece_len[a->id] = piece_len[k];
            t->id_flags[a->id] = IDF_PRESENT | ((a->flags & SW_TOK_ADDED_SPECIAL) ? IDF_SPECIAL : 0);
        }
    }
    free(piece_off);
    free(piece_len);
    return st;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Buckets each pass's added tokens by first byte, longest first, so the
 * first full match at a position is the leftmost-longest one. */
static smolweb_status build_added_sets(sw_tokenizer *t, sw_error *err) {
    for (int s = 0; s < 2; s++) {
        added_set *set = &t->sets[s];
        uint64_t *keys = malloc(sizeof(uint64_t) * (t->n_added ? t->n_added : 1));
        set->order = malloc(sizeof(uint32_t) * (t->n_added ? t->n_added : 1));
        if (!keys || !set->order) {
            free(keys);
            return sw_error_set(err, SMOLWEB_ERR_NOMEM, "tokenizer: out of memory");
        }
        uint32_t n = 0;
        for (uint32_t k = 0; k < t->n_added; k++) {
            const added_tok *a = &t->added[k];
            if (((a->flags & SW_TOK_ADDED_NORMALIZED) != 0) != (s == 1)) continue;
            /* key: first byte, then longer first, then file order */
            uint64_t first = t->blob[a->off];
            uint64_t len = a->len < 0xFFFFFFu ? a->len : 0xFFFFFFu;
            keys[n++] = first << 56 | (0xFFFFFFu - len) << 24 | k;
        }
        qsort(keys, n, sizeof keys[0], cmp_u64);
        memset(set->start, 0, sizeof set->start);
        for (uint32_t i = 0; i < n; i++) {
            set->order[i] = (uint32_t)(keys[i] & 0xFFFFFFu);
            set->start[(keys[i] >> 56) + 1]++;
        }
        for (int c = 0; c < 256; c++) set->start[c + 1] += set->start[c];
        set->n = n;
        free(keys);
    }
    return SMOLWEB_OK;
}

/* Initial symbols of each byte: its own token; else with byte fallback the
 * <0xHH> tokens of the UTF-8 of the char the byte is shown as (what the
 * reference looks up); else unk when the model has one; else none (the byte
 * is dropped). */
static void build_byte_table(sw_tokenizer *t) {
    for (int b = 0; b < 256; b++) {
        uint8_t one = (uint8_t)b;
        uint32_t id = vocab_find(t, &one, 1);
        t->byte_n[b] = 0;
        t->byte_kind[b] = BK_DROP;
        if (id != NO_ID) {
            t->byte_sym[b][0] = id;
            t->byte_n[b] = 1;
            t->byte_kind[b] = BK_TOKEN;
            continue;
        }
        if (t->model_flags & SW_TOK_MODEL_BYTE_FALLBACK) {
            uint32_t c = byte_char(one);
            uint8_t u[4];
            int nu = (int)sw_utf8_encode(c, u); /* byte_char() is below 0x800: 1 or 2 bytes */
            int ok = 1;
            for (int k = 0; k < nu; k++) {
                static const char hex[] = "0123456789ABCDEF";
                uint8_t name[6] = {'<', '0', 'x', (uint8_t)hex[u[k] >> 4], (uint8_t)hex[u[k] & 15], '>'};
                uint32_t fid = vocab_find(t, name, 6);
                if (fid == NO_ID) ok = 0;
                else t->byte_sym[b][k] = fid;
            }
            if (ok) {
                t->byte_n[b] = (uint8_t)nu;
                t->byte_kind[b] = BK_FALLBACK;
                continue;
            }
        }
        if (t->unk_id >= 0) t->byte_kind[b] = BK_UNK;
    }
}

sw_tokenizer *sw_tokenizer_create(const uint8_t *bytes, size_t len, sw_error *err) {
    header h;
    memset(&h, 0, sizeof h);
    if (!bytes) len = 0;
    if (parse_header(bytes, len, &h, err)) return NULL;
    sw_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        sw_error_set(err, SMOLWEB_ERR_NOMEM, "tokenizer: out of memory");
        return NULL;
    }
    t->pre_flags = h.pre_flags;
    t->model_flags = h.model_flags;
    t->unk_id = h.unk_id;
    t->n_vocab = h.n_vocab;
    t->n_added = h.n_added;
    t->blob = malloc(len);
    smolweb_status st = t->blob ? SMOLWEB_OK : sw_error_set(err, SMOLWEB_ERR_NOMEM, "tokenizer: out of memory");
    if (!st) memcpy(t->blob, bytes, len);
    size_t vstart = SW_TOK_HEADER_SIZE, mstart = vstart + h.vocab_size, astart = mstart + h.merges_size;
    if (!st) st = load_vocab(t, t->blob, vstart, mstart, err);
    if (!st) st = load_merges(t, t->blob, mstart, h.n_merges, h.id_width, err);
    if (!st) st = load_added(t, t->blob, astart, len, err);
    if (!st && (h.unk_id < -1 || (h.unk_id >= 0 && ((uint32_t)h.unk_id >= t->n_ids || !(t->id_flags[h.unk_id] & IDF_PRESENT)))))
        st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer: unk id %d is not a token", h.unk_id);
    if (!st) st = build_added_sets(t, err);
    if (st) {
        sw_tokenizer_free(t);
        return NULL;
    }
    build_byte_table(t);
    return t;
}

int sw_tokenizer_vocab_size(const sw_tokenizer *t) { return t ? (int)t->n_ids : 0; }

/* ---- encoding ---- */

typedef struct heap_entry {
    uint32_t rank, pos, merged;
} heap_entry;

/* Per-call scratch and output; nothing is kept between calls. */
typedef struct enc {
    const sw_tokenizer *t;
    int32_t *ids;
    size_t n, cap;
    uint32_t *sym;  /* symbol ids of the current word */
    int32_t *prev, *next;
    uint32_t *rank; /* small words: rank of the pair (i, i+1) */
    size_t scap;
    heap_entry *heap;
    size_t hn, hcap;
    uint8_t *tmp;   /* a piece with its prefix space */
    size_t tcap;
    int oom;
} enc;

static void emit(enc *e, uint32_t id) {
    if (e->n == e->cap) {
        size_t nc = e->cap ? e->cap * 2 : 256;
        int32_t *ni = realloc(e->ids, sizeof(int32_t) * nc);
        if (!ni) {
            e->oom = 1;
            return;
        }
        e->ids = ni;
        e->cap = nc;
    }
    e->ids[e->n++] = (int32_t)id;
}

static int ensure_sym(enc *e, size_t n) {
    if (n <= e->scap) return 1;
    size_t nc = n < 64 ? 64 : n;
    uint32_t *s = realloc(e->sym, sizeof(uint32_t) * nc);
    if (s) e->sym = s;
    int32_t *p = realloc(e->prev, sizeof(int32_t) * nc);
    if (p) e->prev = p;
    int32_t *x = realloc(e->next, sizeof(int32_t) * nc);
    if (x) e->next = x;
    uint32_t *r = realloc(e->rank, sizeof(uint32_t) * nc);
    if (r) e->rank = r;
    if (!s || !p || !x || !r) {
        e->oom = 1;
        return 0;
    }
    e->scap = nc;
    return 1;
}

/* Heap order: lower rank first, then lower position (leftmost). */
static int heap_less(const heap_entry *a, const heap_entry *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void heap_push(enc *e, heap_entry x) {
    if (e->hn == e->hcap) {
        size_t nc = e->hcap ? e->hcap * 2 : 256;
        heap_entry *nh = realloc(e->heap, sizeof(heap_entry) * nc);
        if (!nh) {
            e->oom = 1;
            return;
        }
        e->heap = nh;
        e->hcap = nc;
    }
    size_t i = e->hn++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(&x, &e->heap[p])) break;
        e->heap[i] = e->heap[p];
        i = p;
    }
    e->heap[i] = x;
}

static heap_entry heap_pop(enc *e) {
    heap_entry top = e->heap[0], last = e->heap[--e->hn];
    size_t i = 0, n = e->hn;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap_less(&e->heap[c + 1], &e->heap[c])) c++;
        if (!heap_less(&e->heap[c], &last)) break;
        e->heap[i] = e->heap[c];
        i = c;
    }
    if (n) e->heap[i] = last;
    return top;
}

static void push_pair(enc *e, uint32_t pos) {
    int32_t nx = e->next[pos];
    if (nx < 0) return;
    const merge_slot *m = merge_find(e->t, e->sym[pos], e->sym[nx]);
    if (m) heap_push(e, (heap_entry){m->rank, pos, m->merged});
}

/* Long words: a linked list of symbols and a heap of candidate merges; an
 * entry is stale when its left symbol died or the pair no longer makes the
 * same token. */
static void merge_heap(enc *e, size_t n) {
    const sw_tokenizer *t = e->t;
    for (size_t i = 0; i < n; i++) {
        e->prev[i] = (int32_t)i - 1;
        e->next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    e->hn = 0;
    for (size_t i = 0; i + 1 < n; i++) push_pair(e, (uint32_t)i);
    while (e->hn && !e->oom) {
        heap_entry top = heap_pop(e);
        uint32_t p = top.pos;
        if (e->sym[p] == NO_ID) continue;
        int32_t nx = e->next[p];
        if (nx < 0) continue;
        const merge_slot *m = merge_find(t, e->sym[p], e->sym[nx]);
        if (!m || m->merged != top.merged) continue;
        e->sym[p] = top.merged;
        e->sym[nx] = NO_ID;
        int32_t nn = e->next[nx];
        e->next[p] = nn;
        if (nn >= 0) e->prev[nn] = (int32_t)p;
        if (e->prev[p] >= 0) push_pair(e, (uint32_t)e->prev[p]);
        push_pair(e, p);
    }
    for (int32_t i = 0; i >= 0; i = e->next[i]) emit(e, e->sym[i]);
}

/* Short words: symbols in an array, the rank of each adjacent pair cached;
 * each step merges the leftmost lowest-rank pair and refreshes its two
 * neighbouring pairs. */
static void merge_small(enc *e, size_t n) {
    const sw_tokenizer *t = e->t;
    uint32_t *sym = e->sym, *rank = e->rank;
    const merge_slot *ms;
    for (size_t i = 0; i + 1 < n; i++) {
        ms = merge_find(t, sym[i], sym[i + 1]);
        rank[i] = ms ? ms->rank : NO_ID;
    }
    while (n > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (rank[i] < rank[best]) best = i;
        if (rank[best] == NO_ID) break;
        sym[best] = merge_find(t, sym[best], sym[best + 1])->merged;
        memmove(sym + best + 1, sym + best + 2, sizeof(uint32_t) * (n - best - 2));
        memmove(rank + best + 1, rank + best + 2, sizeof(uint32_t) * (n > best + 2 ? n - best - 2 : 0));
        n--;
        if (best > 0) {
            ms = merge_find(t, sym[best - 1], sym[best]);
            rank[best - 1] = ms ? ms->rank : NO_ID;
        }
        if (best + 1 < n) {
            ms = merge_find(t, sym[best], sym[best + 1]);
            rank[best] = ms ? ms->rank : NO_ID;
        }
    }
    for (size_t i = 0; i < n; i++) emit(e, sym[i]);
}

/* One pre-tokenized word (raw bytes) through the BPE model. */
static void bpe_word(enc *e, const uint8_t *w, size_t len) {
    const sw_tokenizer *t = e->t;
    if (len == 0) return;
    if (t->model_flags & SW_TOK_MODEL_IGNORE_MERGES) {
        uint32_t id = vocab_find(t, w, len);
        if (id != NO_ID) {
            emit(e, id);
            return;
        }
    }
    if (len == 1 && t->byte_kind[w[0]] == BK_TOKEN) {
        emit(e, t->byte_sym[w[0]][0]);
        return;
    }
    if (len > (SIZE_MAX / 2) - 1 || !ensure_sym(e, 2 * len + 1)) {
        e->oom = 1;
        return;
    }
    size_t n = 0;
    int unk_pending = 0; /* an unk waiting to be added (the reference fuses runs lazily) */
    for (size_t i = 0; i < len; i++) {
        uint8_t b = w[i], kind = t->byte_kind[b];
        if (kind == BK_UNK) {
            if (unk_pending && !(t->model_flags & SW_TOK_MODEL_FUSE_UNK)) e->sym[n++] = (uint32_t)t->unk_id;
            unk_pending = 1;
            continue;
        }
        if (kind == BK_DROP) continue; /* no token, no fallback, no unk: dropped */
        /* a char with a token flushes a pending unk; byte fallback does not (as the reference) */
        if (kind == BK_TOKEN && unk_pending) {
            e->sym[n++] = (uint32_t)t->unk_id;
            unk_pending = 0;
        }
        for (int j = 0; j < t->byte_n[b]; j++) e->sym[n++] = t->byte_sym[b][j];
    }
    if (unk_pending) e->sym[n++] = (uint32_t)t->unk_id;
    if (n == 0) return;
    if (n == 1) emit(e, e->sym[0]);
    else if (n <= SMALL_WORD) merge_small(e, n);
    else merge_heap(e, n);
}

/* Length of the match at p[i..n) of the GPT-2 pattern
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * evaluated as the backtracking engine does: alternatives in order, each
 * greedy. Every position matches something, so pieces tile the input. */
static size_t gpt2_match(const uint8_t *p, size_t n, size_t i) {
    uint8_t c = p[i];
    if (c == '\'' && i + 1 < n) {
        uint8_t d = p[i + 1];
        if (d == 's' || d == 't' || d == 'm' || d == 'd') return 2;
        if (i + 2 < n) {
            uint8_t f = p[i + 2];
            if ((d == 'r' && f == 'e') || (d == 'v' && f == 'e') || (d == 'l' && f == 'l')) return 3;
        }
    }
    uint32_t cp;
    size_t l = sw_utf8_next(p + i, n - i, &cp), j = i;
    sw_uclass k = sw_unicode_class(cp);
    if (c == ' ' && i + 1 < n) { /* the optional space before a letter/number/other run */
        uint32_t cp2;
        size_t l2 = sw_utf8_next(p + i + 1, n - i - 1, &cp2);
        sw_uclass k2 = sw_unicode_class(cp2);
        if (k2 != SW_UC_SPACE) {
            k = k2;
            j = i + 1;
            l = l2;
        }
    }
    size_t q = j + l;
    if (k != SW_UC_SPACE) {
        while (q < n) {
            size_t lq = sw_utf8_next(p + q, n - q, &cp);
            if (sw_unicode_class(cp) != k) break;
            q += lq;
        }
        return q - i;
    }
    /* white space: \s+(?!\S) takes the run, minus its last char when a
     * non-space follows and that leaves at least one; else \s+ takes one */
    size_t last = i;
    while (q < n) {
        size_t lq = sw_utf8_next(p + q, n - q, &cp);
        if (sw_unicode_class(cp) != SW_UC_SPACE) break;
        last = q;
        q += lq;
    }
    if (q == n || last == i) return q - i;
    return last - i;
}

/* A piece after Digits: prefix space, then the regex split, then BPE. */
static void byte_level_piece(enc *e, const uint8_t *s, size_t n) {
    const sw_tokenizer *t = e->t;
    if (n == 0) return;
    if ((t->pre_flags & SW_TOK_PRE_PREFIX_SPACE) && s[0] != ' ') {
        if (n + 1 > e->tcap) {
            uint8_t *nt = realloc(e->tmp, n + 1);
            if (!nt) {
                e->oom = 1;
                return;
            }
            e->tmp = nt;
            e->tcap = n + 1;
        }
        e->tmp[0] = ' ';
        memcpy(e->tmp + 1, s, n);
        s = e->tmp;
        n++;
    }
    if (!(t->pre_flags & SW_TOK_PRE_REGEX)) {
        bpe_word(e, s, n);
        return;
    }
    for (size_t i = 0; i < n && !e->oom;) {
        size_t l = gpt2_match(s, n, i);
        bpe_word(e, s + i, l);
        i += l;
    }
}

/* Digits: each Unicode number char (or each run of them) becomes its own piece. */
static void pre_tokenize(enc *e, const uint8_t *s, size_t n) {
    const sw_tokenizer *t = e->t;
    if (!(t->pre_flags & SW_TOK_PRE_DIGITS)) {
        byte_level_piece(e, s, n);
        return;
    }
    size_t i = 0, start = 0;
    while (i < n && !e->oom) {
        uint32_t cp;
        size_t l = sw_utf8_next(s + i, n - i, &cp);
        if (!sw_unicode_is_numeric(cp)) {
            i += l;
            continue;
        }
        byte_level_piece(e, s + start, i - start);
        size_t j = i + l;
        if (!(t->pre_flags & SW_TOK_PRE_DIGITS_INDIVIDUAL)) {
            while (j < n) {
                size_t lj = sw_utf8_next(s + j, n - j, &cp);
                if (!sw_unicode_is_numeric(cp)) break;
                j += lj;
            }
        }
        byte_level_piece(e, s + i, j - i);
        i = start = j;
    }
    byte_level_piece(e, s + start, n - start);
}

/* The char ending at s[end) (end > 0): its code point and length. Invalid
 * bytes count as one char each, as the forward decoder sees them. */
static size_t last_char(const uint8_t *s, size_t end, uint32_t *cp) {
    size_t q = end - 1;
    while (q > 0 && end - q < 4 && (s[q] & 0xC0) == 0x80) q--;
    if (sw_utf8_next(s + q, end - q, cp) == end - q) return end - q;
    *cp = SW_UTF8_INVALID;
    return 1;
}

/* Where the white space run ending at s[end) starts (\s*$). */
static size_t space_run_start(const uint8_t *s, size_t end) {
    while (end > 0) {
        uint32_t cp;
        size_t l = last_char(s, end, &cp);
        if (sw_unicode_class(cp) != SW_UC_SPACE) break;
        end -= l;
    }
    return end;
}

/* Length of the white space run starting at s[0..n) (^\s*). */
static size_t space_run_len(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = sw_utf8_next(s + i, n - i, &cp);
        if (sw_unicode_class(cp) != SW_UC_SPACE) break;
        i += l;
    }
    return i;
}

/* Leftmost-longest added-token match in s[from..n): 1 with *at and *k set. */
static int find_added(const sw_tokenizer *t, const added_set *set, const uint8_t *s, size_t n, size_t from, size_t *at,
                      uint32_t *k) {
    for (size_t q = from; q < n; q++) {
        uint32_t a = set->start[s[q]], b = set->start[s[q] + 1];
        for (uint32_t x = a; x < b; x++) {
            const added_tok *tok = &t->added[set->order[x]];
            if (tok->len <= n - q && memcmp(t->blob + tok->off, s + q, tok->len) == 0) {
                *at = q;
                *k = set->order[x];
                return 1;
            }
        }
    }
    return 0;
}

static void split_added(enc *e, const uint8_t *s, size_t n, int pass);

static void next_stage(enc *e, const uint8_t *s, size_t n, int pass) {
    if (n == 0) return;
    if (pass == 0) split_added(e, s, n, 1);
    else pre_tokenize(e, s, n);
}

/* One pass of added-token extraction over s[0..n), as the reference's
 * find_matches: matches are found without overlap (the search resumes at a
 * match's end even when the match is discarded or stretched by rstrip);
 * single_word discards a match touching a word char; lstrip and rstrip
 * stretch it over adjacent white space. The text between goes on. */
static void split_added(enc *e, const uint8_t *s, size_t n, int pass) {
    const sw_tokenizer *t = e->t;
    const added_set *set = &t->sets[pass];
    if (set->n == 0) {
        next_stage(e, s, n, pass);
        return;
    }
    size_t pos = 0, done = 0, mstart;
    uint32_t k;
    while (pos < n && !e->oom && find_added(t, set, s, n, pos, &mstart, &k)) {
        const added_tok *a = &t->added[k];
        size_t mend = mstart + a->len, start = mstart, stop = mend;
        pos = mend;
        if (a->flags & SW_TOK_ADDED_SINGLE_WORD) {
            uint32_t cp;
            int word_before = mstart > 0 && (last_char(s, mstart, &cp), sw_unicode_is_word(cp));
            int word_after = mend < n && (sw_utf8_next(s + mend, n - mend, &cp), sw_unicode_is_word(cp));
            if (word_before || word_after) continue;
        }
        if (a->flags & SW_TOK_ADDED_LSTRIP) {
            size_t ns = space_run_start(s, mstart);
            start = ns > done ? ns : done;
        }
        if (a->flags & SW_TOK_ADDED_RSTRIP) stop = mend + space_run_len(s + mend, n - mend);
        if (done < start) next_stage(e, s + done, start - done, pass);
        emit(e, a->id);
        done = stop;
    }
    if (done < n) next_stage(e, s + done, n - done, pass);
}

size_t sw_tokenizer_encode_bound(size_t len) { return len > SIZE_MAX / 2 - 1 ? SIZE_MAX : 2 * len + 1; }

static void enc_free(enc *e) {
    free(e->ids);
    free(e->sym);
    free(e->prev);
    free(e->next);
    free(e->rank);
    free(e->heap);
    free(e->tmp);
}

static smolweb_status encode_all(const sw_tokenizer *t, const uint8_t *text, size_t len, enc *e, sw_error *err) {
    memset(e, 0, sizeof *e);
    e->t = t;
    if (!t) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "tokenizer: no tokenizer");
    if (!text && len) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "tokenizer: no text");
    if (len > SW_TOKENIZER_MAX_TEXT)
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "tokenizer: text of %zu bytes is too long (max %u)", len, SW_TOKENIZER_MAX_TEXT);
    if (len) split_added(e, text, len, 0);
    if (e->oom) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "tokenizer: out of memory encoding %zu bytes", len);
    return SMOLWEB_OK;
}

smolweb_status sw_tokenizer_encode(const sw_tokenizer *t, const uint8_t *text, size_t len, int32_t *ids, size_t cap,
                                   size_t *n_ids, sw_error *err) {
    enc e;
    smolweb_status st = encode_all(t, text, len, &e, err);
    *n_ids = st ? 0 : e.n;
    if (!st && ids && cap) memcpy(ids, e.ids, sizeof(int32_t) * (e.n < cap ? e.n : cap));
    enc_free(&e);
    return st;
}

smolweb_status sw_tokenizer_encode_alloc(const sw_tokenizer *t, const uint8_t *text, size_t len, int32_t **ids,
                                         size_t *n_ids, sw_error *err) {
    enc e;
    smolweb_status st = encode_all(t, text, len, &e, err);
    *ids = NULL;
    *n_ids = 0;
    if (!st && e.n) {
        *ids = e.ids; /* hand over the output array */
        *n_ids = e.n;
        e.ids = NULL;
    }
    enc_free(&e);
    return st;
}

/* ---- decoding ---- */

const uint8_t *sw_tokenizer_piece(const sw_tokenizer *t, int32_t id, size_t *len) {
    if (!t || id < 0 || (uint32_t)id >= t->n_ids || !(t->id_flags[id] & IDF_PRESENT)) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->piece_len[id];
    return t->blob + t->piece_off[id];
}

int sw_tokenizer_is_special(const sw_tokenizer *t, int32_t id) {
    return t && id >= 0 && (uint32_t)id < t->n_ids && (t->id_flags[id] & IDF_SPECIAL) != 0;
}

int32_t sw_tokenizer_added_id(const sw_tokenizer *t, const char *str, size_t len) {
    if (!t || (!str && len)) return -1;
    for (uint32_t k = 0; k < t->n_added; k++)
        if (t->added[k].len == len && memcmp(t->blob + t->added[k].off, str, len) == 0) return (int32_t)t->added[k].id;
    return -1;
}

int32_t sw_tokenizer_token_id(const sw_tokenizer *t, const uint8_t *bytes, size_t len) {
    int32_t id = sw_tokenizer_added_id(t, (const char *)bytes, len);
    if (id >= 0 || !t || !bytes) return id;
    uint32_t v = vocab_find(t, bytes, len);
    return v == NO_ID ? -1 : (int32_t)v;
}

/* At s[0..n) (n >= 1): the length of one complete, valid char (*valid = 1);
 * or of the maximal invalid subpart to replace by one U+FFFD (*valid = 0,
 * length >= 1), as Unicode's recommended practice and Rust's
 * from_utf8_lossy; or 0 when s[0..n) is a valid but unfinished prefix. */
static size_t utf8_step(const uint8_t *s, size_t n, int *valid) {
    uint8_t b = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    *valid = 1;
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        *valid = 0;
        return 1;
    }
    for (size_t k = 1; k <= need; k++) {
        if (k >= n) return 0;
        uint8_t c = s[k];
        if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) {
            *valid = 0;
            return k;
        }
    }
    return need + 1;
}

/* Output that counts everything but stores only what fits. */
typedef struct sink {
    uint8_t *buf;
    size_t cap, len;
} sink;

static void sink_put(sink *k, const uint8_t *p, size_t n) {
    if (k->len < k->cap) {
        size_t m = k->cap - k->len < n ? k->cap - k->len : n;
        memcpy(k->buf + k->len, p, m);
    }
    k->len += n;
}

/* The unfinished tail of a UTF-8 text fed in pieces. */
typedef struct utf8_tail {
    uint8_t b[4];
    size_t n;
} utf8_tail;

static const uint8_t REPLACEMENT[3] = {0xEF, 0xBF, 0xBD};

static void put_unit(sink *k, const uint8_t *p, size_t l, int valid, int lossy) {
    if (valid || !lossy) sink_put(k, p, l);
    else sink_put(k, REPLACEMENT, 3);
}

/* Appends p[0..n) to the text and writes every char it completes. */
static void utf8_feed(utf8_tail *u, const uint8_t *p, size_t n, int lossy, sink *k) {
    int valid;
    while (u->n > 0 && n > 0) { /* finish the held-back char a byte at a time */
        u->b[u->n++] = *p++;
        n--;
        size_t l = utf8_step(u->b, u->n, &valid);
        if (l == 0) continue;
        put_unit(k, u->b, l, valid, lossy);
        if (l < u->n) { /* the new byte broke the sequence: it starts afresh */
            p--;
            n++;
        }
        u->n = 0;
    }
    while (n > 0) {
        size_t l = utf8_step(p, n, &valid);
        if (l == 0) { /* unfinished: at most 3 bytes, kept for the next piece */
            memcpy(u->b, p, n);
            u->n = n;
            return;
        }
        put_unit(k, p, l, valid, lossy);
        p += l;
        n -= l;
    }
}

static void utf8_finish(utf8_tail *u, int lossy, sink *k) {
    if (u->n) put_unit(k, u->b, u->n, 0, lossy);
    u->n = 0;
}

static int skip_id(const sw_tokenizer *t, int32_t id, unsigned flags) {
    if (id < 0 || (uint32_t)id >= t->n_ids || !(t->id_flags[id] & IDF_PRESENT)) return 1;
    return (flags & SW_DECODE_SKIP_SPECIAL) && (t->id_flags[id] & IDF_SPECIAL);
}

smolweb_status sw_tokenizer_decode(const sw_tokenizer *t, const int32_t *ids, size_t n_ids, unsigned flags, uint8_t *out,
                                   size_t cap, size_t *out_len, sw_error *err) {
    *out_len = 0;
    if (!t || (!ids && n_ids)) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "tokenizer: decode without tokenizer or ids");
    sink k = {out, out ? cap : 0, 0};
    utf8_tail u = {{0}, 0};
    int lossy = (flags & SW_DECODE_LOSSY) != 0;
    for (size_t i = 0; i < n_ids; i++) {
        if (skip_id(t, ids[i], flags)) continue;
        utf8_feed(&u, t->blob + t->piece_off[ids[i]], t->piece_len[ids[i]], lossy, &k);
    }
    utf8_finish(&u, lossy, &k);
    *out_len = k.len;
    return SMOLWEB_OK;
}

/* ---- streaming decode ---- */

struct sw_decode_stream {
    const sw_tokenizer *t;
    unsigned flags;
    utf8_tail tail;
    uint8_t *buf; /* output of the last call */
    size_t cap;
};

sw_decode_stream *sw_decode_stream_create(const sw_tokenizer *t, unsigned flags) {
    if (!t) return NULL;
    sw_decode_stream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->t = t;
    s->flags = flags;
    return s;
}

void sw_decode_stream_free(sw_decode_stream *s) {
    if (!s) return;
    free(s->buf);
    free(s);
}

void sw_decode_stream_reset(sw_decode_stream *s) {
    if (s) s->tail.n = 0;
}

/* Output of n more bytes is at most 3 per byte (each may become U+FFFD). */
static int stream_reserve(sw_decode_stream *s, size_t n) {
    if (n > SIZE_MAX / 3 - 16) return 0;
    size_t need = 3 * n + 16;
    if (need <= s->cap) return 1;
    uint8_t *nb = realloc(s->buf, need);
    if (!nb) return 0;
    s->buf = nb;
    s->cap = need;
    return 1;
}

smolweb_status sw_decode_stream_put(sw_decode_stream *s, int32_t id, const uint8_t **out, size_t *out_len, sw_error *err) {
    *out = NULL;
    *out_len = 0;
    if (!s) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "tokenizer: no decode stream");
    const sw_tokenizer *t = s->t;
    if (skip_id(t, id, s->flags)) return SMOLWEB_OK;
    size_t n = t->piece_len[id];
    if (!stream_reserve(s, n + 4)) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "tokenizer: out of memory decoding");
    sink k = {s->buf, s->cap, 0};
    utf8_feed(&s->tail, t->blob + t->piece_off[id], n, (s->flags & SW_DECODE_LOSSY) != 0, &k);
    *out = s->buf;
    *out_len = k.len;
    return SMOLWEB_OK;
}

smolweb_status sw_decode_stream_flush(sw_decode_stream *s, const uint8_t **out, size_t *out_len, sw_error *err) {
    *out = NULL;
    *out_len = 0;
    if (!s) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "tokenizer: no decode stream");
    if (!stream_reserve(s, 4)) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "tokenizer: out of memory decoding");
    sink k = {s->buf, s->cap, 0};
    utf8_finish(&s->tail, (s->flags & SW_DECODE_LOSSY) != 0, &k);
    *out = s->buf;
    *out_len = k.len;
    return SMOLWEB_OK;
}
