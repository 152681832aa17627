/*
 * Unit tests of decode/albconn: the documented example lines field by
 * field, IPv6 clients, the newer trailing fields, and the rejections.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/albconn.h"
#include "decode/tgtime.h"
#include "tg_test_util.h"

#define FIXTURES TG_SOURCE_DIR "/tests/fixtures/"

static int64_t iso(const char *s)
{
    int64_t us = 0;
    cr_assert(tgtime_parse_iso(s, strlen(s), &us), "bad test timestamp %s", s);
    return us;
}

/* Parses a copy of exactly the line's length (AddressSanitizer watches
 * the end). The copy stays alive in *keep for the record's slices. */
static bool parse(const char *line, albconn_record *r, char **keep)
{
    size_t n = strlen(line);
    *keep = malloc(n ? n : 1);
    memcpy(*keep, line, n);
    return albconn_parse(*keep, n, r);
}

#define assert_field(r, i, lit)                                                                 \
    cr_assert((r)->t.f[i].p != NULL && tg_str_eq((r)->t.f[i], (lit)),                           \
              "field %d is [%.*s], want [%s]", (int)(i) + 1, (int)(r)->t.f[i].n,                 \
              (r)->t.f[i].p ? (r)->t.f[i].p : "(null)", (lit))

Test(albconn, doc_example_lines)
{
    size_t len;
    char *text = tt_read_file(FIXTURES "alb-connection-doc-example.log", &len);
    cr_assert_not_null(text);
    char *l2 = strchr(text, '\n');
    cr_assert_not_null(l2);
    *l2++ = '\0';
    char *end = strchr(l2, '\n');
    if (end)
        *end = '\0';

    albconn_record r;
    char *keep;
    cr_assert(parse(text, &r, &keep));
    cr_assert_eq(r.t.nfields, 12);
    cr_assert_eq(r.time_us, iso("2023-10-04T17:05:15.514108Z"));
    assert_field(&r, ALBCONN_CLIENT_IP, "203.0.113.1");
    cr_assert_not(r.ipv6);
    cr_assert_eq(r.client_port, 36280);
    cr_assert_eq(r.listener_port, 443);
    assert_field(&r, ALBCONN_TLS_PROTOCOL, "TLSv1.2");
    assert_field(&r, ALBCONN_TLS_CIPHER, "ECDHE-RSA-AES128-GCM-SHA256");
    assert_field(&r, ALBCONN_HANDSHAKE_LATENCY, "4.036");
    cr_assert_eq(r.handshake_us, 4036000);
    assert_field(&r, ALBCONN_CERT_SUBJECT,
                 "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US");
    assert_field(&r, ALBCONN_CERT_VALIDITY,
                 "NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z");
    cr_assert_eq(r.not_before_us, iso("2023-09-21T22:43:21Z"));
    cr_assert_eq(r.not_after_us, iso("2026-06-17T22:43:21Z"));
    assert_field(&r, ALBCONN_CERT_SERIAL, "FEF257372D5C14D4");
    assert_field(&r, ALBCONN_VERIFY_STATUS, "Success");
    assert_field(&r, ALBCONN_CONN_TRACE_ID, "TID_3180a73013c8ca4bac2f731159d4b0fe");
    cr_assert_null(r.t.f[ALBCONN_TLS_KEYEXCHANGE].p);
    cr_assert_null(r.t.f[ALBCONN_ELB].p);
    cr_assert_null(r.t.f[ALBCONN_IP_ADDRESS].p);
    free(keep);

    cr_assert(parse(l2, &r, &keep));
    cr_assert_eq(r.handshake_us, -1, "\"-\" is an unknown latency");
    assert_field(&r, ALBCONN_VERIFY_STATUS, "Failed:ClientCertUntrusted");
    assert_field(&r, ALBCONN_CONN_TRACE_ID, "TID_1c71a68d70587445ad5127ff8b2687d7");
    free(keep);
    free(text);
}

Test(albconn, ipv6_and_newer_fields)
{
    const char *line = "2024-05-01T08:00:00.000001Z 2a02:a33c:4538:1:bcf4:5264:e01c:f215 50718 443 "
                       "TLSv1.3 TLS_AES_128_GCM_SHA256 0.000250 \"-\" - - - "
                       "TID_0123456789abcdef0123456789abcdef x25519 app/my-lb/50dc6c495c0c9188 "
                       "10.0.1.17 extra";
    albconn_record r;
    char *keep;
    cr_assert(parse(line, &r, &keep));
    cr_assert(r.ipv6);
    assert_field(&r, ALBCONN_CLIENT_IP, "2a02:a33c:4538:1:bcf4:5264:e01c:f215");
    cr_assert_eq(r.client_port, 50718);
    cr_assert_eq(r.handshake_us, 250);
    assert_field(&r, ALBCONN_CERT_SUBJECT, "-");
    cr_assert_eq(r.not_before_us, TGTIME_NONE);
    cr_assert_eq(r.not_after_us, TGTIME_NONE);
    assert_field(&r, ALBCONN_TLS_KEYEXCHANGE, "x25519");
    assert_field(&r, ALBCONN_ELB, "app/my-lb/50dc6c495c0c9188");
    assert_field(&r, ALBCONN_IP_ADDRESS, "10.0.1.17");
    cr_assert_eq(r.t.nfields, 16, "unknown trailing fields are counted");
    free(keep);
}

Test(albconn, ip_addresses)
{
    static const char *const ok4[] = {"0.0.0.0", "203.0.113.1", "255.255.255.255"};
    static const char *const ok6[] = {"::1", "::", "fe80::1", "2001:db8::8a2e:370:7334",
                                      "2a02:a33c:4538:1:bcf4:5264:e01c:f215",
                                      "::ffff:192.0.2.1", "2001:DB8::1"};
    static const char *const bad[] = {"", "-", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3",
                                      "1.2.3.4:80", "12345::1", ":::1", "1:2", "g::1",
                                      "::ffff:192.0.2", "[::1]", "my-loadbalancer"};
    bool v6;
    for (size_t i = 0; i < sizeof ok4 / sizeof ok4[0]; i++) {
        cr_assert(albconn_is_ip(tg_str_make(ok4[i], strlen(ok4[i])), &v6), "%s", ok4[i]);
        cr_assert_not(v6, "%s", ok4[i]);
    }
    for (size_t i = 0; i < sizeof ok6 / sizeof ok6[0]; i++) {
        cr_assert(albconn_is_ip(tg_str_make(ok6[i], strlen(ok6[i])), &v6), "%s", ok6[i]);
        cr_assert(v6, "%s", ok6[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(albconn_is_ip(tg_str_make(bad[i], strlen(bad[i])), &v6), "[%s]", bad[i]);
    cr_assert_not(albconn_is_ip(TG_STR_NULL, &v6));
}

Test(albconn, rejects_other_lines)
{
    static const char *const base =
        "2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 C 4.036 \"S\" V N Success "
        "TID_3180a73013c8ca4bac2f731159d4b0fe";
    albconn_record r;
    char *keep;
    cr_assert(parse(base, &r, &keep), "the base line must parse");
    free(keep);
    static const char *const bad[] = {
        "",
        "2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 C 4.036 \"S\" V N Success",
        "2023-10-04T17:05:15.514108 203.0.113.1 36280 443 TLSv1.2 C 4.036 \"S\" V N Success TID_1",
        "2023-10-04T17:05:15.514108Z my-lb 36280 443 TLSv1.2 C 4.036 \"S\" V N Success TID_1",
        "2023-10-04T17:05:15.514108Z 203.0.113.1 65536 443 TLSv1.2 C 4.036 \"S\" V N Success TID_1",
        "2023-10-04T17:05:15.514108Z 203.0.113.1 36280 https TLSv1.2 C 4.036 \"S\" V N Success TID_1",
        "2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 C fast \"S\" V N Success TID_1",
        "2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 C 4.036 \"S\" V N Success TID_",
        "2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 C 4.036 \"S\" V N Success conn",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_not(parse(bad[i], &r, &keep), "[%s]", bad[i]);
        free(keep);
    }
    /* "-" is a conn_trace_id the log may write for a connection without one. */
    cr_assert(parse("2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 - - - \"-\" - - - -", &r,
                    &keep));
    free(keep);
}

Test(albconn, other_fixtures_are_rejected)
{
    static const char *const files[] = {"alb-doc-examples.log", "classic-elb-doc-example.log",
                                        "cloudfront-doc-example.log", "lambda-report.log"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *path = tt_fmt("%s%s", FIXTURES, files[i]);
        size_t len;
        char *text = tt_read_file(path, &len);
        cr_assert_not_null(text);
        size_t lines = 0;
        for (char *p = text; *p;) {
            char *nl = strchr(p, '\n');
            if (nl)
                *nl = '\0';
            albconn_record r;
            char *keep;
            cr_assert_not(parse(p, &r, &keep), "%s line %zu accepted", files[i], lines + 1);
            free(keep);
            lines++;
            p = nl ? nl + 1 : p + strlen(p);
        }
        cr_assert_geq(lines, 2);
        free(text);
        free(path);
    }
}
