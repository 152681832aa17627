/*
 * applog: trace headers, times and ids of application lines; the text
 * reader and the entry points (the JSON reader is applog_json.c).
 *
 * Decisions the header leaves open, made here:
 * - Backward from "Root=", a preceding field joins the header only when it
 *   is "Key=Value" ending in ';' (blanks around the ';' allowed). A field
 *   with text before its key ("trace=Self=…") starts the header at the key:
 *   the text before is the log's own "name=" prefix, not a header field.
 * - Forward, blanks followed by ';' continue the header, and a ';'
 *   followed by blanks continues it only when a "Key=" follows:
 *   "Root=… ; Parent=…" is one header, "Root=…; took 3 ms" ends at the ';'.
 * - A text line's X-Amz-Cf-Id token must be at least 16 characters of the
 *   id alphabet (letters, digits, - _ = + /): CloudFront writes 56, and the
 *   bound keeps prose ("x-amz-cf-id: missing") from reading as an id.
 * - Without the name, a token counts only in CloudFront's exact shape (54
 *   URL-safe base64 bytes and "=="): that is how nginx's positional
 *   "$http_x_amz_cf_id" appears, and 56 such bytes are no accident. A
 *   named id wins over a bare one wherever they stand.
 */
#define _GNU_SOURCE /* memrchr */
#include "decode/applog.h"
#include "decode/applog_int.h"

#include "decode/tgtime.h"
#include "decode/tstamp.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The bytes that end a header in running text: blanks and control bytes,
 * quotes, a backslash (an escaped quote in embedded JSON), commas,
 * brackets and '&'. ';' and '=' belong to the header; so do ':' and '|'
 * (Lineage=a87bd80c:1|68fd508a:5). A table, since the header is walked
 * byte by byte. */
static const bool stop_table[256] = {
    [0] = 1,    [1] = 1,    [2] = 1,    [3] = 1,    [4] = 1,    [5] = 1,    [6] = 1,
    [7] = 1,    [8] = 1,    [9] = 1,    [10] = 1,   [11] = 1,   [12] = 1,   [13] = 1,
    [14] = 1,   [15] = 1,   [16] = 1,   [17] = 1,   [18] = 1,   [19] = 1,   [20] = 1,
    [21] = 1,   [22] = 1,   [23] = 1,   [24] = 1,   [25] = 1,   [26] = 1,   [27] = 1,
    [28] = 1,   [29] = 1,   [30] = 1,   [31] = 1,   [' '] = 1,  ['"'] = 1,  ['\''] = 1,
    ['\\'] = 1, [','] = 1,  ['['] = 1,  [']'] = 1,  ['('] = 1,  [')'] = 1,  ['{'] = 1,
    ['}'] = 1,  ['<'] = 1,  ['>'] = 1,  ['&'] = 1,  ['`'] = 1,  [127] = 1,
};

static inline bool is_stop(char c)
{
    return stop_table[(unsigned char)c];
}

#ifdef __SSE2__
/* The stop bytes among the 16 at p, bit i for p[i]: stop_table[] 16 bytes
 * at a time. Pairs of stop bytes one bit apart share a compare: '(' and
 * ')' differ in bit 0, '<' and '>' in bit 1, '[' and '{' (and ']' and '}')
 * in bit 5, and no other byte matches either member of a pair with that
 * bit set. */
static inline unsigned stop_mask16(const char *p)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    const __m128i l = _mm_or_si128(v, _mm_set1_epi8(0x20));
    /* Control bytes and the space: at most 0x20, unsigned. */
    __m128i m = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x20)), v);
    m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(1)), _mm_set1_epi8(')')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(2)), _mm_set1_epi8('>')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(l, _mm_set1_epi8('{')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(l, _mm_set1_epi8('}')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('\'')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8(',')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('&')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('`')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8(127)));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/* The first stop byte in [p, hi), or hi. Headers run for tens of bytes:
 * walked byte by byte, they took a twentieth of a stats run over
 * application logs. */
static inline const char *next_stop(const char *p, const char *hi)
{
#ifdef __SSE2__
    for (; hi - p >= 16; p += 16) {
        unsigned m = stop_mask16(p);
        if (m)
            return p + __builtin_ctz(m);
    }
#endif
    while (p < hi && !is_stop(*p))
        p++;
    return p;
}

/* Just past the last stop byte or ';' in [lo, p), or lo. */
static inline const char *field_start(const char *lo, const char *p)
{
#ifdef __SSE2__
    for (; p - lo >= 16; p -= 16) {
        unsigned m = stop_mask16(p - 16) | byte_mask16(p - 16, ';');
        if (m)
            return p - 16 + (32 - __builtin_clz(m));
    }
#endif
    while (p > lo && !is_stop(p[-1]) && p[-1] != ';')
        p--;
    return p;
}

tg_str applog_header_at(const char *line, size_t n, const char *root)
{
    const char *lo = line, *hi = line + n;
    const char *e = root + 5 <= hi ? root + 5 : hi;
    for (;;) {
        e = next_stop(e, hi);
        if (e < hi && is_blank(*e)) {
            const char *k = e;
            while (k < hi && is_blank(*k))
                k++;
            if (k < hi && *k == ';') {
                e = k + 1; /* "Root=… ; Sampled=1" */
                continue;
            }
            if (e[-1] != ';')
                break;
            const char *ks = k;
            while (k < hi && is_key(*k))
                k++;
            if (k > ks && k < hi && *k == '=') {
                e = k + 1;
                continue;
            }
        }
        break;
    }

    const char *s = root;
    for (;;) {
        const char *k = s;
        while (k > lo && is_blank(k[-1]))
            k--;
        if (k == lo || k[-1] != ';')
            break;
        k--;
        while (k > lo && is_blank(k[-1]))
            k--;
        const char *f = field_start(lo, k);
        const char *eq = memrchr(f, '=', (size_t)(k - f));
        if (eq == NULL)
            break; /* no '=': prose before a ';', not a field */
        const char *ks = eq;
        while (ks > f && is_key(ks[-1]))
            ks--;
        if (ks == eq)
            break;
        /* When text precedes the key ("name=Key=Value;"), the header
         * starts at Key: the next round finds no ';' before it and stops. */
        s = ks;
    }
    return tg_str_make(s, (size_t)(e - s));
}

/* The text reader's own, shared with the JSON reader (applog_int.h). */
void applog_headers_in(const char *s, size_t n, applog_record *out)
{
    const char *p = s, *end = s + n, *r;
    while ((r = applog_find_root(p, end, s)) != NULL) {
        tg_str h = applog_header_at(s, n, r);
        xray_root root;
        xray_status st = xray_decode_root(h.p, h.n, &root);
        if (offer(out, h, st, root))
            return;
        p = h.p + h.n > r + 5 ? h.p + h.n : r + 5;
    }
}

/* "x-amz-cf-id" at s (any case, '-' or '_' between the words). */
static bool cf_name_at(const char *s)
{
    static const char name[] = "x-amz-cf-id";
    for (unsigned i = 0; i < sizeof name - 1; i++) {
        char c = s[i];
        if (name[i] == '-' ? (c != '-' && c != '_') : (char)(c | 0x20) != name[i])
            return false;
    }
    return true;
}

static inline bool is_cf_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '=' || c == '+' || c == '/';
}

/* The id after the name found at line[i], or TG_STR_NULL. */
static tg_str cf_token(const char *line, size_t n, size_t i)
{
    const char *end = line + n, *p = line + i + 11;
    /* A closing quote of a quoted name, then ':' or '=' or blanks. */
    unsigned skipped = 0;
    while (p < end && skipped < 4 &&
           (*p == '"' || *p == '\'' || *p == ':' || *p == '=' || is_blank(*p)))
        p++, skipped++;
    const char *t = p;
    while (p < end && is_cf_char(*p))
        p++;
    return p - t >= 16 ? tg_str_make(t, (size_t)(p - t)) : TG_STR_NULL;
}

#ifndef __SSE2__
/* A byte of URL-safe base64; the SSE2 version of bare_cf_id_at() tests 16
 * at a time. */
static inline bool is_b64url(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
}
#endif

/* A token shaped exactly like a CloudFront id whose "==" starts at
 * line[i]: 54 URL-safe base64 bytes and "==", alone between quotes or
 * blanks (nginx logs "$http_x_amz_cf_id" by position, with no name). */
static bool bare_cf_id_at(const char *line, size_t n, size_t i)
{
    if (i < 54 || i + 2 > n || line[i + 1] != '=' || (i + 2 < n && !is_stop(line[i + 2])))
        return false;
    const char *t = line + i - 54;
    if (t > line && !is_stop(t[-1]))
        return false;
#ifdef __SSE2__
    /* Four 16-byte checks, the last overlapping the third. Signed
     * compares: bytes of 0x80 and up are negative and fail every range. */
    const __m128i lower = _mm_set1_epi8(0x20);
    const __m128i a1 = _mm_set1_epi8('a' - 1), z1 = _mm_set1_epi8('z' + 1);
    const __m128i d1 = _mm_set1_epi8('0' - 1), d9 = _mm_set1_epi8('9' + 1);
    const __m128i dash = _mm_set1_epi8('-'), under = _mm_set1_epi8('_');
    static const unsigned char at[4] = {0, 16, 32, 38};
    for (unsigned k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(t + at[k]));
        __m128i l = _mm_or_si128(v, lower);
        __m128i ok = _mm_or_si128(
            _mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(l, a1), _mm_cmplt_epi8(l, z1)),
                         _mm_and_si128(_mm_cmpgt_epi8(v, d1), _mm_cmplt_epi8(v, d9))),
            _mm_or_si128(_mm_cmpeq_epi8(v, dash), _mm_cmpeq_epi8(v, under)));
        if (_mm_movemask_epi8(ok) != 0xffff)
            return false;
    }
    return true;
#else
    for (size_t k = 0; k < 54; k++)
        if (!is_b64url(t[k]))
            return false;
    return true;
#endif
}

/* What line[i] may start, for the id search: the 'z' of "x-amz-cf-id" (in
 * either case) four bytes into the name, or the "==" of a bare id. */
static inline tg_str cf_candidate(const char *line, size_t n, size_t i, bool *bare_found,
                                  size_t *bare_at)
{
    if ((line[i] | 0x20) == 'z') {
        if (i >= 4 && i + 7 <= n && cf_name_at(line + i - 4))
            return cf_token(line, n, i - 4);
    } else if (!*bare_found && bare_cf_id_at(line, n, i)) {
        *bare_found = true;
        *bare_at = i - 54;
    }
    return TG_STR_NULL;
}

/* Whether line[i] may start a candidate: a 'z' (either case) followed by
 * '-' or '_', as in "x-amz-cf-id", or a "==". Both need line[i + 1]. */
static inline bool cf_pair_at(const char *line, size_t i)
{
    char a = line[i], b = line[i + 1];
    return ((a | 0x20) == 'z' && (b == '-' || b == '_')) || (a == '=' && b == '=');
}

#ifdef __SSE2__
/* cf_pair_at() for the 16 positions from line[i], as a bit mask; reads
 * line[i .. i + 17). */
static inline unsigned cf_pairs16(const char *line, size_t i)
{
    const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(line + i));
    const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(line + i + 1));
    const __m128i eq = _mm_set1_epi8('=');
    const __m128i z = _mm_cmpeq_epi8(_mm_or_si128(a, _mm_set1_epi8(0x20)), _mm_set1_epi8('z'));
    const __m128i sep =
        _mm_or_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8('-')), _mm_cmpeq_epi8(b, _mm_set1_epi8('_')));
    const __m128i m = _mm_or_si128(_mm_and_si128(z, sep),
                                   _mm_and_si128(_mm_cmpeq_epi8(a, eq), _mm_cmpeq_epi8(b, eq)));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/* The candidates of mask m, bit k for line[at + k], in order; the id
 * found by name, else TG_STR_NULL (a bare id is noted in *bare_*). */
static inline tg_str cf_candidates(const char *line, size_t n, size_t at, unsigned m,
                                   bool *bare_found, size_t *bare_at)
{
    for (; m; m &= m - 1) {
        tg_str t = cf_candidate(line, n, at + (unsigned)__builtin_ctz(m), bare_found, bare_at);
        if (t.p)
            return t;
    }
    return TG_STR_NULL;
}

/*
 * The line's CloudFront id: the first "x-amz-cf-id" name followed by an
 * id, else the first bare id (a named id wins wherever the two stand).
 * Candidates are found by byte pairs, 16 positions at a time: the "z-" or
 * "z_" of the name and the "==" that ends a bare id. Found by single bytes
 * ('z', which every "Mozilla" holds, and '=', which every header holds),
 * they were a few per line, each a mispredicted branch: a tenth of a stats
 * run over application logs.
 */
static tg_str cf_id_in(const char *line, size_t n)
{
    bool bare_found = false;
    size_t bare_at = 0, i = 0;
    tg_str t;
#ifdef __SSE2__
    if (n >= 17) {
        for (; i + 17 <= n; i += 16)
            if ((t = cf_candidates(line, n, i, cf_pairs16(line, i), &bare_found, &bare_at)).p)
                return t;
        /* The positions left, i to n - 2 (none starts at the last byte),
         * from the last full vector, which overlaps those already seen. */
        const size_t last = n - 17;
        t = cf_candidates(line, n, i, cf_pairs16(line, last) >> (i - last), &bare_found,
                          &bare_at);
        if (t.p)
            return t;
        i = n;
    }
#endif
    for (; i + 1 < n; i++)
        if (cf_pair_at(line, i) && (t = cf_candidate(line, n, i, &bare_found, &bare_at)).p)
            return t;
    return bare_found ? tg_str_make(line + bare_at, 56) : TG_STR_NULL;
}

/* The text reading; with `traced`, none past finding that the line has no
 * header; without `cf`, no search for the CloudFront id. */
static inline __attribute__((always_inline)) bool decode_text(const char *line, size_t n,
                                                              applog_record *out, bool traced,
                                                              bool cf, tstamp_memo *tm)
{
    record_reset(out, false);
    applog_headers_in(line, n, out);
    if (traced && !out->has_header)
        return false;
    tstamp_match m;
    if (tm ? tstamp_find_memo(line, n, tm, &m) : tstamp_find(line, n, &m))
        out->time_us = m.us;
    if (cf)
        out->cf_id = cf_id_in(line, n);
    return out->has_header;
}

bool applog_decode_text(const char *line, size_t n, applog_record *out)
{
    return decode_text(line, n, out, false, true, NULL);
}

/* Whether a line is read as JSON: its first non-blank byte is '{'. */
static bool is_json(const char *line, size_t n)
{
    size_t i = 0;
    while (i < n && is_blank(line[i]))
        i++;
    return i < n && line[i] == '{';
}

bool applog_decode(const char *line, size_t n, applog_record *out)
{
    if (is_json(line, n))
        return applog_decode_json(line, n, out);
    return decode_text(line, n, out, false, true, NULL);
}

bool applog_decode_traced(const char *line, size_t n, bool cf, tstamp_memo *tm,
                          applog_record *out)
{
    if (is_json(line, n))
        return applog_decode_json(line, n, out);
    return decode_text(line, n, out, true, cf, tm);
}
