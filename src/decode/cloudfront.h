/*
 * cloudfront: CloudFront standard (W3C extended) log lines (FORMATS §5).
 *
 * A file opens with "#Version: 1.0" and "#Fields: date time …" naming the
 * columns; records follow, one per line, tab-separated, values
 * URL-encoded. The column order comes from #Fields, never from a fixed
 * list, so the decoder keeps a small per-file state: where each column it
 * reads sits in a record. A later #Fields line (files were concatenated,
 * the distribution's configuration changed) replaces the map from there
 * on; #Version and other directives are ignored.
 *
 * cloudfront_init() starts a state with the documented default order (the
 * 33 columns of FORMATS §5), so records can be read even when the #Fields
 * line is not in view, e.g. in a piece of a large file cut away from its
 * header; have_fields tells whether the map came from the file.
 *
 * CloudFront writes no trace id. Its x-edge-request-id equals the
 * X-Amz-Cf-Id header the origin receives, which applog finds in the
 * origin's lines: that is the join.
 *
 * Records are borrowed: slices point into the caller's line, still
 * URL-encoded (cloudfront_url_decode() decodes them for printing). Nothing
 * is allocated. A state belongs to one file and one thread at a time; the
 * parse functions only read it, so several threads may parse with one
 * state that nobody updates.
 */
#ifndef TG_CLOUDFRONT_H
#define TG_CLOUDFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/tg_str.h"

/* The columns this decoder reads, by their #Fields names. */
enum cloudfront_col {
    CLOUDFRONT_DATE = 0,     /* date */
    CLOUDFRONT_TIME,         /* time */
    CLOUDFRONT_EDGE_LOCATION, /* x-edge-location */
    CLOUDFRONT_STATUS,       /* sc-status */
    CLOUDFRONT_METHOD,       /* cs-method */
    CLOUDFRONT_URI_STEM,     /* cs-uri-stem */
    CLOUDFRONT_URI_QUERY,    /* cs-uri-query */
    CLOUDFRONT_RESULT_TYPE,  /* x-edge-result-type */
    CLOUDFRONT_REQUEST_ID,   /* x-edge-request-id: the X-Amz-Cf-Id */
    CLOUDFRONT_TIME_TAKEN,   /* time-taken, seconds */
    CLOUDFRONT_HOST,         /* cs(Host) */
    CLOUDFRONT_CLIENT_IP,    /* c-ip */
    CLOUDFRONT_USER_AGENT,   /* cs(User-Agent) */
    CLOUDFRONT_NCOLS
};

/* Marks a column the current #Fields does not name. */
#define CLOUDFRONT_ABSENT UINT16_MAX

typedef struct cloudfront_state {
    uint16_t pos[CLOUDFRONT_NCOLS];  /* index of each column in a record, or CLOUDFRONT_ABSENT */
    uint8_t order[CLOUDFRONT_NCOLS]; /* the columns present, by increasing pos */
    uint8_t npresent;                /* entries of order[] */
    uint16_t ncolumns;               /* columns named by the map's #Fields */
    bool have_fields;                /* the map came from a #Fields line */
} cloudfront_state;

typedef struct cloudfront_record {
    tg_str col[CLOUDFRONT_NCOLS]; /* raw values; TG_STR_NULL when the map lacks the column
                                     or the record is shorter */
    int64_t time_us;      /* date + time, UTC, whole seconds */
    int64_t duration_us;  /* time-taken in microseconds, -1 when absent or "-" */
    /*
     * The event span: [start_us, end_us] = [time_us, time_us + duration].
     * AWS documents `time` as when the edge finished responding, which
     * would make it [time_us - duration, time_us]; the span follows the
     * engine's specification, and changing it is this one place.
     */
    int64_t start_us, end_us;
    int status;           /* sc-status, 0 when "-" or absent (000: client gone) */
    uint32_t ncolumns;    /* tab-separated columns on the line */
} cloudfront_record;

/* Starts a state with the documented default column order. */
void cloudfront_init(cloudfront_state *st);

/*
 * Handles a directive line (one starting with '#'): "#Fields:" replaces the
 * map; "#Version:" and any other directive change nothing. Returns true
 * for every directive line, false for any other line (nothing changes).
 * Names are separated by spaces or tabs; unknown names are skipped, and a
 * #Fields naming more than UINT16_MAX - 1 columns keeps the first ones.
 */
bool cloudfront_directive(cloudfront_state *st, const char *line, size_t n);

/*
 * Parses a record (no newline; a trailing '\r' is the caller's to strip).
 * Returns true when the line has a valid date ("YYYY-MM-DD") and time
 * ("HH:MM:SS") in the map's columns; false for directives, blank lines and
 * anything else (*out is then unspecified). An extra empty trailing
 * column, and any extra column, is allowed and ignored.
 */
bool cloudfront_parse(const cloudfront_state *st, const char *line, size_t n,
                      cloudfront_record *out);

/*
 * Decodes %XX escapes (either case of hex digit) once into dst (capacity
 * cap): a double-encoded "%2520" becomes "%20", as written one level down.
 * A '%' not followed by two hex digits is kept as written, and '+' stays
 * '+' (CloudFront does not write spaces as '+'). Stops when dst is full.
 * Returns the decoded length, never more than s.n, so cap >= s.n always
 * suffices.
 */
size_t cloudfront_url_decode(tg_str s, char *dst, size_t cap);

#endif
