/*
 * build: the table of every trace, with its events, from the event vectors
 * the workers filled (timelines and find).
 *
 * grp_build() takes the vectors in any number and any split and produces one
 * grp_trace per distinct Root. With keep_events it also lays the events out
 * trace by trace (each trace's events contiguous and sorted by start, ties
 * in input order), which is what the printers read. The result does not
 * depend on how the events were split between vectors.
 *
 * grp_build_sorted() does the same with threads, one per partition of the
 * Roots (grp_part()): each thread groups the events of its partition, lays
 * them out in its own stretch of the events array and sorts its traces, and
 * the sorted partitions are then merged into one array. Only the merge is
 * left to one thread. The table is the same whatever the number of threads,
 * byte for byte: the traces' order (start, then Root) and the events' order
 * within a trace are total.
 *
 * The table owns its arrays; the input vectors are left untouched.
 */
#ifndef TG_BUILD_H
#define TG_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "group/table.h"

/* Returns 0, or -1 when memory is short (t is then empty). */
int grp_build(grp_table *t, grp_event *const *vecs, const size_t *lens, size_t nvec,
              bool keep_events);

/* grp_build() with keep_events, on up to `threads` threads, its traces in
 * grp_sort_traces() order. Returns 0, or -1 when memory is short (t is then
 * empty). */
int grp_build_sorted(grp_table *t, grp_event *const *vecs, const size_t *lens, size_t nvec,
                     unsigned threads);

/* Orders traces by start, ties by Root: the order timelines print. Does
 * nothing to a table already in that order (t->sorted). */
void grp_sort_traces(grp_table *t);

#endif
