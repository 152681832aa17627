/*
 * merge: folds the workers' aggregates together, one thread per partition
 * of the Root space.
 *
 * Each stats worker aggregates what it reads into a grp_agg of its own, so a
 * trace whose lines two workers read is in both tables. grp_merge() splits
 * the Roots into as many partitions as there are owner tables, by
 * grp_part(), and completes partition i in table i. It runs in four phases
 * with a barrier between them, and locks nothing:
 *
 *   1. split: each table's thread lists its traces by partition (indexes, 4
 *      bytes a trace) and maps the load balancer ids of those it keeps; no
 *      other thread touches the table;
 *   2. reserve: each owner makes room in its table for what it will
 *      receive, so that the next phase moves no table;
 *   3. fold: each owner folds its partition's traces from every other table
 *      into its own, reading them where they are; a thread writes only its
 *      own table, and reads only traces of its partition in the others;
 *   4. compact: each owner drops the traces of other partitions from its
 *      table, in place.
 *
 * This is the partitioning table.h describes, across threads: the work of a
 * partition does not depend on the others. Folding every table into the
 * first one on one thread took a tenth of a two-thread stats run over 16
 * files, and grows with each thread: with N, N - 1 tables out of N are
 * folded on one core. Split this way, the merge is about as long on two
 * threads (each folds half of the traces, but also lists them and compacts)
 * and gets shorter with each core. Nothing is copied out and no new array
 * is made: on the machines we measure, each fresh page costs more than two
 * microseconds to fault in.
 *
 * When only two tables hold traces, both owners (two workers read all the
 * inputs), the second one's traces are looked up in the first instead,
 * each thread taking a slice: those found are folded in and dropped, the
 * others stay in the second table. Over 16 files with two threads this
 * merge takes about a third of the time of the four phases.
 */
#ifndef TG_MERGE_H
#define TG_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "group/table.h"

/* One table to merge. Its load balancer ids are its worker's: lb_map[id]
 * (for id < nmap) is the id in the merged name table; other ids are kept, as
 * are all of them when lb_map is NULL. */
typedef struct grp_merge_src {
    grp_agg *agg;
    const uint16_t *lb_map;
    size_t nmap;
} grp_merge_src;

/*
 * Merges src[0..n). The first `owners` tables (1 <= owners <= n; more are
 * taken as n) own one partition each and are worked on by a thread each,
 * the calling thread being one; the others only give their traces (the
 * joined events, say). Fewer threads share the work when no more can be
 * started. Afterwards the owner tables hold every trace once, in some order,
 * with the merged load balancer ids: table i < owners every trace of
 * partition i and no other, or, when only two owner tables held traces,
 * those two between them. They are only to be read (their slots may be
 * gone or stale), as grp_table_from_agg() does. The other tables are
 * emptied. Returns 0, or -1 when memory is short (every table is then
 * emptied).
 */
int grp_merge(const grp_merge_src *src, size_t n, unsigned owners);

#endif
