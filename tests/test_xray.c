/*
 * Unit tests of decode/xray: every row of the shared header cases, then each
 * rule of FORMATS.md §1 and every exported function.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/xray.h"
#include "tg_test_util.h"

#define CASES TG_SOURCE_DIR "/tests/fixtures/xray-header-cases.tsv"

static xray_status decode(const char *s, xray_header *h)
{
    return xray_decode(s, strlen(s), h);
}

static void root_str(xray_root r, char out[36])
{
    xray_format_root(r, out);
}

/* True when a decoded slice holds exactly lit. */
static bool slice_is(tg_str s, const char *lit)
{
    return s.p != NULL && tg_str_eq(s, lit);
}

/* Splits line at tabs into at most max columns; returns how many. */
static size_t split_tabs(char *line, char **col, size_t max)
{
    size_t n = 0;
    col[n++] = line;
    for (char *p = line; *p && n < max; p++) {
        if (*p == '\t') {
            *p = '\0';
            col[n++] = p + 1;
        }
    }
    return n;
}

Test(xray, every_row_of_the_header_cases)
{
    size_t len;
    char *text = tt_read_file(CASES, &len);
    cr_assert_not_null(text, "cannot read %s", CASES);
    size_t rows = 0, ok_rows = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *col[5];
        cr_assert_eq(split_tabs(line, col, 5), 5, "row %zu has not 5 columns", rows + 1);
        const char *verdict = col[0], *value = col[1], *root = col[2], *parent = col[3],
                   *sampled = col[4];
        xray_header h;
        xray_status st = decode(value, &h);
        rows++;
        if (strcmp(verdict, "ok") == 0) {
            ok_rows++;
            cr_assert_eq(st, XRAY_OK, "[%s]: %s", value, xray_status_name(st));
            char got[36];
            root_str(h.root, got);
            cr_assert_str_eq(got, root, "[%s]", value);
            if (strcmp(parent, "-") == 0) {
                cr_assert_null(h.parent.p, "[%s]: unexpected Parent", value);
                cr_assert_not(h.has_span);
            } else {
                cr_assert(slice_is(h.parent, parent), "[%s]: Parent", value);
                cr_assert(h.has_span);
                cr_assert_eq(h.span, strtoull(parent, NULL, 16), "[%s]", value);
            }
            if (strcmp(sampled, "-") == 0)
                cr_assert_eq(h.sampled, 0, "[%s]", value);
            else
                cr_assert_eq(h.sampled, sampled[0], "[%s]", value);
        } else {
            cr_assert_str_eq(verdict, "bad", "unknown verdict in row %zu", rows);
            cr_assert_neq(st, XRAY_OK, "[%s] was accepted", value);
            cr_assert_eq(h.root.hi, 0, "[%s]: a rejected root must not be set", value);
            cr_assert_eq(h.root.lo, 0, "[%s]", value);
            cr_assert_str_eq(root, "-");
            /* The reason must be the one the enum defines for this shape. */
            xray_status want = strstr(value, "Root=") == NULL ? XRAY_NO_ROOT
                               : strstr(value, "Root=1-00000000-000000000000000000000000")
                                   ? XRAY_ZERO_ROOT
                                   : XRAY_BAD_ROOT;
            cr_assert_eq(st, want, "[%s]: %s", value, xray_status_name(st));
        }
    }
    cr_assert_eq(rows, 16, "the case file has %zu rows", rows);
    cr_assert_eq(ok_rows, 9);
    free(text);
}

Test(xray, root_layout_is_the_otel_id)
{
    xray_root r;
    cr_assert(xray_parse_root("1-5759e988-bd862e3fe1be46a994272793", 35, &r));
    cr_assert_eq(r.hi, UINT64_C(0x5759e988bd862e3f));
    cr_assert_eq(r.lo, UINT64_C(0xe1be46a994272793));
    cr_assert_eq(xray_root_epoch(r), UINT32_C(0x5759e988));
    char otel[33];
    xray_format_otel(r, otel);
    cr_assert_str_eq(otel, "5759e988bd862e3fe1be46a994272793");
}

Test(xray, parse_root_any_case_same_id)
{
    xray_root a, b, c;
    cr_assert(xray_parse_root("1-5759e988-bd862e3fe1be46a994272793", 35, &a));
    cr_assert(xray_parse_root("1-5759E988-BD862E3FE1BE46A994272793", 35, &b));
    cr_assert(xray_parse_root("1-5759e988-BD862e3fE1be46A994272793", 35, &c));
    cr_assert(xray_root_eq(a, b));
    cr_assert(xray_root_eq(a, c));
    char s[36];
    root_str(b, s);
    cr_assert_str_eq(s, "1-5759e988-bd862e3fe1be46a994272793");
}

Test(xray, parse_root_rejects_every_deviation)
{
    const char *good = "1-5759e988-bd862e3fe1be46a994272793";
    xray_root r = {1, 2};
    /* Every position, replaced by a byte that does not belong there. */
    for (size_t i = 0; i < 35; i++) {
        char s[36];
        memcpy(s, good, 36);
        s[i] = (i == 1 || i == 10) ? '0' : (i == 0 ? '2' : 'g');
        cr_assert_not(xray_parse_root(s, 35, &r), "accepted %s", s);
        s[i] = ' ';
        cr_assert_not(xray_parse_root(s, 35, &r), "accepted [%s]", s);
    }
    cr_assert_not(xray_parse_root(good, 34, &r));
    cr_assert_not(xray_parse_root("1-5759e988-bd862e3fe1be46a9942727930", 36, &r));
    cr_assert_not(xray_parse_root("", 0, &r));
    cr_assert_not(xray_parse_root("1-5759e988-bd862e3fe1be46a99427279", 34, &r));
    cr_assert_not(xray_parse_root("1-5759e98-8bd862e3fe1be46a994272793", 35, &r));
    cr_assert_not(xray_parse_root("1-00000000-000000000000000000000000", 35, &r));
    cr_assert_not(xray_parse_root("1-5759e988-000000000000000000000000", 35, &r));
    /* A failed parse leaves the output alone. */
    cr_assert_eq(r.hi, 1);
    cr_assert_eq(r.lo, 2);
}

/* The value of hex digit c as the format defines it (either case), or -1. */
static int ref_hex(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* xray_root_status() read one byte at a time: the reference for the sweeps
 * below (the real one reads the digits 16 at a time). */
static xray_status ref_status(const char *s, size_t n, xray_root *r)
{
    if (n != 35 || s[0] != '1' || s[1] != '-' || s[10] != '-')
        return XRAY_BAD_ROOT;
    uint64_t hi = 0, lo = 0;
    for (size_t i = 2; i < 35; i++) {
        if (i == 10)
            continue;
        int v = ref_hex((unsigned char)s[i]);
        if (v < 0)
            return XRAY_BAD_ROOT;
        if (i < 19)
            hi = hi << 4 | (uint64_t)v;
        else
            lo = lo << 4 | (uint64_t)v;
    }
    if ((hi & 0xffffffffu) == 0 && lo == 0)
        return XRAY_ZERO_ROOT;
    r->hi = hi;
    r->lo = lo;
    return XRAY_OK;
}

/* Checks xray_root_status() on s[0..n) against the reference, with the
 * bytes copied to a buffer of exactly n (a read past it shows under ASan);
 * returns the verdict. */
static xray_status check_status(const char *s, size_t n)
{
    char *copy = malloc(n ? n : 1);
    cr_assert_not_null(copy);
    memcpy(copy, s, n);
    xray_root got = {7, 7}, want = {7, 7};
    xray_status st = xray_root_status(copy, n, &got);
    free(copy);
    xray_status ref = ref_status(s, n, &want);
    if (st != ref || !xray_root_eq(got, want))
        cr_assert_fail("[%.*s]: %s %016llx%016llx, reference %s %016llx%016llx", (int)n, s,
                       xray_status_name(st), (unsigned long long)got.hi, (unsigned long long)got.lo,
                       xray_status_name(ref), (unsigned long long)want.hi,
                       (unsigned long long)want.lo);
    return st;
}

Test(xray, root_status_every_byte_at_every_position)
{
    static const char *const bases[] = {
        "1-5759e988-bd862e3fe1be46a994272793", "1-5759E988-BD862E3FE1BE46A994272793",
        "1-aAbBcCdD-eEfF0123456789abcdefABCD", "1-00000000-000000000000000000000000",
        "1-00000000-000000000000000000000001", "1-ffffffff-ffffffffffffffffffffffff",
        "1-FFFFFFFF-000000000000000000000000",
    };
    unsigned count[XRAY_STATUS_COUNT] = {0};
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        check_status(bases[b], 35);
        for (size_t i = 0; i < 35; i++)
            for (unsigned c = 0; c < 256; c++) {
                char s[35];
                memcpy(s, bases[b], 35);
                s[i] = (char)c;
                count[check_status(s, 35)]++;
            }
        for (size_t n = 0; n < 35; n++)
            cr_assert_eq(check_status(bases[b], n), XRAY_BAD_ROOT);
        char longer[40];
        memcpy(longer, bases[b], 35);
        memcpy(longer + 35, "00000", 5);
        for (size_t n = 36; n <= 40; n++)
            cr_assert_eq(check_status(longer, n), XRAY_BAD_ROOT);
    }
    /* 22 hex digits out of 256 bytes at each of 32 places. */
    cr_assert_gt(count[XRAY_OK], 7 * 32 * 20);
    cr_assert_gt(count[XRAY_ZERO_ROOT], 0);
    cr_assert_gt(count[XRAY_BAD_ROOT], 7 * 35 * 200);
}

Test(xray, root_status_every_digit_in_either_case)
{
    /* Every digit value at every place, lowercase and uppercase, gives its
     * value in the right nibble. */
    for (size_t i = 2; i < 35; i++) {
        if (i == 10)
            continue;
        for (unsigned v = 0; v < 16; v++) {
            char s[36];
            memcpy(s, "1-11111111-111111111111111111111111", 36);
            s[i] = "0123456789abcdef"[v];
            xray_root lower = {0, 0}, upper = {0, 0};
            cr_assert_eq(check_status(s, 35), XRAY_OK, "%s", s);
            xray_root_status(s, 35, &lower);
            s[i] = "0123456789ABCDEF"[v];
            cr_assert_eq(check_status(s, 35), XRAY_OK, "%s", s);
            xray_root_status(s, 35, &upper);
            cr_assert(xray_root_eq(lower, upper), "%s", s);
            /* The digit at place i is nibble k of the 128-bit id, counted
             * from the last digit and skipping the '-' at place 10. */
            unsigned k = (unsigned)(i > 10 ? 34 - i : 33 - i);
            uint64_t ones_hi = UINT64_C(0x1111111111111111), ones_lo = ones_hi;
            uint64_t *half = k < 16 ? &ones_lo : &ones_hi;
            unsigned shift = 4 * (k % 16);
            *half = (*half & ~(UINT64_C(0xf) << shift)) | (uint64_t)v << shift;
            cr_assert_eq(lower.hi, ones_hi, "%s", s);
            cr_assert_eq(lower.lo, ones_lo, "%s", s);
        }
    }
    /* The bytes next to the digit ranges are not digits. */
    static const char near[] = "/:@G`g";
    for (size_t j = 0; near[j]; j++) {
        char s[36];
        memcpy(s, "1-5759e988-bd862e3fe1be46a994272793", 36);
        s[20] = near[j];
        cr_assert_eq(check_status(s, 35), XRAY_BAD_ROOT, "%s", s);
    }
}

Test(xray, root_status_zero_id)
{
    char s[36];
    /* One nonzero digit anywhere in the 96-bit id makes it valid; in the
     * epoch alone it does not. */
    for (size_t i = 2; i < 35; i++) {
        if (i == 10)
            continue;
        memcpy(s, "1-00000000-000000000000000000000000", 36);
        s[i] = '1';
        cr_assert_eq(check_status(s, 35), i < 10 ? XRAY_ZERO_ROOT : XRAY_OK, "%s", s);
        s[i] = 'F';
        cr_assert_eq(check_status(s, 35), i < 10 ? XRAY_ZERO_ROOT : XRAY_OK, "%s", s);
    }
    /* A bad digit is a bad Root even when the rest is zero. */
    memcpy(s, "1-00000000-00000000000000000000000g", 36);
    cr_assert_eq(check_status(s, 35), XRAY_BAD_ROOT);
    /* A rejected or zero Root leaves the output alone. */
    xray_root r = {5, 6};
    cr_assert_eq(xray_root_status("1-5759e988-000000000000000000000000", 35, &r), XRAY_ZERO_ROOT);
    cr_assert_eq(xray_root_status("1-5759e988-bd862e3fe1be46a99427279g", 35, &r), XRAY_BAD_ROOT);
    cr_assert_eq(r.hi, 5);
    cr_assert_eq(r.lo, 6);
}

Test(xray, root_status_rejects_high_bytes)
{
    /* Each byte with the high bit set, and each hex digit with the high bit
     * set (which a byte-wise compare that ignored it would take). */
    for (size_t i = 0; i < 35; i++) {
        static const unsigned char high[] = {0x80, 0xb0, 0xb9, 0xc1, 0xc6, 0xe1, 0xe6, 0xad, 0xff};
        for (size_t j = 0; j < sizeof high; j++) {
            char s[36];
            memcpy(s, "1-5759e988-bd862e3fe1be46a994272793", 36);
            s[i] = (char)high[j];
            cr_assert_eq(check_status(s, 35), XRAY_BAD_ROOT, "byte %zu = 0x%02x", i, high[j]);
        }
    }
}

Test(xray, zero_root_reasons)
{
    xray_header h;
    cr_assert_eq(decode("Root=1-00000000-000000000000000000000000", &h), XRAY_ZERO_ROOT);
    /* The 96-bit id alone decides: an all-zero id under a real epoch is
     * still the invalid all-zero id. */
    cr_assert_eq(decode("Root=1-5759e988-000000000000000000000000", &h), XRAY_ZERO_ROOT);
    /* A zero epoch with a real id is odd but valid: no Root is rejected
     * for its age. */
    cr_assert_eq(decode("Root=1-00000000-000000000000000000000001", &h), XRAY_OK);
    cr_assert_eq(xray_root_epoch(h.root), 0);
    cr_assert_eq(h.root.lo, 1);
    cr_assert_eq(decode("Root=1-00000000-000000010000000000000000", &h), XRAY_OK);
    cr_assert_eq(h.root.hi, 1);
}

Test(xray, bad_root_reasons)
{
    static const char *const bad[] = {
        "Root=",
        "Root",
        "Root=-",
        "Root=1",
        "Root=2-5759e988-bd862e3fe1be46a994272793",
        "Root=0-5759e988-bd862e3fe1be46a994272793",
        "Root=1-5759e988-bd862e3fe1be46a99427279",
        "Root=1-5759e988-bd862e3fe1be46a9942727933",
        "Root=1-5759e9880-bd862e3fe1be46a99427279",
        "Root=1-5759e98g-bd862e3fe1be46a994272793",
        "Root=1-5759e988-bd862e3fe1be46a99427279z",
        "Root=1_5759e988_bd862e3fe1be46a994272793",
        "Root=15759e988bd862e3fe1be46a994272793",
        "Root=5759e988bd862e3fe1be46a994272793",
        "Root=1-5e34a614-10bdxmplf1fb44f07bc535a1",
        "Root=1-5759e988-bd862e3f e1be46a994272793",
        "Sampled=1;Root=1-5759e988-bd862e3fe1be46a9942727g3;Parent=53995c3f42cd8ad8",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xray_header h;
        cr_assert_eq(decode(bad[i], &h), XRAY_BAD_ROOT, "[%s]", bad[i]);
    }
}

Test(xray, no_root_reasons)
{
    static const char *const none[] = {
        "",
        "-",
        ";;;",
        "   ",
        "Parent=53995c3f42cd8ad8;Sampled=1",
        "Self=1-5759e988-bd862e3fe1be46a994272793",
        "root=1-5759e988-bd862e3fe1be46a994272793",
        "ROOT=1-5759e988-bd862e3fe1be46a994272793",
        "Roots=1-5759e988-bd862e3fe1be46a994272793",
        "XRoot=1-5759e988-bd862e3fe1be46a994272793",
        "1-5759e988-bd862e3fe1be46a994272793",
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        xray_header h;
        cr_assert_eq(decode(none[i], &h), XRAY_NO_ROOT, "[%s]", none[i]);
    }
}

Test(xray, blanks_around_fields)
{
    xray_header h;
    cr_assert_eq(decode("\tRoot=1-5759e988-bd862e3fe1be46a994272793 ;\t Parent=53995c3f42cd8ad8\t;"
                        "  Sampled=0  ",
                        &h),
                 XRAY_OK);
    cr_assert_eq(h.root.lo, UINT64_C(0xe1be46a994272793));
    cr_assert(slice_is(h.parent, "53995c3f42cd8ad8"));
    cr_assert_eq(h.sampled, '0');
    cr_assert_eq(decode("Root = 1-5759e988-bd862e3fe1be46a994272793", &h), XRAY_OK);
    cr_assert_eq(decode(";;Root=1-5759e988-bd862e3fe1be46a994272793;;", &h), XRAY_OK);
}

Test(xray, first_root_wins)
{
    xray_header h;
    cr_assert_eq(decode("Root=1-5759e988-bd862e3fe1be46a994272793;"
                        "Root=1-8a3c60f7-d188f8fa79d48a391a778fa6",
                        &h),
                 XRAY_OK);
    cr_assert_eq(xray_root_epoch(h.root), UINT32_C(0x5759e988));
    /* A bad first Root is the verdict even when a good one follows. */
    cr_assert_eq(decode("Root=junk;Root=1-8a3c60f7-d188f8fa79d48a391a778fa6", &h), XRAY_BAD_ROOT);
    cr_assert_eq(decode("Root=1-00000000-000000000000000000000000;"
                        "Root=1-8a3c60f7-d188f8fa79d48a391a778fa6",
                        &h),
                 XRAY_ZERO_ROOT);
}

Test(xray, self_and_root_in_any_order)
{
    xray_header h;
    cr_assert_eq(decode("Self=1-67891233-12456789abcdef012345678;"
                        "Root=1-67891233-abcdef012345678912345678;CalledFrom=app",
                        &h),
                 XRAY_OK);
    cr_assert(slice_is(h.self, "1-67891233-12456789abcdef012345678"));
    char s[36];
    root_str(h.root, s);
    cr_assert_str_eq(s, "1-67891233-abcdef012345678912345678");
    cr_assert_null(h.parent.p);
    cr_assert_null(h.lineage.p);
    cr_assert_eq(h.sampled, 0);
    /* Self is never taken for the Root. */
    cr_assert_eq(decode("Self=1-69456e5f-5e18bc5165d5f9c67069e3e3", &h), XRAY_NO_ROOT);
    cr_assert(slice_is(h.self, "1-69456e5f-5e18bc5165d5f9c67069e3e3"));
}

Test(xray, lineage_kept_as_text)
{
    xray_header h;
    cr_assert_eq(decode("Root=1-6948674b-037f6986563dbf74040038ad;Parent=3ac2f14f529dbc1a;"
                        "Sampled=0;Lineage=1:c55dac1d:0",
                        &h),
                 XRAY_OK);
    cr_assert(slice_is(h.lineage, "1:c55dac1d:0"));
    cr_assert_eq(decode("Lineage=a87bd80c:1|68fd508a:5;Root=1-6948674b-037f6986563dbf74040038ad",
                        &h),
                 XRAY_OK);
    cr_assert(slice_is(h.lineage, "a87bd80c:1|68fd508a:5"));
}

Test(xray, keys_are_case_sensitive)
{
    xray_header h;
    cr_assert_eq(decode("Root=1-5759e988-bd862e3fe1be46a994272793;parent=53995c3f42cd8ad8;"
                        "sampled=1;SELF=x;lineage=y",
                        &h),
                 XRAY_OK);
    cr_assert_null(h.parent.p);
    cr_assert_null(h.self.p);
    cr_assert_null(h.lineage.p);
    cr_assert_eq(h.sampled, 0);
    cr_assert_not(h.has_span);
}

Test(xray, unknown_fields_ignored)
{
    xray_header h;
    cr_assert_eq(decode("Foo=Bar;Root=1-8a3c60f7-d188f8fa79d48a391a778fa6;=x;novalue;Parent=;"
                        "CalledFrom=app;Sampled=1",
                        &h),
                 XRAY_OK);
    cr_assert_eq(xray_root_epoch(h.root), UINT32_C(0x8a3c60f7));
    cr_assert_eq(h.sampled, '1');
    /* An empty Parent is present but not a span. */
    cr_assert_not_null(h.parent.p);
    cr_assert_eq(h.parent.n, 0);
    cr_assert_not(h.has_span);
}

Test(xray, sampled_values)
{
    static const struct {
        const char *v;
        char want;
    } cases[] = {{"1", '1'}, {"0", '0'}, {"?", '?'}, {"", 0}, {"2", 0}, {"11", 0}, {"true", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=%s", cases[i].v);
        xray_header h;
        cr_assert_eq(decode(buf, &h), XRAY_OK);
        cr_assert_eq(h.sampled, cases[i].want, "Sampled=%s", cases[i].v);
    }
    /* The first Sampled wins, even when it is not a valid decision. */
    xray_header h;
    decode("Sampled=1;Sampled=0;Root=1-5759e988-bd862e3fe1be46a994272793", &h);
    cr_assert_eq(h.sampled, '1');
    decode("Sampled=x;Sampled=0;Root=1-5759e988-bd862e3fe1be46a994272793", &h);
    cr_assert_eq(h.sampled, 0);
}

Test(xray, parent_span)
{
    xray_header h;
    decode("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995C3F42CD8AD8", &h);
    cr_assert(h.has_span);
    cr_assert_eq(h.span, UINT64_C(0x53995c3f42cd8ad8));
    cr_assert(slice_is(h.parent, "53995C3F42CD8AD8"), "Parent is kept as written");

    decode("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000001", &h);
    cr_assert(h.has_span);
    cr_assert_eq(h.span, 1);

    static const char *const not_spans[] = {"53995c3f42cd8ad", "53995c3f42cd8ad8a",
                                            "53995c3f42cd8adg", "0x53995c3f42cd8a", ""};
    for (size_t i = 0; i < sizeof not_spans / sizeof not_spans[0]; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "Parent=%s;Root=1-5759e988-bd862e3fe1be46a994272793",
                 not_spans[i]);
        cr_assert_eq(decode(buf, &h), XRAY_OK);
        cr_assert_not(h.has_span, "Parent=%s", not_spans[i]);
        cr_assert_eq(h.span, 0);
        cr_assert(slice_is(h.parent, not_spans[i]));
    }
}

Test(xray, fields_are_set_whatever_the_verdict)
{
    xray_header h;
    memset(&h, 0xa5, sizeof h);
    cr_assert_eq(decode("Parent=53995c3f42cd8ad8;Sampled=1", &h), XRAY_NO_ROOT);
    cr_assert(slice_is(h.parent, "53995c3f42cd8ad8"));
    cr_assert(h.has_span);
    cr_assert_eq(h.sampled, '1');
    cr_assert_eq(h.root.hi, 0);
    cr_assert_null(h.self.p);
    cr_assert_null(h.lineage.p);
    /* Slices point into the caller's bytes. */
    const char *s = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8";
    xray_decode(s, strlen(s), &h);
    cr_assert_eq(h.parent.p, s + 48);
}

Test(xray, decode_obeys_the_length)
{
    const char *s = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
    xray_header h;
    cr_assert_eq(xray_decode(s, 40, &h), XRAY_OK);
    cr_assert_eq(h.sampled, 0);
    cr_assert_eq(xray_decode(s, 39, &h), XRAY_BAD_ROOT);
    cr_assert_eq(xray_decode(s, 0, &h), XRAY_NO_ROOT);
}

Test(xray, parse_user_id_forms)
{
    xray_root want, r;
    cr_assert(xray_parse_root("1-5759e988-bd862e3fe1be46a994272793", 35, &want));
    static const char *const forms[] = {
        "1-5759e988-bd862e3fe1be46a994272793",
        "1-5759E988-BD862E3FE1BE46A994272793",
        "Root=1-5759e988-bd862e3fe1be46a994272793",
        "root=1-5759e988-bd862e3fe1be46a994272793",
        "ROOT=1-5759E988-bd862e3fe1be46a994272793",
        "Root= 1-5759e988-bd862e3fe1be46a994272793",
        "5759e988bd862e3fe1be46a994272793",
        "5759E988BD862E3FE1BE46A994272793",
        "  1-5759e988-bd862e3fe1be46a994272793\t",
        "\t5759e988bd862e3fe1be46a994272793 \n",
        " Root=1-5759e988-bd862e3fe1be46a994272793\r\n",
        "Self=1-67891233-12456789abcdef012345678;Root=1-5759e988-bd862e3fe1be46a994272793",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
        "x-amzn-trace-id:Root=1-5759e988-bd862e3fe1be46a994272793",
        "X-Amzn-Trace-Id : 1-5759e988-bd862e3fe1be46a994272793",
        "X-Amzn-Trace-Id=Self=1-67891233-12456789abcdef012345678;"
        "Root=1-5759e988-bd862e3fe1be46a994272793",
        "\"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\"",
        " \"1-5759e988-bd862e3fe1be46a994272793\" ",
        "X-Amzn-Trace-Id: \"Root=1-5759e988-bd862e3fe1be46a994272793\"",
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        memset(&r, 0, sizeof r);
        cr_assert(xray_parse_user_id(forms[i], strlen(forms[i]), &r), "[%s]", forms[i]);
        cr_assert(xray_root_eq(r, want), "[%s]", forms[i]);
    }
}

Test(xray, parse_user_id_rejects)
{
    static const char *const bad[] = {
        "",
        "   ",
        "1-5759e988-bd862e3fe1be46a99427279",
        "5759e988bd862e3fe1be46a99427279",
        "5759e988bd862e3fe1be46a9942727933",
        "5759e988bd862e3fe1be46a99427279g",
        "00000000000000000000000000000000",
        "5759e988000000000000000000000000",
        "1-00000000-000000000000000000000000",
        "Root=",
        "Root=junk",
        "Parent=53995c3f42cd8ad8",
        "2-5759e988-bd862e3fe1be46a994272793",
        "1-5e34a614-10bdxmplf1fb44f07bc535a1",
        "0x5759e988bd862e3fe1be46a994272793",
        "X-Amzn-Trace-Id",
        "X-Amzn-Trace-Id:",
        "X-Amzn-Trace-Id 1-5759e988-bd862e3fe1be46a994272793",
        "X-Amzn-Trace-Idx: 1-5759e988-bd862e3fe1be46a994272793",
        "\"",
        "\"\"",
        "\"1-5759e988-bd862e3fe1be46a994272793",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xray_root r = {7, 7};
        cr_assert_not(xray_parse_user_id(bad[i], strlen(bad[i]), &r), "[%s]", bad[i]);
    }
    xray_root r;
    cr_assert(xray_parse_user_id("00000000000000000000000000000001", 32, &r));
    cr_assert_eq(r.lo, 1);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(xray, format_round_trips)
{
    uint64_t seed = 0x2545f4914f6cdd1du;
    for (int i = 0; i < 100000; i++) {
        xray_root r = {rng_next(&seed), rng_next(&seed)};
        if (i % 7 == 0)
            r.hi &= UINT64_C(0xffffffff00000000) | (uint64_t)(i & 1);
        if ((r.hi & 0xffffffffu) == 0 && r.lo == 0)
            r.lo = 1;
        char s[36], o[33];
        xray_format_root(r, s);
        cr_assert_eq(strlen(s), 35);
        xray_format_otel(r, o);
        cr_assert_eq(strlen(o), 32);
        /* The two spellings carry the same digits. */
        cr_assert_eq(memcmp(s + 2, o, 8), 0);
        cr_assert_eq(memcmp(s + 11, o + 8, 24), 0);
        for (const char *p = s; *p; p++)
            cr_assert(!(*p >= 'A' && *p <= 'F'), "uppercase in %s", s);

        xray_root back = {0, 0};
        cr_assert(xray_parse_root(s, 35, &back), "%s", s);
        cr_assert(xray_root_eq(back, r), "%s", s);
        back.hi = back.lo = 0;
        cr_assert(xray_parse_user_id(o, 32, &back), "%s", o);
        cr_assert(xray_root_eq(back, r), "%s", o);

        char hdr[64];
        snprintf(hdr, sizeof hdr, "Root=%s;Sampled=1", s);
        xray_header h;
        cr_assert_eq(xray_decode(hdr, strlen(hdr), &h), XRAY_OK);
        cr_assert(xray_root_eq(h.root, r));
    }
}

Test(xray, status_names)
{
    cr_assert_str_eq(xray_status_name(XRAY_OK), "ok");
    cr_assert_str_eq(xray_status_name(XRAY_NO_ROOT), "no-root");
    cr_assert_str_eq(xray_status_name(XRAY_BAD_ROOT), "bad-root");
    cr_assert_str_eq(xray_status_name(XRAY_ZERO_ROOT), "zero-root");
    cr_assert_not_null(xray_status_name(XRAY_STATUS_COUNT));
}

/* xray_decode_root() is xray_decode()'s verdict and Root, on the headers its
 * shortcut reads (a leading Root and 35 characters) and on those it leaves
 * to xray_decode(). */
Test(xray, decode_root_agrees_with_decode)
{
    static const struct {
        const char *h;
        xray_status want;
    } cases[] = {
        {"Root=1-5759e988-bd862e3fe1be46a994272793", XRAY_OK},
        {"Root=1-5759E988-BD862E3FE1BE46A994272793;Parent=53995c3f42cd8ad8;Sampled=1", XRAY_OK},
        {"Root=1-5759e988-bd862e3fe1be46a994272793 ;Sampled=1", XRAY_OK},
        {"Root=1-5759e988-bd862e3fe1be46a99427279 ;Sampled=1", XRAY_BAD_ROOT},
        {"Root= 1-5759e988-bd862e3fe1be46a99427279;Sampled=1", XRAY_BAD_ROOT},
        {"Root=1-5759e988-bd862e3fe1be46a994272793x", XRAY_BAD_ROOT},
        {"Root=1-5759e988-bd862e3fe1be46a99427279g", XRAY_BAD_ROOT},
        {"Root=2-5759e988-bd862e3fe1be46a994272793", XRAY_BAD_ROOT},
        {"Root=1-5759e988-000000000000000000000000;Sampled=1", XRAY_ZERO_ROOT},
        {"Root=bad;Root=1-5759e988-bd862e3fe1be46a994272793", XRAY_BAD_ROOT},
        {"Self=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a994272794",
         XRAY_OK},
        {"Self=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a994272794;"
         "Parent=53995c3f42cd8ad8;Sampled=1",
         XRAY_OK},
        {"Self=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a99427279x",
         XRAY_BAD_ROOT},
        {"Self=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-000000000000000000000000",
         XRAY_ZERO_ROOT},
        {"Self=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a994272794 ",
         XRAY_OK},
        /* Shaped like the shortcut's but for a ';' early on: the first
         * Root is the short one. */
        {"Self=;Root=1-5759e988-bd862e3fe1be46a994;Root=1-5759e988-bd862e3fe1be46a994272793",
         XRAY_BAD_ROOT},
        {"Self=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a9942727941",
         XRAY_BAD_ROOT},
        {" Root = 1-5759e988-bd862e3fe1be46a994272793", XRAY_OK},
        {"Parent=53995c3f42cd8ad8;Sampled=1", XRAY_NO_ROOT},
        {"Root=", XRAY_BAD_ROOT},
        {"", XRAY_NO_ROOT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *s = cases[i].h;
        xray_header h;
        xray_status full = xray_decode(s, strlen(s), &h);
        xray_root r = {1, 1};
        xray_status st = xray_decode_root(s, strlen(s), &r);
        cr_assert_eq(full, cases[i].want, "%s: xray_decode says %s", s, xray_status_name(full));
        cr_assert_eq(st, full, "%s: xray_decode_root says %s", s, xray_status_name(st));
        cr_assert(xray_root_eq(r, h.root), "%s: the Roots differ", s);
    }
}
