#define _GNU_SOURCE /* memmem */
#include "engine/collect.h"

#include <stdlib.h>
#include <string.h>

#include "decode/alb.h"
#include "decode/tgtime.h"

/* Every line's raw text goes into one of a worker's 8 MiB chunks; a line may
 * be up to max_line long, so chunks are at least that plus its length. */
#define COLLECT_CHUNK (8u << 20)

/* The first bytes inspected for the binary check: enough to see past a
 * header line, small enough to cost nothing. */
#define COLLECT_SNIFF (64u << 10)

int collect_init(collector *c, const eng_settings *s, const scan_db *db, unsigned worker)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    c->db = db;
    c->worker = worker;
    c->scratch = scan_scratch_new(db);
    if (!c->scratch)
        return -1;
    size_t chunk = s->max_line + 64 > COLLECT_CHUNK ? s->max_line + 64 : COLLECT_CHUNK;
    arena_init(&c->lines, chunk);
    c->last_lb_len = SIZE_MAX; /* no name cached yet */
    intern_init(&c->lbs);
    return 0;
}

void collect_free(collector *c)
{
    scan_scratch_free(c->scratch);
    free(c->ev);
    arena_free(&c->lines);
    intern_free(&c->lbs);
    grp_agg_free(&c->agg);
    memset(c, 0, sizeof *c);
}

void collect_begin(collector *c, uint32_t input, bool check_text)
{
    c->input = input;
    c->block_off = 0;
    c->checked = !check_text;
    c->binary = false;
    c->scan_failed = false;
    c->mapped = false;
}

bool collect_looks_binary(const char *p, size_t n)
{
    size_t ctrl = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)p[i];
        ctrl += b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' && b != 0x1b;
    }
    return ctrl * 20 > n;
}

/* A header is a field-18 value holding at least one of the keys the scanner
 * looks for, so that what counts as a header does not depend on whether the
 * line was found through field 18 or through a decoy elsewhere on it. */
static bool has_header_key(tg_str h)
{
    if (h.n >= 5 && memcmp(h.p, "Root=", 5) == 0)
        return true; /* the usual first hop: no search */
    static const char *const keys[] = {"Root=", "Self=", "Parent=", "Sampled=", "Lineage="};
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

static int push_event(collector *c, const grp_event *e)
{
    if (c->nev == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        grp_event *ev = realloc(c->ev, cap * sizeof *ev);
        if (!ev)
            return -1;
        c->ev = ev;
        c->cap = cap;
    }
    c->ev[c->nev++] = *e;
    return 0;
}

/* Lines of one file mostly come from one load balancer: the last name is
 * compared before the table is asked. */
static uint16_t lb_id(collector *c, tg_str name)
{
    if (c->last_lb_len == name.n && c->last_lb_len <= sizeof c->last_lb_name &&
        memcmp(c->last_lb_name, name.p, name.n) == 0)
        return c->last_lb;
    uint16_t id = intern_id(&c->lbs, name);
    if (name.n <= sizeof c->last_lb_name) {
        memcpy(c->last_lb_name, name.p, name.n);
        c->last_lb_len = name.n;
        c->last_lb = id;
    }
    return id;
}

static int on_line(void *ctx, const char *line, size_t len, size_t off)
{
    collector *c = ctx;
    if (len && line[len - 1] == '\r')
        len--;
    alb_record rec;
    if (!alb_parse_prefix(line, len, ALB_REQUEST_CREATION_TIME + 1, &rec)) {
        c->c.other_lines++;
        return 0;
    }
    if (rec.t.nfields <= ALB_TRACE_ID || !has_header_key(rec.t.f[ALB_TRACE_ID]))
        return 0;
    tg_str h = rec.t.f[ALB_TRACE_ID];
    xray_header xh;
    xray_status st = xray_decode(h.p, h.n, &xh);
    c->c.header_lines++;
    if (st != XRAY_OK) {
        c->c.malformed[st]++;
        return 0;
    }
    c->c.events++;
    if (c->s->nids && !wanted(c->s, xh.root))
        return 0;

    grp_event e;
    e.root = xh.root;
    e.end_us = rec.time_us;
    e.start_us = rec.created_us != TGTIME_NONE ? rec.created_us : rec.time_us;
    /* A creation time after the response time is a clock glitch; the event
     * still spans both instants. */
    if (e.start_us > e.end_us) {
        int64_t t = e.start_us;
        e.start_us = e.end_us;
        e.end_us = t;
    }
    e.offset = c->block_off + off;
    e.input = c->input;
    e.status = rec.status > 0 && rec.status < 1000 ? (uint16_t)rec.status : 0;
    e.lb = lb_id(c, rec.t.f[ALB_ELB]);
    e.line = GRP_NO_LINE;
    if (c->s->keep_lines && c->mapped) {
        e.line = GRP_LINE_MAPPED;
    } else if (c->s->keep_lines) {
        uint64_t ref = arena_put(&c->lines, tg_str_make(line, len));
        if (ref == UINT64_MAX)
            goto oom;
        e.line = ref | (uint64_t)c->worker << ARENA_REF_BITS;
    }
    if ((c->s->mode == ENG_STATS ? grp_agg_add(&c->agg, &e, NULL) : push_event(c, &e)) != 0)
        goto oom;
    return 0;
oom:
    c->out_of_memory = true;
    return 1;
}

int collect_block(collector *c, const char *p, size_t n, uint64_t off)
{
    if (!c->checked) {
        c->checked = true;
        if (collect_looks_binary(p, n < COLLECT_SNIFF ? n : COLLECT_SNIFF)) {
            c->binary = true;
            return 1;
        }
    }
    c->block_off = off;
    scan_counts sc = {0, 0};
    int rc = scan_block(c->db, c->scratch, p, n, c->s->max_line, on_line, c, &sc);
    c->c.lines += sc.lines;
    c->c.oversized += sc.oversized;
    if (rc == SCAN_ERROR)
        c->scan_failed = true;
    return rc != SCAN_OK;
}
