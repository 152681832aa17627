/*
 * applog's internals, shared by its text reader (applog.c) and its JSON
 * reader (applog_json.c). Not part of the module's interface.
 */
#ifndef TG_APPLOG_INT_H
#define TG_APPLOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "decode/applog.h"
#include "decode/tgtime.h"
#include "util/bits.h" /* byte_mask16() */

static inline bool is_digit(char c)
{
    return (unsigned)(unsigned char)c - '0' <= 9;
}

static inline bool is_alpha(char c)
{
    unsigned l = (unsigned)(unsigned char)c | 0x20;
    return l >= 'a' && l <= 'z';
}

static inline bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A byte of a header key: letters, digits, '_' and '-'. */
static inline bool is_key(char c)
{
    return is_alpha(c) || is_digit(c) || c == '_' || c == '-';
}

/* Empties *out, one member at a time: "a = b = TG_STR_NULL" read b back
 * in one wide load just after its two narrow stores, which stalled on
 * every line (1-2% of a stats run over application logs). */
static inline void record_reset(applog_record *out, bool json)
{
    out->json = json;
    out->has_header = false;
    out->verdict = XRAY_NO_ROOT;
    out->root = (xray_root){0, 0};
    out->header = TG_STR_NULL;
    out->time_us = TGTIME_NONE;
    out->cf_id = TG_STR_NULL;
    out->request_id = TG_STR_NULL;
    out->http_status = 0;
}

/* Offers a header to the record: the first valid one wins, else the
 * first one seen. Returns true once the record holds a valid one. */
static inline bool offer(applog_record *out, tg_str text, xray_status st, xray_root root)
{
    if (!out->has_header || (out->verdict != XRAY_OK && st == XRAY_OK)) {
        out->has_header = true;
        out->verdict = st;
        out->root = root;
        out->header = text;
    }
    return out->verdict == XRAY_OK;
}

/* The next "Root=" in [p, end) that does not continue a longer word; lo is
 * where the text starts (nothing before it is read). Inline: the JSON
 * reader calls it on every trace-id value, where a call cost it about
 * 2%. */
static inline const char *applog_find_root(const char *p, const char *end, const char *lo)
{
    while (end - p >= 5) {
        const char *r = memchr(p, 'R', (size_t)(end - p - 4));
        if (r == NULL)
            return NULL;
        if (memcmp(r + 1, "oot=", 4) == 0 && (r == lo || !is_key(r[-1])))
            return r;
        p = r + 1;
    }
    return NULL;
}

/* Offers every "Root=" header of s[0..n) to *out until a valid one. */
void applog_headers_in(const char *s, size_t n, applog_record *out);

#endif
