/*
 * cloudfront: the #Fields column map and tab-separated records.
 *
 * Decisions the header leaves open, made here:
 * - #Fields names are matched ignoring ASCII case; the first occurrence of
 *   a name wins. "#Fields:" and "#Version:" are case-sensitive, as W3C
 *   writes them.
 * - A record's tabs are found 64 bytes at a time; its columns are cut only
 *   up to the last one the map needs, and the remaining tabs are counted.
 * - sc-status "000" (the viewer closed the connection first) and "-" read
 *   as 0, like every status the decoders cannot name.
 * - The event span never runs backwards: an unknown duration (-1) makes
 *   the span [time_us, time_us].
 */
#include "decode/cloudfront.h"
#include "util/bits.h"
#include "util/hex.h"

#include "decode/tgtime.h"

/* The names of enum cloudfront_col, in its order. */
static const char *const col_names[CLOUDFRONT_NCOLS] = {
    [CLOUDFRONT_DATE] = "date",
    [CLOUDFRONT_TIME] = "time",
    [CLOUDFRONT_EDGE_LOCATION] = "x-edge-location",
    [CLOUDFRONT_STATUS] = "sc-status",
    [CLOUDFRONT_METHOD] = "cs-method",
    [CLOUDFRONT_URI_STEM] = "cs-uri-stem",
    [CLOUDFRONT_URI_QUERY] = "cs-uri-query",
    [CLOUDFRONT_RESULT_TYPE] = "x-edge-result-type",
    [CLOUDFRONT_REQUEST_ID] = "x-edge-request-id",
    [CLOUDFRONT_TIME_TAKEN] = "time-taken",
    [CLOUDFRONT_HOST] = "cs(Host)",
    [CLOUDFRONT_CLIENT_IP] = "c-ip",
    [CLOUDFRONT_USER_AGENT] = "cs(User-Agent)",
};

/* FORMATS §5's usual columns, the map before any #Fields line. */
static const char default_fields[] =
    "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status "
    "cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id "
    "x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher "
    "x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port "
    "time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len "
    "sc-range-start sc-range-end";

static inline bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static inline bool is_digit(char c)
{
    return (unsigned)(unsigned char)c - '0' <= 9;
}

static bool name_eq(const char *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i] != '\0'; i++) {
        char a = s[i], b = lit[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a | 0x20);
        if (b >= 'A' && b <= 'Z')
            b = (char)(b | 0x20);
        if (a != b)
            return false;
    }
    return i == n && lit[i] == '\0';
}

/* Rebuilds order[] from pos[]: the present columns by increasing index. */
static void build_order(cloudfront_state *st)
{
    st->npresent = 0;
    for (unsigned c = 0; c < CLOUDFRONT_NCOLS; c++) {
        if (st->pos[c] == CLOUDFRONT_ABSENT)
            continue;
        unsigned k = st->npresent++;
        while (k > 0 && st->pos[st->order[k - 1]] > st->pos[c]) {
            st->order[k] = st->order[k - 1];
            k--;
        }
        st->order[k] = (uint8_t)c;
    }
}

bool cloudfront_directive(cloudfront_state *st, const char *line, size_t n)
{
    if (n == 0 || line[0] != '#')
        return false;
    if (n < 8 || memcmp(line, "#Fields:", 8) != 0)
        return true;
    for (unsigned c = 0; c < CLOUDFRONT_NCOLS; c++)
        st->pos[c] = CLOUDFRONT_ABSENT;
    unsigned idx = 0;
    const char *p = line + 8, *end = line + n;
    while (p < end && idx < CLOUDFRONT_ABSENT) {
        while (p < end && is_blank(*p))
            p++;
        const char *s = p;
        while (p < end && !is_blank(*p))
            p++;
        if (p == s)
            break;
        for (unsigned c = 0; c < CLOUDFRONT_NCOLS; c++) {
            if (st->pos[c] == CLOUDFRONT_ABSENT && name_eq(s, (size_t)(p - s), col_names[c])) {
                st->pos[c] = (uint16_t)idx;
                break;
            }
        }
        idx++;
    }
    st->ncolumns = (uint16_t)idx;
    st->have_fields = true;
    build_order(st);
    return true;
}

void cloudfront_init(cloudfront_state *st)
{
    cloudfront_directive(st, default_fields, sizeof default_fields - 1);
    st->have_fields = false;
}

/* "YYYY-MM-DD" and "HH:MM:SS" as one instant, through tgtime's checks. */
static bool parse_when(tg_str date, tg_str time, int64_t *us)
{
    if (date.n != 10 || time.n != 8)
        return false;
    char iso[20];
    memcpy(iso, date.p, 10);
    iso[10] = 'T';
    memcpy(iso + 11, time.p, 8);
    iso[19] = 'Z';
    return tgtime_parse_iso(iso, sizeof iso, us);
}

/* The tabs among the 64 bytes at p, bit i for p[i]. */
static inline uint64_t tabs64(const char *p)
{
#ifdef __SSE2__
    uint64_t m = 0;
    for (unsigned k = 0; k < 4; k++)
        m |= (uint64_t)byte_mask16(p + 16 * k, '\t') << (16 * k);
    return m;
#else
    uint64_t m = 0;
    for (unsigned i = 0; i < 64; i++)
        m |= (uint64_t)(p[i] == '\t') << i;
    return m;
#endif
}

/* Keeps [s, e), the record's column idx, as each column the map places
 * there, from order[next] on; returns the next entry of order[] to fill. */
static inline unsigned keep_column(const cloudfront_state *st, cloudfront_record *out,
                                   unsigned next, unsigned idx, const char *s, const char *e)
{
    while (next < st->npresent && st->pos[st->order[next]] == idx)
        out->col[st->order[next++]] = tg_str_make(s, (size_t)(e - s));
    return next;
}

bool cloudfront_parse(const cloudfront_state *st, const char *line, size_t n,
                      cloudfront_record *out)
{
    if (n == 0 || line[0] == '#')
        return false;
    for (unsigned c = 0; c < CLOUDFRONT_NCOLS; c++)
        out->col[c] = TG_STR_NULL;

    /*
     * The tabs of each 64-byte block at once, the columns the map names
     * cut at them in order. A memchr() per column cost a third of a stats
     * run over CloudFront logs: records have 33 short columns. The last,
     * partial block is the line's final 64 bytes shifted (a shorter line
     * is masked in a padded copy), so nothing past the line is read.
     */
    char pad[64];
    const char *text = line;
    if (n < 64) {
        memset(pad, 0, sizeof pad);
        memcpy(pad, line, n);
        text = pad;
    }
    const size_t tn = n < 64 ? 64 : n;
    const char *col = line; /* where column idx starts */
    unsigned idx = 0, next = 0, tabs = 0;
    for (size_t b = 0; b < n; b += 64) {
        uint64_t m = tn - b >= 64 ? tabs64(text + b) : tabs64(text + tn - 64) >> (b - (tn - 64));
        tabs += popcount64(m);
        for (; m != 0 && next < st->npresent; m &= m - 1) {
            const char *tab = line + b + ctz64(m);
            next = keep_column(st, out, next, idx++, col, tab);
            col = tab + 1;
        }
    }
    /* The last column runs to the end of the line. */
    keep_column(st, out, next, idx, col, line + n);
    out->ncolumns = tabs + 1;

    if (!parse_when(out->col[CLOUDFRONT_DATE], out->col[CLOUDFRONT_TIME], &out->time_us))
        return false;
    tg_str tt = out->col[CLOUDFRONT_TIME_TAKEN];
    if (tt.p == NULL || !tgtime_parse_seconds(tt.p, tt.n, &out->duration_us))
        out->duration_us = -1;
    tg_str sc = out->col[CLOUDFRONT_STATUS];
    out->status = 0;
    if (sc.n == 3 && is_digit(sc.p[0]) && is_digit(sc.p[1]) && is_digit(sc.p[2]))
        out->status = (sc.p[0] - '0') * 100 + (sc.p[1] - '0') * 10 + (sc.p[2] - '0');
    out->start_us = out->time_us;
    out->end_us = out->time_us + (out->duration_us > 0 ? out->duration_us : 0);
    return true;
}


size_t cloudfront_url_decode(tg_str s, char *dst, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < s.n && o < cap) {
        const char *pc = memchr(s.p + i, '%', s.n - i);
        size_t run = pc ? (size_t)(pc - (s.p + i)) : s.n - i;
        if (run > cap - o)
            run = cap - o;
        memcpy(dst + o, s.p + i, run);
        i += run;
        o += run;
        if (i >= s.n || o >= cap)
            break;
        /* s.p[i] is '%'. */
        int hi = i + 2 < s.n ? tg_hex_digit(s.p[i + 1]) : -1;
        int lo = hi >= 0 ? tg_hex_digit(s.p[i + 2]) : -1;
        if (lo >= 0) {
            dst[o++] = (char)(hi << 4 | lo);
            i += 3;
        } else {
            dst[o++] = '%';
            i++;
        }
    }
    return o;
}
