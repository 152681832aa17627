/*
 * applog_json: the JSON reader of application lines (applog.h tells what
 * it reads).
 *
 * Decisions the header leaves open, made here:
 * - A trace key's 32-hex value is taken for the OTel form of an X-Ray id,
 *   as README's ID rules do; an all-zero id there is a bad Root.
 * - Time strings are unescaped (only one-byte escapes such as "\/",
 *   which PHP writes in "10\/Oct\/2000…") into a 64-byte stack buffer;
 *   a longer or \u-escaped value is no time.
 */
#include "decode/applog.h"
#include "decode/applog_int.h"

#include "decode/tstamp.h"

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
    if (applog_find_root(v.p, v.p + v.n, v.p) != NULL) {
        applog_headers_in(v.p, v.n, out);
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
        applog_headers_in(s, n, out);
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
