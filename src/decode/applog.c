/*
 * applog: trace headers, times and ids of application lines.
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
 * - In JSON, a trace key's 32-hex value is taken for the OTel form of an
 *   X-Ray id, as README's ID rules do; an all-zero id there is a bad Root.
 * - JSON time strings are unescaped (only one-byte escapes such as "\/",
 *   which PHP writes in "10\/Oct\/2000…") into a 64-byte stack buffer;
 *   a longer or \u-escaped value is no time.
 */
#define _GNU_SOURCE /* memrchr */
#include "decode/applog.h"

#include "decode/tgtime.h"
#include "decode/tstamp.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* The bytes equal to c among the 16 at p. */
static inline unsigned byte_mask16(const char *p, char c)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
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

/* Empties *out, one member at a time: "a = b = TG_STR_NULL" read b back
 * in one wide load just after its two narrow stores, which stalled on
 * every line (1-2% of a stats run over application logs). */
static void record_reset(applog_record *out, bool json)
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
static bool offer(applog_record *out, tg_str text, xray_status st, xray_root root)
{
    if (!out->has_header || (out->verdict != XRAY_OK && st == XRAY_OK)) {
        out->has_header = true;
        out->verdict = st;
        out->root = root;
        out->header = text;
    }
    return out->verdict == XRAY_OK;
}

/* The next "Root=" in [p, end) that does not continue a longer word. */
static const char *find_root(const char *p, const char *end, const char *lo)
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

/* Offers every "Root=" header of s[0..n) until a valid one. */
static void headers_in(const char *s, size_t n, applog_record *out)
{
    const char *p = s, *end = s + n, *r;
    while ((r = find_root(p, end, s)) != NULL) {
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
 * header. */
static inline __attribute__((always_inline)) bool decode_text(const char *line, size_t n,
                                                              applog_record *out, bool traced)
{
    record_reset(out, false);
    headers_in(line, n, out);
    if (traced && !out->has_header)
        return false;
    tstamp_match m;
    if (tstamp_find(line, n, &m))
        out->time_us = m.us;
    out->cf_id = cf_id_in(line, n);
    return out->has_header;
}

bool applog_decode_text(const char *line, size_t n, applog_record *out)
{
    return decode_text(line, n, out, false);
}

/* ---- JSON ---- */

enum key_class { K_NONE, K_TRACE_ID, K_TRACE, K_TIME, K_CF_ID, K_REQUEST_ID, K_STATUS };

/* Packs five bytes the way classify() shifts a key's bytes in: the first
 * byte ends up highest. */
#define PACK5(a, b, c, d, e)                                                                    \
    ((uint64_t)(a) << 32 | (uint64_t)(b) << 24 | (uint64_t)(c) << 16 | (uint64_t)(d) << 8 |     \
     (uint64_t)(e))
#define TRACE5 PACK5('t', 'r', 'a', 'c', 'e')
#define TRACING7 (PACK5('t', 'r', 'a', 'c', 'i') << 16 | (uint64_t)'n' << 8 | 'g')

/* The class of a significant key name (see classify()) of len bytes at b,
 * already lowered and rid of separators; trace says whether "trace" or
 * "tracing" is in it. len 0 matches no name. */
static enum key_class class_of(const char *b, size_t len, bool trace)
{
#define IS(lit) (len == sizeof(lit) - 1 && memcmp(b, lit, len) == 0)
    if (IS("traceid") || IS("xraytraceid") || IS("awsxraytraceid"))
        return K_TRACE_ID;
    if (trace)
        return K_TRACE;
    if (IS("time") || IS("timestamp") || IS("requesttime") || IS("requesttimeepoch"))
        return K_TIME;
    if (IS("xamzcfid") || IS("cfid"))
        return K_CF_ID;
    if (IS("requestid"))
        return K_REQUEST_ID;
    if (IS("status"))
        return K_STATUS;
#undef IS
    return K_NONE;
}

/* A bare id's key, K_TRACE_ID by its name with separators dropped, that
 * does not spell "trace" in one piece in the raw key [s, e) ("tra_ceId")
 * is only a key containing "trace": the scanner, which looks for "trace"
 * whole, would not have handed its line over. Called for the rare keys
 * with a separator; without one, the name itself spells "trace". */
static enum key_class whole_trace(const char *s, const char *e)
{
    for (const char *p = s; e - p >= 5; p++)
        if ((p[0] | 0x20) == 't' && (p[1] | 0x20) == 'r' && (p[2] | 0x20) == 'a' &&
            (p[3] | 0x20) == 'c' && (p[4] | 0x20) == 'e')
            return K_TRACE_ID;
    return K_TRACE;
}

#ifdef __SSE2__
/*
 * classify() for a key of n <= 16 bytes at s, with 16 bytes readable
 * there: one vector, no loop whose length is the key's. Keys are short and
 * of every length, so the byte loop's exit was mispredicted key after key;
 * with its test for "trace" at every byte, it was a quarter of a stats run
 * over JSON logs.
 */
static enum key_class classify16(const char *s, size_t n)
{
    const char *const e = s + n;
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    unsigned in = (1u << n) - 1;
    /* Letters lowered: a byte is one when its lowered form lies in 'a'-'z'
     * (signed compares: bytes from 0x80 are negative and fail). */
    const __m128i l0 = _mm_or_si128(v, _mm_set1_epi8(0x20));
    const __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(l0, _mm_set1_epi8('a' - 1)),
                                        _mm_cmplt_epi8(l0, _mm_set1_epi8('z' + 1)));
    __m128i l = _mm_or_si128(v, _mm_and_si128(alpha, _mm_set1_epi8(0x20)));
    const __m128i sep = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')), _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')), _mm_cmpeq_epi8(v, _mm_set1_epi8('@'))));
    const unsigned seps = (unsigned)_mm_movemask_epi8(sep) & in;
    /* snake_case and kebab-case keys: each separator squeezed out in the
     * vector, the bytes after it moved down one. From the last one back,
     * the earlier ones stay where they are. (A byte loop writing the
     * squeezed key to memory made the vector's reload wait on its
     * stores.) */
    if (seps) {
        /* The key shrinks by one byte a separator, counted here: a
         * popcount64() of seps on every key, a dozen dependent
         * instructions without POPCNT in the baseline build, was a sixth
         * of the JSON reader's time. */
        const __m128i index =
            _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (unsigned m = seps; m != 0;) {
            const unsigned at = 31 - (unsigned)__builtin_clz(m);
            const __m128i before = _mm_cmpgt_epi8(_mm_set1_epi8((char)at), index);
            l = _mm_or_si128(_mm_and_si128(before, l),
                             _mm_andnot_si128(before, _mm_srli_si128(l, 1)));
            m &= ~(1u << at);
            n--;
        }
        in = (1u << n) - 1;
    }
#define AT(c) ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(l, _mm_set1_epi8(c))) & in)
    /* Bit i: "trac" starts at byte i. */
    const unsigned trac = AT('t') & AT('r') >> 1 & AT('a') >> 2 & AT('c') >> 3;
    const bool trace = (trac & (AT('e') >> 4 | (AT('i') >> 4 & AT('n') >> 5 & AT('g') >> 6))) != 0;
#undef AT
    char b[16];
    _mm_storeu_si128((__m128i *)(void *)b, l);
    const enum key_class k = class_of(b, n, trace);
    return k == K_TRACE_ID && seps ? whole_trace(s, e) : k;
}
#endif

/* Classifies a raw key by its name with case, '-', '_', '.', '@' ignored,
 * save that a bare id's key must spell "trace" in one piece, any case, as
 * the scanner looks for it: "tra_ceId" is only a key containing "trace".
 * Only the first 24 significant bytes are kept for exact names (every name
 * matched is shorter); "trace" and "tracing" are looked for in a shift
 * register of the last seven bytes as the key goes by. The line ends at
 * end, past the key's closing quote. */
static enum key_class classify(const char *s, const char *e, const char *end)
{
#ifdef __SSE2__
    if (e - s <= 16 && end - s >= 16)
        return classify16(s, (size_t)(e - s));
#else
    (void)end;
#endif
    char b[24];
    size_t k = 0;
    bool trace = false, overflow = false, seps = false;
    uint64_t last = 0;
    for (const char *p = s; p < e; p++) {
        char c = *p;
        if (c == '-' || c == '_' || c == '.' || c == '@') {
            seps = true;
            continue;
        }
        c = (char)(is_alpha(c) ? c | 0x20 : c);
        last = last << 8 | (unsigned char)c;
        trace |= (last & 0xffffffffffu) == TRACE5 || (last & 0xffffffffffffffu) == TRACING7;
        if (k < sizeof b)
            b[k++] = c;
        else
            overflow = true;
    }
    const enum key_class kc = class_of(b, overflow ? 0 : k, trace);
    return kc == K_TRACE_ID && seps ? whole_trace(s, e) : kc;
}

/* The first '"' in [p, end), or end. JSON strings are short: a vector
 * inline finds most of their ends, where memchr() cost a call each (a
 * sixth of a stats run over JSON logs). */
static inline const char *next_quote(const char *p, const char *end)
{
#ifdef __SSE2__
    for (; end - p >= 16; p += 16) {
        unsigned m = byte_mask16(p, '"');
        if (m)
            return p + __builtin_ctz(m);
    }
#endif
    const char *q = memchr(p, '"', (size_t)(end - p));
    return q ? q : end;
}

/* The closing quote of the string whose content starts at s, or end. A
 * quote is escaped when an odd run of backslashes precedes it. */
static const char *string_end(const char *s, const char *end)
{
    const char *p = s;
    for (;;) {
        const char *q = next_quote(p, end);
        if (q == end)
            return end;
        const char *b = q;
        while (b > s && b[-1] == '\\')
            b--;
        if (((q - b) & 1) == 0)
            return q;
        p = q + 1;
    }
}

typedef struct jstate {
    applog_record *out;
    unsigned time_depth, cf_depth, req_depth, status_depth;
} jstate;

/* A bare id or header under a trace-id key. */
static void offer_id(applog_record *out, tg_str v)
{
    while (v.n > 0 && is_blank(v.p[0]))
        v.p++, v.n--;
    while (v.n > 0 && is_blank(v.p[v.n - 1]))
        v.n--;
    if (v.n == 0 || tg_str_is_dash(v))
        return;
    if (find_root(v.p, v.p + v.n, v.p) != NULL) {
        headers_in(v.p, v.n, out);
        return;
    }
    xray_root root = {0, 0};
    xray_status st = XRAY_BAD_ROOT;
    if (v.n == 35) {
        st = xray_root_status(v.p, v.n, &root);
    } else if (v.n == 32 && xray_parse_user_id(v.p, v.n, &root)) {
        st = XRAY_OK;
    }
    if (st != XRAY_OK)
        root.hi = root.lo = 0;
    offer(out, v, st, root);
}

static bool digits_only(const char *s, size_t n, bool frac_ok)
{
    bool dot = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' && frac_ok && !dot && i > 0)
            dot = true;
        else if (!is_digit(s[i]))
            return false;
    }
    return n > 0;
}

static void json_time_string(jstate *js, const char *s, size_t n, unsigned depth)
{
    char buf[64];
    if (memchr(s, '\\', n) != NULL) {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (o == sizeof buf)
                return;
            if (s[i] == '\\') {
                if (++i == n || s[i] == 'u')
                    return;
            }
            buf[o++] = s[i];
        }
        s = buf;
        n = o;
    }
    int64_t us;
    bool ok = digits_only(s, n, true) ? tstamp_parse_epoch(s, n, &us) : tstamp_parse(s, n, &us);
    if (ok) {
        js->out->time_us = us;
        js->time_depth = depth;
    }
}

static int status_of(const char *s, size_t n)
{
    if (n == 0 || n > 3 || !digits_only(s, n, false))
        return 0;
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v >= 100 ? v : 0;
}

static void json_string(jstate *js, enum key_class k, bool ctx, const char *s, const char *e,
                        unsigned depth)
{
    size_t n = (size_t)(e - s);
    applog_record *out = js->out;
    switch (k) {
    case K_TRACE_ID:
        offer_id(out, tg_str_make(s, n));
        return;
    case K_TIME:
        if (depth < js->time_depth)
            json_time_string(js, s, n, depth);
        break;
    case K_CF_ID:
        if (depth < js->cf_depth && n > 0 && !(n == 1 && s[0] == '-')) {
            out->cf_id = tg_str_make(s, n);
            js->cf_depth = depth;
        }
        break;
    case K_REQUEST_ID:
        if (depth < js->req_depth && n > 0 && !(n == 1 && s[0] == '-')) {
            out->request_id = tg_str_make(s, n);
            js->req_depth = depth;
        }
        break;
    case K_STATUS:
        if (depth < js->status_depth && status_of(s, n)) {
            out->http_status = status_of(s, n);
            js->status_depth = depth;
        }
        break;
    default:
        break;
    }
    if ((k == K_TRACE || ctx) && !(out->has_header && out->verdict == XRAY_OK))
        headers_in(s, n, out);
}

static void json_number(jstate *js, enum key_class k, const char *s, size_t n, unsigned depth)
{
    int64_t us;
    if (k == K_TIME && depth < js->time_depth && tstamp_parse_epoch(s, n, &us)) {
        js->out->time_us = us;
        js->time_depth = depth;
    } else if (k == K_STATUS && depth < js->status_depth && status_of(s, n)) {
        js->out->http_status = status_of(s, n);
        js->status_depth = depth;
    }
}

/* Whether the container at depth d (1 = the line's object) lies inside a
 * trace key's value; levels past 64 share the 64th level's bit. */
static inline bool ctx_at(uint64_t ctx, unsigned d)
{
    if (d == 0)
        return false;
    return (ctx >> ((d > 64 ? 64 : d) - 1)) & 1;
}

bool applog_decode_json(const char *line, size_t n, applog_record *out)
{
    record_reset(out, true);
    jstate js = {out, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX};
    const char *p = line, *end = line + n;
    unsigned depth = 0;
    uint64_t ctx = 0;
    enum key_class pending = K_NONE;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            const char *s = p + 1, *e = string_end(s, end);
            p = e < end ? e + 1 : end;
            const char *q = p;
            while (q < end && (is_blank(*q) || *q == '\r' || *q == '\n'))
                q++;
            if (q < end && *q == ':') {
                pending = classify(s, e, end);
                p = q + 1;
                continue;
            }
            json_string(&js, pending, ctx_at(ctx, depth), s, e, depth);
            pending = K_NONE;
        } else if (c == '{' || c == '[') {
            bool t = ctx_at(ctx, depth) || pending == K_TRACE || pending == K_TRACE_ID;
            depth++;
            if (depth <= 64) {
                uint64_t bit = (uint64_t)1 << (depth - 1);
                ctx = t ? ctx | bit : ctx & ~bit;
            }
            pending = K_NONE;
            p++;
        } else if (c == '}' || c == ']') {
            if (depth > 0)
                depth--;
            pending = K_NONE;
            p++;
        } else if (c == '-' || is_digit(c)) {
            const char *q = p + 1;
            while (q < end && (is_digit(*q) || *q == '.' || *q == 'e' || *q == 'E' || *q == '+' ||
                               *q == '-'))
                q++;
            json_number(&js, pending, p, (size_t)(q - p), depth);
            pending = K_NONE;
            p = q;
        } else if (is_alpha(c)) {
            while (p < end && is_alpha(*p))
                p++;
            pending = K_NONE; /* true, false, null */
        } else {
            if (c == ',')
                pending = K_NONE;
            p++;
        }
    }
    return out->has_header;
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
    return decode_text(line, n, out, false);
}

bool applog_decode_traced(const char *line, size_t n, applog_record *out)
{
    if (is_json(line, n))
        return applog_decode_json(line, n, out);
    return decode_text(line, n, out, true);
}
