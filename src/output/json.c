#include "output/json.h"

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
    if (b < 0x80)
        return 1;
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

/* Bytes from i on that need no escape and no UTF-8 check: printable ASCII
 * other than '"' and '\\'. Most of a log is such bytes, 16 at a time. */
static size_t plain_run(const unsigned char *p, size_t i, size_t n)
{
    size_t start = i;
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i low = _mm_set1_epi8(0x1f);
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        /* Signed compare: bytes >= 0x80 are negative, so "v <= 0x1f"
         * catches control bytes and non-ASCII alike. */
        __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                   _mm_cmplt_epi8(v, _mm_add_epi8(low, _mm_set1_epi8(1))));
        int m = _mm_movemask_epi8(bad);
        if (m)
            return i + (size_t)__builtin_ctz((unsigned)m) - start;
    }
#endif
    while (i < n && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\')
        i++;
    return i - start;
}

void json_str(writer *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    wr_char(w, '"');
    size_t run = 0; /* bytes copied through unchanged, written in one go */
    for (size_t i = 0; i < n;) {
        size_t plain = plain_run(p, i, n);
        i += plain, run += plain;
        if (i == n)
            break;
        unsigned char b = p[i];
        if (b >= 0x20 && b < 0x80 && b != '"' && b != '\\') {
            i++, run++;
            continue;
        }
        size_t len = b >= 0x80 ? utf8_len(p + i, n - i) : 0;
        if (len) {
            i += len, run += len;
            continue;
        }
        wr_bytes(w, (const char *)p + i - run, run);
        run = 0;
        if (b == '"' || b == '\\') {
            char esc[2] = {'\\', (char)b};
            wr_bytes(w, esc, 2);
        } else if (b == '\n') {
            wr_bytes(w, "\\n", 2);
        } else if (b == '\r') {
            wr_bytes(w, "\\r", 2);
        } else if (b == '\t') {
            wr_bytes(w, "\\t", 2);
        } else if (b < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[b >> 4], hex[b & 15]};
            wr_bytes(w, esc, 6);
        } else {
            wr_bytes(w, "\\ufffd", 6); /* not UTF-8 */
        }
        i++;
    }
    wr_bytes(w, (const char *)p + n - run, run);
    wr_char(w, '"');
}

void json_str_or_null(writer *w, tg_str s)
{
    if (!s.p || tg_str_is_dash(s))
        wr_str(w, "null");
    else
        json_str(w, s.p, s.n);
}

void json_alb_field(writer *w, tg_str raw)
{
    if (!raw.p || tg_str_is_dash(raw)) {
        wr_str(w, "null");
        return;
    }
    if (!memchr(raw.p, '\\', raw.n)) {
        json_str(w, raw.p, raw.n);
        return;
    }
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

void json_number_or_null(writer *w, tg_str s, bool minus_one_is_null)
{
    if (!s.p || !is_json_number(s.p, s.n) || (minus_one_is_null && tg_str_eq(s, "-1")))
        wr_str(w, "null");
    else
        wr_bytes(w, s.p, s.n);
}

void json_key_n(writer *w, const char *key, size_t n, bool first)
{
    if (!first)
        wr_char(w, ',');
    wr_char(w, '"');
    wr_bytes(w, key, n);
    wr_bytes(w, "\":", 2);
}
