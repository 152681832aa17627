/*
 * numfmt: integers and instants as text, for printers that write millions
 * of them.
 *
 * The functions write into a caller's buffer (writer.h's wr_room()) and
 * return the end of what they wrote; nothing is NUL-terminated. Digits go
 * two at a time from a table, and an ISO-8601 instant reuses the date and
 * time of day of the previous call when it falls in the same second, which
 * the events of a trace almost always do. The output is exactly
 * snprintf("%llu"), snprintf("%lld") and tgtime_format_iso()'s.
 *
 * Pure but for the nf_clock, which belongs to one printer: not thread-safe
 * across a shared clock.
 */
#ifndef TG_NUMFMT_H
#define TG_NUMFMT_H

#include <stdint.h>

#define NF_U64_MAX 20 /* "18446744073709551615" */
#define NF_I64_MAX 20 /* "-9223372036854775808" */
#define NF_ISO_LEN 27 /* "YYYY-MM-DDTHH:MM:SS.ffffffZ" */

char *nf_u64(char *out, uint64_t v);
char *nf_i64(char *out, int64_t v);

/* The text of the last few seconds formatted, "YYYY-MM-DDTHH:MM:SS.", by
 * second modulo NF_CLOCK_SLOTS: an event's start and end, and a trace's
 * start, often fall in neighbouring seconds and would evict one another
 * from a single slot. */
#define NF_CLOCK_SLOTS 4

typedef struct nf_clock {
    struct {
        int64_t sec;
        char head[20];
        unsigned char valid;
    } slot[NF_CLOCK_SLOTS];
} nf_clock;

void nf_clock_init(nf_clock *c);

/* Writes NF_ISO_LEN bytes: tgtime_format_iso(us)'s text, clamping included. */
char *nf_iso(nf_clock *c, char *out, int64_t us);

#endif
