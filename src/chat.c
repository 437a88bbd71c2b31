/* chat.c: recognising and rendering the SmolLM ChatML templates (see chat.h).
 *
 * Recognition lexes the candidate and a canonical copy of each known template
 * in lockstep with one small Jinja lexer and compares token by token: names,
 * numbers and operators by spelling, string literals by decoded value. So
 * whitespace inside tags and quote styles may differ, and nothing else. The
 * one free token is SmolLM2's default system literal, marked in the canonical
 * text by the placeholder '@SYSTEM@'. */
#include "chat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the known templates ---- */

#define SYSTEM_PLACEHOLDER "@SYSTEM@"

static const char SMOLLM_TEMPLATE[] =
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

static const char SMOLLM2_TEMPLATE[] =
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}{{ '" SYSTEM_PLACEHOLDER "' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/* What renders around each message, and around the default system message. */
static const char IM_START[] = "<|im_start|>";
static const char IM_END_NL[] = "<|im_end|>\n";
static const char SYSTEM_OPEN[] = "<|im_start|>system\n";
static const char GENERATION_PROMPT[] = "<|im_start|>assistant\n";

struct sw_chat_template {
    char *default_system; /* owned; NULL when the template has none */
};

/* ---- lexer: the subset of Jinja the known templates use ---- */

typedef enum tk_kind {
    TK_END,        /* end of the template, outside any tag */
    TK_BAD,        /* anything the known templates never contain */
    TK_OPEN_EXPR,  /* {{ */
    TK_CLOSE_EXPR, /* }} */
    TK_OPEN_STMT,  /* {% */
    TK_CLOSE_STMT, /* %} */
    TK_NAME,
    TK_NUMBER,
    TK_STRING, /* p, n: the raw text between the quotes (escapes not decoded) */
    TK_OP
} tk_kind;

typedef struct token {
    tk_kind kind;
    const char *p;
    size_t n;
    size_t at; /* byte offset of the token in the template */
} token;

typedef struct lexer {
    const char *s;
    size_t pos;
    int in_tag; /* 0 outside tags, else the closing kind expected */
} lexer;

static int is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Escapes both Jinja engines (Python's and @huggingface/jinja) decode alike. */
static int escape_value(char e) {
    switch (e) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'v': return '\v';
    case '\'': return '\'';
    case '"': return '"';
    case '\\': return '\\';
    default: return -1;
    }
}

/* Lexes a string literal starting at its quote. A raw CR is refused because
 * Python's Jinja normalises newlines inside literals and the JS one does not. */
static tk_kind lex_string(lexer *lx, token *t) {
    const char *s = lx->s;
    char q = s[lx->pos];
    size_t i = lx->pos + 1;
    while (s[i] && s[i] != q) {
        if (s[i] == '\\') {
            if (!s[i + 1] || escape_value(s[i + 1]) < 0) return TK_BAD;
            i += 2;
        } else if (s[i] == '\r') {
            return TK_BAD;
        } else {
            i++;
        }
    }
    if (!s[i]) return TK_BAD;
    t->p = s + lx->pos + 1;
    t->n = i - lx->pos - 1;
    lx->pos = i + 1;
    return TK_STRING;
}

static tk_kind lex_in_tag(lexer *lx, token *t) {
    const char *s = lx->s;
    size_t p = lx->pos;
    char c = s[p];
    if (!c) return TK_BAD; /* unterminated tag */
    if (lx->in_tag == TK_CLOSE_EXPR && c == '}' && s[p + 1] == '}') {
        lx->pos += 2, lx->in_tag = 0;
        return TK_CLOSE_EXPR;
    }
    if (lx->in_tag == TK_CLOSE_STMT && c == '%' && s[p + 1] == '}') {
        lx->pos += 2, lx->in_tag = 0;
        return TK_CLOSE_STMT;
    }
    if (c == '\'' || c == '"') return lex_string(lx, t);
    if (is_name_start(c) || is_digit(c)) {
        int name = is_name_start(c);
        while (name ? is_name_start(s[p]) || is_digit(s[p]) : is_digit(s[p])) p++;
        t->n = p - lx->pos;
        lx->pos = p;
        return name ? TK_NAME : TK_NUMBER;
    }
    if ((c == '!' || c == '=') && s[p + 1] == '=') {
        t->n = 2, lx->pos += 2;
        return TK_OP;
    }
    if (strchr("[]().+", c)) {
        t->n = 1, lx->pos += 1;
        return TK_OP;
    }
    return TK_BAD;
}

/* Reads the next token. Text outside tags, comments, whitespace control
 * ({%- -%}) and unknown characters are TK_BAD: no known template has them. */
static void lex_next(lexer *lx, token *t) {
    const char *s = lx->s;
    if (lx->in_tag)
        while (s[lx->pos] == ' ' || s[lx->pos] == '\t' || s[lx->pos] == '\n') lx->pos++;
    t->at = lx->pos;
    t->p = s + lx->pos;
    t->n = 0;
    if (lx->in_tag) {
        t->kind = lex_in_tag(lx, t);
        return;
    }
    char c = s[lx->pos];
    if (!c) {
        t->kind = TK_END;
        return;
    }
    t->kind = TK_BAD;
    if (c != '{' || (s[lx->pos + 1] != '{' && s[lx->pos + 1] != '%')) return;
    int expr = s[lx->pos + 1] == '{';
    char after = s[lx->pos + 2];
    if (after == '-' || after == '+') return;
    lx->pos += 2;
    lx->in_tag = expr ? TK_CLOSE_EXPR : TK_CLOSE_STMT;
    t->kind = expr ? TK_OPEN_EXPR : TK_OPEN_STMT;
}

/* Decodes the next character of a lexed string literal (escapes were
 * validated by the lexer) and advances *i. */
static unsigned char lit_next(const token *t, size_t *i) {
    char c = t->p[(*i)++];
    if (c != '\\') return (unsigned char)c;
    return (unsigned char)escape_value(t->p[(*i)++]);
}

static size_t lit_decoded_len(const token *t) {
    size_t i = 0, n = 0;
    while (i < t->n) lit_next(t, &i), n++;
    return n;
}

static int lit_equal(const token *a, const token *b) {
    size_t i = 0, j = 0;
    while (i < a->n && j < b->n)
        if (lit_next(a, &i) != lit_next(b, &j)) return 0;
    return i == a->n && j == b->n;
}

static int is_placeholder(const token *t) {
    return t->kind == TK_STRING && t->n == strlen(SYSTEM_PLACEHOLDER) && !memcmp(t->p, SYSTEM_PLACEHOLDER, t->n);
}

static int token_equal(const token *a, const token *b) {
    if (a->kind != b->kind) return 0;
    if (a->kind == TK_STRING) return lit_equal(a, b);
    return a->n == b->n && !memcmp(a->p, b->p, a->n);
}

/* Matches tmpl against a canonical template. On success returns 1 and, if the
 * pattern has the placeholder, sets *sys to the literal in its place. On
 * failure returns 0 and sets *fail_at to the offset of the first token of
 * tmpl that differs. */
static int match(const char *tmpl, const char *pattern, token *sys, size_t *fail_at) {
    lexer a = {tmpl, 0, 0}, b = {pattern, 0, 0};
    token ta, tb;
    for (;;) {
        lex_next(&a, &ta);
        lex_next(&b, &tb);
        if (ta.kind == TK_BAD) break;
        if (is_placeholder(&tb)) {
            if (ta.kind != TK_STRING) break;
            *sys = ta;
            continue;
        }
        if (!token_equal(&ta, &tb)) break;
        if (ta.kind == TK_END) return 1;
    }
    *fail_at = ta.at;
    return 0;
}

/* SmolLM2's default system literal must read SYSTEM_OPEN + message +
 * IM_END_NL, and hold no brace: the JS engine rewrites "%}\n" and "{%" at a
 * line start anywhere in the template text, literals included, where Python's
 * does not, so a brace could make the two references disagree. */
static int system_literal_ok(const token *t) {
    if (memchr(t->p, '{', t->n) || memchr(t->p, '}', t->n)) return 0;
    size_t n = lit_decoded_len(t), pre = strlen(SYSTEM_OPEN), suf = strlen(IM_END_NL);
    if (n < pre + suf) return 0;
    size_t i = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char c = lit_next(t, &i);
        if (k < pre && c != (unsigned char)SYSTEM_OPEN[k]) return 0;
        if (k >= n - suf && c != (unsigned char)IM_END_NL[k - (n - suf)]) return 0;
    }
    return 1;
}

typedef struct classified {
    sw_chat_format format;
    int has_system; /* sys holds the default system literal */
    token sys;
    size_t fail_at;   /* for "other": where the template stops matching */
    const char *why;  /* for "other": a detail for the error message, or "" */
} classified;

static classified classify(const char *tmpl) {
    classified c = {SW_CHAT_OTHER, 0, {TK_END, NULL, 0, 0}, 0, ""};
    size_t at1 = 0, at2 = 0;
    if (match(tmpl, SMOLLM_TEMPLATE, &c.sys, &at1)) {
        c.format = SW_CHAT_CHATML;
        return c;
    }
    if (match(tmpl, SMOLLM2_TEMPLATE, &c.sys, &at2)) {
        if (system_literal_ok(&c.sys)) {
            c.format = SW_CHAT_CHATML;
            c.has_system = 1;
            return c;
        }
        c.fail_at = c.sys.at;
        c.why = ": its default system literal is not '<|im_start|>system\\n...<|im_end|>\\n' free of braces";
        return c;
    }
    c.fail_at = at1 > at2 ? at1 : at2;
    return c;
}

/* ---- public API ---- */

sw_chat_format sw_chat_classify(const char *tmpl) {
    return tmpl ? classify(tmpl).format : SW_CHAT_OTHER;
}

const char *sw_chat_format_name(sw_chat_format f) { return f == SW_CHAT_CHATML ? "chatml" : "other"; }

sw_chat_template *sw_chat_template_parse(const char *tmpl, sw_error *err) {
    if (!tmpl) {
        sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED,
                     "chat template: the model has none (chat_format \"other\"); the C runtime renders only the "
                     "ChatML templates of SmolLM-Instruct and SmolLM2-Instruct");
        return NULL;
    }
    classified c = classify(tmpl);
    if (c.format != SW_CHAT_CHATML) {
        sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED,
                     "chat template: chat_format \"other\" is not supported by the C runtime, which renders only "
                     "the ChatML templates of SmolLM-Instruct and SmolLM2-Instruct (this one differs from them at "
                     "byte %zu%s); the JavaScript library renders any template with a Jinja engine",
                     c.fail_at, c.why);
        return NULL;
    }
    sw_chat_template *t = calloc(1, sizeof *t);
    if (!t) {
        sw_error_set(err, SMOLWEB_ERR_NOMEM, "chat template: out of memory");
        return NULL;
    }
    if (c.has_system) {
        /* system_literal_ok checked n >= pre + suf; the literal holds no NUL */
        size_t n = lit_decoded_len(&c.sys), pre = strlen(SYSTEM_OPEN), suf = strlen(IM_END_NL);
        t->default_system = n >= pre + suf ? malloc(n - pre - suf + 1) : NULL;
        if (!t->default_system) {
            free(t);
            sw_error_set(err, SMOLWEB_ERR_NOMEM, "chat template: out of memory");
            return NULL;
        }
        size_t i = 0, o = 0;
        for (size_t k = 0; k < n; k++) {
            unsigned char ch = lit_next(&c.sys, &i);
            if (k >= pre && k < n - suf) t->default_system[o++] = (char)ch;
        }
        t->default_system[o] = '\0';
    }
    return t;
}

void sw_chat_template_free(sw_chat_template *t) {
    if (!t) return;
    free(t->default_system);
    free(t);
}

const char *sw_chat_template_default_system(const sw_chat_template *t) { return t ? t->default_system : NULL; }

/* *total += a, or 0 on overflow. */
static int add_size(size_t *total, size_t a) {
    if (a > SIZE_MAX - *total) return 0;
    *total += a;
    return 1;
}

static char *put(char *o, const char *s, size_t n) {
    memcpy(o, s, n);
    return o + n;
}

smolweb_status sw_chat_render(const sw_chat_template *t, const sw_chat_message *messages, size_t n,
                              int add_generation_prompt, char **out, size_t *out_len, sw_error *err) {
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!t || !out || (n > 0 && !messages))
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "chat render: NULL template, output or messages");
    for (size_t i = 0; i < n; i++)
        if (!messages[i].role || !messages[i].content)
            return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "chat render: message %zu has a NULL %s", i,
                                messages[i].role ? "content" : "role");

    /* Jinja: loop.first and messages[0]['role'] != 'system' */
    int with_system = t->default_system && n > 0 && strcmp(messages[0].role, "system") != 0;
    const size_t start = strlen(IM_START), end = strlen(IM_END_NL);
    size_t total = 1, sys_len = with_system ? strlen(t->default_system) : 0;
    int ok = 1;
    if (with_system) ok = add_size(&total, strlen(SYSTEM_OPEN)) && add_size(&total, sys_len) && add_size(&total, end);
    for (size_t i = 0; ok && i < n; i++)
        ok = add_size(&total, start) && add_size(&total, strlen(messages[i].role)) && add_size(&total, 1) &&
             add_size(&total, strlen(messages[i].content)) && add_size(&total, end);
    if (ok && add_generation_prompt) ok = add_size(&total, strlen(GENERATION_PROMPT));
    char *buf = ok ? malloc(total) : NULL;
    if (!buf) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "chat render: out of memory (%zu messages)", n);

    char *o = buf;
    if (with_system) {
        o = put(o, SYSTEM_OPEN, strlen(SYSTEM_OPEN));
        o = put(o, t->default_system, sys_len);
        o = put(o, IM_END_NL, end);
    }
    for (size_t i = 0; i < n; i++) {
        o = put(o, IM_START, start);
        o = put(o, messages[i].role, strlen(messages[i].role));
        *o++ = '\n';
        o = put(o, messages[i].content, strlen(messages[i].content));
        o = put(o, IM_END_NL, end);
    }
    if (add_generation_prompt) o = put(o, GENERATION_PROMPT, strlen(GENERATION_PROMPT));
    *o = '\0';
    *out = buf;
    if (out_len) *out_len = (size_t)(o - buf);
    return SMOLWEB_OK;
}
