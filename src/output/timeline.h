/*
 * timeline: prints traces, one at a time, as text for people or as NDJSON
 * for programs (the schema is in README.md).
 *
 * Events are decoded again from their kept raw line at print time: the
 * group stage keeps only what sorting and summaries need. With raw set (the
 * find command) each event also shows where it came from (source:offset) and
 * its line as written. Not thread-safe: one printer per writer.
 */
#ifndef TG_TIMELINE_H
#define TG_TIMELINE_H

#include <stdbool.h>

#include "engine/engine.h"
#include "group/table.h"
#include "output/writer.h"

typedef struct tl_printer {
    writer *w;
    const eng_result *res;   /* kept lines and load balancer names */
    const walk_list *inputs; /* source paths by input index */
    bool color;              /* ANSI colour in text output */
    bool raw;                /* add source:offset and the raw line */
} tl_printer;

void tl_print_text(const tl_printer *p, const grp_table *t, const grp_trace *tr);
void tl_print_ndjson(const tl_printer *p, const grp_table *t, const grp_trace *tr);

/* "812 us", "3.412 ms", "12.031 s", "3 min 4 s"…: a duration for people. */
void tl_format_duration(int64_t us, char *out, size_t cap);

#endif
