/*
 * lambda: REPORT lines and their X-Ray continuation.
 *
 * The line is read as words separated by blanks. A label is the run of
 * words up to one that ends with ':'; its value is the next word, and a
 * following "ms" or "MB" is its unit. Labels are matched by their last
 * words ("… Billed Duration:" is Billed Duration), longest name first, so
 * a value of several words under an unknown label only costs that label.
 *
 * Decisions the header leaves open, made here:
 * - The first occurrence of each label wins, as in xray_decode().
 * - Durations keep three decimals of milliseconds (microseconds); more
 *   digits are truncated. A value that is not a number leaves the field
 *   absent (-1) rather than failing the line: the request id and the trace
 *   matter more than one bad number.
 * - Sampled is "true" or "false" exactly; anything else is 0 (unknown).
 * - A prefix that holds "REPORT" never introduces a continuation line, so
 *   lambda_parse_xray() cannot take a short REPORT line for one.
 */
#include "decode/lambda.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "decode/tgtime.h"
#include "decode/tstamp.h"

static inline bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static inline bool is_digit(char c)
{
    return (unsigned)(unsigned char)c - '0' <= 9;
}

/* The value of a hex digit in either case, or -1. */
static inline int hex_value(char c)
{
    unsigned l = (unsigned)(unsigned char)c | 0x20;
    if (is_digit(c))
        return c - '0';
    return l >= 'a' && l <= 'f' ? (int)(l - 'a' + 10) : -1;
}

enum label_id {
    L_REQUEST_ID,
    L_BILLED_RESTORE,
    L_RESTORE,
    L_BILLED,
    L_INIT,
    L_DURATION,
    L_MAX_MEMORY,
    L_MEMORY,
    L_STATUS,
    L_TRACE_ID,
    L_SEGMENT_ID,
    L_SAMPLED,
    L_UNKNOWN
};

/* Longest names first, so that "Billed Duration" is not read as "Duration". */
static const struct {
    const char *name;
    unsigned char len;
    unsigned char id;
} labels[] = {
    {"Billed Restore Duration", 23, L_BILLED_RESTORE},
    {"Max Memory Used", 15, L_MAX_MEMORY},
    {"Restore Duration", 16, L_RESTORE},
    {"Billed Duration", 15, L_BILLED},
    {"Init Duration", 13, L_INIT},
    {"XRAY TraceId", 12, L_TRACE_ID},
    {"Memory Size", 11, L_MEMORY},
    {"RequestId", 9, L_REQUEST_ID},
    {"SegmentId", 9, L_SEGMENT_ID},
    {"Duration", 8, L_DURATION},
    {"Sampled", 7, L_SAMPLED},
    {"Status", 6, L_STATUS},
};

/* True when the label text [ls, le) ends with name at a word boundary,
 * a space in name standing for any run of blanks. */
static bool label_ends_with(const char *ls, const char *le, const char *name, size_t k)
{
    const char *p = le;
    while (k > 0) {
        if (p == ls)
            return false;
        if (name[k - 1] == ' ') {
            if (!is_blank(p[-1]))
                return false;
            while (p > ls && is_blank(p[-1]))
                p--;
        } else if (p[-1] != name[k - 1]) {
            return false;
        } else {
            p--;
        }
        k--;
    }
    return p == ls || is_blank(p[-1]);
}

static enum label_id label_of(const char *ls, const char *le)
{
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (label_ends_with(ls, le, labels[i].name, labels[i].len))
            return (enum label_id)labels[i].id;
    return L_UNKNOWN;
}

/* Milliseconds with up to three decimals kept, as microseconds; -1 when
 * v is not such a number. */
static int64_t parse_ms(tg_str v)
{
    size_t i = 0;
    int64_t whole = 0;
    for (; i < v.n && is_digit(v.p[i]); i++) {
        if (i == 12)
            return -1;
        whole = whole * 10 + (v.p[i] - '0');
    }
    if (i == 0)
        return -1;
    int64_t frac = 0, scale = 100;
    if (i < v.n) {
        if (v.p[i] != '.' || i + 1 == v.n)
            return -1;
        for (i++; i < v.n; i++, scale /= 10) {
            if (!is_digit(v.p[i]))
                return -1;
            frac += (v.p[i] - '0') * scale;
        }
    }
    return whole * 1000 + frac;
}

/* A whole number of megabytes, -1 when v is not one. */
static int32_t parse_mb(tg_str v)
{
    if (v.n == 0 || v.n > 9)
        return -1;
    int32_t x = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (!is_digit(v.p[i]))
            return -1;
        x = x * 10 + (v.p[i] - '0');
    }
    return x;
}

/* The verdict on a bare trace id, the one xray_decode() gives it as a
 * Root. */
static xray_status bare_root(tg_str id, xray_root *root)
{
    root->hi = root->lo = 0;
    xray_status st = xray_root_status(id.p, id.n, root);
    if (st != XRAY_OK)
        root->hi = root->lo = 0;
    return st;
}

static void xray_reset(lambda_xray *x)
{
    x->trace_id = x->segment_id = TG_STR_NULL;
    x->verdict = XRAY_NO_ROOT;
    x->root.hi = x->root.lo = 0;
    x->has_span = false;
    x->span = 0;
    x->sampled = 0;
}

/* Applies one "label: value" pair. rep is NULL for a continuation line. */
static void apply(enum label_id id, tg_str v, lambda_report *rep, lambda_xray *x, bool *seen_xray)
{
    switch (id) {
    case L_TRACE_ID:
        if (x->trace_id.p == NULL) {
            x->trace_id = v;
            x->verdict = bare_root(v, &x->root);
            *seen_xray = true;
        }
        return;
    case L_SEGMENT_ID:
        if (x->segment_id.p == NULL) {
            /* The segment id is the OTel span id when it is 16 hex digits,
             * as xray_decode() reads Parent. */
            x->segment_id = v;
            uint64_t span = 0;
            bool ok = v.n == 16;
            for (size_t i = 0; i < v.n && ok; i++) {
                int d = hex_value(v.p[i]);
                ok = d >= 0;
                span = span << 4 | (uint64_t)(ok ? d : 0);
            }
            x->has_span = ok;
            x->span = ok ? span : 0;
        }
        return;
    case L_SAMPLED:
        if (x->sampled == 0)
            x->sampled = tg_str_eq(v, "true") ? '1' : tg_str_eq(v, "false") ? '0' : 0;
        return;
    default:
        break;
    }
    if (rep == NULL)
        return;
    switch (id) {
    case L_REQUEST_ID:
        if (rep->request_id.p == NULL)
            rep->request_id = v;
        break;
    case L_DURATION:
        if (rep->duration_us < 0)
            rep->duration_us = parse_ms(v);
        break;
    case L_BILLED:
        if (rep->billed_us < 0)
            rep->billed_us = parse_ms(v);
        break;
    case L_INIT:
        if (rep->init_us < 0)
            rep->init_us = parse_ms(v);
        break;
    case L_RESTORE:
        if (rep->restore_us < 0)
            rep->restore_us = parse_ms(v);
        break;
    case L_MEMORY:
        if (rep->memory_mb < 0)
            rep->memory_mb = parse_mb(v);
        break;
    case L_MAX_MEMORY:
        if (rep->max_memory_mb < 0)
            rep->max_memory_mb = parse_mb(v);
        break;
    case L_STATUS:
        if (rep->status.p == NULL)
            rep->status = v;
        break;
    default:
        break; /* Billed Restore Duration and unknown labels */
    }
}

/* Reads the word at *p (after blanks); returns it and moves *p past it. */
static tg_str next_word(const char **p, const char *end)
{
    const char *s = *p;
    while (s < end && is_blank(*s))
        s++;
    const char *e = s;
    while (e < end && !is_blank(*e))
        e++;
    *p = e;
    return tg_str_make(s, (size_t)(e - s));
}

/* Reads every "label: value [unit]" from p to end. */
static void parse_fields(const char *p, const char *end, lambda_report *rep, lambda_xray *x,
                         bool *seen_xray)
{
    const char *ls = NULL;
    while (p < end) {
        tg_str w = next_word(&p, end);
        if (w.n == 0)
            break;
        if (ls == NULL)
            ls = w.p;
        if (w.p[w.n - 1] != ':')
            continue;
        enum label_id id = label_of(ls, w.p + w.n - 1);
        ls = NULL;
        /* The value is the next word, unless that is already a label
         * (an empty value, "XRAY TraceId: SegmentId: …"). */
        const char *save = p;
        tg_str v = next_word(&p, end);
        if (v.n > 0 && v.p[v.n - 1] == ':') {
            p = save;
            v = tg_str_make(save, 0);
        }
        const char *after = p;
        tg_str unit = next_word(&after, end);
        if (tg_str_eq(unit, "ms") || tg_str_eq(unit, "MB"))
            p = after;
        apply(id, v, rep, x, seen_xray);
    }
}

/* Where the literal lit (at the line start or after a blank-ended prefix
 * of at most LAMBDA_MAX_PREFIX bytes) starts; NULL when it does not. */
static const char *find_label(const char *line, size_t n, const char *lit, size_t k)
{
    if (n < k)
        return NULL;
    size_t last = n - k < LAMBDA_MAX_PREFIX ? n - k : LAMBDA_MAX_PREFIX;
    for (size_t i = 0; i <= last; i++) {
        const char *hit = memchr(line + i, lit[0], last + 1 - i);
        if (hit == NULL)
            return NULL;
        i = (size_t)(hit - line);
        /* A whole label: a blank (or the line's start) before, a blank
         * (or the line's end) after. */
        if ((i == 0 || is_blank(line[i - 1])) && memcmp(hit, lit, k) == 0 &&
            (i + k == n || is_blank(line[i + k])))
            return hit;
    }
    return NULL;
}

/* The shortest label, "XRAY TraceId:"; "REPORT RequestId:" is longer. */
#define LAMBDA_MIN_LABEL 13

bool lambda_may_hold(const char *line, size_t n)
{
    /* Where find_label() looks for a label's first byte: i <= last. */
    if (n < LAMBDA_MIN_LABEL)
        return false;
    const size_t last = n - LAMBDA_MIN_LABEL < LAMBDA_MAX_PREFIX ? n - LAMBDA_MIN_LABEL
                                                                  : LAMBDA_MAX_PREFIX;
    if (line[0] == 'R' || line[0] == 'X')
        return true;
    size_t i = 1;
#ifdef __SSE2__
    /* Bytes i to i + 15 and the byte before each. The two parsers'
     * memchr() passes over the window, one for each label, were 7% of a
     * stats run over nginx logs. */
    for (; i + 15 <= last; i += 16) {
        const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(line + i));
        const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(line + i - 1));
        const __m128i first = _mm_or_si128(_mm_cmpeq_epi8(a, _mm_set1_epi8('R')),
                                           _mm_cmpeq_epi8(a, _mm_set1_epi8('X')));
        const __m128i blank = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(b, _mm_set1_epi8('\t'))),
            _mm_cmpeq_epi8(b, _mm_set1_epi8('\r')));
        if (_mm_movemask_epi8(_mm_and_si128(first, blank)) != 0)
            return true;
    }
#endif
    for (; i <= last; i++)
        if ((line[i] == 'R' || line[i] == 'X') && is_blank(line[i - 1]))
            return true;
    return false;
}

static int64_t prefix_time(const char *line, const char *at)
{
    tstamp_match m;
    if (at > line && tstamp_find(line, (size_t)(at - line), &m))
        return m.us;
    return TGTIME_NONE;
}

bool lambda_parse_report(const char *line, size_t n, lambda_report *out)
{
    const char *at = find_label(line, n, "REPORT RequestId:", 17);
    if (at == NULL)
        return false;
    out->request_id = out->status = TG_STR_NULL;
    out->duration_us = out->billed_us = out->init_us = out->restore_us = -1;
    out->memory_mb = out->max_memory_mb = -1;
    out->has_xray = false;
    xray_reset(&out->xray);
    parse_fields(at + 7, line + n, out, &out->xray, &out->has_xray);
    if (out->request_id.n == 0)
        return false;
    out->time_us = prefix_time(line, at);
    return true;
}

bool lambda_parse_xray(const char *line, size_t n, lambda_xray *out, int64_t *time_us)
{
    const char *at = find_label(line, n, "XRAY TraceId:", 13);
    if (at == NULL)
        return false;
    for (const char *p = line; p + 6 <= at; p++)
        if (*p == 'R' && memcmp(p, "REPORT", 6) == 0)
            return false;
    xray_reset(out);
    bool seen = false;
    parse_fields(at, line + n, NULL, out, &seen);
    if (time_us != NULL)
        *time_us = prefix_time(line, at);
    return true;
}
