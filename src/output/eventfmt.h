/*
 * eventfmt: what each kind of event shows, decoded again from its kept line:
 * the format-specific NDJSON keys of an event (README.md lists them per
 * format) and the short description a text timeline prints.
 *
 * An ALB event, the bulk of most reports, is tokenized only as far as its
 * last printed field and formatted in one room of the writer's buffer.
 *
 * Stateless and thread-safe; the line and the result stay the caller's.
 */
#ifndef TG_EVENTFMT_H
#define TG_EVENTFMT_H

#include <stddef.h>

#include "engine/engine.h"
#include "output/writer.h"

/* Writes ,"key":value for each of the event's own fields (after the common
 * start, end, source, offset and format). */
void ef_json_fields(writer *w, const eng_result *r, const grp_event *e, tg_str line);

/* A one-line description for text output ("GET https://…", "TLS handshake
 * TLSv1.2 …", "REPORT 15.74 ms"), without control bytes. Returns its
 * length; out is NUL-terminated. */
size_t ef_describe(const eng_result *r, const grp_event *e, tg_str line, char *out, size_t cap);

#endif
