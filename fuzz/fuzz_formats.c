/*
 * fuzz_formats: the decoders of the formats beyond ALB on arbitrary bytes:
 * format sniffing, application lines (text and JSON), timestamps found in a
 * line, Lambda REPORT and XRAY lines, connection-log lines and CloudFront
 * lines (directives and records, with the column map they leave behind).
 *
 * The input is read as lines; each line goes through every decoder, the way
 * a misdetected input would. Invariants from the headers:
 * - every slice a decoder returns lies inside the line it was given;
 * - a decoder that says it found a valid Root gives a Root that formats and
 *   parses back to itself;
 * - a text line's header has the verdict and Root xray_decode() gives its
 *   text;
 * - a line with a header holds one of the scanner's hits: "Root=", or for
 *   a JSON line "trace" in any case; a Lambda line with a trace holds
 *   "TraceId". collect.c's line-by-line reading of dense application logs
 *   counts on it: there a line without a hit is decoded too;
 * - lambda_may_hold() turns away no line a Lambda parser accepts;
 * - applog_decode_traced() says what applog_decode() says, and on a line
 *   with a header gives the same record; told to skip the CloudFront id,
 *   the same again but for a text line's id;
 * - tstamp_find() reports a match inside the line, and tstamp_find_memo()
 *   the same match, with a memo left by the lines before or by this one;
 * - cloudfront_url_decode() never writes more than it read.
 */
#define _GNU_SOURCE
#include "fuzz_check.h"

#include <string.h>
#include <strings.h>

#include "decode/albconn.h"
#include "decode/applog.h"
#include "decode/cloudfront.h"
#include "decode/lambda.h"
#include "decode/sniff.h"
#include "decode/tstamp.h"
#include "decode/xray.h"

#define IN(s, line, n) FZ_CHECK(!(s).p || fz_inside((s).p, (s).n, line, n), "slice outside the line")

static void root_round_trip(xray_root r)
{
    char id[36];
    xray_format_root(r, id);
    xray_root back;
    FZ_CHECK(xray_parse_root(id, 35, &back) && xray_root_eq(back, r), "root %s does not parse back",
             id);
}

/* Whether "trace" is in line[0..n), in any case. */
static bool has_trace(const char *line, size_t n)
{
    for (size_t i = 0; i + 5 <= n; i++)
        if (strncasecmp(line + i, "trace", 5) == 0)
            return true;
    return false;
}

static void one_line(const char *line, size_t n, cloudfront_state *cf)
{
    sniff_format f = sniff_line(line, n);
    FZ_CHECK((int)f >= 0 && f < SNIFF_FORMAT_COUNT, "sniff_line gave %d", (int)f);
    (void)sniff_is_classic_elb(line, n);

    applog_record a, tr, nocf;
    bool has = applog_decode(line, n, &a);
    /* The memo outlives the line: the next lines may share its time. */
    static tstamp_memo memo;
    FZ_CHECK(applog_decode_traced(line, n, true, &memo, &tr) == has,
             "the traced decode disagrees");
    FZ_CHECK(applog_decode_traced(line, n, false, NULL, &nocf) == has,
             "the traced decode without CloudFront ids disagrees");
    if (has) {
        FZ_CHECK(tr.verdict == a.verdict && xray_root_eq(tr.root, a.root) &&
                     tr.header.p == a.header.p && tr.header.n == a.header.n &&
                     tr.time_us == a.time_us && tr.cf_id.p == a.cf_id.p &&
                     tr.cf_id.n == a.cf_id.n && tr.request_id.p == a.request_id.p &&
                     tr.http_status == a.http_status,
                 "the traced decode gives another record");
        FZ_CHECK(nocf.verdict == a.verdict && xray_root_eq(nocf.root, a.root) &&
                     nocf.time_us == a.time_us &&
                     (a.json ? nocf.cf_id.p == a.cf_id.p : nocf.cf_id.p == NULL),
                 "the decode without CloudFront ids gives another record");
    }
    /* The scanner's hits: a text line's header needs "Root=", a JSON
     * line's "Root=" or a key spelling "trace". */
    if (has)
        FZ_CHECK(memmem(line, n, "Root=", 5) != NULL || (a.json && has_trace(line, n)),
                 "a header without a hit");
    if (has) {
        IN(a.header, line, n);
        if (a.verdict == XRAY_OK)
            root_round_trip(a.root);
        /* A text line's header (a JSON line's may be a bare id instead)
         * gets the verdict and Root that the full decoder, which the
         * printers use, gives its text. */
        xray_header h;
        xray_status st = xray_decode(a.header.p, a.header.n, &h);
        if (!a.json)
            FZ_CHECK(st == a.verdict && xray_root_eq(h.root, a.root),
                     "header [%.*s]: verdict %d, the full decoder's %d", (int)a.header.n,
                     a.header.p, (int)a.verdict, (int)st);
    }
    IN(a.cf_id, line, n);
    IN(a.request_id, line, n);

    tstamp_match m, mm;
    const bool found = tstamp_find(line, n, &m);
    if (found)
        FZ_CHECK(m.off <= n && m.len <= n - m.off, "timestamp outside the line");
    /* Twice through the memo: the second time it holds this line's minute. */
    for (int k = 0; k < 2; k++) {
        FZ_CHECK(tstamp_find_memo(line, n, &memo, &mm) == found,
                 "tstamp_find_memo() disagrees with tstamp_find()");
        if (found)
            FZ_CHECK(mm.off == m.off && mm.len == m.len && mm.us == m.us && mm.zoned == m.zoned,
                     "tstamp_find_memo() found another timestamp");
    }

    lambda_report rep;
    const bool may = lambda_may_hold(line, n);
    if (lambda_parse_report(line, n, &rep)) {
        FZ_CHECK(may, "lambda_may_hold() turned away a REPORT line");
        IN(rep.request_id, line, n);
        IN(rep.status, line, n);
        if (rep.has_xray) {
            FZ_CHECK(memmem(line, n, "TraceId", 7) != NULL, "a REPORT's trace without TraceId");
            IN(rep.xray.trace_id, line, n);
            IN(rep.xray.segment_id, line, n);
            if (rep.xray.verdict == XRAY_OK)
                root_round_trip(rep.xray.root);
        }
    }
    lambda_xray xr;
    int64_t t;
    if (lambda_parse_xray(line, n, &xr, &t)) {
        FZ_CHECK(may, "lambda_may_hold() turned away an XRAY line");
        FZ_CHECK(memmem(line, n, "TraceId", 7) != NULL, "an XRAY line without TraceId");
        IN(xr.trace_id, line, n);
        IN(xr.segment_id, line, n);
        if (xr.verdict == XRAY_OK)
            root_round_trip(xr.root);
    }

    albconn_record c;
    if (albconn_parse(line, n, &c))
        for (uint32_t i = 0; i < c.t.nfields && i < ALBCONN_NFIELDS; i++)
            IN(c.t.f[i], line, n);

    if (n && line[0] == '#') {
        cloudfront_directive(cf, line, n);
    } else {
        cloudfront_record r;
        if (cloudfront_parse(cf, line, n, &r)) {
            for (int i = 0; i < CLOUDFRONT_NCOLS; i++) {
                IN(r.col[i], line, n);
                if (r.col[i].p) {
                    char buf[256];
                    size_t cap = r.col[i].n < sizeof buf ? r.col[i].n : sizeof buf;
                    size_t got = cloudfront_url_decode(r.col[i], buf, cap);
                    FZ_CHECK(got <= cap, "url_decode wrote %zu of %zu", got, cap);
                }
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    (void)sniff_detect(p, size);
    cloudfront_state cf;
    cloudfront_init(&cf);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        one_line(p, n, &cf);
        p = nl ? nl + 1 : end;
    }
    return 0;
}
