/*
 * collect: what one worker does with the bytes of an input: checks that it is
 * text, learns its format, scans blocks, decodes each line that matters and
 * keeps its event (or folds it into the worker's aggregate for stats), and
 * keeps the records and references the joins need.
 *
 * Internal to the engine. A collector is one worker's private state; nothing
 * in it is shared.
 */
#ifndef TG_COLLECT_H
#define TG_COLLECT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/cloudfront.h"
#include "decode/sniff.h"
#include "decode/tstamp.h"
#include "engine/engine.h"
#include "engine/join.h"
#include "group/table.h"
#include "scan/scan.h"
#include "util/u32vec.h"

/* Source names a collector remembers (collector.recent): 4 held an
 * archive's load balancers, but not the 8 edges of a CloudFront log, whose
 * names then went to the table on most records. */
#define COLLECT_RECENT 16

/* The longest last line of a block kept for the next (collector.tail): a
 * REPORT line is about 200 bytes. */
#define COLLECT_TAIL_MAX 2048

typedef struct collector {
    const eng_settings *s;
    const scan_db *db;
    scan_scratch *scratch;
    unsigned worker;

    grp_events ev; /* timelines and find: the events kept */
    grp_agg agg;   /* stats: traces aggregated as events arrive */
    grp_event pend[GRP_BATCH]; /* stats: events waiting to go into agg */
    size_t npend;
    arena lines;
    intern lbs;
    /* The last source names interned, and their ids, tried before the
     * table: an archive interleaves a handful of load balancers, a
     * CloudFront log a dozen edges. */
    struct {
        char name[96];
        size_t len;    /* SIZE_MAX: empty */
        uint64_t tail; /* the name's last 8 bytes (source_id()) */
        uint16_t id;
    } recent[COLLECT_RECENT];
    unsigned recent_next; /* the entry replaced next */
    eng_counts c;
    bool out_of_memory;

    /* For the joins (join.h). */
    join_side conn, cf;
    /*
     * The connection join's references cost a tenth of a stats run and
     * 24 bytes an ALB line, and most archives hold no connection log. So
     * they are kept only once one has been seen: conn_logs is the engine's
     * flag, raised by whoever meets a connection log (or, before any input
     * is read, by a file named like one). An ALB input read while it was
     * down is listed in missed; the engine reads those again for their
     * references alone (refs_only) if connection records turned up after
     * all. With conn_logs NULL (tests) references are always kept.
     */
    atomic_bool *conn_logs;
    bool keep_conn_refs; /* *conn_logs when the current block began */
    bool refs_only;      /* a second reading: keep references, nothing else */
    bool listed_missed;  /* the current input is in missed already */
    u32vec missed;       /* inputs, in the order met; may repeat */
    /*
     * The same for the CloudFront join. Its references are the X-Amz-Cf-Id
     * that application lines log, looked for on every text line that holds
     * a header (a tenth of stats over nginx logs behind CloudFront, most of
     * whose archives come without CloudFront's logs): cf_logs is raised by
     * a CloudFront log, or before any input is read by a file named like
     * one, and the application inputs read while it was down are listed in
     * missed_cf. With cf_logs NULL (tests) references are always kept.
     */
    atomic_bool *cf_logs;
    bool keep_cf_refs;     /* *cf_logs when the current block began */
    bool listed_missed_cf; /* the current input is in missed_cf already */
    u32vec missed_cf;      /* inputs, in the order met; may repeat */

    /* The input being read. */
    uint32_t input;
    uint64_t block_off; /* offset of the current block in the input */
    bool checked;       /* the text check and format detection have run */
    bool binary;        /* the input looked binary and was dropped */
    bool scan_failed;
    bool mapped;        /* the input's mapping is kept: lines stay in it */
    sniff_format fmt;   /* the input's format */
    cloudfront_state cfs; /* the column map of a CloudFront input */
    /* The last line of the input's block before, for a Lambda REPORT whose
     * XRAY part opens the next block: blocks end wherever a buffer filled,
     * and the two lines are one event wherever the cut fell. */
    char tail[COLLECT_TAIL_MAX];
    size_t tail_n;      /* its length, without '\r' and newline */
    uint64_t tail_off;  /* its offset in the input */
    uint64_t tail_end;  /* the offset past its newline; UINT64_MAX: none */
    bool by_ids;     /* db holds find's ids (eng_scans_ids()), not the header keys */
    bool alb_by_ids; /* … and ALB access logs are scanned with it (engine.h) */
    /* ALB access logs through the scanner, as find reads them, rather than
     * line by line; false but in tests, which compare the two. */
    bool alb_by_scan;
    /* The next stretch of an application log is read line by line
     * (app_lines()); app_by_scan, set in tests, keeps to the scanner. */
    bool app_direct;
    bool app_by_scan;
    tstamp_memo app_time; /* the minutes of application lines' times */
} collector;

int collect_init(collector *c, const eng_settings *s, const scan_db *db, unsigned worker);
void collect_free(collector *c);

/* Starts a new input, or a piece of one whose format is already known
 * (check_text false: the text check and detection ran on its start). */
void collect_begin(collector *c, uint32_t input, bool check_text, sniff_format fmt);

/* The format of an input from its first bytes, unless one is forced. */
sniff_format collect_detect(const eng_settings *s, const char *p, size_t n);

/* Where a piece of p[0..n) that would end at `end` (just past a newline)
 * had better end for an input of format fmt: past the next line when that
 * line is the XRAY part of a Lambda REPORT, which is read with the line
 * before it. Pieces cut there are read the same by any number of workers. */
size_t collect_piece_end(const char *p, size_t end, size_t n, sniff_format fmt);

/* Scans one block of whole lines that starts at offset off of the input.
 * Returns nonzero to stop reading this input (binary, scan error, memory). */
int collect_block(collector *c, const char *p, size_t n, uint64_t off);

/* Puts the events stats holds back for a batch into the aggregate; done at
 * the end of every block, so agg is whole between blocks. Returns 0 or -1
 * (memory). */
int collect_flush(collector *c);

#endif
