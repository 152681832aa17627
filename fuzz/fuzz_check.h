/*
 * fuzz_check: what every libFuzzer target in this folder shares.
 *
 * FZ_CHECK() states an invariant of the code under test. A broken invariant
 * prints where and why and aborts, which libFuzzer records as a crash and
 * saves the input for, exactly like a sanitizer report. assert() is not used
 * because the targets must keep checking whatever NDEBUG says.
 */
#ifndef TG_FUZZ_CHECK_H
#define TG_FUZZ_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FZ_CHECK(cond, ...)                                                              \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: invariant broken: %s\n  ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                \
            fputc('\n', stderr);                                                         \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* True when the slice p[0..n) lies inside base[0..len); an empty slice may
 * sit at base + len. */
static inline int fz_inside(const void *p, size_t n, const void *base, size_t len)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)base;
    return a >= b && a - b <= len && n <= len - (a - b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
