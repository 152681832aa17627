/*
 * table: groups events by their 128-bit Root into traces: the aggregate
 * (grp_agg) that holds one grp_trace per distinct Root with its span, event
 * count, worst status and the load balancers it crossed, and the table
 * (grp_table) made of it. build.h makes a table of the workers' events.
 *
 * Grouping is a hash join on the Root: a trace only ever needs the events
 * with its own Root, so the event stream can be partitioned by
 * grp_root_hash() and each partition grouped on its own (on disk, or on
 * another machine) with the same result. That is how tracegrep will go past
 * memory. Today it is how stats merges its workers' tables, one thread per
 * partition (merge.h), and how timelines and find group their events
 * (build.h).
 *
 * The table owns its arrays; the input vectors are left untouched.
 */
#ifndef TG_TABLE_H
#define TG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "group/event.h"
#include "util/mem.h"

#define GRP_MAX_LBS 6

typedef struct grp_trace {
    xray_root root;
    int64_t start_us;      /* earliest event start */
    int64_t end_us;        /* latest event end */
    uint64_t first;        /* its first event in grp_table.events */
    uint32_t count;        /* events */
    uint16_t worst_status; /* highest elb status code */
    uint8_t nlb;           /* distinct load balancers in lbs */
    uint8_t lb_more;       /* 1 when it crossed more than GRP_MAX_LBS */
    uint16_t lbs[GRP_MAX_LBS];
} grp_trace;

/*
 * An aggregate under construction: traces keyed by Root, updated one event
 * at a time. stats needs nothing else, so its workers aggregate straight
 * into one of these each (no event is kept) and the tables are merged at the
 * end. Each worker owns its own; not thread-safe.
 */
typedef struct grp_agg {
    grp_trace *traces; /* in order of first appearance */
    size_t ntraces, cap;
    size_t faulted; /* traces[0..faulted) were faulted in (add_trace()); advice only */
    /* Open addressing. A slot is a 32-bit tag of the Root's hash above the
     * trace index + 1; 0 is empty. The tag settles almost every probe
     * without a visit to the trace record, a cache miss of its own in a
     * table of a million traces. */
    uint64_t *slots;
    size_t nslots;     /* a power of two, kept at least twice ntraces */
    /* The seconds its Roots were made in, one bit per second modulo
     * GRP_EPOCH_BITS: a trace whose bit is clear is not in the table
     * (grp_agg_fold_present()). Bits are never cleared, so a bit may be set
     * for a trace dropped since. NULL while the table is empty. */
    uint64_t *epochs;
    tg_huge huge; /* whether huge pages pay for its arrays (util/mem.h) */
} grp_agg;

/* About twelve days of seconds, 128 KiB: an archive's traces mostly begin
 * within them, and the bits of a table stay in a core's L2 cache. */
#define GRP_EPOCH_BITS ((size_t)1 << 20)

void grp_agg_init(grp_agg *a);
void grp_agg_free(grp_agg *a);

/* Makes room for `more` traces besides those a holds (an estimate: the
 * table still grows past it), so that adding them rehashes and moves
 * nothing. The memory of the trace records is only reserved (it is faulted
 * in 2 MiB at a time as traces are added); that of the slots is faulted in.
 * Returns 0, or -1 when memory is short (a is then unchanged and still
 * usable). */
int grp_agg_reserve(grp_agg *a, size_t more);

/* Adds e to its trace; *idx (may be NULL) receives the trace's index.
 * Returns 0, or -1 when memory is short. */
int grp_agg_add(grp_agg *a, const grp_event *e, uint32_t *idx);

/* The most events grp_agg_add_batch() takes at once. */
#define GRP_BATCH 64

/* Adds e[0..n), n <= GRP_BATCH, as n calls of grp_agg_add() would, idx[i]
 * (idx may be NULL) receiving e[i]'s trace. It is faster: the slots and
 * trace records of the whole batch are fetched from memory together instead
 * of one cache miss after another. Returns 0, or -1 when memory is short
 * (some of the events may then have been added). */
int grp_agg_add_batch(grp_agg *a, const grp_event *e, size_t n, uint32_t *idx);

/* Adds those of e[0..n), n <= GRP_BATCH, whose Root a holds already, as
 * grp_agg_add_batch() would, and nothing else: the indices in e of the
 * others go to miss[], in order, and their number is returned. Adds no
 * trace, so it cannot fail. */
size_t grp_agg_add_found(grp_agg *a, const grp_event *e, size_t n, uint32_t *miss);

/* A load balancer id through a worker's map: lb_map[lb] for lb < nmap;
 * other ids, and all of them when lb_map is NULL, stay. */
static inline uint16_t grp_map_lb(uint16_t lb, const uint16_t *lb_map, size_t nmap)
{
    return lb_map && lb < nmap ? lb_map[lb] : lb;
}

/* Puts every load balancer id of t through grp_map_lb(). */
static inline void grp_trace_map_lbs(grp_trace *t, const uint16_t *lb_map, size_t nmap)
{
    for (unsigned i = 0; i < t->nlb; i++)
        t->lbs[i] = grp_map_lb(t->lbs[i], lb_map, nmap);
}

/* Folds traces into a, as if their events had been added: t[pick[k]] for
 * k < n, or t[0..n) when pick is NULL. Their load balancer ids go through
 * grp_map_lb(). Returns 0, or -1 when memory is short (some may then have
 * been folded). */
int grp_agg_fold(grp_agg *a, const grp_trace *t, const uint32_t *pick, size_t n,
                 const uint16_t *lb_map, size_t nmap);

/*
 * Folds into a those of t[0..n) whose Root a has, as grp_agg_fold() would,
 * and drops them from t: the others are left in t[0..k), in some order,
 * with their load balancer ids put through grp_map_lb(), k being returned.
 * lb_map is NULL when it would map every id to itself.
 * Nothing is added to a, and of a only the traces folded into are written:
 * threads may each pass a different part of the same t, which names each
 * Root once, into the same a at once.
 */
size_t grp_agg_fold_present(grp_agg *a, grp_trace *t, size_t n, const uint16_t *lb_map,
                            size_t nmap);

typedef struct grp_table {
    grp_trace *traces;
    size_t ntraces;
    grp_event *events; /* grouped by trace; NULL unless keep_events */
    size_t nevents;
    bool sorted;       /* traces in grp_sort_traces() order (build.h) */
} grp_table;

/* False for a trace whose events are all untimed: its start and end are then
 * meaningless (INT64_MAX and INT64_MIN). */
static inline bool grp_trace_timed(const grp_trace *t)
{
    return t->start_us <= t->end_us;
}

static inline int64_t grp_trace_duration(const grp_trace *t)
{
    return grp_trace_timed(t) ? t->end_us - t->start_us : 0;
}

/* The hash a partition of the Root space is chosen by. */
static inline uint64_t grp_root_hash(xray_root r)
{
    /* The low 96 bits of a Root are random already; mixing in the epoch
     * half keeps hand-made ids (…000001, …000002) apart too. */
    uint64_t h = r.lo ^ (r.hi * 0x9e3779b97f4a7c15ull);
    return h ^ (h >> 29);
}

/* The partition, of nparts, that a Root of hash h falls in. The hash is
 * multiplied first, as for a slot's tag but by another constant, so that
 * every bit counts: hand-made ids (…000001, …000002) differ only in bits
 * grp_root_hash() leaves low, and a table picks slots by the low bits. */
static inline unsigned grp_part(uint64_t h, unsigned nparts)
{
    uint64_t x = (h * 0xd6e8feb86659fd93ull) >> 32;
    return (unsigned)((x * nparts) >> 32);
}

/* Takes over the aggregate's traces as a table without events; a is left
 * empty. */
void grp_table_from_agg(grp_table *t, grp_agg *a);

void grp_free(grp_table *t);

static inline const grp_event *grp_trace_events(const grp_table *t, const grp_trace *tr)
{
    return t->events ? t->events + tr->first : NULL;
}

#endif
