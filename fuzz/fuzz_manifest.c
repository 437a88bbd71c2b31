/* libFuzzer target: the manifest reader (untrusted bytes from the network or
 * a cache). Whatever it accepts must survive the writer: to_json succeeds,
 * re-parsing that succeeds, gives the same manifest field by field, and
 * serialises to the same text; every file it lists can be found. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/manifest_equal.h"
#include "manifest.h"

static void fail(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_manifest: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* copy so the parser sees an exactly-sized heap buffer (ASan catches overreads) */
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    sw_error err;
    sw_manifest *m = sw_manifest_parse(buf, size, &err);
    free(buf);
    if (!m) {
        if (err.status == SMOLWEB_OK || !err.msg[0]) fail("rejected without a message", NULL);
        return 0;
    }
    if (sw_manifest_validate(m, &err) != SMOLWEB_OK) fail("parsed manifest fails validation", err.msg);
    for (int i = 0; i < m->n_files; i++) {
        const sw_manifest_file *f = &m->files[i];
        if (sw_manifest_find(m, f->role, f->layer) != f) fail("find does not return the only entry", f->path);
    }
    char *json = sw_manifest_to_json(m);
    if (!json) fail("to_json failed", NULL);
    sw_manifest *back = sw_manifest_parse(json, strlen(json), &err);
    if (!back) fail("re-parse failed", err.msg);
    const char *diff = manifest_diff(m, back);
    if (diff) fail("round trip changed", diff);
    char *again = sw_manifest_to_json(back);
    if (!again || strcmp(again, json) != 0) fail("second serialisation differs", NULL);
    free(again);
    free(json);
    sw_manifest_free(back);
    sw_manifest_free(m);
    return 0;
}
