#define _GNU_SOURCE /* memmem, memrchr */
#include "engine/collect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/alb.h"
#include "decode/albconn.h"
#include "decode/applog.h"
#include "decode/lambda.h"
#include "decode/tgtime.h"

/* Every line's raw text goes into one of a worker's 8 MiB chunks; a line may
 * be up to max_line long, so chunks are at least that plus its length. */
#define COLLECT_CHUNK (8u << 20)

/* The first bytes inspected for the binary check and format detection:
 * enough to see past a header line, small enough to cost nothing. */
#define COLLECT_SNIFF (64u << 10)

int collect_init(collector *c, const eng_settings *s, const scan_db *db, unsigned worker)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    c->db = db;
    c->worker = worker;
    c->by_ids = eng_scans_ids(s);
    c->alb_by_ids = c->by_ids && s->nids <= ENG_ALB_ID_SCAN_MAX;
    c->scratch = scan_scratch_new(db);
    if (!c->scratch)
        return -1;
    size_t chunk = s->max_line * 2 + 64 > COLLECT_CHUNK ? s->max_line * 2 + 64 : COLLECT_CHUNK;
    arena_init(&c->lines, chunk);
    intern_init(&c->lbs);
    grp_agg_init(&c->agg);
    for (unsigned i = 0; i < COLLECT_RECENT; i++)
        c->recent[i].len = SIZE_MAX; /* no name cached yet */
    return 0;
}

void collect_free(collector *c)
{
    scan_scratch_free(c->scratch);
    free(c->ev.v);
    arena_free(&c->lines);
    intern_free(&c->lbs);
    grp_agg_free(&c->agg);
    join_side_free(&c->conn);
    join_side_free(&c->cf);
    free(c->missed.v);
    free(c->missed_cf.v);
    memset(c, 0, sizeof *c);
}

/* Raises the engine's flag when the input is a connection log, or a
 * CloudFront log: from now on ALB lines, or application lines, keep their
 * references (collect.h). */
static void note_format(collector *c)
{
    if (c->fmt == SNIFF_ALB_CONN && c->conn_logs)
        atomic_store_explicit(c->conn_logs, true, memory_order_relaxed);
    if (c->fmt == SNIFF_CLOUDFRONT && c->cf_logs)
        atomic_store_explicit(c->cf_logs, true, memory_order_relaxed);
}

void collect_begin(collector *c, uint32_t input, bool check_text, sniff_format fmt)
{
    c->input = input;
    c->block_off = 0;
    c->checked = !check_text;
    c->binary = false;
    c->scan_failed = false;
    c->mapped = false;
    c->listed_missed = false;
    c->listed_missed_cf = false;
    c->fmt = fmt;
    c->tail_end = UINT64_MAX;
    c->app_direct = false;
    if (!check_text)
        note_format(c);
    cloudfront_init(&c->cfs);
}

sniff_format collect_detect(const eng_settings *s, const char *p, size_t n)
{
    if (s->input_format >= 0)
        return (sniff_format)s->input_format;
    return sniff_detect(p, n < COLLECT_SNIFF ? n : COLLECT_SNIFF);
}

/* A header is a field-18 value holding at least one of the keys the scanner
 * looks for, so that what counts as a header does not depend on whether the
 * line was found through field 18 or through a decoy elsewhere on it. */
static bool has_header_key(tg_str h)
{
    static const char *const keys[] = {"Root=", "Self=", "Parent=", "Sampled=", "Lineage="};
    /* Headers open with a key, Root= on a first hop: no search then. */
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (h.n >= strlen(keys[i]) && memcmp(h.p, keys[i], strlen(keys[i])) == 0)
            return true;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (memmem(h.p, h.n, keys[i], strlen(keys[i])))
            return true;
    return false;
}

static bool wanted(const eng_settings *s, xray_root r)
{
    size_t lo = 0, hi = s->nids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = xray_root_cmp(&s->ids[mid], &r);
        if (cmp == 0)
            return true;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

int collect_flush(collector *c)
{
    int rc = grp_agg_add_batch(&c->agg, c->pend, c->npend, NULL);
    c->npend = 0;
    return rc;
}

/*
 * The room for the next event, where it will stay: stats' batch, or the end
 * of the event vector. Building an event there spares a copy, whose wide
 * loads of the narrower stores just made could not be forwarded and
 * stalled (3% of a stats run). collect_commit() adds it; until then it is
 * scratch. NULL when memory is short.
 */
static grp_event *collect_next(collector *c)
{
    if (c->s->mode == ENG_STATS)
        return &c->pend[c->npend];
    if (grp_events_reserve(&c->ev, 1) != 0)
        return NULL;
    return &c->ev.v[c->ev.n];
}

/* Adds the event built at collect_next(). stats folds events into its
 * aggregate a batch at a time: the table's cache misses then overlap
 * (grp_agg_add_batch). */
static int collect_commit(collector *c)
{
    if (c->s->mode != ENG_STATS) {
        c->ev.n++;
        return 0;
    }
    return ++c->npend == GRP_BATCH ? collect_flush(c) : 0;
}

/* The last 8 bytes of a name (fewer, zero-padded, when it is shorter),
 * where names of one kind differ: "…/8337dfda9f42dac9", "…/IAD89-C1". */
static inline uint64_t name_tail(tg_str name)
{
    uint64_t t = 0;
    if (name.n >= 8)
        memcpy(&t, name.p + name.n - 8, 8);
    else if (name.n)
        memcpy(&t, name.p, name.n);
    return t;
}

/* Source names (load balancers, edges, services) repeat line after line:
 * the last few are compared before the table is asked. */
static uint16_t source_id(collector *c, tg_str name)
{
    /* The tails turn away the other names without a memcmp() call each:
     * with CloudFront's edges, those calls were 7% of a run. */
    const uint64_t tail = name_tail(name);
    for (unsigned i = 0; i < COLLECT_RECENT; i++)
        if (c->recent[i].tail == tail && c->recent[i].len == name.n &&
            memcmp(c->recent[i].name, name.p, name.n) == 0)
            return c->recent[i].id;
    uint16_t id = intern_id(&c->lbs, name);
    if (name.n <= sizeof c->recent[0].name) {
        unsigned k = c->recent_next++ % COLLECT_RECENT;
        memcpy(c->recent[k].name, name.p, name.n);
        c->recent[k].len = name.n;
        c->recent[k].tail = tail;
        c->recent[k].id = id;
    }
    return id;
}

/* Lists the current input in *missed, once per input (*listed): it was read
 * without a join's references (collect.h). -1 when memory is short. */
static int list_missed(collector *c, u32vec *missed, bool *listed)
{
    if (*listed)
        return 0;
    if (u32vec_push(missed, c->input) != 0)
        return -1;
    *listed = true;
    return 0;
}

/* Keeps the raw text behind an event when the printers will want it. */
static int keep_line(collector *c, grp_event *e, tg_str text, bool in_map)
{
    e->line = GRP_NO_LINE;
    if (!c->s->keep_lines)
        return 0;
    if (in_map && c->mapped) {
        e->line = grp_line_mapped(text.n);
        return 0;
    }
    uint64_t ref = arena_put(&c->lines, text);
    if (ref == UINT64_MAX)
        return -1;
    e->line = ref | (uint64_t)c->worker << ARENA_REF_BITS;
    return 0;
}

static void event_init(collector *c, grp_event *e, size_t off, unsigned format)
{
    memset(e, 0, sizeof *e);
    e->offset = c->block_off + off;
    e->input = c->input;
    e->format = format & 15;
}

static void set_status(grp_event *e, long st)
{
    e->status = st > 0 && st < 1000 ? (unsigned)st : 0;
}

/* What grouping reads of an ALB line besides what alb_parse_fields() reads
 * anyway (type, times, status): the trace, the load balancer and, while
 * references are kept, the connection join's id (the last field before the
 * newer ones: the tokenizer stops at field 22 without it). */
static uint64_t alb_want(const collector *c)
{
    return ALB_FIELD(ALB_TRACE_ID) | ALB_FIELD(ALB_ELB) |
           (c->keep_conn_refs ? ALB_FIELD(ALB_CONN_TRACE_ID) : 0);
}

/* An ALB access-log line: an event when field 18 holds a header. */
static int alb_event(collector *c, const alb_record *rec, const char *line, size_t len,
                     size_t off)
{
    if (rec->t.nfields <= ALB_TRACE_ID || !has_header_key(rec->t.f[ALB_TRACE_ID]))
        return 0;
    grp_event *e = collect_next(c);
    if (!e)
        return -1;
    event_init(c, e, off, GRP_FMT_ALB);
    tg_str h = rec->t.f[ALB_TRACE_ID];
    xray_status st = xray_decode_root(h.p, h.n, &e->root);
    c->c.header_lines++;
    if (st != XRAY_OK) {
        c->c.malformed[st]++;
        c->c.malformed_by[GRP_FMT_ALB]++;
        return 0;
    }
    c->c.events++;
    c->c.events_by[GRP_FMT_ALB]++;
    if (c->s->nids && !wanted(c->s, e->root))
        return 0;
    if (c->keep_conn_refs) {
        tg_str tid =
            rec->t.nfields > ALB_CONN_TRACE_ID ? rec->t.f[ALB_CONN_TRACE_ID] : TG_STR_NULL;
        if (tid.n > 4 && memcmp(tid.p, "TID_", 4) == 0 &&
            join_add_ref(&c->conn, e->root, join_key(tid.p, tid.n)) != 0)
            return -1;
    } else if (list_missed(c, &c->missed, &c->listed_missed) != 0) {
        return -1;
    }
    if (c->refs_only)
        return 0;

    e->end_us = rec->time_us;
    e->start_us = rec->created_us != TGTIME_NONE ? rec->created_us : rec->time_us;
    /* A creation time after the response time is a clock glitch; the event
     * still spans both instants. */
    if (e->start_us > e->end_us) {
        int64_t t = e->start_us;
        e->start_us = e->end_us;
        e->end_us = t;
    }
    set_status(e, rec->status);
    e->lb = source_id(c, rec->t.f[ALB_ELB]);
    if (keep_line(c, e, tg_str_make(line, len), true) != 0)
        return -1;
    return collect_commit(c);
}

/* A line of an ALB input that the scanner found. */
static int on_alb_line(collector *c, const char *line, size_t len, size_t off)
{
    alb_record rec;
    if (!alb_parse_fields(line, len, alb_want(c), &rec)) {
        c->c.other_lines++;
        return 0;
    }
    return alb_event(c, &rec, line, len, off);
}

static int note_hit(void *ctx, const char *line, size_t len, size_t off)
{
    (void)line, (void)len, (void)off;
    *(bool *)ctx = true;
    return 1;
}

/* Any line of an ALB input, scanned or not (alb_lines()): counted exactly
 * as on_alb_line() counts the lines the scanner finds. A header in field 18
 * is itself a hit, so an ALB line needs no scan; a line that is not one
 * counts among other_lines only if it holds a hit, which Hyperscan then
 * tells on that line alone. Such lines are rare in an ALB input. */
static int alb_direct_line(collector *c, const char *line, size_t len, size_t off)
{
    alb_record rec;
    if (alb_parse_fields(line, len, alb_want(c), &rec))
        return alb_event(c, &rec, line, len, off);
    bool hit = false;
    scan_counts sc = {0, 0};
    if (scan_block(c->db, c->scratch, line, len, SIZE_MAX, note_hit, &hit, &sc) == SCAN_ERROR) {
        c->scan_failed = true;
        return 1;
    }
    c->c.other_lines += hit;
    return 0;
}

/* The line of block that the newline at end closes, without its '\r'. */
static tg_str line_ending_at(const char *block, const char *end)
{
    const char *nl = memrchr(block, '\n', (size_t)(end - block));
    const char *start = nl ? nl + 1 : block;
    size_t n = (size_t)(end - start);
    if (n && start[n - 1] == '\r')
        n--;
    return tg_str_make(start, n);
}

/* The line before line in the current block, or TG_STR_NULL. */
static tg_str previous_line(const collector *c, const char *block, const char *line)
{
    if (line == block)
        return c->tail_end == c->block_off ? tg_str_make(c->tail, c->tail_n) : TG_STR_NULL;
    if (line == block + 1)
        return TG_STR_NULL;
    return line_ending_at(block, line - 1);
}

/* A header found on an application or Lambda line: counts it and, when it
 * holds a valid Root, makes the event. text is what the printers will get. */
static int header_event(collector *c, xray_status st, xray_root root, unsigned format,
                        int64_t time_us, int64_t dur_us, long status, tg_str source,
                        tg_str text, size_t off, bool in_map, tg_str cf_id)
{
    c->c.header_lines++;
    if (st != XRAY_OK) {
        c->c.malformed[st]++;
        c->c.malformed_by[format]++;
        return 0;
    }
    c->c.events++;
    c->c.events_by[format]++;
    if (time_us == TGTIME_NONE)
        c->c.untimed++;
    if (c->s->nids && !wanted(c->s, root))
        return 0;
    if (format == GRP_FMT_APP) {
        if (c->keep_cf_refs) {
            if (cf_id.n && join_add_ref(&c->cf, root, join_key(cf_id.p, cf_id.n)) != 0)
                return -1;
        } else if (list_missed(c, &c->missed_cf, &c->listed_missed_cf) != 0) {
            return -1;
        }
    }
    if (c->refs_only)
        return 0;
    grp_event *e = collect_next(c);
    if (!e)
        return -1;
    event_init(c, e, off, format);
    e->root = root;
    e->start_us = e->end_us = time_us == TGTIME_NONE ? GRP_UNTIMED : time_us;
    if (time_us != TGTIME_NONE && dur_us > 0)
        e->end_us = time_us + dur_us;
    set_status(e, status);
    e->lb = source_id(c, source);
    if (keep_line(c, e, text, in_map) != 0)
        return -1;
    return collect_commit(c);
}

/* Whether lines of format fmt are read for Lambda REPORT and XRAY lines
 * (on_lambda()): the text formats; ALB, connection, CloudFront and JSON
 * inputs have lines of their own shape. */
static bool lambda_format(sniff_format fmt)
{
    return fmt == SNIFF_TEXT || fmt == SNIFF_CLASSIC_ELB;
}

/* A Lambda REPORT, on one line or with its XRAY part on the next. The event
 * is the REPORT line's; its text is both parts joined by a tab so that the
 * printer reads one line. */
static int on_lambda(collector *c, const char *block, const char *line, size_t len, size_t off)
{
    lambda_report rep;
    lambda_xray xr;
    int64_t xtime = TGTIME_NONE;
    char joined[4096];
    tg_str text = tg_str_make(line, len);
    if (lambda_parse_report(line, len, &rep)) {
        if (!rep.has_xray)
            return 0; /* an untraced REPORT; a later XRAY line may claim it */
    } else if (lambda_parse_xray(line, len, &xr, &xtime)) {
        tg_str prev = previous_line(c, block, line);
        if (prev.p && lambda_parse_report(prev.p, prev.n, &rep) && !rep.has_xray) {
            rep.has_xray = true;
            rep.xray = xr;
            /* The event is at the REPORT line. When that line closed the
             * block before, off goes below 0: event_init() adds it to the
             * block's offset modulo 2^64. */
            if (prev.p == c->tail)
                off -= (size_t)(c->block_off - c->tail_off);
            else
                off -= (size_t)(line - prev.p);
            if (prev.n + 1 + len <= sizeof joined) {
                memcpy(joined, prev.p, prev.n);
                joined[prev.n] = '\t';
                memcpy(joined + prev.n + 1, line, len);
                text = tg_str_make(joined, prev.n + 1 + len);
            }
        } else {
            /* An XRAY line whose REPORT is out of reach: still the trace's. */
            memset(&rep, 0, sizeof rep);
            rep.time_us = xtime;
            rep.duration_us = -1;
            rep.has_xray = true;
            rep.xray = xr;
        }
    } else {
        return 1; /* not Lambda's: the caller reads it as an app line */
    }
    int64_t start = rep.time_us;
    xray_status st = rep.xray.trace_id.p ? rep.xray.verdict : XRAY_NO_ROOT;
    int rc = header_event(c, st, rep.xray.root, GRP_FMT_LAMBDA, start, rep.duration_us, 0,
                          tg_str_make("lambda", 6), text, off, false, TG_STR_NULL);
    return rc < 0 ? -1 : 0;
}

static int on_app_line(collector *c, const char *line, size_t len, size_t off)
{
    const char *block = line - off;
    if (lambda_format(c->fmt) && lambda_may_hold(line, len)) {
        int rc = on_lambda(c, block, line, len, off);
        if (rc <= 0)
            return rc;
    }
    applog_record ar;
    if (!applog_decode_traced(line, len, c->keep_cf_refs, &c->app_time, &ar))
        return 0;
    xray_root root = ar.root;
    return header_event(c, ar.verdict, root, GRP_FMT_APP, ar.time_us, 0, ar.http_status,
                        tg_str_make("app", 3), tg_str_make(line, len), off, true, ar.cf_id);
}

static int on_line(void *ctx, const char *line, size_t len, size_t off)
{
    collector *c = ctx;
    if (len && line[len - 1] == '\r')
        len--;
    int rc = c->fmt == SNIFF_ALB ? on_alb_line(c, line, len, off) : on_app_line(c, line, len, off);
    if (rc < 0) {
        c->out_of_memory = true;
        return 1;
    }
    return 0;
}

/* A connection-log line: a record for the connection join. */
static int conn_line(collector *c, const char *line, size_t len, size_t off)
{
    albconn_record r;
    if (!albconn_parse(line, len, &r))
        return 0;
    tg_str tid = r.t.f[ALBCONN_CONN_TRACE_ID];
    if (tid.n <= 4 || memcmp(tid.p, "TID_", 4) != 0)
        return 0;
    c->c.conn_records++;
    grp_event e;
    event_init(c, &e, off, GRP_FMT_ALB_CONN);
    e.start_us = r.time_us;
    e.end_us = r.time_us + (r.handshake_us > 0 ? r.handshake_us : 0);
    tg_str elb = r.t.nfields > ALBCONN_ELB ? r.t.f[ALBCONN_ELB] : TG_STR_NULL;
    e.lb = source_id(c, elb.n && !tg_str_is_dash(elb) ? elb : tg_str_make("alb-conn", 8));
    if (keep_line(c, &e, tg_str_make(line, len), false) != 0)
        return -1;
    return join_add_rec(&c->conn, &e, join_key(tid.p, tid.n));
}

/* A CloudFront line: a directive updates the column map, a record becomes
 * a record for the CloudFront join. */
static int cloudfront_line(collector *c, const char *line, size_t len, size_t off)
{
    if (len && line[0] == '#') {
        cloudfront_directive(&c->cfs, line, len);
        return 0;
    }
    cloudfront_record r;
    if (!cloudfront_parse(&c->cfs, line, len, &r))
        return 0;
    tg_str id = r.col[CLOUDFRONT_REQUEST_ID];
    if (!id.p || id.n == 0 || tg_str_is_dash(id))
        return 0;
    c->c.cf_records++;
    grp_event e;
    event_init(c, &e, off, GRP_FMT_CLOUDFRONT);
    e.start_us = r.start_us;
    e.end_us = r.end_us;
    set_status(&e, r.status);
    /* "cloudfront/" and the edge, at most 40 bytes of it. Built by hand:
     * snprintf() was 8% of a stats run over CloudFront logs. */
    char name[64] = "cloudfront/";
    tg_str edge = r.col[CLOUDFRONT_EDGE_LOCATION];
    size_t en = edge.n < 40 ? edge.n : 40;
    if (en)
        memcpy(name + 11, edge.p, en);
    e.lb = source_id(c, tg_str_make(name, 11 + en));
    /* The printer needs the columns by name, and the #Fields map that
     * named them may have changed since: the columns this decoder knows
     * are kept after the raw line, tab-separated in enum order. */
    if (c->s->keep_lines) {
        char norm[8192];
        size_t k = 0;
        if (len + 1 < sizeof norm) {
            memcpy(norm, line, len);
            k = len;
            norm[k++] = '\n';
            for (int i = 0; i < CLOUDFRONT_NCOLS; i++) {
                tg_str v = r.col[i];
                if (k + v.n + 1 >= sizeof norm)
                    break;
                if (i)
                    norm[k++] = '\t';
                if (v.p)
                    memcpy(norm + k, v.p, v.n), k += v.n;
            }
        }
        if (keep_line(c, &e, tg_str_make(k ? norm : line, k ? k : len), false) != 0)
            return -1;
    } else {
        e.line = GRP_NO_LINE;
    }
    return join_add_rec(&c->cf, &e, join_key(id.p, id.n));
}

/*
 * How far ahead of the line search each_line() asks for the text. The line
 * search is the first to read a mapped file, and alone it waits on memory
 * at every cache line; a few kilobytes ahead, the fetches overlap the
 * parsing of the lines before. 2, 4 and 8 KiB did as well (stats over 1 GB
 * of ALB lines: about 12% faster).
 */
#define COLLECT_PREFETCH 4096

/*
 * Connection and CloudFront logs have no trace header to scan for: every
 * line is a potential record, so they are read line by line. So are ALB
 * access logs (alb_lines()) and the dense stretches of application logs
 * (app_lines()). The lines of p[from..to) go to fn, their offsets counted
 * from p. fn returns 0, -1 when memory ran out, or 1 to stop for another
 * reason it has recorded.
 */
static int each_line(collector *c, const char *p, size_t from, size_t to,
                     int (*fn)(collector *, const char *, size_t, size_t))
{
    const char *end = p + to;
    /* Every cache line is asked for COLLECT_PREFETCH bytes before the line
     * search reaches it. */
    const char *ahead = p + from;
    for (const char *at = p + from; at < end;) {
        const char *nl = memchr(at, '\n', (size_t)(end - at));
        size_t len = (size_t)((nl ? nl : end) - at);
        const char *want = at + len;
        want = (size_t)(end - want) > COLLECT_PREFETCH ? want + COLLECT_PREFETCH : end;
        for (; ahead < want; ahead += 64)
            __builtin_prefetch(ahead);
        c->c.lines++;
        if (len > c->s->max_line) {
            c->c.oversized++;
        } else {
            size_t l = len && at[len - 1] == '\r' ? len - 1 : len;
            int rc = fn(c, at, l, (size_t)(at - p));
            if (rc != 0) {
                c->out_of_memory |= rc < 0;
                return 1;
            }
        }
        at = nl ? nl + 1 : end;
    }
    return 0;
}

/* The lines of p[from..to) that the scanner finds, each to on_line(). */
static int scanned_lines(collector *c, const char *p, size_t from, size_t to)
{
    scan_counts sc = {0, 0};
    int src = scan_range(c->db, c->scratch, p, from, to, c->s->max_line, on_line, c, &sc);
    c->c.lines += sc.lines;
    c->c.oversized += sc.oversized;
    if (src == SCAN_ERROR)
        c->scan_failed = true;
    return src != SCAN_OK;
}

/*
 * ALB access logs are read line by line too, not through the scanner:
 * nearly every line holds a header, so finding lines by their hits only
 * adds passes (the newline index, Hyperscan's, locating each hit's line)
 * that cost a third of a stats run. Every line is parsed instead, the
 * tokenizer being the scan; the counts are those of the scanner's path
 * (alb_direct_line()). find keeps the scanner for a few ids, whose
 * database skips nearly every line; for more, it is slower than the
 * tokenizer (engine.h, ENG_ALB_ID_SCAN_MAX).
 */
static int alb_lines(collector *c, const char *p, size_t n)
{
    if (c->alb_by_ids || c->alb_by_scan)
        return scanned_lines(c, p, 0, n);
    return each_line(c, p, 0, n, alb_direct_line);
}

/*
 * Application and Lambda logs, text or JSON, are read in stretches of about
 * APP_STRETCH bytes. A stretch goes through the scanner, which hands over
 * only the lines that hold a hit, unless at least APP_DENSE_NUM/DEN of the
 * lines of the stretch before held a header: then it is read line by line,
 * every line decoded (on_app_line()), as ALB logs are. In a log with a
 * header on every line (nginx logging $http_x_amzn_trace_id) the scanner
 * hands over every line anyway, and its passes (Hyperscan's, at about four
 * hits a line: Self=, Root=, Parent=, Sampled=; the newline index; finding
 * each hit's line) were a quarter of the run. A line without a header
 * costs more decoded than scanned, so a stretch where headers thin out
 * sends the next one back to the scanner. Over 400K nginx lines, scanned
 * against all decoded: with no header 0.018 against 0.031 s, with a
 * header on a quarter of them 0.052 against 0.051 s, on half of them
 * 0.099 against 0.077 s; hence a third.
 *
 * Both ways make the same events and counts (test_collect, fuzz_collect)
 * because the decoders make something of a line only when it holds a hit:
 * a text header needs "Root=", a Lambda line "TraceId", a JSON line
 * "Root=" or a key spelling "trace" (fuzz_formats checks each). find's
 * scans for its ids (eng_scans_ids()), a database that skips nearly every
 * line, always go through the scanner.
 */
#define APP_STRETCH ((size_t)64 << 10)
#define APP_DENSE_NUM 1
#define APP_DENSE_DEN 3

static int app_lines(collector *c, const char *p, size_t n)
{
    const bool may_direct = !c->by_ids && !c->app_by_scan;
    for (size_t at = 0; at < n;) {
        size_t to = n;
        if (n - at > APP_STRETCH) {
            const char *nl = memchr(p + at + APP_STRETCH, '\n', n - at - APP_STRETCH);
            to = nl ? (size_t)(nl - p) + 1 : n;
        }
        uint64_t lines = c->c.lines, headers = c->c.header_lines;
        int rc = c->app_direct ? each_line(c, p, at, to, on_app_line)
                                : scanned_lines(c, p, at, to);
        if (rc != 0)
            return rc;
        lines = c->c.lines - lines;
        headers = c->c.header_lines - headers;
        c->app_direct = may_direct && headers * APP_DENSE_DEN >= lines * APP_DENSE_NUM;
        at = to;
    }
    return 0;
}

/* Keeps the last line of block p[0..n) at offset off for the next block
 * (collector.tail), in the formats whose lines on_lambda() reads. */
static void keep_tail(collector *c, const char *p, size_t n, uint64_t off)
{
    c->tail_end = UINT64_MAX;
    if (!lambda_format(c->fmt) || n == 0 || p[n - 1] != '\n')
        return;
    tg_str last = line_ending_at(p, p + n - 1);
    if (last.n > sizeof c->tail)
        return;
    memcpy(c->tail, last.p, last.n);
    c->tail_n = last.n;
    c->tail_off = off + (uint64_t)(last.p - p);
    c->tail_end = off + n;
}

size_t collect_piece_end(const char *p, size_t end, size_t n, sniff_format fmt)
{
    if (!lambda_format(fmt) || end >= n)
        return end;
    const char *nl = memchr(p + end, '\n', n - end);
    size_t len = (size_t)((nl ? nl : p + n) - (p + end));
    if (len && p[end + len - 1] == '\r')
        len--;
    lambda_xray xr;
    if (!lambda_parse_xray(p + end, len, &xr, NULL))
        return end;
    return nl ? (size_t)(nl - p) + 1 : n;
}

int collect_block(collector *c, const char *p, size_t n, uint64_t off)
{
    if (!c->checked) {
        c->checked = true;
        if (sniff_looks_binary(p, n < COLLECT_SNIFF ? n : COLLECT_SNIFF)) {
            c->binary = true;
            return 1;
        }
        c->fmt = collect_detect(c->s, p, n);
        note_format(c);
    }
    /* A second reading wants the references of ALB and application lines,
     * nothing else. */
    if (c->refs_only && (c->fmt == SNIFF_ALB_CONN || c->fmt == SNIFF_CLOUDFRONT))
        return 1;
    c->keep_conn_refs =
        !c->conn_logs || atomic_load_explicit(c->conn_logs, memory_order_relaxed);
    c->keep_cf_refs = !c->cf_logs || atomic_load_explicit(c->cf_logs, memory_order_relaxed);
    c->block_off = off;
    uint64_t lines_before = c->c.lines;
    int rc;
    if (c->fmt == SNIFF_ALB) {
        rc = alb_lines(c, p, n);
    } else if (c->fmt == SNIFF_ALB_CONN) {
        rc = each_line(c, p, 0, n, conn_line);
    } else if (c->fmt == SNIFF_CLOUDFRONT) {
        rc = each_line(c, p, 0, n, cloudfront_line);
    } else {
        rc = app_lines(c, p, n);
        keep_tail(c, p, n, off);
    }
    c->c.lines_by_input[c->fmt] += c->c.lines - lines_before;
    if (collect_flush(c) != 0) {
        c->out_of_memory = true;
        rc = 1;
    }
    return rc;
}
