/*
 * timeline: prints traces, one at a time, as text for people or as NDJSON
 * for programs (the schema is in README.md).
 *
 * Events are decoded again from their kept raw line at print time: the
 * group stage keeps only what sorting and summaries need. With raw set (the
 * find command) each event also shows where it came from (source:offset) and
 * its line as written. The NDJSON printer formats straight into the
 * writer's buffer and keeps what repeats from event to event (the source
 * path's JSON, the date of the current second). Not thread-safe: one
 * printer per writer.
 */
#ifndef TG_TIMELINE_H
#define TG_TIMELINE_H

#include <stdbool.h>

#include "engine/engine.h"
#include "group/table.h"
#include "output/numfmt.h"
#include "output/writer.h"

typedef struct tl_printer {
    writer *w;
    const eng_result *res;   /* kept lines and load balancer names */
    const walk_list *inputs; /* source paths by input index */
    bool color;              /* ANSI colour in text output */
    bool raw;                /* add source:offset and the raw line */
    /* What the printer remembers between events (owned): */
    nf_clock clock;          /* the text of the last seconds printed */
    tg_str *sources;         /* by input: its ,"source":"…" once made */
} tl_printer;

/* Sets up a printer over w; res and inputs stay the caller's and must
 * outlive it. Returns 0, or -1 when memory is short. */
int tl_printer_init(tl_printer *p, writer *w, const eng_result *res, const walk_list *inputs,
                    bool color, bool raw);
void tl_printer_free(tl_printer *p);

void tl_print_text(tl_printer *p, const grp_table *t, const grp_trace *tr);
void tl_print_ndjson(tl_printer *p, const grp_table *t, const grp_trace *tr);

/* Prints every trace of t, in t's order, as text or NDJSON: the text that
 * tl_print_text() or tl_print_ndjson() give one trace after another, made
 * by up to `threads` threads side by side (those that cannot be started
 * are done without). Stops early once w has failed. Returns 0, or -1 when
 * memory is short (the output is then cut after a whole trace). */
int tl_print_all(writer *w, const grp_table *t, const eng_result *res, const walk_list *inputs,
                 bool color, bool raw, bool ndjson, unsigned threads);

/* "812 us", "3.412 ms", "12.031 s", "3 min 4 s"…: a duration for people. */
void tl_format_duration(int64_t us, char *out, size_t cap);

#endif
