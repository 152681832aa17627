/*
 * scan: finds the lines worth decoding in a block of whole lines.
 *
 * A Hyperscan database of literals runs over the whole block (never line by
 * line); only around a hit is the enclosing line located and handed to the
 * caller, once per line however many hits it holds. Two databases exist:
 * scan_db_headers() looks for the keys of an X-Amzn-Trace-Id header (Root=,
 * Self=, Parent=, Sampled=, Lineage=) and, in any case, "trace" (JSON keys
 * such as xrayTraceId, Lambda's XRAY TraceId), and drives stats and
 * timelines;
 * scan_db_ids() looks for the 24 random hex digits of given trace ids, in any
 * case, and lets find skip every other line.
 *
 * The block is also where lines are counted and where lines longer than the
 * limit are caught: the block is walked in cache-sized pieces, each counted
 * and then scanned while it is still in cache.
 *
 * A scan_db is built once and shared read-only by all threads; each thread
 * owns a scan_scratch. hs_scan takes an unsigned int length, so blocks are
 * scanned in pieces well below 4 GiB.
 */
#ifndef TG_SCAN_H
#define TG_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "decode/xray.h"

typedef struct scan_db scan_db;
typedef struct scan_scratch scan_scratch;

/* Each returns NULL and writes a message into err on failure. */
scan_db *scan_db_headers(char *err, size_t errlen);
scan_db *scan_db_ids(const xray_root *ids, size_t n, char *err, size_t errlen);
void scan_db_free(scan_db *db);

scan_scratch *scan_scratch_new(const scan_db *db);
void scan_scratch_free(scan_scratch *s);

/*
 * Called for each line holding a hit: line[0..len) without its '\n' (a
 * trailing '\r' is kept: the decoder strips it), off its offset from the
 * start of the block. Nonzero stops the scan.
 */
typedef int (*scan_line_fn)(void *ctx, const char *line, size_t len, size_t off);

typedef struct scan_counts {
    uint64_t lines;     /* every line in the block, oversized ones included */
    uint64_t oversized; /* lines longer than max_line bytes: never decoded */
} scan_counts;

enum { SCAN_OK = 0, SCAN_STOPPED = 1, SCAN_ERROR = -1 };

/* Scans p[0..n), which holds whole lines (the last may lack its '\n'), and
 * adds to *c. */
int scan_block(const scan_db *db, scan_scratch *s, const char *p, size_t n, size_t max_line,
               scan_line_fn fn, void *ctx, scan_counts *c);

/* scan_block() over the lines of p[from..to) alone (from at a line's start,
 * to just past a newline or at the block's end), offsets still counted
 * from p: for a caller that reads a block in stretches. */
int scan_range(const scan_db *db, scan_scratch *s, const char *p, size_t from, size_t to,
               size_t max_line, scan_line_fn fn, void *ctx, scan_counts *c);

/* Counts the lines in p[0..n) as scan_block does; for tests and benchmarks. */
uint64_t scan_count_lines(const char *p, size_t n);

#endif
