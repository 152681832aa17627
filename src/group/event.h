/*
 * event: one log line that joined a trace, in 56 bytes.
 *
 * Events are what workers collect and what the group table sorts; the line
 * itself is kept (in a worker's arena) only when a command prints it, and is
 * decoded again at print time. Everything a summary needs (span, status,
 * load balancer) sits in the event so stats never touches the text.
 */
#ifndef TG_EVENT_H
#define TG_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/xray.h"
#include "util/arena.h"

/* What kind of log line an event came from (the "format" of NDJSON). */
typedef enum grp_format {
    GRP_FMT_ALB = 0,    /* ALB access log */
    GRP_FMT_ALB_CONN,   /* ALB connection log, joined through conn_trace_id */
    GRP_FMT_CLOUDFRONT, /* CloudFront, joined through X-Amz-Cf-Id */
    GRP_FMT_APP,        /* application line (nginx, JSON, API Gateway) */
    GRP_FMT_LAMBDA,     /* Lambda REPORT */
    GRP_FMT_COUNT
} grp_format;

static inline const char *grp_format_name(unsigned f)
{
    static const char *const names[] = {"alb", "alb-conn", "cloudfront", "app", "lambda"};
    return f < GRP_FMT_COUNT ? names[f] : "unknown";
}

/* An event whose line holds no timestamp: it joins its trace but sorts last
 * and leaves the trace's span alone. Its start_us and end_us are this. */
#define GRP_UNTIMED INT64_MIN

#define GRP_NO_LINE UINT64_MAX

/* A line still in its input's memory mapping, at offset: the tag above its
 * length, so that the printers need not search for its end again (a
 * memchr over every line cost timelines 8% of its run). The field is cut
 * as an arena handle is (ARENA_REF_BITS), whose top bits hold a worker
 * index below 256, never the tag. */
#define GRP_LINE_MAPPED_TAG ((uint64_t)0xfffe)

static inline uint64_t grp_line_mapped(size_t len)
{
    return GRP_LINE_MAPPED_TAG << ARENA_REF_BITS | (uint64_t)len;
}

static inline bool grp_line_is_mapped(uint64_t line)
{
    return line >> ARENA_REF_BITS == GRP_LINE_MAPPED_TAG;
}

/* The length of a mapped line, without its newline (and without a '\r'
 * before it). */
static inline size_t grp_line_mapped_len(uint64_t line)
{
    return (size_t)(line & ARENA_REF_MASK);
}

typedef struct grp_event {
    xray_root root;   /* the trace it belongs to */
    int64_t start_us; /* request_creation_time, or time when absent */
    int64_t end_us;   /* time */
    uint64_t offset;  /* byte offset of the line in its decompressed input */
    uint64_t line;    /* arena handle of the raw line, grp_line_mapped(), or
                         GRP_NO_LINE if not kept */
    uint32_t input;   /* index of the input in walk order */
    uint16_t status : 12; /* HTTP status (elb_status_code for ALB), 0 unknown */
    uint16_t format : 4;  /* grp_format */
    uint16_t lb;      /* interned source name: the load balancer of an ALB
                         line, an edge, a service (group/intern.h) */
} grp_event;

_Static_assert(sizeof(grp_event) == 56, "grp_event grew: check the memory budget");

/* A growable vector of events, owned by whoever holds it. */
typedef struct grp_events {
    grp_event *v;
    size_t n, cap;
} grp_events;

/* Makes room for `more` events past the n held; returns 0, or -1 when
 * memory is short (v is left as it was). */
int grp_events_reserve(grp_events *ev, size_t more);

/* Appends e; returns 0, or -1 when memory is short (v is left as it was). */
int grp_events_push(grp_events *ev, const grp_event *e);

/* The order of events in a timeline: by start, then by position in the
 * input, which does not depend on how work was split between threads. */
static inline int grp_event_cmp(const grp_event *a, const grp_event *b)
{
    /* Untimed events (GRP_UNTIMED, the smallest value) go after the rest. */
    uint64_t sa = (uint64_t)a->start_us - (uint64_t)GRP_UNTIMED - 1;
    uint64_t sb = (uint64_t)b->start_us - (uint64_t)GRP_UNTIMED - 1;
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (a->input != b->input)
        return a->input < b->input ? -1 : 1;
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    return 0;
}

#endif
