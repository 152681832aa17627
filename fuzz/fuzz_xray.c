/*
 * fuzz_xray: the X-Amzn-Trace-Id decoder on arbitrary bytes.
 *
 * The whole input is one header value, and also one trace id as a user would
 * type it. Besides memory safety, the target checks what xray.h promises:
 * - xray_decode_root() gives xray_decode()'s verdict and Root;
 * - xray_decode() returns a known verdict; slices it returns lie inside the
 *   input; a usable Root formats and parses back to itself, through every
 *   parser that accepts a trace id; a failed verdict leaves the root zero.
 * - xray_parse_root() accepts only 35 bytes, never an all-zero id, and is
 *   case-blind: the input in upper and in lower case gives the same answer.
 * - xray_root_status() agrees with xray_parse_root(), and with what
 *   xray_decode() says of "Root=" and the same bytes;
 * - xray_parse_user_id() never returns an all-zero id, and agrees with
 *   xray_parse_root() on an exact 35-byte id.
 */
#define _GNU_SOURCE /* memmem */
#include "fuzz_check.h"

#include <ctype.h>
#include <string.h>

#include "decode/xray.h"

static void check_slice(tg_str s, const uint8_t *data, size_t size, const char *what)
{
    if (s.p == NULL) {
        FZ_CHECK(s.n == 0, "%s: NULL slice with length %zu", what, s.n);
        return;
    }
    FZ_CHECK(fz_inside(s.p, s.n, data, size), "%s: slice [%td, +%zu) outside input of %zu",
             what, (const char *)s.p - (const char *)data, s.n, size);
}

static int id_is_zero(xray_root r)
{
    return (r.hi & 0xffffffffu) == 0 && r.lo == 0;
}

/* A valid Root must survive every way tracegrep writes and reads it. */
static void check_round_trip(xray_root r)
{
    char text[36], otel[33];
    xray_format_root(r, text);
    xray_format_otel(r, otel);
    FZ_CHECK(strlen(text) == 35 && strlen(otel) == 32, "format lengths %zu %zu", strlen(text),
             strlen(otel));

    xray_root back = {0, 0};
    FZ_CHECK(xray_parse_root(text, 35, &back) && xray_root_eq(back, r),
             "xray_parse_root(\"%s\") does not give back the root it was formatted from", text);

    back = (xray_root){0, 0};
    FZ_CHECK(xray_parse_user_id(text, 35, &back) && xray_root_eq(back, r),
             "xray_parse_user_id(\"%s\") disagrees with the root", text);

    back = (xray_root){0, 0};
    FZ_CHECK(xray_parse_user_id(otel, 32, &back) && xray_root_eq(back, r),
             "xray_parse_user_id(\"%s\") (OTel form) disagrees with the root", otel);

    char header[64];
    int hn = snprintf(header, sizeof header, "Root=%s;Sampled=1", text);
    xray_header h;
    FZ_CHECK(xray_decode(header, (size_t)hn, &h) == XRAY_OK && xray_root_eq(h.root, r),
             "xray_decode(\"%s\") does not give back the root", header);
    FZ_CHECK(h.sampled == '1', "Sampled=1 read as %d", h.sampled);
}

static void check_decode(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    xray_header h;
    memset(&h, 0xa5, sizeof h); /* every field must be written */
    xray_status st = xray_decode(s, size, &h);
    FZ_CHECK((unsigned)st < XRAY_STATUS_COUNT, "verdict %d out of range", (int)st);
    FZ_CHECK(strcmp(xray_status_name(st), "unknown") != 0, "verdict %d has no name", (int)st);

    check_slice(h.self, data, size, "Self");
    check_slice(h.parent, data, size, "Parent");
    check_slice(h.lineage, data, size, "Lineage");
    FZ_CHECK(h.sampled == 0 || h.sampled == '0' || h.sampled == '1' || h.sampled == '?',
             "sampled is %d", h.sampled);
    if (h.has_span)
        FZ_CHECK(h.parent.p != NULL && h.parent.n == 16, "has_span with a %zu-byte Parent",
                 h.parent.n);
    else
        FZ_CHECK(h.span == 0, "span %llx without has_span", (unsigned long long)h.span);

    if (st == XRAY_OK) {
        FZ_CHECK(!id_is_zero(h.root), "XRAY_OK with an all-zero id");
        /* The Root is somewhere in the input, so there are 35 bytes of it. */
        FZ_CHECK(size >= 5 + 35, "XRAY_OK from only %zu bytes", size);
        check_round_trip(h.root);
    } else {
        FZ_CHECK(h.root.hi == 0 && h.root.lo == 0, "verdict %s left a root set",
                 xray_status_name(st));
    }
    if (st == XRAY_BAD_ROOT || st == XRAY_ZERO_ROOT)
        FZ_CHECK(memmem(s, size, "Root", 4) != NULL, "%s for a header without \"Root\"",
                 xray_status_name(st));

    /* The Root-only decoder gives the same verdict and Root. */
    xray_root r;
    memset(&r, 0xa5, sizeof r);
    xray_status rst = xray_decode_root(s, size, &r);
    FZ_CHECK(rst == st, "xray_decode_root says %s, xray_decode %s", xray_status_name(rst),
             xray_status_name(st));
    FZ_CHECK(xray_root_eq(r, h.root), "xray_decode_root and xray_decode give different Roots");
}

static void check_parse_root(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    xray_root r = {0, 0};
    bool ok = xray_parse_root(s, size, &r);
    if (!ok)
        return;
    FZ_CHECK(size == 35, "xray_parse_root accepted %zu bytes", size);
    FZ_CHECK(!id_is_zero(r), "xray_parse_root accepted an all-zero id");
    check_round_trip(r);

    /* Case-blind: the text in either case reads as the same root, and the
     * lowercase spelling is exactly what xray_format_root() writes. */
    char up[35], low[35], text[36];
    for (size_t i = 0; i < 35; i++) {
        up[i] = (char)toupper(data[i]);
        low[i] = (char)tolower(data[i]);
    }
    xray_root ru = {0, 0}, rl = {0, 0};
    FZ_CHECK(xray_parse_root(up, 35, &ru) && xray_root_eq(ru, r), "uppercase spelling differs");
    FZ_CHECK(xray_parse_root(low, 35, &rl) && xray_root_eq(rl, r), "lowercase spelling differs");
    xray_format_root(r, text);
    FZ_CHECK(memcmp(text, low, 35) == 0, "formatted %s, lowercase input %.35s", text, low);
}

/* xray_root_status() is the verdict xray_decode() gives a Root value: the
 * same as decoding "Root=" + the value, when the value is one field (no ';'
 * and no blanks around it, which xray_decode() would trim). */
static void check_root_status(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    xray_root r = {0x1111, 0x2222};
    xray_status st = xray_root_status(s, size, &r);
    FZ_CHECK(st == XRAY_OK || st == XRAY_BAD_ROOT || st == XRAY_ZERO_ROOT,
             "xray_root_status gave %d", (int)st);
    xray_root q;
    FZ_CHECK((st == XRAY_OK) == xray_parse_root(s, size, &q),
             "xray_root_status says %s, xray_parse_root disagrees", xray_status_name(st));
    if (st == XRAY_OK)
        FZ_CHECK(xray_root_eq(q, r), "xray_root_status and xray_parse_root differ");
    if (size == 0 || size > 512 || memchr(s, ';', size) || s[0] == ' ' || s[0] == '\t' ||
        s[size - 1] == ' ' || s[size - 1] == '\t')
        return;
    char header[5 + 512];
    memcpy(header, "Root=", 5);
    memcpy(header + 5, s, size);
    xray_header h;
    xray_status hst = xray_decode(header, 5 + size, &h);
    FZ_CHECK(hst == st, "xray_root_status says %s, xray_decode of Root=… says %s",
             xray_status_name(st), xray_status_name(hst));
    if (st == XRAY_OK)
        FZ_CHECK(xray_root_eq(h.root, r), "xray_root_status and xray_decode differ");
}

static void check_user_id(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    xray_root r = {0, 0};
    if (!xray_parse_user_id(s, size, &r)) {
        xray_root q;
        FZ_CHECK(!xray_parse_root(s, size, &q), "a Root that xray_parse_user_id rejects");
        return;
    }
    FZ_CHECK(!id_is_zero(r), "xray_parse_user_id accepted an all-zero id");
    check_round_trip(r);
    xray_root q = {0, 0};
    if (xray_parse_root(s, size, &q))
        FZ_CHECK(xray_root_eq(q, r), "xray_parse_user_id and xray_parse_root disagree");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_decode(data, size);
    check_parse_root(data, size);
    check_root_status(data, size);
    check_user_id(data, size);
    return 0;
}
