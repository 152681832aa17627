/*
 * Unit tests of decode/applog: text lines (nginx's $http_x_amzn_trace_id,
 * the shared header cases inside a log line, key=value prefixes, several
 * candidates), JSON lines (Lambda telemetry, bare ids, decoys behind
 * escaped quotes, times in every form, depth), and every fixture.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/alb.h"
#include "decode/applog.h"
#include "decode/tgtime.h"
#include "tg_test_util.h"

#define FIXTURES TG_SOURCE_DIR "/tests/fixtures/"

static int64_t iso(const char *s)
{
    int64_t us = 0;
    cr_assert(tgtime_parse_iso(s, strlen(s), &us), "bad test timestamp %s", s);
    return us;
}

static bool slice_is(tg_str s, const char *lit)
{
    return s.p != NULL && tg_str_eq(s, lit);
}

#define assert_slice(s, lit)                                                                    \
    cr_assert(slice_is((s), (lit)), "got [%.*s], want [%s]", (int)(s).n,                        \
              (s).p ? (s).p : "(null)", (lit))

/* Decodes an exact-length copy of line (AddressSanitizer watches its end);
 * the copy is kept in a static slot so that slices stay valid until the
 * next call. */
static applog_record dec(const char *line)
{
    static char *keep;
    free(keep);
    size_t n = strlen(line);
    keep = malloc(n ? n : 1);
    memcpy(keep, line, n);
    applog_record r;
    memset(&r, 0xa5, sizeof r);
    bool has = applog_decode(keep, n, &r);
    cr_assert_eq(has, r.has_header);
    return r;
}

static void assert_root(const applog_record *r, const char *want)
{
    cr_assert(r->has_header, "no header found");
    cr_assert_eq(r->verdict, XRAY_OK, "verdict %s", xray_status_name(r->verdict));
    char got[36];
    xray_format_root(r->root, got);
    cr_assert_str_eq(got, want);
}

/* The header's other fields, read from its text as the printers read
 * them: the record keeps only the Root. */
static xray_header fields_of(const applog_record *r)
{
    xray_header h;
    xray_decode(r->header.p ? r->header.p : "", r->header.n, &h);
    return h;
}

#define R1 "1-5759e988-bd862e3fe1be46a994272793"
#define R2 "1-67891233-abcdef012345678912345678"
#define R3 "1-8a3c60f7-d188f8fa79d48a391a778fa6"
#define CF "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ=="

/* ---- text lines ---- */

Test(applog_text, nginx_self_then_root_quoted)
{
    applog_record r = dec("192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a HTTP/1.1\" 200 612 "
                          "\"-\" \"curl/8.0\" \"Self=1-67891233-12456789abcdef012345678;Root=" R2
                          ";Sampled=1\" " CF);
    cr_assert_not(r.json);
    assert_root(&r, R2);
    assert_slice(r.header, "Self=1-67891233-12456789abcdef012345678;Root=" R2 ";Sampled=1");
    assert_slice(fields_of(&r).self, "1-67891233-12456789abcdef012345678");
    cr_assert_eq(fields_of(&r).sampled, '1');
    cr_assert_eq(r.time_us, iso("2000-10-10T20:55:36Z"));
    /* nginx's positional "$http_x_amz_cf_id": CloudFront's exact shape. */
    assert_slice(r.cf_id, CF);
    cr_assert_null(r.request_id.p);
    cr_assert_eq(r.http_status, 0);
}

Test(applog_text, nginx_unquoted_and_key_value)
{
    applog_record r = dec("2023-10-04T17:05:15.514Z upstream=10.0.0.5:80 "
                          "trace=Self=1-67891233-12456789abcdef012345678;Root=" R2
                          " x_amz_cf_id=" CF " rt=0.004");
    assert_root(&r, R2);
    assert_slice(r.header, "Self=1-67891233-12456789abcdef012345678;Root=" R2);
    cr_assert_eq(r.time_us, iso("2023-10-04T17:05:15.514Z"));
    assert_slice(r.cf_id, CF);

    r = dec("x_amzn_trace_id=Root=" R1 ",status=200");
    assert_root(&r, R1);
    assert_slice(r.header, "Root=" R1);
    cr_assert_eq(r.time_us, TGTIME_NONE, "untimed, but the trace is there");
}

Test(applog_text, header_extent_rules)
{
    /* Blanks around ';' inside quotes: one header. */
    applog_record r = dec("h=\"Root=" R1 " ; Parent=53995c3f42cd8ad8; Sampled=0\" end");
    assert_root(&r, R1);
    assert_slice(fields_of(&r).parent, "53995c3f42cd8ad8");
    cr_assert_eq(fields_of(&r).sampled, '0');
    /* Prose after "; " is not a field. */
    r = dec("got Root=" R1 "; took 3 ms");
    assert_root(&r, R1);
    assert_slice(r.header, "Root=" R1 ";");
    /* Prose before "; " is not a field either. */
    r = dec("handled request; Root=" R1);
    assert_slice(r.header, "Root=" R1);
    /* Escaped quotes of embedded JSON end the header. */
    r = dec("msg=\"{\\\"h\\\":\\\"Root=" R1 ";Parent=53995c3f42cd8ad8\\\"}\"");
    assert_root(&r, R1);
    assert_slice(r.header, "Root=" R1 ";Parent=53995c3f42cd8ad8");
    /* Lineage keeps its ':' and '|'. */
    r = dec("[Root=" R1 ";Lineage=a87bd80c:1|68fd508a:5]");
    assert_root(&r, R1);
    assert_slice(fields_of(&r).lineage, "a87bd80c:1|68fd508a:5");
}

Test(applog_text, candidates_and_words)
{
    /* "Root=" continuing a word is no header. */
    applog_record r = dec("XRoot=" R1 " my_Root=" R1 " chRoot=" R1);
    cr_assert_not(r.has_header);
    cr_assert_eq(r.verdict, XRAY_NO_ROOT);
    cr_assert_null(r.header.p);
    /* A bad first candidate yields to a valid later one. */
    r = dec("a=Root=junk b=Root=" R3);
    assert_root(&r, R3);
    /* All bad: the first one's verdict. */
    r = dec("a=Root=1-00000000-000000000000000000000000 b=Root=junk");
    cr_assert(r.has_header);
    cr_assert_eq(r.verdict, XRAY_ZERO_ROOT);
    assert_slice(r.header, "Root=1-00000000-000000000000000000000000");
    cr_assert_eq(r.root.hi, 0);
    /* The first valid one wins over a later valid one. */
    r = dec("Root=" R1 " Root=" R2);
    assert_root(&r, R1);
    /* No "Root=": no header, even with other header keys or a bare id. */
    r = dec("2023-10-04 17:05:15 Parent=53995c3f42cd8ad8;Sampled=1 id " R1);
    cr_assert_not(r.has_header);
    cr_assert_eq(r.time_us, iso("2023-10-04T17:05:15Z"));
    r = dec("Root=");
    cr_assert(r.has_header);
    cr_assert_eq(r.verdict, XRAY_BAD_ROOT);
}

Test(applog_text, cf_id_forms)
{
    applog_record r = dec("X-Amz-Cf-Id: " CF " Root=" R1);
    assert_slice(r.cf_id, CF);
    r = dec("\"x-amz-cf-id\":\"" CF "\"");
    assert_slice(r.cf_id, CF);
    r = dec("headers x-amz-cf-id=" CF ",next");
    assert_slice(r.cf_id, CF);
    /* Prose and short tokens are not ids; a later real one still is. */
    r = dec("x-amz-cf-id: missing");
    cr_assert_null(r.cf_id.p);
    r = dec("x-amz-cf-id: - then X-AMZ-CF-ID " CF);
    assert_slice(r.cf_id, CF);
    r = dec("x-amz-cf-i");
    cr_assert_null(r.cf_id.p);
    /* The earlier name wins, whatever the case of each. */
    r = dec("X-AMZ-CF-ID=" CF " x-amz-cf-id=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB==");
    assert_slice(r.cf_id, CF);
    r = dec("x-amz-cf-id=" CF " X-AMZ-CF-ID=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB==");
    assert_slice(r.cf_id, CF);
    /* Without the name, only CloudFront's exact shape counts. */
    r = dec("\"-\" \"" CF "\"");
    assert_slice(r.cf_id, CF);
    r = dec(CF);
    assert_slice(r.cf_id, CF);
    static const char *const not_ids[] = {
        "\"SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNI==\"",   /* 55 bytes */
        "\"XSOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\"", /* 57 bytes */
        "\"SOX4xwn4XV6Q4rgb7XiVGOHms/BGlTAC4KyHmureZmBNrjGdRLiNIQ==\"",  /* '/' */
        "\"SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ=\"",   /* one '=' */
        "\"SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==x\"", /* longer */
        "a=b c==",
    };
    for (size_t i = 0; i < sizeof not_ids / sizeof not_ids[0]; i++) {
        r = dec(not_ids[i]);
        cr_assert_null(r.cf_id.p, "%s", not_ids[i]);
    }
    /* A named id wins over an earlier bare one. */
    r = dec("\"" CF "\" x-amz-cf-id: BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB==");
    assert_slice(r.cf_id, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB==");
    /* At the very end of the line, with no id after it. */
    r = dec("zzz x-amz-cf-id");
    cr_assert_null(r.cf_id.p);
}

/* Every header case of the shared file, as nginx logs it in quotes: the
 * line gives the same verdict, Root, Parent and Sampled as the bare value. */
Test(applog_text, every_header_case_inside_a_line)
{
    size_t len;
    char *text = tt_read_file(FIXTURES "xray-header-cases.tsv", &len);
    cr_assert_not_null(text);
    size_t rows = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *value = strchr(line, '\t');
        cr_assert_not_null(value);
        value++;
        char *vend = strchr(value, '\t');
        cr_assert_not_null(vend);
        *vend = '\0';
        rows++;
        xray_header want;
        xray_status wst = xray_decode(value, strlen(value), &want);
        char *l = tt_fmt("10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 5 \"%s\" "
                         "\"curl/8\"",
                         value);
        applog_record r = dec(l);
        if (strstr(value, "Root=") == NULL) {
            cr_assert_not(r.has_header, "[%s]", value);
        } else {
            cr_assert(r.has_header, "[%s]", value);
            cr_assert_eq(r.verdict, wst, "[%s]: %s", value, xray_status_name(r.verdict));
            cr_assert(xray_root_eq(r.root, want.root), "[%s]", value);
            cr_assert_eq(fields_of(&r).sampled, want.sampled, "[%s]", value);
            cr_assert_eq(fields_of(&r).has_span, want.has_span, "[%s]", value);
            cr_assert_eq(fields_of(&r).span, want.span, "[%s]", value);
        }
        cr_assert_eq(r.time_us, iso("2000-10-10T20:55:36Z"));
        free(l);
    }
    cr_assert_eq(rows, 16);
    free(text);
}

/* An ALB line read as text finds the Root of field 18 (the doc examples
 * have no decoys); the other fixtures hold no "Root=" at all. */
Test(applog_text, fixtures)
{
    size_t len;
    char *text = tt_read_file(FIXTURES "alb-doc-examples.log", &len);
    cr_assert_not_null(text);
    size_t lines = 0;
    for (char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        alb_record a;
        cr_assert(alb_parse(p, n, &a));
        xray_header h;
        cr_assert_eq(xray_decode(a.t.f[ALB_TRACE_ID].p, a.t.f[ALB_TRACE_ID].n, &h), XRAY_OK);
        applog_record r;
        cr_assert(applog_decode(p, n, &r));
        cr_assert_eq(r.verdict, XRAY_OK);
        cr_assert(xray_root_eq(r.root, h.root), "line %zu", lines + 1);
        cr_assert(r.header.p == a.t.f[ALB_TRACE_ID].p && r.header.n == a.t.f[ALB_TRACE_ID].n,
                  "line %zu: the header is field 18 exactly", lines + 1);
        cr_assert_eq(r.time_us, a.time_us, "line %zu: the first time is field 2", lines + 1);
        lines++;
        p += n + (p[n] == '\n');
    }
    cr_assert_eq(lines, 8);
    free(text);

    static const char *const none[] = {"cloudfront-doc-example.log", "lambda-report.log",
                                       "classic-elb-doc-example.log",
                                       "alb-connection-doc-example.log"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        char *path = tt_fmt("%s%s", FIXTURES, none[i]);
        text = tt_read_file(path, &len);
        cr_assert_not_null(text);
        size_t ids = 0;
        for (char *p = text; *p;) {
            size_t n = strcspn(p, "\n");
            applog_record r;
            cr_assert_not(applog_decode(p, n, &r), "%s", none[i]);
            if (i == 0 && p[0] != '#') {
                /* A CloudFront record holds its own x-edge-request-id, the
                 * 15th column, in the id's exact shape. */
                const char *c = p;
                for (int k = 0; k < 14; k++)
                    c = strchr(c, '\t') + 1;
                cr_assert(r.cf_id.p == c && r.cf_id.n == strcspn(c, "\t"), "%.60s", p);
                ids++;
            } else {
                cr_assert_null(r.cf_id.p, "%s", none[i]);
            }
            p += n + (p[n] == '\n');
        }
        cr_assert_eq(ids, i == 0 ? 6 : 0);
        free(text);
        free(path);
    }
}

/* ---- JSON lines ---- */

Test(applog_json, lambda_telemetry_tracing_value)
{
    applog_record r = dec(
        "{\"time\":\"2022-10-12T00:03:50.000Z\",\"type\":\"platform.start\",\"record\":{"
        "\"requestId\":\"6d68ca91-49c9-448d-89b8-7ca3e6dc66aa\",\"version\":\"$LATEST\","
        "\"tracing\":{\"spanId\":\"54565fb41ac79632\",\"type\":\"X-Amzn-Trace-Id\","
        "\"value\":\"Root=1-62e900b2-710d76f009d6e7785905449a;Parent=0efbd19962d95b05;Sampled=1\"}}}");
    cr_assert(r.json);
    assert_root(&r, "1-62e900b2-710d76f009d6e7785905449a");
    assert_slice(r.header, "Root=1-62e900b2-710d76f009d6e7785905449a;Parent=0efbd19962d95b05;Sampled=1");
    assert_slice(fields_of(&r).parent, "0efbd19962d95b05");
    cr_assert_eq(fields_of(&r).sampled, '1');
    cr_assert_eq(r.time_us, iso("2022-10-12T00:03:50.000Z"));
    assert_slice(r.request_id, "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa");
}

Test(applog_json, bare_ids_in_trace_keys)
{
    applog_record r = dec("{\"requestId\":\"c6af9ac6-7b61-11e6-9a41-93e8deadbeef\",\"ip\":\"192.0.2.1\","
                          "\"requestTime\":\"06/Nov/2020:20:41:33 +0000\",\"httpMethod\":\"GET\","
                          "\"status\":\"502\",\"xrayTraceId\":\"" R1 "\"}");
    assert_root(&r, R1);
    assert_slice(r.header, R1);
    cr_assert_null(fields_of(&r).self.p);
    cr_assert_null(fields_of(&r).parent.p);
    cr_assert_eq(r.time_us, iso("2020-11-06T20:41:33Z"));
    cr_assert_eq(r.http_status, 502);
    assert_slice(r.request_id, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");

    static const char *const keys[] = {"XrayTraceId", "trace_id", "traceId", "xray_trace_id",
                                       "AWS-XRAY-TRACE-ID", "TraceID"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char *l = tt_fmt("{\"%s\": \"" R3 "\"}", keys[i]);
        r = dec(l);
        assert_root(&r, R3);
        free(l);
    }
    /* The 32-hex OTel form, in any case. */
    r = dec("{\"trace_id\":\"5759E988BD862E3FE1BE46A994272793\"}");
    assert_root(&r, R1);
    /* A header in a trace-id key. */
    r = dec("{\"traceId\":\"Self=1-67891233-12456789abcdef012345678;Root=" R2 "\"}");
    assert_root(&r, R2);
    assert_slice(fields_of(&r).self, "1-67891233-12456789abcdef012345678");
}

Test(applog_json, trace_id_values_that_are_no_id)
{
    static const char *const none[] = {"{\"traceId\":\"\"}", "{\"traceId\":\"-\"}",
                                       "{\"traceId\":null}", "{\"traceId\":12345}",
                                       "{\"traceId\":\"  \"}"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        applog_record r = dec(none[i]);
        cr_assert_not(r.has_header, "%s", none[i]);
        cr_assert_eq(r.verdict, XRAY_NO_ROOT);
    }
    static const struct {
        const char *line;
        xray_status want;
    } bad[] = {
        {"{\"traceId\":\"abc\"}", XRAY_BAD_ROOT},
        {"{\"traceId\":\"1-5e34a614-10bdxmplf1fb44f07bc535a1\"}", XRAY_BAD_ROOT},
        {"{\"traceId\":\"1-5759e988-000000000000000000000000\"}", XRAY_ZERO_ROOT},
        {"{\"traceId\":\"00000000000000000000000000000000\"}", XRAY_BAD_ROOT},
        {"{\"traceId\":\"Root=junk\"}", XRAY_BAD_ROOT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        applog_record r = dec(bad[i].line);
        cr_assert(r.has_header, "%s", bad[i].line);
        cr_assert_eq(r.verdict, bad[i].want, "%s: %s", bad[i].line, xray_status_name(r.verdict));
        cr_assert_eq(r.root.hi, 0);
        cr_assert_eq(r.root.lo, 0);
    }
    /* A bad id yields to a later good one. */
    applog_record r = dec("{\"traceId\":\"abc\",\"xrayTraceId\":\"" R1 "\"}");
    assert_root(&r, R1);
}

Test(applog_json, header_keys_and_arrays)
{
    applog_record r = dec("{\"headers\":{\"Host\":\"x\",\"X-Amzn-Trace-Id\":\"Root=" R1
                          ";Parent=53995c3f42cd8ad8;Sampled=1\"}}");
    assert_root(&r, R1);
    r = dec("{\"http_x_amzn_trace_id\":\"Self=1-67891233-12456789abcdef012345678;Root=" R2 "\"}");
    assert_root(&r, R2);
    /* API Gateway's multiValueHeaders: the header inside an array. */
    r = dec("{\"multiValueHeaders\":{\"X-Amzn-Trace-Id\":[\"Root=" R3 "\"]}}");
    assert_root(&r, R3);
    /* Long key names: "trace" is found anywhere, exact names never match. */
    r = dec("{\"my_very_long_application_specific_x_amzn_trace_id_header\":\"Root=" R1 "\"}");
    assert_root(&r, R1);
    r = dec("{\"lambda_runtime_telemetry_extension_tracing\":{\"value\":\"Root=" R2 "\"}}");
    assert_root(&r, R2);
    r = dec("{\"a_very_long_key_name_that_ends_in_timestamp\":\"2023-10-04T17:05:15Z\","
            "\"some_long_prefix_xraytraceid\":\"" R3 "\"}");
    cr_assert_eq(r.time_us, TGTIME_NONE);
    cr_assert_not(r.has_header, "a bare id only counts under the exact trace-id names");
    /* A trace key without "Root=" is no header. */
    r = dec("{\"traceparent\":\"00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01\"}");
    cr_assert_not(r.has_header);
}

/* Decoys: "Root=" in other keys never counts, and escaped quotes never
 * make the inside of a string look like keys. */
Test(applog_json, decoys_behind_escaped_quotes)
{
    applog_record r = dec(
        "{\"message\":\"upstream said \\\"Root=" R2 "\\\" and \\\"traceId\\\":\\\"" R2 "\\\"\","
        "\"userAgent\":\"Root=" R3 "\",\"url\":\"/?h=Root=" R3 "\",\"traceId\":\"" R1 "\"}");
    assert_root(&r, R1);
    assert_slice(r.header, R1);

    /* Only decoys: no header at all. */
    r = dec("{\"msg\":\"x \\\"xrayTraceId\\\":\\\"" R1 "\\\" y\",\"level\":\"info\","
            "\"user_agent\":\"Root=" R2 "\"}");
    cr_assert_not(r.has_header);
    cr_assert_eq(r.verdict, XRAY_NO_ROOT);

    /* One escaped quote: a scanner that took it for the string's end
     * would read the rest of the line out of step and miss the key. */
    r = dec("{\"msg\":\"he said \\\"hi\",\"traceId\":\"" R1 "\"}");
    assert_root(&r, R1);
    r = dec("{\"msg\":\"\\\"\",\"traceId\":\"" R1 "\"}");
    assert_root(&r, R1);

    /* Runs of backslashes: an even run before a quote ends the string. */
    r = dec("{\"a\":\"dir\\\\\",\"traceId\":\"" R1 "\"}");
    assert_root(&r, R1);
    /* An odd run escapes it: the "traceId" below is inside a string. */
    r = dec("{\"a\":\"dir\\\\\\\",\\\"traceId\\\":\\\"" R1 "\\\"\"}");
    cr_assert_not(r.has_header);
    /* A key that merely mentions trace-ish text inside its value. */
    r = dec("{\"note\":\"traceId\",\"v\":\"" R1 "\"}");
    cr_assert_not(r.has_header);
}

Test(applog_json, times_in_every_form)
{
    static const struct {
        const char *line;
        const char *want;
    } cases[] = {
        {"{\"time\":\"2023-10-04T17:05:15.514Z\"}", "2023-10-04T17:05:15.514Z"},
        {"{\"timestamp\":\"2023-10-04 19:05:15,514+02:00\"}", "2023-10-04T17:05:15.514Z"},
        {"{\"@timestamp\":\"2023-10-04T10:05:15.514-07:00\"}", "2023-10-04T17:05:15.514Z"},
        {"{\"requestTime\":\"04/Oct/2023:17:05:15 +0000\"}", "2023-10-04T17:05:15Z"},
        {"{\"requestTime\":\"04\\/Oct\\/2023:10:05:15 -0700\"}", "2023-10-04T17:05:15Z"},
        {"{\"time\":1696439115}", "2023-10-04T17:05:15Z"},
        {"{\"time\":1696439115.514}", "2023-10-04T17:05:15.514Z"},
        {"{\"timestamp\":1696439115514}", "2023-10-04T17:05:15.514Z"},
        {"{\"requestTimeEpoch\":1696439115514}", "2023-10-04T17:05:15.514Z"},
        {"{\"time\":\"1696439115514\"}", "2023-10-04T17:05:15.514Z"},
        {"{\"Timestamp\" : \"2023-10-04T17:05:15Z\"}", "2023-10-04T17:05:15Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        applog_record r = dec(cases[i].line);
        cr_assert_eq(r.time_us, iso(cases[i].want), "%s", cases[i].line);
        cr_assert_not(r.has_header);
    }
    static const char *const untimed[] = {"{\"time\":\"yesterday\"}", "{\"time\":-5}",
                                          "{\"time\":1.7e9}", "{\"times\":1696439115}",
                                          "{\"msg\":\"2023-10-04T17:05:15Z\"}", "{}"};
    for (size_t i = 0; i < sizeof untimed / sizeof untimed[0]; i++) {
        applog_record r = dec(untimed[i]);
        cr_assert_eq(r.time_us, TGTIME_NONE, "%s", untimed[i]);
    }
}

Test(applog_json, shallowest_key_wins)
{
    applog_record r = dec("{\"req\":{\"time\":\"2020-01-01T00:00:00Z\",\"status\":404,"
                          "\"requestId\":\"inner\",\"cfId\":\"inner-cf\"},"
                          "\"time\":\"2023-10-04T17:05:15Z\",\"status\":200,\"request_id\":\"outer\","
                          "\"x-amz-cf-id\":\"" CF "\",\"traceId\":\"" R1 "\"}");
    cr_assert_eq(r.time_us, iso("2023-10-04T17:05:15Z"));
    cr_assert_eq(r.http_status, 200);
    assert_slice(r.request_id, "outer");
    assert_slice(r.cf_id, CF);
    assert_root(&r, R1);
    /* A deeper key after a shallower one changes nothing. */
    r = dec("{\"time\":\"2023-10-04T17:05:15Z\",\"status\":200,\"requestId\":\"outer\","
            "\"req\":{\"time\":\"2020-01-01T00:00:00Z\",\"status\":404,\"requestId\":\"inner\"}}");
    cr_assert_eq(r.time_us, iso("2023-10-04T17:05:15Z"));
    cr_assert_eq(r.http_status, 200);
    assert_slice(r.request_id, "outer");
    /* Among equals the first wins. */
    r = dec("{\"status\":201,\"status\":500,\"cf_id\":\"a\",\"X-Amz-Cf-Id\":\"b\"}");
    cr_assert_eq(r.http_status, 201);
    assert_slice(r.cf_id, "a");
    /* Non-numeric statuses are no status (Lambda's "status":"success"). */
    r = dec("{\"status\":\"success\"}");
    cr_assert_eq(r.http_status, 0);
}

Test(applog_json, untimed_line_keeps_its_trace)
{
    applog_record r = dec("  {\"level\":\"info\",\"xrayTraceId\":\"" R1 "\"}");
    cr_assert(r.json);
    assert_root(&r, R1);
    cr_assert_eq(r.time_us, TGTIME_NONE);
}

Test(applog_json, depth_and_malformed_input)
{
    /* 100 levels of nesting with the trace at the bottom, inside a trace key. */
    char line[2048] = "{\"trace\":";
    for (int i = 0; i < 100; i++)
        strcat(line, "[");
    strcat(line, "\"Root=" R1 "\"");
    for (int i = 0; i < 100; i++)
        strcat(line, "]");
    strcat(line, "}");
    applog_record r = dec(line);
    assert_root(&r, R1);
    /* Truncated and broken JSON never reads past the line. */
    static const char *const broken[] = {"{", "{\"", "{\"traceId\"", "{\"traceId\":",
                                         "{\"traceId\":\"1-57", "{\"a\":\"\\", "{}}]]]{\"x\":",
                                         "{\"time\":12"};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        r = dec(broken[i]);
        cr_assert(r.json);
    }
    r = dec("{\"traceId\":\"1-57");
    cr_assert(r.has_header);
    cr_assert_eq(r.verdict, XRAY_BAD_ROOT);
}

Test(applog, dispatch_and_text_reading_of_json)
{
    /* The text reading of a JSON line finds "Root=" anywhere, as text. */
    const char *l = "{\"msg\":\"Root=" R1 "\"}";
    applog_record r;
    cr_assert_not(applog_decode(l, strlen(l), &r));
    cr_assert(r.json);
    cr_assert(applog_decode_text(l, strlen(l), &r));
    cr_assert_not(r.json);
    assert_root(&r, R1);
    /* And the JSON reading of a text line finds nothing. */
    const char *t = "Root=" R1;
    cr_assert_not(applog_decode_json(t, strlen(t), &r));
    cr_assert(applog_decode(t, strlen(t), &r));
    /* applog_header_at() on its own. */
    const char *s = "x \"Self=a;Root=" R1 "\" y";
    tg_str h = applog_header_at(s, strlen(s), strstr(s, "Root="));
    assert_slice(h, "Self=a;Root=" R1);
}

/* ---- the CloudFront id search against a byte-by-byte reference ------- */

/* The bytes that end a bare id (applog.c's stop table). */
static bool ref_stop(unsigned char c)
{
    return c < 32 || c == 127 || (c != 0 && strchr(" \"'\\,[](){}<>&`", c) != NULL);
}

static bool ref_b64(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

static bool ref_name_at(const char *s)
{
    static const char name[] = "x-amz-cf-id";
    for (int i = 0; i < 11; i++) {
        char c = s[i];
        bool ok = name[i] == '-' ? (c == '-' || c == '_') : tolower((unsigned char)c) == name[i];
        if (!ok)
            return false;
    }
    return true;
}

/* The id a text line holds: the first name (in either case) followed by
 * a token of 16 or more id bytes, else the first bare id. */
static tg_str ref_cf_id(const char *line, size_t n, bool *by_name)
{
    *by_name = true;
    for (size_t z = 4; z + 7 <= n; z++) {
        if (tolower((unsigned char)line[z]) != 'z' || !ref_name_at(line + z - 4))
            continue;
        size_t p = z + 7, skipped = 0;
        while (p < n && skipped < 4 && strchr("\"':= \t", line[p]) && line[p] != '\0')
            p++, skipped++;
        size_t t = p;
        while (p < n && (ref_b64((unsigned char)line[p]) || strchr("=+/", line[p])) &&
               line[p] != '\0')
            p++;
        if (p - t >= 16)
            return tg_str_make(line + t, p - t);
    }
    *by_name = false;
    for (size_t i = 54; i + 2 <= n; i++) {
        if (line[i] != '=' || line[i + 1] != '=' ||
            (i + 2 < n && !ref_stop((unsigned char)line[i + 2])))
            continue;
        size_t t = i - 54;
        if (t > 0 && !ref_stop((unsigned char)line[t - 1]))
            continue;
        size_t k = 0;
        while (k < 54 && ref_b64((unsigned char)line[t + k]))
            k++;
        if (k == 54)
            return tg_str_make(line + t, 56);
    }
    return TG_STR_NULL;
}

Test(applog_text, cf_id_matches_reference_on_random_lines)
{
    static const char *const frags[] = {
        "x-amz-cf-id", "X-AMZ-CF-ID", "x_amz_cf_id", "X-Amz-Cf-Id", "x-amz-cf-i", "xamzcfid",
        ": ", "=", "\"", "'", " ", ",", "\t", "z", "Z", "==", "abc", "\xe2\x80\x99", "\x80",
        "Root=1-5759e988-bd862e3fe1be46a994272793", CF, CF, "-", "[", "&",
    };
    const size_t nfrags = sizeof frags / sizeof frags[0];
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint64_t seed = 0x2545f4914f6cdd1du;
    char line[512];
    size_t named = 0, bare = 0;
    for (int iter = 0; iter < 100000; iter++) {
        size_t n = 0;
        line[n++] = 'x'; /* not '{': a text line */
        unsigned parts = 1 + (unsigned)(seed % 12);
        for (unsigned k = 0; k < parts; k++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            if (seed % 4 == 0) {
                /* A run of id bytes of random length, now and then 54. */
                size_t len = seed % 8 == 0 ? 54 : (seed >> 8) % 60;
                for (size_t i = 0; i < len && n < sizeof line; i++)
                    line[n++] = b64[(seed >> (i % 50)) % 64];
            } else {
                const char *f = frags[(seed >> 16) % nfrags];
                size_t len = strlen(f);
                if (n + len > sizeof line)
                    break;
                memcpy(line + n, f, len);
                n += len;
            }
        }
        char *exact = malloc(n);
        memcpy(exact, line, n);
        applog_record r;
        applog_decode_text(exact, n, &r);
        bool by_name;
        tg_str want = ref_cf_id(exact, n, &by_name);
        if (r.cf_id.p != want.p || r.cf_id.n != want.n)
            cr_assert_fail("line [%.*s]: got [%.*s] want [%.*s]", (int)n, exact, (int)r.cf_id.n,
                           r.cf_id.p ? r.cf_id.p : "", (int)want.n, want.p ? want.p : "");
        if (want.p && by_name)
            named++;
        else if (want.p)
            bare++;
        free(exact);
    }
    /* Both kinds were found often enough to mean something. */
    cr_assert_gt(named, 1000);
    cr_assert_gt(bare, 1000);
}

/* ---- where a header ends in running text ------------------------------ */

Test(applog_text, header_ends_at_every_stop_byte)
{
    /* Bytes that never end a header, non-ASCII ones among them. */
    static const char keep[] = "abcXYZ019-=:|._/+!#$%*?@^~\x80\xe2\xff";
    uint64_t seed = 0x9e3779b97f4a7c15u;
    char line[256];
    for (int iter = 0; iter < 50000; iter++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        size_t run = seed % 120;
        memcpy(line, "Root=", 5);
        for (size_t i = 0; i < run; i++)
            line[5 + i] = keep[(seed >> (i % 40)) % (sizeof keep - 1)];
        /* Every byte value in turn ends it (or the end of the line does). */
        unsigned stop = (unsigned)iter % 257;
        size_t n = 5 + run;
        bool at_end = stop == 256 || !ref_stop((unsigned char)stop);
        if (!at_end) {
            line[n++] = (char)stop;
            line[n++] = 'x';
        }
        char *exact = malloc(n);
        memcpy(exact, line, n);
        tg_str h = applog_header_at(exact, n, exact);
        cr_assert_eq(h.p, exact);
        cr_assert_eq(h.n, 5 + run, "run %zu, stop byte %u: header of %zu bytes", run, stop, h.n);
        free(exact);
    }
}

/* applog_header_at() as it was written first, a byte at a time: the rules
 * of applog.c's header comment, read literally. */
static bool ref_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool ref_key(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static tg_str ref_header_at(const char *line, size_t n, const char *root)
{
    const char *lo = line, *hi = line + n;
    const char *e = root + 5 <= hi ? root + 5 : hi;
    for (;;) {
        while (e < hi && !ref_stop((unsigned char)*e))
            e++;
        if (e < hi && ref_blank(*e)) {
            const char *k = e;
            while (k < hi && ref_blank(*k))
                k++;
            if (k < hi && *k == ';') {
                e = k + 1;
                continue;
            }
            if (e[-1] != ';')
                break;
            const char *ks = k;
            while (k < hi && ref_key(*k))
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
        while (k > lo && ref_blank(k[-1]))
            k--;
        if (k == lo || k[-1] != ';')
            break;
        k--;
        while (k > lo && ref_blank(k[-1]))
            k--;
        const char *f = k;
        while (f > lo && !ref_stop((unsigned char)f[-1]) && f[-1] != ';')
            f--;
        const char *eq = k;
        while (eq > f && eq[-1] != '=')
            eq--;
        if (eq == f)
            break;
        eq--;
        const char *ks = eq;
        while (ks > f && ref_key(ks[-1]))
            ks--;
        if (ks == eq)
            break;
        s = ks;
    }
    return tg_str_make(s, (size_t)(e - s));
}

Test(applog_text, header_bounds_match_reference_on_random_lines)
{
    /* Fields before and after the Root, long values (the walks go 16 bytes
     * at a time), and the bytes that end or continue a header. */
    static const char *const frags[] = {
        "Self=1-5759e988-bd862e3fe1be46a994272793", "Parent=53995c3f42cd8ad8", "Sampled=1",
        "Lineage=a87bd80c:1|68fd508a:5", "trace=", "k=v=w", "=", ";", " ; ", "; ", " ", "\t",
        "\"", "'", ",", "[", "]", "(", ")", "{", "}", "<", ">", "&", "`", "\\", "\x7f", "\x01",
        "@", "^", "|", ":", "\x80", "\xe2\x80\x99", "abcdefghijklmnopqrstu", "x",
    };
    const size_t nfrags = sizeof frags / sizeof frags[0];
    uint64_t seed = 0xd1b54a32d192ed03u;
    char line[400];
    size_t joined_before = 0, long_after = 0;
    for (int iter = 0; iter < 100000; iter++) {
        size_t n = 0, root = 0;
        unsigned parts = 2 + (unsigned)(seed % 14);
        unsigned at = (unsigned)(seed >> 20) % parts;
        for (unsigned k = 0; k < parts; k++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            const char *f = k == at ? "Root=1-5759e988-bd862e3fe1be46a994272793"
                                    : frags[(seed >> 16) % nfrags];
            size_t len = strlen(f);
            if (n + len > sizeof line)
                break;
            if (k == at)
                root = n;
            memcpy(line + n, f, len);
            n += len;
        }
        if (root + 5 > n)
            continue;
        char *exact = malloc(n);
        memcpy(exact, line, n);
        tg_str want = ref_header_at(exact, n, exact + root);
        tg_str got = applog_header_at(exact, n, exact + root);
        if (got.p != want.p || got.n != want.n)
            cr_assert_fail("line [%.*s]: got [%.*s] want [%.*s]", (int)n, exact, (int)got.n,
                           got.p, (int)want.n, want.p);
        joined_before += want.p < exact + root;
        long_after += want.p + want.n >= exact + root + 60;
        free(exact);
    }
    /* Both walks went past the Root often enough to mean something. */
    cr_assert_gt(joined_before, 1000);
    cr_assert_gt(long_after, 1000);
}

/* ---- JSON keys: the class of any key against a plain reference -------- */

enum ref_class { C_NONE, C_TRACE_ID, C_TRACE, C_TIME, C_CF_ID, C_REQUEST_ID, C_STATUS };

/* applog.c's key rules (classify()), read literally: case and '-', '_', '.', '@' ignored;
 * exact names, else "trace" or "tracing" anywhere in the name. */
static enum ref_class ref_class_of(const char *key)
{
    char b[256];
    size_t k = 0;
    for (const char *p = key; *p; p++)
        if (!strchr("-_.@", *p))
            b[k++] = (char)tolower((unsigned char)*p);
    b[k] = '\0';
    static const char *const trace_ids[] = {"traceid", "xraytraceid", "awsxraytraceid"};
    static const char *const times[] = {"time", "timestamp", "requesttime", "requesttimeepoch"};
    /* A bare id's key spells "trace" whole, as the scanner looks for it. */
    char raw[256];
    size_t r = 0;
    for (const char *p = key; *p; p++)
        raw[r++] = (char)tolower((unsigned char)*p);
    raw[r] = '\0';
    for (int i = 0; i < 3; i++)
        if (strcmp(b, trace_ids[i]) == 0)
            return strstr(raw, "trace") ? C_TRACE_ID : C_TRACE;
    if (strstr(b, "trace") || strstr(b, "tracing"))
        return C_TRACE;
    for (int i = 0; i < 4; i++)
        if (strcmp(b, times[i]) == 0)
            return C_TIME;
    if (strcmp(b, "xamzcfid") == 0 || strcmp(b, "cfid") == 0)
        return C_CF_ID;
    if (strcmp(b, "requestid") == 0)
        return C_REQUEST_ID;
    if (strcmp(b, "status") == 0)
        return C_STATUS;
    return C_NONE;
}

/* The class the decoder gives key, told by what it makes of five values
 * under it; the key stands at the start of a long line when padded, else
 * in a line as short as it can be (the fast path needs 16 bytes). */
static enum ref_class decoded_class(const char *key, bool padded)
{
    static const char *const values[] = {"\"" R1 "\"", "\"Root=" R1 "\"",
                                         "\"2025-11-20T08:00:00Z\"", "\"abcd\"", "200"};
    bool seen[5];
    applog_record r;
    for (int i = 0; i < 5; i++) {
        char line[512];
        snprintf(line, sizeof line, "{\"%s\":%s%s}", key, values[i],
                 padded ? ",\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\":0" : "");
        r = dec(line);
        switch (i) {
        case 0:
        case 1:
            seen[i] = r.has_header;
            break;
        case 2:
            seen[i] = r.time_us != TGTIME_NONE;
            break;
        case 3:
            seen[i] = r.cf_id.p != NULL || r.request_id.p != NULL;
            if (r.request_id.p)
                return seen[0] || seen[1] || seen[2] ? (enum ref_class)99 : C_REQUEST_ID;
            break;
        default:
            seen[i] = r.http_status == 200;
            break;
        }
    }
    if (seen[0])
        return C_TRACE_ID;
    if (seen[1])
        return C_TRACE;
    if (seen[2])
        return C_TIME;
    if (seen[3])
        return C_CF_ID;
    if (seen[4])
        return C_STATUS;
    return C_NONE;
}

Test(applog_json, key_classes_match_reference)
{
    static const char *const named[] = {
        "traceId", "trace_id", "X-Amzn-Trace-Id", "xray_trace_id", "AWS-XRay-Trace-Id",
        "xrayTraceId", "tracing", "Tracing_Context", "myTracer", "time", "TIME", "@timestamp",
        "timeStamp", "requestTime", "request_time_epoch", "requestTimeEpoch", "cf-id",
        "x_amz_cf_id", "X-Amz-Cf-Id", "requestId", "request.id", "Status", "status_code", "ts",
        "ip", "", "t", "tracingtracingtrace", "abcdefghijklmnopqrstuvwxyz_traceid",
        "zzzzzzzzzzzzzzzzzzzzzzzzz_time", "abcdefghijklmnop", "abcdefghijklmnopq",
        "abcdefghijktrace", "abcdefghijtracing", "abcdefghijkltrac", "tra_ceId", "T.R.A.C.E.I.D",
        "xray-tr_ace_id", "aws_xray_tra-ce_id_and_more_bytes", "aws_xray_tra-ce_id",
    };
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        for (int padded = 0; padded < 2; padded++)
            cr_assert_eq(decoded_class(named[i], padded), ref_class_of(named[i]),
                         "key \"%s\" (%s)", named[i], padded ? "long line" : "short line");
    /* Random keys over the letters of the names, separators and others. */
    static const char alpha[] = "traceidTRACEngsmpyxqouwfzAT-_.@ 9\x80";
    uint64_t seed = 0xa0761d6478bd642fu;
    unsigned classed = 0;
    for (int iter = 0; iter < 20000; iter++) {
        char key[40];
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        size_t len = seed % 31;
        for (size_t i = 0; i < len; i++)
            key[i] = alpha[(seed >> (i % 48)) % (sizeof alpha - 1)];
        key[len] = '\0';
        /* Sometimes a name with separators sprinkled in. */
        if (seed % 5 == 0) {
            static const char *const base[] = {"t_race", "Trace-Id", "x.ray.trace.id", "@time",
                                               "Status", "cf_Id", "Request-Id", "tra.cing",
                                               "tr-ace_id", "x@raytr.aceid"};
            snprintf(key, sizeof key, "%s", base[(seed >> 12) % 10]);
        }
        enum ref_class want = ref_class_of(key);
        classed += want != C_NONE;
        for (int padded = 0; padded < 2; padded++)
            cr_assert_eq(decoded_class(key, padded), want, "key \"%s\" (%s)", key,
                         padded ? "long line" : "short line");
    }
    cr_assert_gt(classed, 2000);
}
