#include "output/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "decode/alb.h"

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char b = p[0];
    size_t len;
    unsigned cp;
    if (b >= 0xc2 && b <= 0xdf)
        len = 2, cp = b & 0x1f;
    else if (b >= 0xe0 && b <= 0xef)
        len = 3, cp = b & 0x0f;
    else if (b >= 0xf0 && b <= 0xf4)
        len = 4, cp = b & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* True for the bytes copied as they are: printable ASCII but '"' and '\\'. */
static inline bool plain(unsigned char b)
{
    return b >= 0x20 && b < 0x80 && b != '"' && b != '\\';
}

#ifdef __SSE2__
/* The bytes of v that plain() refuses, bit i for byte i: '"', '\\', and,
 * by a signed compare (bytes >= 0x80 are negative), control bytes and
 * non-ASCII alike. */
static inline unsigned escape_mask16(__m128i v)
{
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(' ');
    const __m128i bad =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                     _mm_cmplt_epi8(v, space));
    return (unsigned)_mm_movemask_epi8(bad);
}
#endif

/* What stopped esc(): the end, or (when asked) an ALB escape. */
enum { ESC_END, ESC_BACKSLASH };

/*
 * Escapes p[*pi..stop) to out and returns the end of the output; *pi is left
 * where the input stopped: at or past stop (a UTF-8 sequence that starts
 * before stop is taken whole, and may run up to n), or, with stop_at_bslash,
 * on the first backslash (*why says which).
 *
 * Plain bytes are copied 16 at a time: a block is stored whole, and the
 * output only advances to the first byte that needs a look. Blocks are read
 * while they end before lim (>= n), which may lie past the value in the same
 * buffer: then even a short value takes one block, not a loop over bytes.
 * out needs room for JSON_ESC_MAX(stop - *pi + 3) bytes, and 16 more for
 * the last block store.
 */
static char *esc(char *out, const unsigned char *p, size_t *pi, size_t stop, size_t n, size_t lim,
                 bool stop_at_bslash, int *why)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = *pi;
    *why = ESC_END;
    while (i < stop) {
#ifdef __SSE2__
        while (i + 16 <= lim) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            _mm_storeu_si128((__m128i *)(void *)out, v);
            unsigned m = escape_mask16(v);
            if (stop - i < 16)
                m |= 1u << (stop - i); /* the end counts as a stop too */
            if (m) {
                unsigned k = (unsigned)__builtin_ctz(m);
                i += k, out += k;
                break;
            }
            i += 16, out += 16;
        }
#else
        (void)lim;
#endif
        while (i < stop && plain(p[i]))
            *out++ = (char)p[i++];
        if (i >= stop)
            break;
        unsigned char b = p[i];
        if (b >= 0x80) {
            size_t len = utf8_len(p + i, n - i);
            if (len) {
                out[0] = (char)b, out[1] = (char)p[i + 1];
                if (len > 2)
                    out[2] = (char)p[i + 2];
                if (len > 3)
                    out[3] = (char)p[i + 3];
                out += len, i += len;
            } else {
                memcpy(out, "\\ufffd", 6); /* not UTF-8 */
                out += 6, i++;
            }
            continue;
        }
        if (b == '\\' && stop_at_bslash) {
            *why = ESC_BACKSLASH;
            break;
        }
        out[0] = '\\';
        if (b == '"' || b == '\\') {
            out[1] = (char)b, out += 2;
        } else if (b == '\n') {
            out[1] = 'n', out += 2;
        } else if (b == '\r') {
            out[1] = 'r', out += 2;
        } else if (b == '\t') {
            out[1] = 't', out += 2;
        } else {
            memcpy(out + 1, "u00", 3);
            out[4] = hex[b >> 4], out[5] = hex[b & 15];
            out += 6;
        }
        i++;
    }
    *pi = i;
    return out;
}

/*
 * The common case of esc() without its call: a value of 1 to 32 bytes,
 * all printable ASCII but '"' and '\\', readable 32 bytes on (p + 32 <=
 * lim). Its two blocks are stored whole; returns the end of the output, or
 * NULL when the value needs esc(). Most fields an event prints are such
 * short plain values, and esc()'s call and loop set-up cost more than the
 * copy (timelines over ALB logs spent 8% in esc()).
 */
static inline char *esc_short(char *out, const char *p, size_t n, const char *lim)
{
#ifdef __SSE2__
    /* An empty value's room (JSON_PUT_MAX(0)) is too small for the stores. */
    if (n - 1 >= 32 || lim - p < 32)
        return NULL;
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    uint64_t bad = (uint64_t)escape_mask16(a) | (uint64_t)escape_mask16(b) << 16;
    if (bad & (((uint64_t)1 << n) - 1))
        return NULL;
    _mm_storeu_si128((__m128i *)(void *)out, a);
    _mm_storeu_si128((__m128i *)(void *)(out + 16), b);
    return out + n;
#else
    (void)out, (void)p, (void)n, (void)lim;
    return NULL;
#endif
}

char *json_esc(char *out, const char *s, size_t n)
{
    /* No block store may pass out + JSON_ESC_MAX(n), so blocks are read
     * only while 16 input bytes remain (lim == n): 16 bytes give 96 of
     * room. */
    size_t i = 0;
    int why;
    return esc(out, (const unsigned char *)s, &i, n, n, n, false, &why);
}

/* Input bytes escaped per wr_room(): their worst case, the 3 bytes a UTF-8
 * sequence may run past, the last block store and the quotes fit in
 * WR_ROOM_MAX. */
#define CHUNK ((WR_ROOM_MAX - 64) / 6 - 3)

void json_str(writer *w, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int why;
    if (n <= CHUNK) {
        char *o = wr_room(w, JSON_PUT_MAX(n));
        *o++ = '"';
        o = esc(o, p, &i, n, n, n, false, &why);
        *o++ = '"';
        wr_done(w, o);
        return;
    }
    wr_char(w, '"');
    while (i < n) {
        size_t stop = n - i > CHUNK ? i + CHUNK : n;
        char *o = wr_room(w, JSON_PUT_MAX(stop - i + 3));
        wr_done(w, esc(o, p, &i, stop, n, n, false, &why));
    }
    wr_char(w, '"');
}

/* json_put_str_or_null() and, with stop_at_bslash, json_put_alb_field(),
 * which returns NULL for a value with a backslash. */
static inline char *put_value(char *out, tg_str s, const char *lim, bool stop_at_bslash)
{
    if (!s.p || tg_str_is_dash(s)) {
        memcpy(out, "null", 4);
        return out + 4;
    }
    *out++ = '"';
    char *end = esc_short(out, s.p, s.n, lim);
    if (!end) {
        size_t i = 0;
        int why;
        end = esc(out, (const unsigned char *)s.p, &i, s.n, s.n, (size_t)(lim - s.p),
                  stop_at_bslash, &why);
        if (why == ESC_BACKSLASH)
            return NULL;
    }
    *end++ = '"';
    return end;
}

char *json_put_str_or_null(char *out, tg_str s, const char *lim)
{
    return put_value(out, s, lim, false);
}

void json_str_or_null(writer *w, tg_str s)
{
    if (!s.p || tg_str_is_dash(s))
        wr_lit(w, "null");
    else
        json_str(w, s.p, s.n);
}

/* A field with ALB escapes: decoded whole, then encoded, since a UTF-8
 * sequence may be spelled half as bytes and half as escapes. */
static void alb_escaped(writer *w, tg_str raw)
{
    char small[1024];
    char *buf = raw.n <= sizeof small ? small : malloc(raw.n);
    if (!buf) {
        json_str(w, raw.p, raw.n); /* undecoded beats nothing */
        return;
    }
    size_t n = alb_unescape(raw, buf, raw.n);
    json_str(w, buf, n);
    if (buf != small)
        free(buf);
}

char *json_put_alb_field(char *out, tg_str raw, const char *lim)
{
    /* Most fields have no escape: they are encoded as they stand, and the
     * rare one that has is left to json_alb_field(). */
    return put_value(out, raw, lim, true);
}

void json_alb_field(writer *w, tg_str raw)
{
    if (raw.p && raw.n <= CHUNK) {
        char *o = wr_room(w, JSON_PUT_MAX(raw.n));
        char *end = json_put_alb_field(o, raw, raw.p + raw.n);
        if (end) {
            wr_done(w, end);
            return;
        }
    } else if (!raw.p || !memchr(raw.p, '\\', raw.n)) {
        json_str_or_null(w, raw);
        return;
    }
    alb_escaped(w, raw); /* nothing was committed */
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *p, size_t n)
{
    size_t i = 0;
    if (i < n && p[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (p[i] == '0') {
        i++;
    } else if (p[i] >= '1' && p[i] <= '9') {
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    } else {
        return false;
    }
    if (i < n && p[i] == '.') {
        size_t d = ++i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

/*
 * The common numbers without is_json_number()'s walk: at most 16 digits
 * with at most one '.' inside them, and no leading zero but "0" or "0.",
 * read as one 16-byte block (s.p + 16 <= lim) and stored as one. Returns
 * the end of the output, or NULL for anything else (a sign, an exponent, a
 * malformed value), which the full grammar then judges.
 */
static inline char *put_plain_number(char *out, tg_str s, const char *lim)
{
#ifdef __SSE2__
    if (!s.p || s.n - 1 >= 16 || lim - s.p < 16)
        return NULL;
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s.p);
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    const __m128i nine = _mm_set1_epi8(9);
    const unsigned in = (1u << s.n) - 1;
    unsigned digit = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(d, nine), nine)) & in;
    unsigned dot = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))) & in;
    /* Digits and dots only; one dot at most, neither first nor last. */
    if ((digit | dot) != in || (dot & (dot - 1)) != 0 || (dot & (1u | 1u << (s.n - 1))) != 0)
        return NULL;
    if (s.p[0] == '0' && s.n > 1 && s.p[1] != '.')
        return NULL;
    _mm_storeu_si128((__m128i *)(void *)out, v);
    return out + s.n;
#else
    (void)out, (void)s, (void)lim;
    return NULL;
#endif
}

char *json_put_number(char *out, tg_str s, bool minus_one_is_null, const char *lim)
{
    char *end = put_plain_number(out, s, lim);
    if (end)
        return end;
    if (!s.p || !is_json_number(s.p, s.n) ||
        (minus_one_is_null && s.n == 2 && s.p[0] == '-' && s.p[1] == '1')) {
        memcpy(out, "null", 4);
        return out + 4;
    }
    memcpy(out, s.p, s.n);
    return out + s.n;
}

void json_number_or_null(writer *w, tg_str s, bool minus_one_is_null)
{
    if (s.n <= WR_ROOM_MAX - 4)
        wr_done(w, json_put_number(wr_room(w, s.n + 4), s, minus_one_is_null,
                                   s.p ? s.p + s.n : NULL));
    else if (s.p && is_json_number(s.p, s.n))
        wr_bytes(w, s.p, s.n);
    else
        wr_lit(w, "null");
}

void json_key_n(writer *w, const char *key, size_t n, bool first)
{
    if (!first)
        wr_char(w, ',');
    wr_char(w, '"');
    wr_bytes(w, key, n);
    wr_bytes(w, "\":", 2);
}
