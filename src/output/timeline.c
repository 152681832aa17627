#include "output/timeline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/alb.h"
#include "decode/tgtime.h"
#include "decode/xray.h"
#include "input/mapfile.h"
#include "output/eventfmt.h"
#include "output/json.h"
#include "output/numfmt.h"
#include "output/writer.h"

#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_GREEN "\033[32m"
#define C_RESET "\033[0m"

/* The three digits of v < 1000, zeros in front. */
static char *three_digits(char *o, unsigned v)
{
    o[0] = (char)('0' + v / 100);
    o[1] = (char)('0' + v / 10 % 10);
    o[2] = (char)('0' + v % 10);
    return o + 3;
}

/*
 * Written digit by digit: snprintf() with "%.3f", two or three times an
 * event, was a third of the text timelines' time. The text is the same.
 * Milliseconds are exact in a double's three decimals; seconds are rounded
 * to the millisecond as printf rounds the double a / 1e6, which only a
 * tie (half a millisecond exactly) could tell from rounding half up: a
 * tie is left to printf.
 */
void tl_format_duration(int64_t us, char *out, size_t cap)
{
    const bool neg = us < 0;
    const uint64_t a = neg ? 0ull - (uint64_t)us : (uint64_t)us;
    char buf[64], *o = buf;
    if (neg)
        *o++ = '-';
    if (a < 1000) {
        o = nf_u64(o, a);
        o = wr_put_lit(o, " us");
    } else if (a < 1000000) {
        o = nf_u64(o, a / 1000);
        *o++ = '.';
        o = three_digits(o, (unsigned)(a % 1000));
        o = wr_put_lit(o, " ms");
    } else if (a < 60000000) {
        if (a % 1000 == 500) {
            snprintf(out, cap, "%s%.3f s", neg ? "-" : "", (double)a / 1e6);
            return;
        }
        const uint64_t ms = a / 1000 + (a % 1000 > 500);
        o = nf_u64(o, ms / 1000);
        *o++ = '.';
        o = three_digits(o, (unsigned)(ms % 1000));
        o = wr_put_lit(o, " s");
    } else if (a < 3600000000ull) {
        o = nf_u64(o, a / 60000000);
        o = wr_put_lit(o, " min ");
        o = nf_u64(o, a / 1000000 % 60);
        o = wr_put_lit(o, " s");
    } else {
        o = nf_u64(o, a / 3600000000ull);
        o = wr_put_lit(o, " h ");
        o = nf_u64(o, a / 60000000 % 60);
        o = wr_put_lit(o, " min");
    }
    if (cap == 0)
        return;
    size_t n = (size_t)(o - buf);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, buf, n);
    out[n] = '\0';
}

/* s, then spaces up to width bytes: printf's "%-*s". */
static void put_left(writer *w, const char *s, size_t width)
{
    size_t n = strlen(s);
    wr_bytes(w, s, n);
    for (; n < width; n++)
        wr_char(w, ' ');
}

/* Spaces up to width bytes, then s: printf's "%*s". */
static void put_right(writer *w, const char *s, size_t width)
{
    size_t n = strlen(s);
    for (size_t i = n; i < width; i++)
        wr_char(w, ' ');
    wr_bytes(w, s, n);
}

static const char *status_color(unsigned st)
{
    return st >= 500 ? C_RED : st >= 400 ? C_YELLOW : C_GREEN;
}

/* The load balancers in the order the trace first reached them. */
static size_t lbs_in_order(const grp_event *ev, size_t n, uint16_t *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].format != GRP_FMT_ALB)
            continue;
        size_t j = 0;
        while (j < k && out[j] != ev[i].lb)
            j++;
        if (j == k && k < cap)
            out[k++] = ev[i].lb;
    }
    return k;
}

static void text_heading(tl_printer *p, const grp_trace *tr)
{
    writer *w = p->w;
    char id[36], start[32] = "untimed", dur[32] = "-";
    xray_format_root(tr->root, id);
    if (grp_trace_timed(tr)) {
        tgtime_format_iso(tr->start_us, start);
        tl_format_duration(tr->end_us - tr->start_us, dur, sizeof dur);
    }
    if (p->color)
        wr_str(w, C_BOLD);
    wr_str(w, id);
    if (p->color)
        wr_str(w, C_RESET);
    wr_lit(w, "  ");
    wr_str(w, start);
    wr_lit(w, "  ");
    wr_str(w, dur);
    wr_lit(w, "  ");
    wr_u64(w, tr->count);
    wr_str(w, tr->count == 1 ? " event" : " events");
    if (tr->worst_status) {
        wr_str(w, "  worst ");
        if (p->color)
            wr_str(w, status_color(tr->worst_status));
        wr_u64(w, tr->worst_status);
        if (p->color)
            wr_str(w, C_RESET);
    }
    int64_t skew = tr->start_us - (int64_t)xray_root_epoch(tr->root) * 1000000;
    /* The epoch is a whole second: under a second and a bit is no finding. */
    if (grp_trace_timed(tr) && (skew < -1000000 || skew > 2000000)) {
        char s[32];
        tl_format_duration(skew, s, sizeof s);
        wr_lit(w, "  skew ");
        wr_str(w, s);
    }
    wr_char(w, '\n');
}

/* The raw line of e. A line still in its file's mapping is read from the
 * file itself, so the file is named first for the SIGBUS guard (mapfile.h),
 * for the time the event is formatted. */
static tg_str event_line(const tl_printer *p, const grp_event *e)
{
    if (grp_line_is_mapped(e->line))
        mapfile_reading(walk_name(p->inputs, e->input));
    return eng_event_line(p->res, e);
}

static void text_event(tl_printer *p, const grp_trace *tr, const grp_event *e)
{
    writer *w = p->w;
    char off[32] = "untimed", dur[32] = "-";
    if (e->start_us != GRP_UNTIMED && grp_trace_timed(tr)) {
        tl_format_duration(e->start_us - tr->start_us, off, sizeof off);
        tl_format_duration(e->end_us - e->start_us, dur, sizeof dur);
    }
    /* "  +%-12s %12s  %-40s %3u", without printf's parsing per event. */
    wr_lit(w, "  +");
    put_left(w, off, 12);
    wr_char(w, ' ');
    put_right(w, dur, 12);
    wr_lit(w, "  ");
    put_left(w, intern_name(&p->res->lbs, e->lb), 40);
    wr_char(w, ' ');
    if (p->color && e->status)
        wr_str(w, status_color(e->status));
    if (e->status) {
        char st[NF_U64_MAX + 1];
        *nf_u64(st, e->status) = '\0';
        put_right(w, st, 3);
    } else {
        wr_str(w, "  -");
    }
    if (p->color && e->status)
        wr_str(w, C_RESET);
    tg_str line = event_line(p, e);
    char desc[512];
    size_t dn = ef_describe(p->res, e, line, desc, sizeof desc);
    if (dn) {
        wr_lit(w, "  ");
        wr_bytes(w, desc, dn);
    }
    wr_char(w, '\n');
    if (p->raw && line.p) {
        if (p->color)
            wr_str(w, C_DIM);
        wr_lit(w, "      ");
        wr_str(w, p->inputs->paths[e->input]);
        wr_char(w, ':');
        wr_u64(w, e->offset);
        wr_char(w, '\n');
        if (p->color)
            wr_str(w, C_RESET);
        wr_str(w, "      ");
        for (size_t i = 0; i < line.n; i++)
            wr_char(w, (unsigned char)line.p[i] < 0x20 && line.p[i] != '\t' ? '?' : line.p[i]);
        wr_char(w, '\n');
    }
}

void tl_print_text(tl_printer *p, const grp_table *t, const grp_trace *tr)
{
    text_heading(p, tr);
    const grp_event *ev = grp_trace_events(t, tr);
    for (uint32_t i = 0; ev && i < tr->count; i++)
        text_event(p, tr, &ev[i]);
}

int tl_printer_init(tl_printer *p, writer *w, const eng_result *res, const walk_list *inputs,
                    bool color, bool raw)
{
    memset(p, 0, sizeof *p);
    p->w = w;
    p->res = res;
    p->inputs = inputs;
    p->color = color;
    p->raw = raw;
    nf_clock_init(&p->clock);
    if (inputs->n) {
        p->sources = calloc(inputs->n, sizeof *p->sources);
        if (!p->sources)
            return -1;
    }
    return 0;
}

void tl_printer_free(tl_printer *p)
{
    for (size_t i = 0; p->sources && i < p->inputs->n; i++)
        free((char *)p->sources[i].p);
    free(p->sources);
    p->sources = NULL;
}

/* The longest ,"source":"…" kept: a path's worst case fits the room one
 * event's common keys take (json_event()). */
#define SOURCE_MAX ((size_t)32 << 10)

/* ,"source":"<path>" of an input, JSON-encoded on first use and kept: an
 * input gives thousands of events. TG_STR_NULL when it cannot be kept. */
static tg_str source_json(tl_printer *p, uint32_t input)
{
    if (!p->sources || input >= p->inputs->n)
        return TG_STR_NULL;
    if (p->sources[input].p)
        return p->sources[input];
    const char *path = p->inputs->paths[input];
    size_t len = strlen(path);
    static const char key[] = ",\"source\":\"";
    if (JSON_ESC_MAX(len) + sizeof key + 1 > SOURCE_MAX)
        return TG_STR_NULL;
    char *buf = malloc(JSON_ESC_MAX(len) + sizeof key + 1);
    if (!buf)
        return TG_STR_NULL;
    memcpy(buf, key, sizeof key - 1);
    char *o = json_esc(buf + sizeof key - 1, path, len);
    *o++ = '"';
    p->sources[input] = tg_str_make(buf, (size_t)(o - buf));
    return p->sources[input];
}

static char *put_time(tl_printer *p, char *o, int64_t us)
{
    *o++ = '"';
    o = nf_iso(&p->clock, o, us);
    *o++ = '"';
    return o;
}

/* {"start":…,"end":…,"untimed":…,"source":…,"offset":…,"format":"…" */
static void json_common(tl_printer *p, const grp_event *e)
{
    writer *w = p->w;
    tg_str src = source_json(p, e->input);
    char *o = wr_room(w, 256 + src.n);
    if (e->start_us == GRP_UNTIMED) {
        o = wr_put_lit(o, "{\"start\":null,\"end\":null,\"untimed\":true");
    } else {
        o = wr_put_lit(o, "{\"start\":");
        o = put_time(p, o, e->start_us);
        o = wr_put_lit(o, ",\"end\":");
        o = put_time(p, o, e->end_us);
        o = wr_put_lit(o, ",\"untimed\":false");
    }
    if (src.p) {
        memcpy(o, src.p, src.n);
        o += src.n;
    } else {
        wr_done(w, o);
        const char *path = p->inputs->paths[e->input];
        json_key(w, "source", false);
        json_str(w, path, strlen(path));
        o = wr_room(w, 128);
    }
    o = wr_put_lit(o, ",\"offset\":");
    o = nf_u64(o, e->offset);
    o = wr_put_lit(o, ",\"format\":\"");
    const char *fmt = grp_format_name(e->format);
    size_t n = strlen(fmt);
    memcpy(o, fmt, n);
    o += n;
    *o++ = '"';
    wr_done(w, o);
}

static void json_event(tl_printer *p, const grp_event *e)
{
    writer *w = p->w;
    json_common(p, e);
    tg_str line = event_line(p, e);
    ef_json_fields(w, p->res, e, line);
    if (p->raw && line.p) {
        json_key(w, "line", false);
        json_str(w, line.p, line.n);
    }
    wr_char(w, '}');
}

/* {"trace_id":…, up to and without "load_balancers". */
static void json_trace_head(tl_printer *p, const grp_trace *tr)
{
    char *o = wr_room(p->w, 512);
    o = wr_put_lit(o, "{\"trace_id\":\"");
    char id[36];
    xray_format_root(tr->root, id);
    memcpy(o, id, 35);
    o += 35;
    o = wr_put_lit(o, "\",\"otel_trace_id\":\"");
    xray_format_otel(tr->root, o); /* its NUL is overwritten next */
    o += 32;
    o = wr_put_lit(o, "\",\"epoch\":");
    o = nf_u64(o, xray_root_epoch(tr->root));
    bool timed = grp_trace_timed(tr);
    if (timed) {
        o = wr_put_lit(o, ",\"start\":");
        o = put_time(p, o, tr->start_us);
        o = wr_put_lit(o, ",\"end\":");
        o = put_time(p, o, tr->end_us);
    } else {
        o = wr_put_lit(o, ",\"start\":null,\"end\":null");
    }
    o = wr_put_lit(o, ",\"duration_us\":");
    o = nf_i64(o, grp_trace_duration(tr));
    o = wr_put_lit(o, ",\"event_count\":");
    o = nf_u64(o, tr->count);
    o = wr_put_lit(o, ",\"worst_status\":");
    if (tr->worst_status)
        o = nf_u64(o, tr->worst_status);
    else
        o = wr_put_lit(o, "null");
    o = wr_put_lit(o, ",\"skew_us\":");
    if (timed)
        o = nf_i64(o, tr->start_us - (int64_t)xray_root_epoch(tr->root) * 1000000);
    else
        o = wr_put_lit(o, "null");
    wr_done(p->w, o);
}

void tl_print_ndjson(tl_printer *p, const grp_table *t, const grp_trace *tr)
{
    writer *w = p->w;
    json_trace_head(p, tr);
    const grp_event *ev = grp_trace_events(t, tr);
    uint16_t lbs[64];
    size_t nlb = ev ? lbs_in_order(ev, tr->count, lbs, 64) : 0;
    json_key(w, "load_balancers", false);
    wr_char(w, '[');
    for (size_t i = 0; i < nlb; i++) {
        const char *name = intern_name(&p->res->lbs, lbs[i]);
        if (i)
            wr_char(w, ',');
        json_str(w, name, strlen(name));
    }
    wr_char(w, ']');
    json_key(w, "events", false);
    wr_char(w, '[');
    for (uint32_t i = 0; ev && i < tr->count; i++) {
        if (i)
            wr_char(w, ',');
        json_event(p, &ev[i]);
    }
    wr_lit(w, "]}\n");
}

/*
 * Printing every trace with several threads. Formatting the events is most
 * of what timelines does once the inputs are read, so the traces are cut
 * into chunks that the threads take in turn, each formatting its chunk
 * into a memory writer of its own; the chunks are then written out in
 * order, each thread waiting for the one before its chunk. The text is the
 * one printer's: a printer keeps nothing from one trace to the next but
 * caches.
 */

/* Traces per chunk: about a megabyte of NDJSON, a few milliseconds of
 * formatting. */
#define TL_CHUNK 512

typedef struct tl_par {
    writer *w; /* the output */
    const grp_table *t;
    const eng_result *res;
    const walk_list *inputs;
    bool color, raw, ndjson;
    size_t nchunks;
    atomic_size_t next; /* the next chunk to format */
    pthread_mutex_t mu;
    pthread_cond_t turn;
    size_t written; /* chunks written out */
    bool stop;      /* the output failed, or memory ran short */
    bool no_memory;
} tl_par;

/* Traces whose lines are asked for before their turn to print: a few
 * microseconds of formatting ahead, about a memory latency. */
#define TL_PREFETCH_TRACES 4

static void prefetch_trace(const tl_printer *p, const grp_table *t, size_t i)
{
    const grp_trace *tr = &t->traces[i];
    const grp_event *ev = grp_trace_events(t, tr);
    for (uint32_t k = 0; ev && k < tr->count; k++)
        eng_event_prefetch(p->res, &ev[k]);
}

static void print_range(tl_printer *p, const tl_par *q, size_t from, size_t to)
{
    for (size_t i = from; i < from + TL_PREFETCH_TRACES && i < to; i++)
        prefetch_trace(p, q->t, i);
    for (size_t i = from; i < to; i++) {
        if (i + TL_PREFETCH_TRACES < to)
            prefetch_trace(p, q->t, i + TL_PREFETCH_TRACES);
        if (q->ndjson)
            tl_print_ndjson(p, q->t, &q->t->traces[i]);
        else
            tl_print_text(p, q->t, &q->t->traces[i]);
    }
}

static void *par_main(void *arg)
{
    tl_par *q = arg;
    writer mw;
    tl_printer p;
    bool ok = wr_open_mem(&mw) == 0;
    bool have_printer = ok && tl_printer_init(&p, &mw, q->res, q->inputs, q->color, q->raw) == 0;
    for (;;) {
        size_t c = atomic_fetch_add(&q->next, 1);
        if (c >= q->nchunks)
            break;
        if (have_printer) {
            wr_mem_clear(&mw);
            size_t from = c * TL_CHUNK;
            size_t to = from + TL_CHUNK < q->t->ntraces ? from + TL_CHUNK : q->t->ntraces;
            print_range(&p, q, from, to);
        }
        pthread_mutex_lock(&q->mu);
        while (q->written != c && !q->stop)
            pthread_cond_wait(&q->turn, &q->mu);
        if (!have_printer || mw.err) {
            q->no_memory = true;
            q->stop = true;
        }
        if (!q->stop) {
            wr_bytes_direct(q->w, mw.buf, mw.n);
            q->written++;
            if (q->w->err)
                q->stop = true;
        }
        bool stop = q->stop;
        pthread_cond_broadcast(&q->turn);
        pthread_mutex_unlock(&q->mu);
        if (stop)
            break;
    }
    if (have_printer)
        tl_printer_free(&p);
    if (ok)
        wr_close(&mw);
    return NULL;
}

int tl_print_all(writer *w, const grp_table *t, const eng_result *res, const walk_list *inputs,
                 bool color, bool raw, bool ndjson, unsigned threads)
{
    tl_par q = {.w = w, .t = t, .res = res, .inputs = inputs, .color = color, .raw = raw,
                .ndjson = ndjson};
    q.nchunks = (t->ntraces + TL_CHUNK - 1) / TL_CHUNK;
    if (threads > q.nchunks)
        threads = (unsigned)q.nchunks;
    if (threads <= 1) {
        tl_printer p;
        if (tl_printer_init(&p, w, res, inputs, color, raw) != 0)
            return -1;
        for (size_t i = 0; i < t->ntraces && !w->err; i += TL_CHUNK)
            print_range(&p, &q, i, i + TL_CHUNK < t->ntraces ? i + TL_CHUNK : t->ntraces);
        tl_printer_free(&p);
        return 0;
    }
    atomic_init(&q.next, 0);
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.turn, NULL);
    pthread_t *th = calloc(threads - 1, sizeof *th);
    unsigned started = 0;
    for (unsigned i = 0; th && i < threads - 1; i++, started++)
        if (pthread_create(&th[i], NULL, par_main, &q) != 0)
            break;
    par_main(&q); /* this thread is one of them; alone it prints everything */
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
    pthread_cond_destroy(&q.turn);
    pthread_mutex_destroy(&q.mu);
    return q.no_memory ? -1 : 0;
}
