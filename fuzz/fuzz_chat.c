/* libFuzzer target: the chat-template classifier and renderer (src/chat.h).
 * The template comes from an untrusted manifest. Classification and parsing
 * must agree; a parsed template renders a small conversation whose shape is
 * known: the default system turn (if any) before a user turn, the user turn,
 * then the generation prompt. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"

static void fail(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_chat: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* an exactly-sized NUL-terminated copy, so ASan catches any overread */
    char *tmpl = malloc(size + 1);
    if (!tmpl) return 0;
    memcpy(tmpl, data, size);
    tmpl[size] = '\0';
    sw_chat_format f = sw_chat_classify(tmpl);
    sw_error err;
    sw_chat_template *t = sw_chat_template_parse(tmpl, &err);
    free(tmpl);
    if ((t != NULL) != (f == SW_CHAT_CHATML)) fail("classify and parse disagree", t ? NULL : err.msg);
    if (!t) {
        if (err.status != SMOLWEB_ERR_UNSUPPORTED || !strstr(err.msg, "chat_format \"other\""))
            fail("bad refusal", err.msg);
        return 0;
    }
    const sw_chat_message m[] = {{"user", "Hi"}};
    char *out = NULL;
    size_t len = 0;
    if (sw_chat_render(t, m, 1, 1, &out, &len, &err) != SMOLWEB_OK) fail("render failed", err.msg);
    const char *sys = sw_chat_template_default_system(t);
    char *want = malloc(len + 1);
    if (!want) fail("out of memory", NULL);
    if (sys) {
        if (strchr(sys, '{') || strchr(sys, '}')) fail("braces in the default system message", sys);
        snprintf(want, len + 1,
                 "<|im_start|>system\n%s<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", sys);
    } else {
        snprintf(want, len + 1, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    }
    if (strlen(out) != len || strcmp(out, want)) fail("unexpected rendering", out);
    free(want);
    free(out);
    sw_chat_template_free(t);
    return 0;
}
