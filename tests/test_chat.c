/* test_chat.c: the C chat-template renderer (src/chat.h) against a real Jinja
 * engine. Classifier unit tests (the two SmolLM templates and harmless
 * spellings of them are chatml; Llama-3, tools, whitespace control, text
 * between tags, bad escapes, NULL and "" are other, with exact errors); the
 * default system message extraction; hand-written expected renderings; then
 * thousands of conversations rendered by both the C side and
 * @huggingface/jinja (tests/chat_reference.mjs, run with node) which must be
 * byte-identical, including every one-character mutation of the SmolLM2
 * template that the C side still accepts. Needs `npm ci` at the repo root. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "chat.h"

static int g_fail = 0, g_pass = 0;

#define CHECK(cond, ...)                                         \
    do {                                                         \
        if (cond) g_pass++;                                      \
        else {                                                   \
            g_fail++;                                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                        \
            fputc('\n', stderr);                                 \
        }                                                        \
    } while (0)

static char g_src[4000], g_shared[4096];

static void find_dirs(void) {
    const char *src = getenv("SMOLWEB_SRC");
    snprintf(g_src, sizeof g_src, "%s", src && *src ? src : "..");
    const char *sh = getenv("SMOLWEB_SHARED");
    if (sh && *sh) snprintf(g_shared, sizeof g_shared, "%s", sh);
    else snprintf(g_shared, sizeof g_shared, "%s/../shared", g_src);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    if (!buf) abort();
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d) abort();
    memcpy(d, s, n);
    return d;
}

/* The real SmolLM2-Instruct template, from the shared tokenizer_config.json. */
static char *load_smollm2_template(void) {
    char path[4200];
    snprintf(path, sizeof path, "%s/models/smollm2-135m-instruct/tokenizer_config.json", g_shared);
    char *json = read_file(path, NULL);
    if (!json) {
        fprintf(stderr, "FAIL: cannot read %s\n", path);
        exit(1);
    }
    cJSON *root = cJSON_Parse(json);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "chat_template");
    if (!cJSON_IsString(t)) {
        fprintf(stderr, "FAIL: %s has no chat_template string\n", path);
        exit(1);
    }
    char *s = xstrdup(t->valuestring);
    cJSON_Delete(root);
    free(json);
    return s;
}

/* SmolLM-Instruct (v1), from HuggingFaceTB/SmolLM-135M-Instruct's
 * tokenizer_config.json: newlines are Jinja escapes here. */
static const char SMOLLM1[] =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
    "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

#define SMOLLM2_SYSTEM "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

/* SmolLM2's template spelled differently but meaning the same: Jinja escapes
 * instead of raw newlines, double quotes, no spaces, newlines inside tags, and
 * a system message with every supported escape. */
static const char SMOLLM2_ESCAPED[] =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\n"
    "You\\'re \"SmolLM\": a\\ttab, a \\\\ backslash,\\na \\b\\f\\v\\r mix<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
static const char SMOLLM2_ESCAPED_SYSTEM[] = "You're \"SmolLM\": a\ttab, a \\ backslash,\na \b\f\v\r mix";

static const char SMOLLM1_DOUBLE_QUOTED_COMPACT[] =
    "{%for message in messages%}{{\"<|im_start|>\"+message[\"role\"]+\"\\n\"+message[\"content\"]+\"<|im_end|>\"+"
    "\"\\n\"}}{%endfor%}{%if add_generation_prompt%}{{\"<|im_start|>assistant\\n\"}}{%endif%}";

static const char SMOLLM1_SPACED[] =
    "{%  for  message  in  messages\n%}{{\n\t'<|im_start|>'\n + message [ 'role' ] + '\n' + message['content']\n"
    "  + '<|im_end|>' + '\n' \n}}{% endfor\t%}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

static const char SMOLLM2_SYSTEM_EMPTY[] =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\n<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

static const char SMOLLM2_SYSTEM_UNICODE[] =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nTu es SmolLM, un assistant très utile — 日本語 🤗<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/* ---- templates that must be "other" ---- */

static const char LLAMA3[] =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 "
    "%}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

/* ChatML with tools (the Qwen2.5 shape, shortened): extra logic. */
static const char CHATML_TOOLS[] =
    "{%- if tools %}{{- '<|im_start|>system\\n' }}{%- for tool in tools %}{{- tool | tojson }}{%- endfor %}"
    "{{- '<|im_end|>\\n' }}{%- endif %}{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + "
    "message.content + '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}{%- endif %}";

typedef struct other_case {
    const char *name;
    const char *tmpl;
} other_case;

static const other_case OTHERS[] = {
    {"empty", ""},
    {"llama3", LLAMA3},
    {"chatml with tools", CHATML_TOOLS},
    {"loop.last generation prompt, text between tags",
     "{% for message in messages %}\n{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
     "'\\n'}}{% if loop.last and add_generation_prompt %}{{'<|im_start|>assistant\\n' }}{% endif %}{% endfor %}"},
    {"bos_token prefix",
     "{{ bos_token }}{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
     "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"trailing newline", NULL},  /* SMOLLM1 + "\n", built below */
    {"leading space", NULL},     /* " " + SMOLLM1 */
    {"whitespace control",
     "{%- for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
     "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"right whitespace control",
     "{% for message in messages -%}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
     "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"comment",
     "{# chatml #}{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
     "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"attribute access",
     "{% for message in messages %}{{'<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + "
     "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"tilde concatenation",
     "{% for message in messages %}{{'<|im_start|>' ~ message['role'] ~ '\\n' ~ message['content'] ~ '<|im_end|>' ~ "
     "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"trim filter",
     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + "
     "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"no generation prompt block",
     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
     "'\\n'}}{% endfor %}"},
    {"always a generation prompt",
     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
     "'\\n'}}{% endfor %}{{ '<|im_start|>assistant\\n' }}"},
    {"different literal",
     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
     "'\\n\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"hex escape",
     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\x0a' + message['content'] + '<|im_end|>' + "
     "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"unicode escape",
     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\u000a' + message['content'] + "
     "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"bell escape",
     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\a' + "
     "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"raw CR in a literal",
     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\r\n' + message['content'] + '<|im_end|>' + "
     "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"unterminated tag", "{% for message in messages %}{{'<|im_start|>' + message['role']"},
    {"unterminated string", "{% for message in messages %}{{'<|im_start|>"},
    {"system literal with braces",
     "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
     "{{ '<|im_start|>system\\nUse {{ and }} freely<|im_end|>\\n' }}{% endif %}"
     "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
     "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"system literal without the system header",
     "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
     "{{ 'You are SmolLM<|im_end|>\\n' }}{% endif %}"
     "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
     "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"system literal shorter than its header and end",
     "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
     "{{ '<|im_start|>system\\n' }}{% endif %}"
     "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
     "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"system default for a different role",
     "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'user' %}"
     "{{ '<|im_start|>system\\nHi<|im_end|>\\n' }}{% endif %}"
     "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
     "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"number spelled differently",
     "{% for message in messages %}{% if loop.first and messages[00]['role'] != 'system' %}"
     "{{ '<|im_start|>system\\nHi<|im_end|>\\n' }}{% endif %}"
     "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
     "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"placeholder literal", NULL}, /* SmolLM2 with the system literal '@SYSTEM@' */
};

static const char *other_tmpl(const char *name) {
    for (size_t i = 0; i < sizeof OTHERS / sizeof OTHERS[0]; i++)
        if (!strcmp(OTHERS[i].name, name)) return OTHERS[i].tmpl;
    abort();
}

static void expect_other(const char *name, const char *tmpl) {
    CHECK(sw_chat_classify(tmpl) == SW_CHAT_OTHER, "%s: classified chatml", name);
    sw_error err;
    sw_error_clear(&err);
    sw_chat_template *t = sw_chat_template_parse(tmpl, &err);
    CHECK(!t && err.status == SMOLWEB_ERR_UNSUPPORTED && strstr(err.msg, "chat_format \"other\""),
          "%s: parse gave %p, status %d, \"%s\"", name, (void *)t, err.status, err.msg);
    sw_chat_template_free(t);
}

/* A copy of s with the first occurrence of from replaced by to. */
static char *replace(const char *s, const char *from, const char *to) {
    const char *at = strstr(s, from);
    if (!at) abort();
    size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
    char *r = malloc(n);
    if (!r) abort();
    snprintf(r, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    return r;
}

static void test_classifier(const char *smollm2) {
    CHECK(sw_chat_classify(smollm2) == SW_CHAT_CHATML, "the real SmolLM2 template is not chatml");
    CHECK(sw_chat_classify(SMOLLM1) == SW_CHAT_CHATML, "the SmolLM template is not chatml");
    CHECK(sw_chat_classify(NULL) == SW_CHAT_OTHER, "NULL is not other");
    CHECK(!strcmp(sw_chat_format_name(SW_CHAT_CHATML), "chatml") &&
              !strcmp(sw_chat_format_name(SW_CHAT_OTHER), "other"),
          "format names");

    sw_error err;
    sw_chat_template *t = sw_chat_template_parse(smollm2, &err);
    CHECK(t && sw_chat_template_default_system(t) && !strcmp(sw_chat_template_default_system(t), SMOLLM2_SYSTEM),
          "SmolLM2 default system message: \"%s\"", t ? sw_chat_template_default_system(t) : err.msg);
    sw_chat_template_free(t);
    t = sw_chat_template_parse(SMOLLM1, &err);
    CHECK(t && !sw_chat_template_default_system(t), "SmolLM has a default system message or fails: %s",
          t ? "" : err.msg);
    sw_chat_template_free(t);
    t = sw_chat_template_parse(SMOLLM2_ESCAPED, &err);
    CHECK(t && sw_chat_template_default_system(t) &&
              !strcmp(sw_chat_template_default_system(t), SMOLLM2_ESCAPED_SYSTEM),
          "escaped default system message: \"%s\"", t ? sw_chat_template_default_system(t) : err.msg);
    sw_chat_template_free(t);
    t = sw_chat_template_parse(SMOLLM2_SYSTEM_EMPTY, &err);
    CHECK(t && sw_chat_template_default_system(t) && !strcmp(sw_chat_template_default_system(t), ""),
          "empty default system message");
    sw_chat_template_free(t);
    const char *variants[] = {SMOLLM1_DOUBLE_QUOTED_COMPACT, SMOLLM1_SPACED, SMOLLM2_SYSTEM_UNICODE};
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        CHECK(sw_chat_classify(variants[i]) == SW_CHAT_CHATML, "variant %zu is not chatml", i);

    char *trailing = replace(SMOLLM1, "{% endif %}", "{% endif %}\n");
    char *leading = malloc(strlen(SMOLLM1) + 2);
    if (!leading) abort();
    snprintf(leading, strlen(SMOLLM1) + 2, " %s", SMOLLM1);
    char *placeholder = replace(SMOLLM2_SYSTEM_EMPTY, "'<|im_start|>system\\n<|im_end|>\\n'", "'@SYSTEM@'");
    for (size_t i = 0; i < sizeof OTHERS / sizeof OTHERS[0]; i++) {
        const char *tmpl = OTHERS[i].tmpl;
        if (!strcmp(OTHERS[i].name, "trailing newline")) tmpl = trailing;
        if (!strcmp(OTHERS[i].name, "leading space")) tmpl = leading;
        if (!strcmp(OTHERS[i].name, "placeholder literal")) tmpl = placeholder;
        expect_other(OTHERS[i].name, tmpl);
    }
    free(trailing);
    free(leading);
    free(placeholder);

    /* every strict prefix of the real template is other */
    size_t n = strlen(smollm2), bad = 0;
    char *buf = xstrdup(smollm2);
    for (size_t k = 0; k < n; k++) {
        char c = buf[k];
        buf[k] = '\0';
        bad += sw_chat_classify(buf) != SW_CHAT_OTHER;
        buf[k] = c;
    }
    CHECK(bad == 0, "%zu strict prefixes of the SmolLM2 template classified chatml", bad);
    free(buf);

    /* exact errors */
    sw_error_clear(&err);
    CHECK(!sw_chat_template_parse(NULL, &err) && err.status == SMOLWEB_ERR_UNSUPPORTED &&
              !strcmp(err.msg, "chat template: the model has none (chat_format \"other\"); the C runtime renders "
                               "only the ChatML templates of SmolLM-Instruct and SmolLM2-Instruct"),
          "NULL template: \"%s\"", err.msg);
    CHECK(!sw_chat_template_parse(LLAMA3, &err) && err.status == SMOLWEB_ERR_UNSUPPORTED &&
              !strcmp(err.msg, "chat template: chat_format \"other\" is not supported by the C runtime, which "
                               "renders only the ChatML templates of SmolLM-Instruct and SmolLM2-Instruct (this "
                               "one differs from them at byte 3); the JavaScript library renders any template "
                               "with a Jinja engine"),
          "Llama-3 template: \"%s\"", err.msg);
    CHECK(!sw_chat_template_parse("", &err) && strstr(err.msg, "differs from them at byte 0)"), "empty: \"%s\"",
          err.msg);
    /* the offset is that of the first token that differs: the filter's "|" */
    const char *trim = other_tmpl("trim filter");
    char want[64];
    snprintf(want, sizeof want, "at byte %zu)", (size_t)(strstr(trim, "| trim") - trim));
    CHECK(!sw_chat_template_parse(trim, &err) && strstr(err.msg, want), "trim filter: want \"%s\" in \"%s\"", want,
          err.msg);
    CHECK(!sw_chat_template_parse(CHATML_TOOLS, &err) && strstr(err.msg, "at byte 0)"), "tools: \"%s\"", err.msg);
    CHECK(!sw_chat_template_parse(other_tmpl("system literal with braces"), &err) &&
              err.status == SMOLWEB_ERR_UNSUPPORTED &&
              strstr(err.msg, "its default system literal is not '<|im_start|>system\\n...<|im_end|>\\n' free of "
                              "braces"),
          "braces: \"%s\"", err.msg);
}

/* Hand-written expectations, independent of any Jinja engine. */
static void expect_render(const char *tmpl, const sw_chat_message *m, size_t n, int agp, const char *want,
                          const char *name) {
    sw_error err;
    sw_chat_template *t = sw_chat_template_parse(tmpl, &err);
    char *out = NULL;
    size_t len = 0;
    smolweb_status st = t ? sw_chat_render(t, m, n, agp, &out, &len, &err) : err.status;
    CHECK(st == SMOLWEB_OK && out && len == strlen(want) && !strcmp(out, want), "%s: got \"%s\" (%s)", name,
          out ? out : "", st ? err.msg : "");
    free(out);
    sw_chat_template_free(t);
}

static void test_render_by_hand(const char *smollm2) {
    sw_chat_message user[] = {{"user", "Hi!"}};
    expect_render(smollm2, user, 1, 1,
                  "<|im_start|>system\n" SMOLLM2_SYSTEM "<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
                  "<|im_start|>assistant\n",
                  "SmolLM2, one user message");
    expect_render(SMOLLM1, user, 1, 1, "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
                  "SmolLM, one user message");
    sw_chat_message sys[] = {{"system", "Be brief."}, {"user", "Hi!"}, {"assistant", "Hello."}};
    expect_render(smollm2, sys, 3, 0,
                  "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
                  "<|im_start|>assistant\nHello.<|im_end|>\n",
                  "SmolLM2, system first, no generation prompt");
    expect_render(smollm2, NULL, 0, 1, "<|im_start|>assistant\n", "SmolLM2, no messages");
    expect_render(smollm2, NULL, 0, 0, "", "SmolLM2, nothing");
    sw_chat_message late[] = {{"user", "a"}, {"system", "b"}};
    expect_render(smollm2, late, 2, 0,
                  "<|im_start|>system\n" SMOLLM2_SYSTEM "<|im_end|>\n<|im_start|>user\na<|im_end|>\n"
                  "<|im_start|>system\nb<|im_end|>\n",
                  "SmolLM2, system not first");

    /* bad arguments */
    sw_error err;
    sw_chat_template *t = sw_chat_template_parse(SMOLLM1, &err);
    char *out = (char *)1;
    sw_chat_message nulls[] = {{"user", "x"}, {NULL, "y"}, {"user", NULL}};
    CHECK(sw_chat_render(t, nulls, 2, 1, &out, NULL, &err) == SMOLWEB_ERR_INVALID_ARG && !out &&
              !strcmp(err.msg, "chat render: message 1 has a NULL role"),
          "NULL role: %s", err.msg);
    CHECK(sw_chat_render(t, nulls + 2, 1, 1, &out, NULL, &err) == SMOLWEB_ERR_INVALID_ARG &&
              !strcmp(err.msg, "chat render: message 0 has a NULL content"),
          "NULL content: %s", err.msg);
    CHECK(sw_chat_render(t, NULL, 1, 1, &out, NULL, &err) == SMOLWEB_ERR_INVALID_ARG, "NULL messages");
    CHECK(sw_chat_render(NULL, user, 1, 1, &out, NULL, &err) == SMOLWEB_ERR_INVALID_ARG &&
              !strcmp(err.msg, "chat render: NULL template, output or messages"),
          "NULL template: %s", err.msg);
    CHECK(sw_chat_render(t, user, 1, 1, NULL, NULL, &err) == SMOLWEB_ERR_INVALID_ARG, "NULL out");
    CHECK(sw_chat_render(t, user, 1, 1, &out, NULL, NULL) == SMOLWEB_OK && out, "NULL err and out_len");
    free(out);
    sw_chat_template_free(t);
    sw_chat_template_free(NULL);
    CHECK(sw_chat_template_default_system(NULL) == NULL, "default system of NULL");
}

/* ---- the Jinja reference ---- */

typedef struct suite {
    cJSON *templates, *cases;
    sw_chat_template **parsed;
    int n_templates, cap_templates;
    char **c_out, **desc; /* per case: the C rendering, a description */
    size_t n, cap;
} suite;

/* Adds a template the C side must accept; returns its index. */
static int add_template(suite *s, const char *tmpl, const char *name) {
    sw_error err;
    sw_chat_template *t = sw_chat_template_parse(tmpl, &err);
    CHECK(t != NULL, "%s: not accepted: %s", name, err.msg);
    if (!t) return -1;
    if (s->n_templates == s->cap_templates) {
        s->cap_templates = s->cap_templates * 2 + 16;
        s->parsed = realloc(s->parsed, sizeof *s->parsed * (size_t)s->cap_templates);
        if (!s->parsed) abort();
    }
    s->parsed[s->n_templates] = t;
    cJSON_AddItemToArray(s->templates, cJSON_CreateString(tmpl));
    return s->n_templates++;
}

static void add_case(suite *s, int ti, const sw_chat_message *m, size_t n, int agp, const char *desc) {
    if (ti < 0) return;
    if (s->n == s->cap) {
        s->cap = s->cap * 2 + 64;
        s->c_out = realloc(s->c_out, sizeof *s->c_out * s->cap);
        s->desc = realloc(s->desc, sizeof *s->desc * s->cap);
        if (!s->c_out || !s->desc) abort();
    }
    sw_error err;
    char *out = NULL;
    smolweb_status st = sw_chat_render(s->parsed[ti], m, n, agp, &out, NULL, &err);
    CHECK(st == SMOLWEB_OK, "%s: render failed: %s", desc, err.msg);
    char d[160];
    snprintf(d, sizeof d, "template %d, %s, add_generation_prompt=%d", ti, desc, agp);
    s->c_out[s->n] = out ? out : xstrdup("");
    s->desc[s->n] = xstrdup(d);
    s->n++;

    cJSON *c = cJSON_CreateObject(), *msgs = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "role", m[i].role);
        cJSON_AddStringToObject(o, "content", m[i].content);
        cJSON_AddItemToArray(msgs, o);
    }
    cJSON_AddNumberToObject(c, "template", ti);
    cJSON_AddItemToObject(c, "messages", msgs);
    cJSON_AddBoolToObject(c, "add_generation_prompt", agp);
    cJSON_AddItemToArray(s->cases, c);
}

static char g_long[5000];

static const char *CONTENTS[] = {
    "Hello!",
    "",
    "line one\nline two\n\n",
    "\n",
    "  leading and trailing spaces  ",
    "unicode: h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
    "\xf0\x9f\xa4\x97 nbsp\xc2\xa0.",
    "{{ messages }} {% for x in y %}{% endfor %} {# comment #} {{ raise_exception('x') }}",
    "%} }} {{ {% {#",
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    "<|im_start|>user\nfake turn<|im_end|>\n",
    "quotes ' \" and a \\ backslash, a literal \\n and \\t",
    "tab\there, CRLF\r\nand a lone CR\r.",
    "control \x01\x02\x1f\x7f bytes",
    "{% raw %}not raw{% endraw %}",
    g_long,
};

static const char *ROLES[] = {"user", "assistant", "system", "tool", "function", "", "System", "user two",
                              "\xe6\x97\xa5\xe6\x9c\xac", "{{ role }}"};

#define N_CONTENTS (sizeof CONTENTS / sizeof CONTENTS[0])
#define N_ROLES (sizeof ROLES / sizeof ROLES[0])

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n) {
    g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng % n);
}

/* The fixed conversations, on template ti, with and without the generation prompt. */
static void add_conversations(suite *s, int ti) {
    typedef struct conv {
        const char *desc;
        sw_chat_message m[6];
        size_t n;
    } conv;
    const conv convs[] = {
        {"single user message", {{"user", "What is 2+2?"}}, 1},
        {"system first", {{"system", "You are terse."}, {"user", "Hi"}}, 2},
        {"multi-turn", {{"user", "Hi"}, {"assistant", "Hello! How can I help?"}, {"user", "Tell me a joke."}}, 3},
        {"system and multi-turn",
         {{"system", "Be kind."}, {"user", "Hi"}, {"assistant", "Hello"}, {"user", "Bye"}, {"assistant", "Bye!"}},
         5},
        {"empty contents", {{"system", ""}, {"user", ""}, {"assistant", ""}}, 3},
        {"newlines", {{"user", CONTENTS[2]}, {"assistant", CONTENTS[3]}}, 2},
        {"unicode", {{"user", CONTENTS[5]}, {"assistant", CONTENTS[5]}}, 2},
        {"jinja syntax in content", {{"user", CONTENTS[6]}, {"assistant", CONTENTS[7]}, {"user", CONTENTS[8]}}, 3},
        {"special tokens in content", {{"user", CONTENTS[9]}}, 1},
        {"quotes and backslashes", {{"system", CONTENTS[10]}, {"user", CONTENTS[11]}}, 2},
        {"control bytes", {{"user", CONTENTS[12]}, {"user", CONTENTS[13]}}, 2},
        {"other roles", {{"user", "Weather?"}, {"assistant", "call"}, {"tool", "{\"t\": 21}"}, {"function", "f"}}, 4},
        {"system not first", {{"user", "a"}, {"system", "b"}, {"user", "c"}}, 3},
        {"assistant first", {{"assistant", "I start."}, {"user", "ok"}}, 2},
        {"empty and odd roles", {{"", "no role"}, {"System", "capital S"}, {"{{ role }}", "x"}}, 3},
        {"two system messages", {{"system", "one"}, {"system", "two"}, {"user", "u"}}, 3},
        {"long content", {{"user", g_long}}, 1},
        {"no messages", {{NULL, NULL}}, 0},
    };
    for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++)
        for (int agp = 0; agp <= 1; agp++) add_case(s, ti, convs[i].m, convs[i].n, agp, convs[i].desc);
}

static void add_random(suite *s, int ti, int count) {
    for (int k = 0; k < count; k++) {
        sw_chat_message m[6];
        size_t n = rnd(7);
        for (size_t i = 0; i < n; i++) {
            m[i].role = ROLES[rnd(N_ROLES)];
            m[i].content = CONTENTS[rnd(N_CONTENTS)];
        }
        add_case(s, ti, m, n, (int)rnd(2), "random conversation");
    }
}

/* One-character mutations of the SmolLM2 template: every one the C side
 * still accepts must render exactly as Jinja renders it. */
static void add_mutations(suite *s, const char *smollm2) {
    size_t n = strlen(smollm2), accepted[3] = {0, 0, 0};
    const char *kinds[3] = {"deleted", "space inserted", "x inserted"};
    char *buf = malloc(n + 2);
    if (!buf) abort();
    for (int kind = 0; kind < 3; kind++)
        for (size_t i = 0; i <= n; i++) {
            if (kind == 0 && i == n) break;
            if (kind == 0) snprintf(buf, n + 2, "%.*s%s", (int)i, smollm2, smollm2 + i + 1);
            else snprintf(buf, n + 2, "%.*s%c%s", (int)i, smollm2, kind == 1 ? ' ' : 'x', smollm2 + i);
            if (sw_chat_classify(buf) != SW_CHAT_CHATML) continue;
            accepted[kind]++;
            char name[64];
            snprintf(name, sizeof name, "mutation: byte %zu %s", i, kinds[kind]);
            int ti = add_template(s, buf, name);
            sw_chat_message a[] = {{"user", "Hi"}, {"assistant", "Hello"}};
            sw_chat_message b[] = {{"system", "Sys"}, {"user", "Hi"}};
            add_case(s, ti, a, 2, 1, name);
            add_case(s, ti, b, 2, 0, name);
        }
    free(buf);
    /* Inserting a letter is harmless only inside the default system message
     * (its strlen + 1 positions); deleting a letter of it is harmless too. */
    size_t sys_len = strlen(SMOLLM2_SYSTEM);
    CHECK(accepted[2] == sys_len + 1, "%zu x-insertions accepted, want %zu", accepted[2], sys_len + 1);
    CHECK(accepted[0] >= sys_len && accepted[1] > 20, "mutations accepted: %zu deletions, %zu space insertions",
          accepted[0], accepted[1]);
    fprintf(stderr, "mutations accepted: %zu deletions, %zu space insertions, %zu x insertions (of %zu each)\n",
            accepted[0], accepted[1], accepted[2], n);
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Prints where two renderings first differ. */
static void show_diff(const char *desc, const char *want, const char *got) {
    size_t i = 0;
    while (want[i] && want[i] == got[i]) i++;
    fprintf(stderr, "  %s: differs at byte %zu\n    jinja: \"%.60s\"\n    c:     \"%.60s\"\n", desc, i, want + i,
            got + i);
}

static void test_against_jinja(const char *smollm2) {
    char mod[4200], script[4200];
    snprintf(mod, sizeof mod, "%s/node_modules/@huggingface/jinja/package.json", g_src);
    snprintf(script, sizeof script, "%s/tests/chat_reference.mjs", g_src);
    if (system("node --version >/dev/null 2>&1") != 0) {
        CHECK(0, "node is not installed: the Jinja reference needs it");
        return;
    }
    if (!file_exists(mod)) {
        CHECK(0, "%s is missing: run npm ci first (in %s)", mod, g_src);
        return;
    }

    suite s = {cJSON_CreateArray(), cJSON_CreateArray(), NULL, 0, 0, NULL, NULL, 0, 0};
    memset(g_long, 0, sizeof g_long);
    for (size_t i = 0; i + 1 < sizeof g_long; i++) g_long[i] = "long content, "[i % 14];

    const char *named[][2] = {{smollm2, "SmolLM2 (real)"},
                              {SMOLLM1, "SmolLM"},
                              {SMOLLM2_ESCAPED, "SmolLM2 escaped"},
                              {SMOLLM1_DOUBLE_QUOTED_COMPACT, "SmolLM double-quoted compact"},
                              {SMOLLM1_SPACED, "SmolLM spaced"},
                              {SMOLLM2_SYSTEM_EMPTY, "SmolLM2 empty system"},
                              {SMOLLM2_SYSTEM_UNICODE, "SmolLM2 unicode system"}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        int ti = add_template(&s, named[i][0], named[i][1]);
        add_conversations(&s, ti);
        add_random(&s, ti, i < 2 ? 600 : 50);
    }
    add_mutations(&s, smollm2);

    char dir[] = "/tmp/test_chat_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp failed");
        return;
    }
    char in_path[64], out_path[64], cmd[9000];
    snprintf(in_path, sizeof in_path, "%s/cases.json", dir);
    snprintf(out_path, sizeof out_path, "%s/out.json", dir);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "templates", s.templates);
    cJSON_AddItemToObject(root, "cases", s.cases);
    char *json = cJSON_PrintUnformatted(root);
    FILE *f = fopen(in_path, "wb");
    if (!json || !f || fwrite(json, 1, strlen(json), f) != strlen(json)) abort();
    fclose(f);
    free(json);
    cJSON_Delete(root);

    snprintf(cmd, sizeof cmd, "node '%s' '%s' '%s'", script, in_path, out_path);
    int rc = system(cmd);
    CHECK(rc == 0, "%s exited with %d", cmd, rc);
    char *out_json = rc == 0 ? read_file(out_path, NULL) : NULL;
    cJSON *out = out_json ? cJSON_Parse(out_json) : NULL;
    CHECK(cJSON_IsArray(out) && (size_t)cJSON_GetArraySize(out) == s.n, "reference output: %d entries for %zu cases",
          out ? cJSON_GetArraySize(out) : -1, s.n);
    size_t same = 0, shown = 0;
    const cJSON *e = out ? out->child : NULL;
    for (size_t i = 0; i < s.n && e; i++, e = e->next) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(e, "text");
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(e, "error");
        int ok = cJSON_IsString(text) && !strcmp(text->valuestring, s.c_out[i]);
        CHECK(ok, "case %zu (%s) differs from Jinja%s%s", i, s.desc[i], cJSON_IsString(error) ? ": jinja error: " : "",
              cJSON_IsString(error) ? error->valuestring : "");
        if (ok) same++;
        else if (cJSON_IsString(text) && shown++ < 10) show_diff(s.desc[i], text->valuestring, s.c_out[i]);
    }
    fprintf(stderr, "%zu of %zu renderings identical to @huggingface/jinja over %d templates\n", same, s.n,
            s.n_templates);
    CHECK(s.n > 2000, "only %zu reference cases", s.n);
    cJSON_Delete(out);
    free(out_json);
    remove(in_path);
    remove(out_path);
    rmdir(dir);
    for (size_t i = 0; i < s.n; i++) free(s.c_out[i]), free(s.desc[i]);
    for (int i = 0; i < s.n_templates; i++) sw_chat_template_free(s.parsed[i]);
    free(s.c_out);
    free(s.desc);
    free(s.parsed);
}

int main(void) {
    find_dirs();
    char *smollm2 = load_smollm2_template();
    test_classifier(smollm2);
    test_render_by_hand(smollm2);
    test_against_jinja(smollm2);
    free(smollm2);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
