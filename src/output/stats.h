/*
 * stats: the summary of a run, as text for people or one JSON object.
 *
 * Reads the run's counts and its traces, in tables of any number and order;
 * writes nothing but the summary. The JSON keys are documented in README.md
 * and are a stable interface.
 */
#ifndef TG_STATS_H
#define TG_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "group/table.h"
#include "output/writer.h"

typedef struct stats_view {
    const eng_counts *c;
    const grp_table *parts; /* the traces, in any split */
    size_t nparts;
    const intern *lbs;
    uint64_t walk_errors; /* paths that failed before reading (missing…) */
    uint64_t skipped;     /* inputs passed over on purpose by the walk */
    double seconds;
    unsigned top;         /* how many slowest / 5xx traces to list */
    unsigned threads;     /* how many may work on it at once (-j) */
} stats_view;

void stats_print_text(writer *w, const stats_view *v, bool color);
void stats_print_json(writer *w, const stats_view *v);

#endif
