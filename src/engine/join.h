/*
 * join: correlations beyond Root, resolved once every input has been read.
 *
 * Two kinds of line carry no trace id but belong on a trace's timeline: an
 * ALB connection-log line (its conn_trace_id TID_… is named by every access
 * line of that connection) and a CloudFront record (its x-edge-request-id is
 * the X-Amz-Cf-Id an application line may log beside the trace header).
 * While reading, workers keep *records* (the connection and CloudFront
 * lines, by a 64-bit hash of their key) and *references* (a trace's Root and
 * the key one of its lines named). join_resolve() matches them afterwards,
 * so the order in which files are read does not matter and no input is read
 * twice.
 *
 * A trace gets a record once, however many of its lines name it. When two
 * records share a key, the first in input order is used. The 64-bit key
 * hash makes a false match between two different 32- or 56-character ids
 * about as likely as a hardware error; it is not guarded against.
 *
 * The key space is cut into JOIN_PARTS partitions by the top bits of the
 * key hash, and each worker files what it keeps by partition as it reads
 * (a join_side). A partition is then joined on its own: its records and
 * references, from every worker, are a 64th of the whole (under 2 MB of
 * the 110 MB that the bench's 1.5 million connection lines keep), so its
 * sorts and lookups stay in a core's caches, and partitions can be joined
 * by several threads at once. Partition-major is key order, so the events
 * come out in the same order either way.
 *
 * A join_side is owned by one worker while reading; join_resolve() reads
 * the workers' sides once they are done.
 */
#ifndef TG_JOIN_H
#define TG_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "group/event.h"

typedef struct join_ref {
    xray_root root;
    uint64_t key;
} join_ref;

/* A record: the event it becomes but for the root, which joining sets,
 * and the key hash. 48 bytes, where the event and the key took 64: a
 * million connection lines keep 16 MB less. */
typedef struct join_rec {
    uint64_t key;
    int64_t start_us, end_us;
    uint64_t offset, line;
    uint32_t input;
    uint16_t status : 12; /* as in grp_event */
    uint16_t format : 4;
    uint16_t lb;
} join_rec;

_Static_assert(sizeof(join_rec) == 48, "join_rec grew");

/*
 * What one worker keeps of one partition: a list of blocks, each twice the
 * size of the one before up to JOIN_BLOCK_MAX entries. A vector would be
 * copied each time it doubled: 64 of them per worker, too small for
 * realloc() to move by remapping, copied twice their final size over, and
 * into fresh memory each time.
 */
#define JOIN_BLOCK_MAX 1024
typedef struct join_blk {
    struct join_blk *next;
    uint32_t n, cap; /* entries held, and room */
} join_blk;

/* A block's header is its first member: a join_blk * of a list of records
 * (references) points to a join_rec_blk (join_ref_blk). */
typedef struct join_rec_blk {
    join_blk h;
    join_rec v[];
} join_rec_blk;

typedef struct join_ref_blk {
    join_blk h;
    join_ref v[];
} join_ref_blk;

typedef struct join_list {
    join_blk *head, *tail;
    size_t n; /* entries in all */
} join_list;

#define JOIN_PART_BITS 6
#define JOIN_PARTS (1u << JOIN_PART_BITS)

/* The partition of a key. */
static inline unsigned join_part(uint64_t key)
{
    return (unsigned)(key >> (64 - JOIN_PART_BITS));
}

/* One worker's records and references of one join (connection or
 * CloudFront), by partition. Zeroed is empty. */
typedef struct join_side {
    join_list recs[JOIN_PARTS];
    join_list refs[JOIN_PARTS];
} join_side;

/* The hash a key (TID_…, x-edge-request-id) is matched by. */
uint64_t join_key(const char *p, size_t n);

/* Keep a record (e, whose root is ignored) or a reference under key. Both
 * return 0, or -1 when memory is short (s is then as it was). */
int join_add_rec(join_side *s, const grp_event *e, uint64_t key);
int join_add_ref(join_side *s, xray_root root, uint64_t key);

/* The records s holds. */
size_t join_side_nrecs(const join_side *s);

/* Appends src's references to dst's and empties them; src's records stay. */
void join_side_move_refs(join_side *dst, join_side *src);

void join_side_free(join_side *s);

/* Called with joined events e[0..n), n at most 32: each is a record's event
 * with the trace's root filled in. Nonzero stops (memory). */
typedef int (*join_emit_fn)(void *ctx, const grp_event *e, size_t n);

/*
 * Matches the references of sides[0..nsides) to their records (the sides
 * are left as they are). For every distinct (root, key) whose key has a
 * record, emits the record as an event of that trace, in (key, root) order,
 * always from the calling thread. Up to `threads` threads (the caller's
 * among them) join partitions meanwhile; the events and their order are the
 * same for any number. *joined receives the number emitted, *unmatched the
 * records no reference named. Returns 0, or -1 when memory is short or emit
 * failed.
 */
int join_resolve(join_side *const *sides, unsigned nsides, unsigned threads, join_emit_fn emit,
                 void *ctx, uint64_t *joined, uint64_t *unmatched);

#endif
