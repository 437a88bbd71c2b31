/* check.h: the C tests' assertion. CHECK(cond, fmt, ...) counts a failure in
 * `failures` and prints the file, line and message; the test goes on, and
 * main returns non-zero when failures > 0. */
#ifndef SW_TEST_CHECK_H
#define SW_TEST_CHECK_H

#include <stdio.h>

static int failures;
#define CHECK(cond, ...)                                         \
    do {                                                         \
        if (!(cond)) {                                           \
            failures++;                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                        \
            fprintf(stderr, "\n");                               \
        }                                                        \
    } while (0)

#endif
