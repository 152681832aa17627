/*
 * tg_str: a borrowed slice of bytes.
 *
 * A tg_str never owns its bytes: it points into a buffer that somebody else
 * (a memory mapping, a reader's buffer, an arena) keeps alive. Decoders return
 * slices so that nothing is copied or allocated per line.
 */
#ifndef TG_STR_H
#define TG_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct tg_str {
    const char *p;
    size_t n;
} tg_str;

#define TG_STR_NULL ((tg_str){NULL, 0})

static inline tg_str tg_str_make(const char *p, size_t n)
{
    tg_str s = {p, n};
    return s;
}

/* True when s holds exactly the NUL-terminated literal lit. */
static inline bool tg_str_eq(tg_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

/* True for ALB's and CloudFront's "no value" marker. */
static inline bool tg_str_is_dash(tg_str s)
{
    return s.n == 1 && s.p[0] == '-';
}

#endif
