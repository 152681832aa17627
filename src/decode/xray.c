/*
 * xray: the X-Amzn-Trace-Id header decoder.
 *
 * Decisions the header leaves open, made here:
 * - A Root is zero (XRAY_ZERO_ROOT) when its 96-bit random id is all zeros,
 *   whatever the epoch: FORMATS.md calls an all-zero id invalid, and the
 *   epoch is only a timestamp. The reverse case, epoch 00000000 with a
 *   nonzero id, is a valid (if odd) Root: archives are never judged by age.
 * - Blanks (spaces and tabs) are skipped around each field, and also around
 *   the key and the value inside it ("Root = 1-…" reads as Root).
 * - Every known key is case-sensitive and the first occurrence of each wins;
 *   the header is always read to its end, so Self, Parent, Sampled and
 *   Lineage are reported whatever the verdict on Root.
 * - A field with no '=' has an empty value: a bare "Root" is a bad Root.
 */
#include "decode/xray.h"

#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "util/hex.h"

/* Reads k (at most 16) hex digits at s into *v; false if any is not hex. */
static inline bool hex_run(const char *s, unsigned k, uint64_t *v)
{
    uint64_t acc = 0;
    unsigned ok = 0x10;
    for (unsigned i = 0; i < k; i++) {
        unsigned e = tg_hexval[(unsigned char)s[i]];
        ok &= e;
        acc = acc << 4 | (e & 0xf);
    }
    *v = acc;
    return ok != 0;
}

#ifdef __SSE2__
/*
 * A Root's 32 hex digits are read 16 at a time, one per byte of a vector:
 * every line with a trace header has one. A byte is a hex digit when it is
 * '0'-'9', or when it is 'a'-'f' once the 0x20 bit (the case bit of ASCII
 * letters) is set: exactly the digits tg_hexval[] knows. Each range test is
 * an unsigned "min(x - lo, hi - lo) == x - lo", SSE2 having no unsigned
 * byte compare.
 */
static inline __m128i hex_nibbles(__m128i c, __m128i *ok)
{
    const __m128i t = _mm_sub_epi8(c, _mm_set1_epi8('0'));
    const __m128i u = _mm_sub_epi8(_mm_or_si128(c, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    const __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(9)), t);
    const __m128i letter = _mm_cmpeq_epi8(_mm_min_epu8(u, _mm_set1_epi8(5)), u);
    *ok = _mm_and_si128(*ok, _mm_or_si128(digit, letter));
    /* A letter's low nibble is 1-6 in either case: 9 more is its value. */
    return _mm_add_epi8(_mm_and_si128(c, _mm_set1_epi8(0x0f)),
                        _mm_and_si128(letter, _mm_set1_epi8(9)));
}

/* Packs the nibbles of each pair of bytes into the pair's low byte, the
 * first digit high, and clears the high byte. */
static inline __m128i pack_pairs(__m128i x)
{
    const __m128i pairs = _mm_or_si128(_mm_slli_epi16(x, 4), _mm_srli_epi16(x, 8));
    return _mm_and_si128(pairs, _mm_set1_epi16(0xff));
}

/* x with its bytes in reverse order. SSE2 means x86, which is little-endian:
 * the first of 8 bytes loaded is the least significant. */
static inline uint64_t bswap64(uint64_t x)
{
#if defined(__GNUC__)
    return __builtin_bswap64(x);
#else
    x = (x & 0x00ff00ff00ff00ffull) << 8 | (x >> 8 & 0x00ff00ff00ff00ffull);
    x = (x & 0x0000ffff0000ffffull) << 16 | (x >> 16 & 0x0000ffff0000ffffull);
    return x << 32 | x >> 32;
#endif
}

/* Reads the 16 hex digits in each of a and b (first digit in byte 0) into
 * *va and *vb; false if any is not hex (then *va and *vb hold junk). */
static inline bool hex_2x16(__m128i a, __m128i b, uint64_t *va, uint64_t *vb)
{
    __m128i ok = _mm_set1_epi8(-1);
    const __m128i na = hex_nibbles(a, &ok), nb = hex_nibbles(b, &ok);
    /* Bytes 0-7 are a's digits in pairs, bytes 8-15 b's. */
    uint64_t x[2];
    _mm_storeu_si128((__m128i *)(void *)x, _mm_packus_epi16(pack_pairs(na), pack_pairs(nb)));
    *va = bswap64(x[0]);
    *vb = bswap64(x[1]);
    return _mm_movemask_epi8(ok) == 0xffff;
}
#endif

xray_status xray_root_status(const char *s, size_t n, xray_root *out)
{
    if (n != 35 || s[0] != '1' || s[1] != '-' || s[10] != '-')
        return XRAY_BAD_ROOT;
    uint64_t hi, lo;
#ifdef __SSE2__
    /* The 8 epoch and the first 8 id digits make one run of 16: the OTel
     * id's high half. */
    const __m128i epoch = _mm_loadl_epi64((const __m128i *)(const void *)(s + 2));
    const __m128i mid = _mm_loadl_epi64((const __m128i *)(const void *)(s + 11));
    const __m128i low = _mm_loadu_si128((const __m128i *)(const void *)(s + 19));
    if (!hex_2x16(_mm_unpacklo_epi64(epoch, mid), low, &hi, &lo))
        return XRAY_BAD_ROOT;
#else
    uint64_t epoch, mid;
    if (!hex_run(s + 2, 8, &epoch) || !hex_run(s + 11, 8, &mid) || !hex_run(s + 19, 16, &lo))
        return XRAY_BAD_ROOT;
    hi = epoch << 32 | mid;
#endif
    if (((hi & 0xffffffffu) | lo) == 0)
        return XRAY_ZERO_ROOT;
    out->hi = hi;
    out->lo = lo;
    return XRAY_OK;
}

bool xray_parse_root(const char *s, size_t n, xray_root *out)
{
    return xray_root_status(s, n, out) == XRAY_OK;
}

static inline bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static tg_str trim_blanks(const char *p, const char *e)
{
    while (p < e && is_blank(*p))
        p++;
    while (e > p && is_blank(e[-1]))
        e--;
    return tg_str_make(p, (size_t)(e - p));
}

/* Applies one Key=Value field (the bytes between two ';') to *out. */
static void decode_field(const char *p, const char *e, xray_header *out, xray_status *st,
                         bool *have_sampled)
{
    const char *eq = p;
    while (eq < e && *eq != '=')
        eq++;
    tg_str key = trim_blanks(p, eq);
    tg_str val = eq < e ? trim_blanks(eq + 1, e) : tg_str_make(e, 0);

    switch (key.n) {
    case 4:
        if (memcmp(key.p, "Root", 4) == 0) {
            if (*st == XRAY_NO_ROOT)
                *st = xray_root_status(val.p, val.n, &out->root);
        } else if (memcmp(key.p, "Self", 4) == 0 && out->self.p == NULL) {
            out->self = val;
        }
        break;
    case 6:
        if (memcmp(key.p, "Parent", 6) == 0 && out->parent.p == NULL) {
            out->parent = val;
            out->has_span = val.n == 16 && hex_run(val.p, 16, &out->span);
            if (!out->has_span)
                out->span = 0;
        }
        break;
    case 7:
        if (memcmp(key.p, "Sampled", 7) == 0 && !*have_sampled) {
            *have_sampled = true;
            if (val.n == 1 && (val.p[0] == '0' || val.p[0] == '1' || val.p[0] == '?'))
                out->sampled = val.p[0];
        } else if (memcmp(key.p, "Lineage", 7) == 0 && out->lineage.p == NULL) {
            out->lineage = val;
        }
        break;
    default:
        break; /* unknown fields stay in the caller's raw text */
    }
}

xray_status xray_decode(const char *s, size_t n, xray_header *out)
{
    out->root.hi = out->root.lo = 0;
    out->self = out->parent = out->lineage = TG_STR_NULL;
    out->sampled = 0;
    out->has_span = false;
    out->span = 0;

    xray_status st = XRAY_NO_ROOT;
    bool have_sampled = false;
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *e = memchr(p, ';', (size_t)(end - p));
        if (e == NULL)
            e = end;
        decode_field(p, e, out, &st, &have_sampled);
        p = e + 1;
    }
    if (st != XRAY_OK)
        out->root.hi = out->root.lo = 0;
    return st;
}

xray_status xray_decode_root(const char *s, size_t n, xray_root *out)
{
    /* The usual first field, "Root=" and 35 characters, decides: the first
     * Root wins and no other field changes the verdict. Blanks inside it
     * need no trimming here, since a blank is neither a hex digit nor any
     * other character of a Root: trimmed or not, such a value is bad. */
    const char *root = NULL;
    if (n >= 40 && memcmp(s, "Root=", 5) == 0 && (n == 40 || s[40] == ';'))
        root = s + 5;
    /* A header one load balancer passed on to the next: its own Self field,
     * then the Root. The Self field is only stepped over; without a ';'
     * inside it, it is the whole first field. */
    else if (n >= 81 && memcmp(s, "Self=", 5) == 0 && s[40] == ';' &&
             memcmp(s + 41, "Root=", 5) == 0 && (n == 81 || s[81] == ';') &&
             memchr(s + 5, ';', 35) == NULL)
        root = s + 46;
    if (root) {
        xray_status st = xray_root_status(root, 35, out);
        if (st != XRAY_OK)
            out->hi = out->lo = 0;
        return st;
    }
    xray_header h;
    xray_status st = xray_decode(s, n, &h);
    *out = h.root;
    return st;
}

static inline bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Drops from [*p, *e) what is pasted around a trace id from a request dump
 * or a log line: blanks, the header's name ("X-Amzn-Trace-Id: …", in any
 * case, then ':' or '=') and the double quotes an ALB line puts around the
 * value ("\"Root=…;Sampled=1\""), as often as they come, in a loop rather
 * than by recursion: an --ids-from line may be a megabyte of quotes. False
 * for a header name followed by neither ':' nor '='. */
static bool strip_pasted(const char **p, const char **e)
{
    static const char header[] = "x-amzn-trace-id";
    const size_t hn = sizeof header - 1;
    for (;;) {
        while (*p < *e && is_space(**p))
            (*p)++;
        while (*e > *p && is_space((*e)[-1]))
            (*e)--;
        size_t len = (size_t)(*e - *p);
        if (len > hn && strncasecmp(*p, header, hn) == 0) {
            const char *q = *p + hn;
            while (q < *e && is_space(*q))
                q++;
            if (q == *e || (*q != ':' && *q != '='))
                return false;
            *p = q + 1;
        } else if (len >= 2 && (*p)[0] == '"' && (*e)[-1] == '"') {
            (*p)++;
            (*e)--;
        } else {
            return true;
        }
    }
}

bool xray_parse_user_id(const char *s, size_t n, xray_root *out)
{
    const char *p = s, *e = s + n;
    if (!strip_pasted(&p, &e))
        return false;
    size_t len = (size_t)(e - p);

    if (len == 35)
        return xray_parse_root(p, len, out);
    if (len == 32) {
        uint64_t hi, lo;
        if (!hex_run(p, 16, &hi) || !hex_run(p + 16, 16, &lo))
            return false;
        /* The same rule as a Root: the 96-bit id part may not be zero. */
        if ((hi & 0xffffffffu) == 0 && lo == 0)
            return false;
        out->hi = hi;
        out->lo = lo;
        return true;
    }
    /* A "Root=" prefix, in any case since a user typing "root=" means Root,
     * may come before the id. Anything else with a '=' is taken for a whole
     * header value as copied from a log ("Self=…;Root=…;Sampled=1"). */
    if (len > 5 && (p[0] | 0x20) == 'r' && (p[1] | 0x20) == 'o' && (p[2] | 0x20) == 'o' &&
        (p[3] | 0x20) == 't' && p[4] == '=') {
        tg_str v = trim_blanks(p + 5, e);
        if (v.n == 35)
            return xray_parse_root(v.p, v.n, out);
    }
    if (len > 0 && memchr(p, '=', len) != NULL) {
        xray_header h;
        if (xray_decode(p, len, &h) != XRAY_OK)
            return false;
        *out = h.root;
        return true;
    }
    return false;
}

#ifndef __SSE2__
/* The k (at most 16) low hex digits of v at out, most significant first. */
static void put_hex(char *out, uint64_t v, unsigned k)
{
    static const char hexdig[16] = "0123456789abcdef";
    while (k-- > 0) {
        out[k] = hexdig[v & 0xf];
        v >>= 4;
    }
}
#else
/* The 16 hex digits of v, most significant first, one per byte: its bytes
 * in that order split into nibbles and interleaved, and each nibble made a
 * digit by adding '0', and 'a' - '0' - 10 more above 9. timelines formats
 * two ids for every trace: one digit at a time, timelines -j1 over 100 MB
 * of ALB logs ran 1,036M instructions, 1,010M this way. */
static inline __m128i hex16(uint64_t v)
{
    const __m128i x = _mm_cvtsi64_si128((long long)__builtin_bswap64(v));
    const __m128i lo4 = _mm_set1_epi8(0x0f);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(x, 4), lo4);
    const __m128i d = _mm_unpacklo_epi8(hi, _mm_and_si128(x, lo4));
    const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(d, _mm_set1_epi8(9)),
                                         _mm_set1_epi8('a' - '0' - 10));
    return _mm_add_epi8(_mm_add_epi8(d, _mm_set1_epi8('0')), letter);
}
#endif

void xray_format_root(xray_root r, char out[36])
{
    out[0] = '1';
    out[1] = '-';
#ifdef __SSE2__
    const __m128i h = hex16(r.hi);
    _mm_storel_epi64((__m128i *)(void *)(out + 2), h);
    out[10] = '-';
    _mm_storel_epi64((__m128i *)(void *)(out + 11), _mm_srli_si128(h, 8));
    _mm_storeu_si128((__m128i *)(void *)(out + 19), hex16(r.lo));
#else
    put_hex(out + 2, r.hi >> 32, 8);
    out[10] = '-';
    put_hex(out + 11, r.hi & 0xffffffffu, 8);
    put_hex(out + 19, r.lo, 16);
#endif
    out[35] = '\0';
}

void xray_format_otel(xray_root r, char out[33])
{
#ifdef __SSE2__
    _mm_storeu_si128((__m128i *)(void *)out, hex16(r.hi));
    _mm_storeu_si128((__m128i *)(void *)(out + 16), hex16(r.lo));
#else
    put_hex(out, r.hi, 16);
    put_hex(out + 16, r.lo, 16);
#endif
    out[32] = '\0';
}

int xray_root_cmp(const void *va, const void *vb)
{
    const xray_root *a = va, *b = vb;
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return 0;
}

const char *xray_status_name(xray_status st)
{
    static const char *const names[XRAY_STATUS_COUNT] = {
        [XRAY_OK] = "ok",
        [XRAY_NO_ROOT] = "no-root",
        [XRAY_BAD_ROOT] = "bad-root",
        [XRAY_ZERO_ROOT] = "zero-root",
    };
    if ((unsigned)st >= XRAY_STATUS_COUNT)
        return "unknown";
    return names[st];
}
