#define _GNU_SOURCE /* memrchr */
#include "scan/scan.h"

#include <hs/hs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bits.h" /* byte_mask16() */
#include "util/cpu.h"
#ifdef TG_AVX2_DISPATCH
#include <immintrin.h>
#endif

struct scan_db {
    hs_database_t *hs;
};

struct scan_scratch {
    hs_scratch_t *hs;
    uint32_t *nl; /* the current piece's newline offsets (SCAN_NL_CAP) */
};

/* A piece is counted and then scanned while it sits in L2: 256 KiB keeps
 * both passes in cache on any x86 of the last decade. */
#define SCAN_PIECE (256u * 1024u)

/* A piece holds at most SCAN_PIECE newlines: it ends at the last newline of
 * its first 256 KiB, or, when they hold none, at the first one after. */
#define SCAN_NL_CAP SCAN_PIECE

static scan_db *compile(const char *const *pats, const unsigned *flags, const unsigned *ids,
                        unsigned n, char *err, size_t errlen)
{
    hs_database_t *hs = NULL;
    hs_compile_error_t *cerr = NULL;
    if (hs_compile_multi(pats, flags, ids, n, HS_MODE_BLOCK, NULL, &hs, &cerr) != HS_SUCCESS) {
        snprintf(err, errlen, "cannot compile the scan patterns: %s",
                 cerr && cerr->message ? cerr->message : "unknown error");
        hs_free_compile_error(cerr);
        return NULL;
    }
    scan_db *db = calloc(1, sizeof *db);
    if (!db) {
        hs_free_database(hs);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    db->hs = hs;
    return db;
}

scan_db *scan_db_headers(char *err, size_t errlen)
{
    /* Keys are case-sensitive in the header, and case-sensitive literals are
     * Hyperscan's fastest path. A header without any of these keys (say
     * "garbage") is not recognized as a header at all. */
    /* "trace", in any case, finds the JSON keys that hold a bare id
     * (traceId, trace_id, xrayTraceId) and Lambda's "XRAY TraceId:". */
    static const char *const pats[] = {"Root=", "Self=", "Parent=", "Sampled=", "Lineage=",
                                       "trace"};
    static const unsigned flags[] = {0, 0, 0, 0, 0, HS_FLAG_CASELESS};
    static const unsigned ids[] = {0, 1, 2, 3, 4, 5};
    return compile(pats, flags, ids, 6, err, errlen);
}

scan_db *scan_db_ids(const xray_root *ids, size_t n, char *err, size_t errlen)
{
    if (n == 0 || n > 1000000) {
        snprintf(err, errlen, "between 1 and 1000000 trace ids can be searched for");
        return NULL;
    }
    /* The 24 random digits identify a trace and appear the same way in the
     * 1-xxxxxxxx-… form and in the 32-hex OTel form, so one literal per id
     * finds both. Case varies between writers: caseless. */
    char(*text)[25] = malloc(n * sizeof *text);
    const char **pats = malloc(n * sizeof *pats);
    unsigned *flags = malloc(n * sizeof *flags);
    unsigned *pids = malloc(n * sizeof *pids);
    scan_db *db = NULL;
    if (text && pats && flags && pids) {
        for (size_t i = 0; i < n; i++) {
            char full[36];
            xray_format_root(ids[i], full);
            memcpy(text[i], full + 11, 24);
            text[i][24] = '\0';
            pats[i] = text[i];
            flags[i] = HS_FLAG_CASELESS;
            pids[i] = (unsigned)i;
        }
        db = compile(pats, flags, pids, (unsigned)n, err, errlen);
    } else {
        snprintf(err, errlen, "out of memory");
    }
    free(text);
    free(pats);
    free(flags);
    free(pids);
    return db;
}

void scan_db_free(scan_db *db)
{
    if (db) {
        hs_free_database(db->hs);
        free(db);
    }
}

scan_scratch *scan_scratch_new(const scan_db *db)
{
    scan_scratch *s = calloc(1, sizeof *s);
    if (s && (!(s->nl = malloc(SCAN_NL_CAP * sizeof *s->nl)) ||
              hs_alloc_scratch(db->hs, &s->hs) != HS_SUCCESS)) {
        scan_scratch_free(s);
        return NULL;
    }
    return s;
}

void scan_scratch_free(scan_scratch *s)
{
    if (s) {
        hs_free_scratch(s->hs);
        free(s->nl);
        free(s);
    }
}

/*
 * The offsets of the newlines in p[0..n) (n < 4 GiB) into out, which has
 * room for every one of them; returns how many. Each piece is
 * indexed once, the first pass to touch it; a hit's line is then found in
 * the index instead of by searching the bytes on both sides of the hit.
 */
static size_t index_nl_sse2(const char *p, size_t n, uint32_t *out)
{
    size_t k = 0, i = 0;
#ifdef __SSE2__
    for (; i + 16 <= n; i += 16) {
        unsigned m = byte_mask16(p + i, '\n');
        for (; m != 0; m &= m - 1)
            out[k++] = (uint32_t)(i + (unsigned)__builtin_ctz(m));
    }
#endif
    for (; i < n; i++)
        if (p[i] == '\n')
            out[k++] = (uint32_t)i;
    return k;
}

#ifdef TG_AVX2_DISPATCH
/* index_nl_sse2() 64 bytes at a time. ALB lines are hundreds of bytes, so
 * most blocks hold no newline: one test settles those. */
TG_TARGET_AVX2 static size_t index_nl_avx2(const char *p, size_t n, uint32_t *out)
{
    size_t k = 0, i = 0;
    const __m256i nl = _mm256_set1_epi8('\n');
    for (; i + 64 <= n; i += 64) {
        __m256i a = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(const void *)(p + i)), nl);
        __m256i b = _mm256_cmpeq_epi8(
            _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 32)), nl);
        if (_mm256_testz_si256(_mm256_or_si256(a, b), _mm256_or_si256(a, b)))
            continue;
        uint64_t m = (uint64_t)(uint32_t)_mm256_movemask_epi8(a) |
                     (uint64_t)(uint32_t)_mm256_movemask_epi8(b) << 32;
        do {
            out[k++] = (uint32_t)(i + _tzcnt_u64(m));
            m = _blsr_u64(m);
        } while (m != 0);
    }
    for (; i < n; i++)
        if (p[i] == '\n')
            out[k++] = (uint32_t)i;
    return k;
}
#endif

static size_t index_nl(const char *p, size_t n, uint32_t *out)
{
#ifdef TG_AVX2_DISPATCH
    if (tg_cpu_avx2())
        return index_nl_avx2(p, n, out);
#endif
    return index_nl_sse2(p, n, out);
}

uint64_t scan_count_lines(const char *p, size_t n)
{
    /* The index the scan counts with, a stack-sized stretch at a time: a
     * stretch of k bytes holds at most k newlines. */
    uint32_t nl[4096];
    uint64_t c = 0;
    for (size_t at = 0; at < n; at += sizeof nl / sizeof *nl) {
        size_t len = n - at < sizeof nl / sizeof *nl ? n - at : sizeof nl / sizeof *nl;
        c += index_nl(p + at, len, nl);
    }
    return n ? c + (p[n - 1] != '\n') : 0;
}

typedef struct scan_ctx {
    const char *base; /* the block */
    const char *piece;
    size_t piece_len;
    const uint32_t *nl; /* the piece's newlines */
    size_t nnl;
    size_t cur;       /* the first newline at or after next_line */
    size_t next_line; /* offset in the piece where the next unseen line starts */
    size_t max_line;
    scan_line_fn fn;
    void *ctx;
    bool stopped;
} scan_ctx;

/* The line holding the byte at piece offset hit, at or after next_line:
 * [*start, *stop), stop at its newline or the piece's end. Moves the cursor
 * to that newline: hits come in order. */
static void locate(scan_ctx *c, size_t hit, size_t *start, size_t *stop)
{
    size_t k = c->cur;
    while (k < c->nnl && c->nl[k] < hit)
        k++;
    c->cur = k;
    *start = k > 0 && c->nl[k - 1] + (size_t)1 > c->next_line ? c->nl[k - 1] + (size_t)1
                                                                : c->next_line;
    *stop = k < c->nnl ? c->nl[k] : c->piece_len;
}

/* Hands over the line [start, stop) and moves past it. */
static int hand_line(scan_ctx *c, size_t start, size_t stop)
{
    c->next_line = stop < c->piece_len ? stop + 1 : stop;
    c->cur += stop < c->piece_len;
    if (stop - start > c->max_line)
        return 0; /* counted as oversized by the piece's line count */
    if (c->fn(c->ctx, c->piece + start, stop - start, (size_t)(c->piece + start - c->base)) != 0) {
        c->stopped = true;
        return 1;
    }
    return 0;
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
                    unsigned flags, void *vctx)
{
    (void)id, (void)from, (void)flags;
    scan_ctx *c = vctx;
    size_t end = (size_t)to;
    /* Hits come in order of their end: one inside a line already handed
     * over is skipped. */
    if (end <= c->next_line)
        return 0;
    size_t start, stop;
    locate(c, end - 1, &start, &stop);
    return hand_line(c, start, stop);
}

/* Lines in the piece longer than max_line, read off its newline index. */
static uint64_t count_oversized(size_t n, const uint32_t *nl, size_t nnl, size_t max_line)
{
    if (n <= max_line)
        return 0;
    uint64_t over = 0;
    size_t start = 0;
    for (size_t k = 0; k < nnl; k++) {
        over += nl[k] - start > max_line;
        start = nl[k] + (size_t)1;
    }
    return over + (start < n && n - start > max_line);
}

int scan_block(const scan_db *db, scan_scratch *s, const char *p, size_t n, size_t max_line,
               scan_line_fn fn, void *ctx, scan_counts *c)
{
    return scan_range(db, s, p, 0, n, max_line, fn, ctx, c);
}

int scan_range(const scan_db *db, scan_scratch *s, const char *p, size_t from, size_t to,
               size_t max_line, scan_line_fn fn, void *ctx, scan_counts *c)
{
    scan_ctx sc = {.base = p, .max_line = max_line, .fn = fn, .ctx = ctx};
    size_t at = from;
    while (at < to) {
        /* A piece ends just after a newline (or at the block's end), so no
         * line, and so no hit, straddles two pieces. */
        size_t len = to - at;
        if (len > SCAN_PIECE) {
            const char *nl = memrchr(p + at, '\n', SCAN_PIECE);
            if (!nl)
                nl = memchr(p + at + SCAN_PIECE, '\n', to - at - SCAN_PIECE);
            if (nl)
                len = (size_t)(nl - (p + at)) + 1;
        }
        const char *piece = p + at;
        size_t nnl = index_nl(piece, len, s->nl);
        c->lines += nnl + (piece[len - 1] != '\n');
        c->oversized += count_oversized(len, s->nl, nnl, max_line);
        sc.piece = piece;
        sc.piece_len = len;
        sc.nl = s->nl;
        sc.nnl = nnl;
        sc.cur = 0;
        sc.next_line = 0;
        /* len is at most one line past 256 KiB; a longer line is still far
         * below hs_scan's 4 GiB limit because blocks are split by the caller
         * at 1 GiB. */
        hs_error_t rc = hs_scan(db->hs, piece, (unsigned)len, 0, s->hs, on_match, &sc);
        if (sc.stopped)
            return SCAN_STOPPED;
        if (rc != HS_SUCCESS)
            return SCAN_ERROR;
        at += len;
    }
    return SCAN_OK;
}
