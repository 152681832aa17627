/*
 * fuzz_line: the per-line path as tracegrep runs it, on arbitrary blocks.
 *
 * The input is a block of lines. scan_block() runs the header database over
 * it and hands each line holding a key to a callback that does what
 * src/engine/collect.c does with a line of an ALB log (on_line() and
 * on_alb_line()): strip a '\r', alb_parse_prefix() up to field 30, and for
 * an ALB line whose field 18 holds a header key, xray_decode() of field 18.
 * The block is scanned twice: with tracegrep's default line limit (1 MiB)
 * and with a 64-byte one, so that oversized lines are common. One input in
 * sixteen is also repeated into a block of over 300 KiB, which scan_block()
 * cuts into pieces.
 *
 * Checked besides memory safety:
 * - scan_block() reports, once each and in order, every line that holds a
 *   key and is not longer than the limit (compared with a plain line-by-line
 *   search) and no longer one, each with its true offset, whole and without
 *   its newline; its line and oversized counts agree with a plain count, and
 *   with scan_count_lines();
 * - alb_parse()'s fields lie inside the line; xray_decode()'s slices lie
 *   inside field 18, and a usable Root is spelled out in field 18.
 */
#define _GNU_SOURCE /* memmem */
#include "fuzz_check.h"

#include <string.h>
#include <strings.h>

#include "decode/alb.h"
#include "decode/xray.h"
#include "scan/scan.h"

static const char *const keys[] = {"Root=", "Self=", "Parent=", "Sampled=", "Lineage="};
#define NKEYS (sizeof keys / sizeof *keys)

static int has_key(const char *p, size_t n)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (memmem(p, n, keys[i], strlen(keys[i])))
            return 1;
    return 0;
}

/* scan.c (as of this writing, ahead of scan.h) also reports lines holding
 * "trace" in any case, for the other log formats: a reported line must hold
 * a key or that word; every line holding a key must be reported. */
static int has_trace_word(const char *p, size_t n)
{
    for (size_t i = 0; i + 5 <= n; i++)
        if ((p[i] | 0x20) == 't' && (p[i + 1] | 0x20) == 'r' && (p[i + 2] | 0x20) == 'a' &&
            (p[i + 3] | 0x20) == 'c' && (p[i + 4] | 0x20) == 'e')
            return 1;
    return 0;
}

typedef struct ctx {
    const char *base;
    size_t n, max_line;
    size_t next;           /* where the line after the last one reported starts */
    size_t *offs, noffs;   /* offsets reported, in order */
    unsigned long long events, header_lines, other_lines;
} ctx;

static void check_in(tg_str s, const char *p, size_t n, const char *what)
{
    if (!s.p) {
        FZ_CHECK(s.n == 0, "%s: NULL with length %zu", what, s.n);
        return;
    }
    FZ_CHECK(fz_inside(s.p, s.n, p, n), "%s: [%td, +%zu) outside [0, %zu)", what, s.p - p, s.n,
             n);
}

/* True when the 35 bytes of r's spelling appear in h, in any case. */
static int root_spelled_in(xray_root r, tg_str h)
{
    char text[36];
    xray_format_root(r, text);
    for (size_t i = 0; i + 35 <= h.n; i++)
        if (strncasecmp(h.p + i, text, 35) == 0)
            return 1;
    return 0;
}

/* collect.c's has_header_key(). */
static int header_key(tg_str h)
{
    return has_key(h.p, h.n);
}

static int on_line(void *vctx, const char *line, size_t len, size_t off)
{
    ctx *c = vctx;
    FZ_CHECK(line == c->base + off, "line at %td reported with offset %zu", line - c->base, off);
    FZ_CHECK(fz_inside(line, len, c->base, c->n), "line [%zu, +%zu) outside the %zu-byte block",
             off, len, c->n);
    FZ_CHECK(off >= c->next, "line at %zu reported again or out of order (next %zu)", off,
             c->next);
    FZ_CHECK(off == 0 || c->base[off - 1] == '\n', "line at %zu does not start a line", off);
    FZ_CHECK(off + len == c->n || c->base[off + len] == '\n', "line at %zu cut at %zu", off,
             len);
    FZ_CHECK(!memchr(line, '\n', len), "line at %zu holds a newline", off);
    FZ_CHECK(len <= c->max_line, "a %zu-byte line reported with max_line %zu", len, c->max_line);
    FZ_CHECK(has_key(line, len) || has_trace_word(line, len),
             "line at %zu reported without a key", off);
    c->next = off + len + 1;
    c->offs[c->noffs++] = off;

    /* collect.c's on_line() and on_alb_line(). */
    if (len && line[len - 1] == '\r')
        len--;
    alb_record rec;
    if (!alb_parse_prefix(line, len, ALB_CONN_TRACE_ID + 1, &rec)) {
        c->other_lines++;
        return 0;
    }
    for (unsigned i = 0; i < ALB_NFIELDS; i++)
        check_in(rec.t.f[i], line, len, "ALB field");
    if (rec.t.nfields <= ALB_TRACE_ID || !header_key(rec.t.f[ALB_TRACE_ID]))
        return 0;
    tg_str h = rec.t.f[ALB_TRACE_ID];
    xray_header xh;
    xray_status st = xray_decode(h.p, h.n, &xh);
    c->header_lines++;
    FZ_CHECK((unsigned)st < XRAY_STATUS_COUNT, "verdict %d", (int)st);
    check_in(xh.self, h.p, h.n, "Self");
    check_in(xh.parent, h.p, h.n, "Parent");
    check_in(xh.lineage, h.p, h.n, "Lineage");
    if (st == XRAY_OK) {
        c->events++;
        FZ_CHECK(root_spelled_in(xh.root, h), "a Root that field 18 does not spell");
    }
    return 0;
}

static scan_db *db;
static scan_scratch *scratch;

static void scan_with(const char *p, size_t n, size_t max_line)
{
    ctx c = {.base = p, .n = n, .max_line = max_line};
    c.offs = malloc((n + 1) * sizeof *c.offs);
    scan_counts sc = {0, 0};
    int rc = scan_block(db, scratch, p, n, max_line, on_line, &c, &sc);
    FZ_CHECK(rc == SCAN_OK, "scan_block returned %d", rc);

    /* The same block read line by line. */
    uint64_t lines = 0, over = 0;
    size_t k = 0;
    for (size_t at = 0; at < n;) {
        const char *nl = memchr(p + at, '\n', n - at);
        size_t len = (size_t)((nl ? nl : p + n) - (p + at));
        lines++;
        if (len > max_line) {
            over++;
        } else {
            int key = has_key(p + at, len);
            if (k < c.noffs && c.offs[k] == at)
                k++;
            else
                FZ_CHECK(!key, "the line at %zu holds a key but was not reported (max_line %zu)",
                         at, max_line);
        }
        at += len + 1;
    }
    FZ_CHECK(k == c.noffs, "%zu lines reported, %zu of them are lines that hold a key",
             c.noffs, k);
    FZ_CHECK(sc.lines == lines, "scan counted %llu lines, %llu there",
             (unsigned long long)sc.lines, (unsigned long long)lines);
    FZ_CHECK(sc.oversized == over, "scan counted %llu oversized lines, %llu there (max_line %zu)",
             (unsigned long long)sc.oversized, (unsigned long long)over, max_line);
    FZ_CHECK(scan_count_lines(p, n) == lines, "scan_count_lines gives %llu, %llu there",
             (unsigned long long)scan_count_lines(p, n), (unsigned long long)lines);
    FZ_CHECK(c.events <= c.header_lines, "more events than header lines");

    free(c.offs);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char err[256];
    db = scan_db_headers(err, sizeof err);
    scratch = db ? scan_scratch_new(db) : NULL;
    if (!scratch) {
        fprintf(stderr, "fuzz_line: %s\n", db ? "no scratch" : err);
        abort();
    }
    return 0;
}

/* Blocks past scan.c's 256 KiB piece: the input repeated. Such a block costs
 * a hundred small ones, so only inputs whose length is 15 modulo 16 make
 * one. */
#define TILE_MIN ((size_t)300 << 10)

static void scan_tiled(const char *p, size_t n)
{
    size_t reps = (TILE_MIN + n - 1) / n, len = reps * n;
    char *big = malloc(len);
    for (size_t i = 0; i < reps; i++)
        memcpy(big + i * n, p, n);
    scan_with(big, len, (size_t)1 << 20);
    scan_with(big, len, 64);
    free(big);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = size ? (const char *)data : "";
    scan_with(p, size, (size_t)1 << 20);
    scan_with(p, size, 64);
    if (size % 16 == 15)
        scan_tiled(p, size);
    return 0;
}
