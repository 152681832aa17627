/*
 * sniff: which log format an input holds, from its first lines.
 *
 * The compression of an input is known from its magic bytes (input/); what
 * the decompressed text is, is known from its first lines, never from the
 * file's name. sniff_detect() reads the first SNIFF_MAX_LINES non-empty
 * lines of a buffer (the input's first ~64 KiB, whole lines) and classifies
 * each with sniff_line():
 *
 *   cloudfront   a W3C directive ("#Version:", "#Fields:") or a record
 *                ("YYYY-MM-DD<TAB>HH:MM:SS<TAB>…") (FORMATS §5)
 *   json         first non-blank byte '{' (JSON lines: app and Lambda logs)
 *   alb          alb_parse() accepts it (FORMATS §3)
 *   alb-conn     albconn_parse() accepts it: time, ip, port, port, TLS …
 *                TID_ (FORMATS §4)
 *   classic-elb  time first, then name, client:port, backend:port or "-",
 *                three durations, two statuses and two byte counts, no
 *                type field (FORMATS §6)
 *   text         anything else
 *
 * A CloudFront directive as the first non-empty line decides at once (the
 * W3C header opens every file). Otherwise the format with the most votes
 * wins when it has more than half of the lines read, so one odd line (a
 * banner, a truncated line) cannot flip a file, and a mix is "text", which
 * the application-log decoder (applog) handles line by line. An empty
 * buffer is "text".
 *
 * Before that, sniff_looks_binary() tells an input that is not text at all
 * (a binary file), which is skipped with a warning.
 *
 * The enum's names are stable ("alb", "alb-conn", "cloudfront",
 * "classic-elb", "json", "text"): they are what --input-format takes and
 * what output prints. Pure functions over borrowed bytes; nothing is
 * allocated; thread-safe.
 */
#ifndef TG_SNIFF_H
#define TG_SNIFF_H

#include <stdbool.h>
#include <stddef.h>

typedef enum sniff_format {
    SNIFF_ALB = 0,
    SNIFF_ALB_CONN,
    SNIFF_CLOUDFRONT,
    SNIFF_CLASSIC_ELB,
    SNIFF_JSON,
    SNIFF_TEXT,
    SNIFF_FORMAT_COUNT
} sniff_format;

/* Lines sniff_detect() votes with: enough to outvote an odd first line,
 * few enough that the cost (an ALB parse each) stays negligible. */
#define SNIFF_MAX_LINES 16

/*
 * The format of the text buf[0..n). Lines end at '\n'; a '\r' before it
 * and a UTF-8 byte order mark at the start are ignored. When the buffer
 * ends inside a line (no final '\n'), that last piece votes only if it is
 * the only line: a cut line must not outvote whole ones.
 */
sniff_format sniff_detect(const char *buf, size_t n);

/* The format of one line (no newline), as sniff_detect() votes it. A line
 * of blanks is "text". */
sniff_format sniff_line(const char *line, size_t n);

/* True when line[0..n) looks like a classic ELB access-log line. */
bool sniff_is_classic_elb(const char *line, size_t n);

/* The stable name of a format; "unknown" outside the enum. */
const char *sniff_format_name(sniff_format f);

/*
 * Parses a user's --input-format NAME (s[0..n), any case): the six stable
 * names and the aliases "elb" (classic-elb), "albconn" and
 * "alb-connection" (alb-conn), "ndjson" and "jsonl" (json). Returns false
 * for anything else, "auto" included: choosing automatic detection is the
 * command line's business, not a format.
 */
bool sniff_parse_name(const char *s, size_t n, sniff_format *out);

/* True when p[0..n), an input's first bytes (its first 64 KiB are given),
 * look like binary data rather than text: more than 5% control bytes other
 * than tab, CR, LF, FF, ESC. A few NUL bytes in a log do not make it
 * binary. */
bool sniff_looks_binary(const char *p, size_t n);

#endif
