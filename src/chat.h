/* chat.h: the chat templates the C runtime can apply itself.
 *
 * A model's chat template is a Jinja program (manifest "chat_template",
 * verbatim from tokenizer_config.json or GGUF). The C side carries no Jinja
 * engine: it recognises the ChatML templates of the SmolLM family and renders
 * them exactly as Jinja would, i.e. exactly what the reference
 * apply_chat_template(messages, add_generation_prompt=...) returns. Anything
 * else is chat_format "other": refused here, rendered by the JavaScript
 * library's real Jinja engine.
 *
 * Recognised (token for token; whitespace inside {{ }} / {% %} tags and the
 * quote style of string literals may differ, nothing else may):
 *   SmolLM-Instruct:
 *     {% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'
 *     + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}
 *     {% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}
 *   SmolLM2-Instruct: the same, with a default system turn emitted before the
 *     first message when that message's role is not "system":
 *     {% if loop.first and messages[0]['role'] != 'system' %}
 *     {{ '<|im_start|>system\nSYSTEM MESSAGE<|im_end|>\n' }}{% endif %}
 *     where SYSTEM MESSAGE may be any text without braces; it is extracted.
 * (Line breaks above are for reading: the real templates have no text between
 * tags, and text between tags makes a template "other".)
 *
 * String literals are decoded as both Jinja engines do: a literal newline
 * stays, and the escapes \n \t \r \b \f \v \' \" \\ are understood. Other
 * escapes (\x, \u, \a, octal), on which the engines disagree or fail, make the
 * template "other".
 *
 * The template is untrusted input: it is only ever scanned, bounded by its
 * NUL terminator. */
#ifndef SW_CHAT_H
#define SW_CHAT_H

#include <stddef.h>

#include "error.h"

/* A template's family, as the manifest's chat_format names it. */
typedef enum sw_chat_format {
    SW_CHAT_OTHER = 0,  /* not renderable by the C side (or absent) */
    SW_CHAT_CHATML = 1  /* one of the recognised ChatML templates */
} sw_chat_format;

/* One chat message; both strings are borrowed, NUL-terminated and non-NULL. */
typedef struct sw_chat_message {
    const char *role;    /* "system", "user", "assistant" or any other role */
    const char *content;
} sw_chat_message;

/* A recognised template, ready to render. */
typedef struct sw_chat_template sw_chat_template;

/* Classifies tmpl (NULL-safe: NULL and "" are SW_CHAT_OTHER). Never allocates,
 * so it cannot fail. It agrees with sw_chat_template_parse: SW_CHAT_CHATML
 * exactly when parsing would succeed, given memory. */
sw_chat_format sw_chat_classify(const char *tmpl);

/* "chatml" or "other": the manifest's chat_format string for a format. */
const char *sw_chat_format_name(sw_chat_format f);

/* Parses tmpl. Returns a new template (free with sw_chat_template_free), or
 * NULL with err set: SMOLWEB_ERR_UNSUPPORTED naming chat_format "other" when
 * tmpl is NULL or not a recognised template, SMOLWEB_ERR_NOMEM. */
sw_chat_template *sw_chat_template_parse(const char *tmpl, sw_error *err);

/* NULL is a no-op. */
void sw_chat_template_free(sw_chat_template *t);

/* The default system message the template inserts when the first message is
 * not a system one (SmolLM2), or NULL when it has none (SmolLM). Owned by t. */
const char *sw_chat_template_default_system(const sw_chat_template *t);

/* Renders n messages (n may be 0) and, if add_generation_prompt is non-zero,
 * the opening of an assistant turn, exactly as Jinja renders the template.
 * On success *out is a new NUL-terminated string the caller frees and
 * *out_len (if out_len is non-NULL) its length. Returns SMOLWEB_OK, or
 * SMOLWEB_ERR_INVALID_ARG (NULL t, out, messages with n > 0, role or
 * content), SMOLWEB_ERR_NOMEM (also when the total size overflows), with
 * err set and *out NULL. */
smolweb_status sw_chat_render(const sw_chat_template *t, const sw_chat_message *messages, size_t n,
                              int add_generation_prompt, char **out, size_t *out_len, sw_error *err);

#endif
