#include "output/timeline.h"

#include <stdio.h>
#include <string.h>

#include "decode/alb.h"
#include "decode/tgtime.h"
#include "decode/xray.h"
#include "output/eventfmt.h"
#include "output/json.h"

#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_GREEN "\033[32m"
#define C_RESET "\033[0m"

void tl_format_duration(int64_t us, char *out, size_t cap)
{
    const char *sign = us < 0 ? "-" : "";
    uint64_t a = us < 0 ? 0ull - (uint64_t)us : (uint64_t)us;
    if (a < 1000)
        snprintf(out, cap, "%s%llu us", sign, (unsigned long long)a);
    else if (a < 1000000)
        snprintf(out, cap, "%s%.3f ms", sign, (double)a / 1e3);
    else if (a < 60000000)
        snprintf(out, cap, "%s%.3f s", sign, (double)a / 1e6);
    else if (a < 3600000000ull)
        snprintf(out, cap, "%s%llu min %llu s", sign, (unsigned long long)(a / 60000000),
                 (unsigned long long)(a / 1000000 % 60));
    else
        snprintf(out, cap, "%s%llu h %llu min", sign, (unsigned long long)(a / 3600000000ull),
                 (unsigned long long)(a / 60000000 % 60));
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

static void text_heading(const tl_printer *p, const grp_trace *tr)
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
    wr_printf(w, "  %s  %s  %u event%s", start, dur, tr->count, tr->count == 1 ? "" : "s");
    if (tr->worst_status) {
        wr_str(w, "  worst ");
        if (p->color)
            wr_str(w, status_color(tr->worst_status));
        wr_printf(w, "%u", tr->worst_status);
        if (p->color)
            wr_str(w, C_RESET);
    }
    int64_t skew = tr->start_us - (int64_t)xray_root_epoch(tr->root) * 1000000;
    /* The epoch is a whole second: under a second and a bit is no finding. */
    if (grp_trace_timed(tr) && (skew < -1000000 || skew > 2000000)) {
        char s[32];
        tl_format_duration(skew, s, sizeof s);
        wr_printf(w, "  skew %s", s);
    }
    wr_char(w, '\n');
}

static void text_event(const tl_printer *p, const grp_trace *tr, const grp_event *e)
{
    writer *w = p->w;
    char off[32] = "untimed", dur[32] = "-";
    if (e->start_us != GRP_UNTIMED && grp_trace_timed(tr)) {
        tl_format_duration(e->start_us - tr->start_us, off, sizeof off);
        tl_format_duration(e->end_us - e->start_us, dur, sizeof dur);
    }
    wr_printf(w, "  +%-12s %12s  %-40s ", off, dur, intern_name(&p->res->lbs, e->lb));
    if (p->color && e->status)
        wr_str(w, status_color(e->status));
    if (e->status)
        wr_printf(w, "%3u", (unsigned)e->status);
    else
        wr_str(w, "  -");
    if (p->color && e->status)
        wr_str(w, C_RESET);
    tg_str line = eng_event_line(p->res, e);
    char desc[512];
    if (ef_describe(p->res, e, line, desc, sizeof desc)) {
        wr_str(w, "  ");
        wr_str(w, desc);
    }
    wr_char(w, '\n');
    if (p->raw && line.p) {
        if (p->color)
            wr_str(w, C_DIM);
        wr_printf(w, "      %s:%llu\n", p->inputs->paths[e->input], (unsigned long long)e->offset);
        if (p->color)
            wr_str(w, C_RESET);
        wr_str(w, "      ");
        for (size_t i = 0; i < line.n; i++)
            wr_char(w, (unsigned char)line.p[i] < 0x20 && line.p[i] != '\t' ? '?' : line.p[i]);
        wr_char(w, '\n');
    }
}

void tl_print_text(const tl_printer *p, const grp_table *t, const grp_trace *tr)
{
    text_heading(p, tr);
    const grp_event *ev = grp_trace_events(t, tr);
    for (uint32_t i = 0; ev && i < tr->count; i++)
        text_event(p, tr, &ev[i]);
}

static void json_time(writer *w, int64_t us)
{
    char buf[32];
    size_t n = tgtime_format_iso(us, buf);
    wr_char(w, '"');
    wr_bytes(w, buf, n);
    wr_char(w, '"');
}

static void json_event(const tl_printer *p, const grp_event *e)
{
    writer *w = p->w;
    wr_char(w, '{');
    json_key(w, "start", true);
    if (e->start_us == GRP_UNTIMED)
        wr_str(w, "null");
    else
        json_time(w, e->start_us);
    json_key(w, "end", false);
    if (e->start_us == GRP_UNTIMED)
        wr_str(w, "null");
    else
        json_time(w, e->end_us);
    json_key(w, "untimed", false);
    wr_str(w, e->start_us == GRP_UNTIMED ? "true" : "false");
    json_key(w, "source", false);
    const char *src = p->inputs->paths[e->input];
    json_str(w, src, strlen(src));
    json_key(w, "offset", false);
    wr_u64(w, e->offset);
    json_key(w, "format", false);
    wr_char(w, '"');
    wr_str(w, grp_format_name(e->format));
    wr_char(w, '"');
    tg_str line = eng_event_line(p->res, e);
    ef_json_fields(w, p->res, e, line);
    if (p->raw && line.p) {
        json_key(w, "line", false);
        json_str(w, line.p, line.n);
    }
    wr_char(w, '}');
}

void tl_print_ndjson(const tl_printer *p, const grp_table *t, const grp_trace *tr)
{
    writer *w = p->w;
    char id[36], otel[33];
    xray_format_root(tr->root, id);
    xray_format_otel(tr->root, otel);
    wr_char(w, '{');
    json_key(w, "trace_id", true);
    json_str(w, id, 35);
    json_key(w, "otel_trace_id", false);
    json_str(w, otel, 32);
    json_key(w, "epoch", false);
    wr_u64(w, xray_root_epoch(tr->root));
    bool timed = grp_trace_timed(tr);
    json_key(w, "start", false);
    if (timed)
        json_time(w, tr->start_us);
    else
        wr_str(w, "null");
    json_key(w, "end", false);
    if (timed)
        json_time(w, tr->end_us);
    else
        wr_str(w, "null");
    json_key(w, "duration_us", false);
    wr_i64(w, grp_trace_duration(tr));
    json_key(w, "event_count", false);
    wr_u64(w, tr->count);
    json_key(w, "worst_status", false);
    if (tr->worst_status)
        wr_u64(w, tr->worst_status);
    else
        wr_str(w, "null");
    json_key(w, "skew_us", false);
    if (timed)
        wr_i64(w, tr->start_us - (int64_t)xray_root_epoch(tr->root) * 1000000);
    else
        wr_str(w, "null");
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
    wr_str(w, "]}\n");
}
