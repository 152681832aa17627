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

#include <stdint.h>

#include "decode/xray.h"

#define GRP_NO_LINE UINT64_MAX
/* The line is still in its input's memory mapping, at offset. */
#define GRP_LINE_MAPPED (UINT64_MAX - 1)

typedef struct grp_event {
    xray_root root;   /* the trace it belongs to */
    int64_t start_us; /* request_creation_time, or time when absent */
    int64_t end_us;   /* time */
    uint64_t offset;  /* byte offset of the line in its decompressed input */
    uint64_t line;    /* arena handle of the raw line, GRP_LINE_MAPPED, or
                         GRP_NO_LINE if not kept */
    uint32_t input;   /* index of the input in walk order */
    uint16_t status;  /* elb_status_code, 0 when unknown */
    uint16_t lb;      /* interned load balancer name (group/intern.h) */
} grp_event;

_Static_assert(sizeof(grp_event) == 56, "grp_event grew: check the memory budget");

/* The order of events in a timeline: by start, then by position in the
 * input, which does not depend on how work was split between threads. */
static inline int grp_event_cmp(const grp_event *a, const grp_event *b)
{
    if (a->start_us != b->start_us)
        return a->start_us < b->start_us ? -1 : 1;
    if (a->input != b->input)
        return a->input < b->input ? -1 : 1;
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    return 0;
}

#endif
