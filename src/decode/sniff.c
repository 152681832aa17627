/*
 * sniff: format detection by voting over the first lines.
 *
 * Decisions the header leaves open, made here:
 * - The tests run from the cheapest and most specific to the most general:
 *   '#' directives and '{' cost one byte; alb_parse() rejects a non-ALB
 *   line on its first field; the connection-log and classic-ELB checks
 *   both need a time first and differ in field 2 (an ip, or a name).
 * - "#Version:"/"#Fields:" decide only as the first non-empty line. Later,
 *   a directive line votes "cloudfront" like any other line, so a
 *   concatenation whose first part lost its header still comes out right
 *   when CloudFront lines are the majority.
 * - CloudFront records (date TAB time TAB …) also vote "cloudfront": a
 *   piece of a file cut away from its header is still recognized.
 */
#include "decode/sniff.h"

#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif

#include "decode/alb.h"
#include "decode/albconn.h"
#include "decode/tgtime.h"
#include "util/tg_str.h"

static inline bool is_digit(char c)
{
    return (unsigned)(unsigned char)c - '0' <= 9;
}

static bool all_digits(tg_str s)
{
    if (s.n == 0)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!is_digit(s.p[i]))
            return false;
    return true;
}

/* "host:port" with a decimal port after the last colon. */
static bool is_host_port(tg_str s)
{
    if (s.p == NULL)
        return false;
    const char *c = NULL;
    for (size_t i = s.n; i > 0; i--) {
        if (s.p[i - 1] == ':') {
            c = s.p + i - 1;
            break;
        }
    }
    return c != NULL && c > s.p && all_digits(tg_str_make(c + 1, (size_t)(s.p + s.n - c - 1)));
}

/* An HTTP status or "-". */
static bool is_status(tg_str s)
{
    return tg_str_is_dash(s) || (s.n == 3 && all_digits(s));
}

bool sniff_is_classic_elb(const char *line, size_t n)
{
    /* 12 fields in the oldest files (up to "request"), 15 since 2015. */
    if (n < 40 || !is_digit(line[0]))
        return false;
    alb_line t;
    if (alb_tokenize(line, n, &t) < 12)
        return false;
    int64_t us;
    if (!tgtime_parse_iso(t.f[0].p, t.f[0].n, &us))
        return false;
    /* Field 2 is the load balancer's name, which never holds a colon;
     * an ALB connection log has an ip there, and an IPv6 one has colons. */
    if (t.f[1].n == 0 || memchr(t.f[1].p, ':', t.f[1].n) != NULL)
        return false;
    if (!is_host_port(t.f[2]) || !(tg_str_is_dash(t.f[3]) || is_host_port(t.f[3])))
        return false;
    for (unsigned i = 4; i < 7; i++)
        if (!tgtime_parse_seconds(t.f[i].p, t.f[i].n, &us))
            return false;
    return is_status(t.f[7]) && is_status(t.f[8]) && all_digits(t.f[9]) && all_digits(t.f[10]);
}

/* A CloudFront record: "YYYY-MM-DD\tHH:MM:SS\t…". */
static bool is_cloudfront_record(const char *line, size_t n)
{
    static const char shape[] = "dddd-dd-dd\tdd:dd:dd\t";
    if (n < sizeof shape - 1)
        return false;
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        if (shape[i] == 'd' ? !is_digit(line[i]) : line[i] != shape[i])
            return false;
    }
    return true;
}

static bool is_directive(const char *line, size_t n)
{
    return (n >= 9 && memcmp(line, "#Version:", 9) == 0) ||
           (n >= 8 && memcmp(line, "#Fields:", 8) == 0);
}

sniff_format sniff_line(const char *line, size_t n)
{
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == n)
        return SNIFF_TEXT;
    if (line[i] == '{')
        return SNIFF_JSON;
    if (is_directive(line, n) || is_cloudfront_record(line, n))
        return SNIFF_CLOUDFRONT;
    /* The record structs are about 600 bytes each; sniffing is done once
     * per input, so the stack is the right place for them. */
    alb_record rec;
    if (alb_parse(line, n, &rec))
        return SNIFF_ALB;
    albconn_record conn;
    if (albconn_parse(line, n, &conn))
        return SNIFF_ALB_CONN;
    if (sniff_is_classic_elb(line, n))
        return SNIFF_CLASSIC_ELB;
    return SNIFF_TEXT;
}

sniff_format sniff_detect(const char *buf, size_t n)
{
    unsigned votes[SNIFF_FORMAT_COUNT] = {0};
    unsigned lines = 0;
    const char *p = buf, *end = buf + n;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end && lines < SNIFF_MAX_LINES) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if (nl == NULL && lines > 0)
            break; /* a cut last line never outvotes whole ones */
        if (e > p && e[-1] == '\r')
            e--;
        size_t len = (size_t)(e - p);
        size_t b = 0;
        while (b < len && (p[b] == ' ' || p[b] == '\t'))
            b++;
        if (b < len) {
            if (lines == 0 && is_directive(p, len))
                return SNIFF_CLOUDFRONT;
            votes[sniff_line(p, len)]++;
            lines++;
        }
        p = next;
    }
    /* Ties go to the earlier format in the enum; a tie cannot be a
     * majority anyway. */
    sniff_format best = SNIFF_TEXT;
    unsigned most = 0;
    for (unsigned f = 0; f < SNIFF_FORMAT_COUNT; f++) {
        if (f != SNIFF_TEXT && votes[f] > most) {
            most = votes[f];
            best = (sniff_format)f;
        }
    }
    return 2 * most > lines ? best : SNIFF_TEXT;
}

static const char *const names[SNIFF_FORMAT_COUNT] = {
    [SNIFF_ALB] = "alb",
    [SNIFF_ALB_CONN] = "alb-conn",
    [SNIFF_CLOUDFRONT] = "cloudfront",
    [SNIFF_CLASSIC_ELB] = "classic-elb",
    [SNIFF_JSON] = "json",
    [SNIFF_TEXT] = "text",
};

const char *sniff_format_name(sniff_format f)
{
    if ((unsigned)f >= SNIFF_FORMAT_COUNT)
        return "unknown";
    return names[f];
}

/* s[0..n) equals the lowercase literal lit, ignoring ASCII case. */
static bool eq_nocase(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    if (n != k)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + ('a' - 'A'));
        if (c != lit[i])
            return false;
    }
    return true;
}

bool sniff_parse_name(const char *s, size_t n, sniff_format *out)
{
    static const struct {
        const char *name;
        sniff_format f;
    } aliases[] = {
        {"elb", SNIFF_CLASSIC_ELB},    {"albconn", SNIFF_ALB_CONN},
        {"alb-connection", SNIFF_ALB_CONN}, {"ndjson", SNIFF_JSON},
        {"jsonl", SNIFF_JSON},
    };
    for (unsigned f = 0; f < SNIFF_FORMAT_COUNT; f++) {
        if (eq_nocase(s, n, names[f])) {
            *out = (sniff_format)f;
            return true;
        }
    }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (eq_nocase(s, n, aliases[i].name)) {
            *out = aliases[i].f;
            return true;
        }
    }
    return false;
}

/* Whether b is a control byte that text does not hold. */
static inline bool stray_control(unsigned char b)
{
    return b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' && b != 0x1b;
}

#if defined(__SSE2__) && defined(__x86_64__)
/* The bytes of v up to 0x1f, compared unsigned: the control bytes. */
static inline __m128i control16(__m128i v)
{
    return _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
}

/* The number of stray control bytes in v (stray_control()), in the two
 * 64-bit halves of the result. */
static inline __m128i count16(__m128i v)
{
    __m128i ok = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
                                  _mm_cmpeq_epi8(v, _mm_set1_epi8('\f'))),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8(0x1b))));
    __m128i bad = _mm_and_si128(_mm_andnot_si128(ok, control16(v)), _mm_set1_epi8(1));
    return _mm_sad_epu8(bad, _mm_setzero_si128());
}
#endif

/* Every input's first 64 KiB are counted: byte by byte, that was 20 us an
 * input, a twentieth of reading 2000 small .gz files (512 KiB of text
 * each); 16 bytes at a time, 2.2% of that run (perf). Most 64-byte blocks
 * of text hold no control byte but newlines: a quicker test passes those
 * over and only the others are counted, 0.8% of the run. */
bool sniff_looks_binary(const char *p, size_t n)
{
    size_t ctrl = 0, i = 0;
#if defined(__SSE2__) && defined(__x86_64__)
    __m128i sums = _mm_setzero_si128();
    const __m128i nl = _mm_set1_epi8('\n');
    for (; i + 64 <= n; i += 64) {
        __m128i v[4];
        __m128i any = _mm_setzero_si128();
        for (unsigned k = 0; k < 4; k++) {
            v[k] = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16 * k));
            any = _mm_or_si128(any, _mm_andnot_si128(_mm_cmpeq_epi8(v[k], nl), control16(v[k])));
        }
        if (_mm_movemask_epi8(any) == 0)
            continue;
        for (unsigned k = 0; k < 4; k++)
            sums = _mm_add_epi64(sums, count16(v[k]));
    }
    for (; i + 16 <= n; i += 16)
        sums = _mm_add_epi64(sums, count16(_mm_loadu_si128((const __m128i *)(const void *)(p + i))));
    ctrl = (size_t)_mm_cvtsi128_si64(sums) + (size_t)_mm_cvtsi128_si64(_mm_srli_si128(sums, 8));
#endif
    for (; i < n; i++)
        ctrl += stray_control((unsigned char)p[i]);
    return ctrl * 20 > n;
}
