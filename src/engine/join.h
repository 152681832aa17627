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
 * Vectors are owned by one worker while reading; join_resolve() runs on the
 * merged vectors in one thread.
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

typedef struct join_refs {
    join_ref *v;
    size_t n, cap;
} join_refs;

/* A record is kept as the event it becomes (root unset until joined), with
 * the key hash beside it. */
typedef struct join_rec {
    grp_event e;
    uint64_t key;
} join_rec;

typedef struct join_recs {
    join_rec *v;
    size_t n, cap;
} join_recs;

/* The hash a key (TID_…, x-edge-request-id) is matched by. */
uint64_t join_key(const char *p, size_t n);

int join_refs_push(join_refs *r, xray_root root, uint64_t key);
int join_recs_push(join_recs *r, const grp_event *e, uint64_t key);
void join_refs_free(join_refs *r);
void join_recs_free(join_recs *r);

/* Appends src's entries to dst (src is emptied). */
int join_refs_move(join_refs *dst, join_refs *src);
int join_recs_move(join_recs *dst, join_recs *src);

/* Called with joined events e[0..n), n at most 32: each is a record's event
 * with the trace's root filled in. Nonzero stops (memory). */
typedef int (*join_emit_fn)(void *ctx, const grp_event *e, size_t n);

/*
 * Matches refs to recs (both are left as they are). For every distinct
 * (root, key) whose key has a record, emits the record as an event of that
 * trace, in (key, root) order. *joined receives the number emitted,
 * *unmatched the records no reference named. Returns 0, or -1 when memory
 * is short or emit failed.
 */
int join_resolve(join_recs *recs, join_refs *refs, join_emit_fn emit, void *ctx,
                 uint64_t *joined, uint64_t *unmatched);

#endif
