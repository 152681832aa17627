/*
 * alb: the ALB access-log line parser (FORMATS.md §3).
 *
 * alb_tokenize() splits a line into fields the way ALB writes them: single
 * spaces separate fields outside double quotes; inside quotes a backslash
 * escapes the next byte, so \" \\ \x22 and \x5C never end a field. Quotes are
 * stripped from the returned slices; escapes are left as written and are
 * decoded only when a value is printed (alb_unescape()).
 *
 * alb_parse() checks that a tokenized line really is an ALB access-log line
 * (a known type and an ISO-8601 time in field 2) and reads the few values
 * grouping needs. Lines of every generation are accepted: 18 fields and
 * fewer than 18 (no trace), up to 36 and more; fields past ALB_NFIELDS are
 * counted and ignored, as AWS asks.
 *
 * Nothing is allocated: slices point into the caller's line, which must stay
 * alive while the record is used. Thread-safe.
 */
#ifndef TG_ALB_H
#define TG_ALB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/tg_str.h"

/* Zero-based field positions (FORMATS.md numbers them from 1). */
enum alb_field {
    ALB_TYPE = 0,
    ALB_TIME,
    ALB_ELB,
    ALB_CLIENT,
    ALB_TARGET,
    ALB_REQUEST_PROCESSING,
    ALB_TARGET_PROCESSING,
    ALB_RESPONSE_PROCESSING,
    ALB_ELB_STATUS,
    ALB_TARGET_STATUS,
    ALB_RECEIVED_BYTES,
    ALB_SENT_BYTES,
    ALB_REQUEST,
    ALB_USER_AGENT,
    ALB_SSL_CIPHER,
    ALB_SSL_PROTOCOL,
    ALB_TARGET_GROUP_ARN,
    ALB_TRACE_ID, /* field 18: the only place an ALB line's trace comes from */
    ALB_DOMAIN_NAME,
    ALB_CHOSEN_CERT_ARN,
    ALB_MATCHED_RULE_PRIORITY,
    ALB_REQUEST_CREATION_TIME,
    ALB_ACTIONS_EXECUTED,
    ALB_REDIRECT_URL,
    ALB_ERROR_REASON,
    ALB_TARGET_PORT_LIST,
    ALB_TARGET_STATUS_CODE_LIST,
    ALB_CLASSIFICATION,
    ALB_CLASSIFICATION_REASON,
    ALB_CONN_TRACE_ID,
    ALB_TRANSFORMED_HOST,
    ALB_TRANSFORMED_URI,
    ALB_REQUEST_TRANSFORM_STATUS,
    ALB_NODE_IP,
    ALB_NFIELDS /* fields kept; later ones are only counted */
};

typedef struct alb_line {
    tg_str f[ALB_NFIELDS]; /* unquoted raw text; TG_STR_NULL past nfields */
    uint32_t nfields;      /* every field on the line, known or not */
} alb_line;

/* Splits line[0..n) (no trailing newline; a trailing '\r' is the caller's to
 * strip) into fields. Returns the number of fields found. An unterminated
 * quote runs to the end of the line. */
uint32_t alb_tokenize(const char *line, size_t n, alb_line *out);

typedef struct alb_record {
    alb_line t;
    int64_t time_us;    /* field 2, the response time */
    int64_t created_us; /* field 22, TGTIME_NONE when absent or "-" */
    int status;         /* elb_status_code, 0 when "-" or not a number */
    int target_status;  /* target_status_code, 0 when "-" */
} alb_record;

/* Tokenizes and validates line[0..n). Returns true for an ALB access-log line
 * (field 1 one of http https h2 grpcs ws wss, field 2 a valid ISO-8601 time,
 * at least 12 fields), false for anything else (classic ELB, NLB, garbage). */
bool alb_parse(const char *line, size_t n, alb_record *out);

/*
 * alb_parse() for callers that need only the leading fields: tokenizing
 * stops once `want` fields (at least 12) are known, so t.nfields is then
 * min(fields on the line, want) and later fields are TG_STR_NULL. With
 * want >= ALB_NFIELDS it is alb_parse(): every field is counted.
 */
bool alb_parse_prefix(const char *line, size_t n, uint32_t want, alb_record *out);

/* The bit of field f in alb_parse_fields()'s want. */
#define ALB_FIELD(f) ((uint64_t)1 << (f))

/*
 * alb_parse_prefix() for callers that need a few fields only: the fields
 * whose bit is set in want (ALB_FIELD()) are kept, and so are type, time,
 * the two status codes and request_creation_time, which validate and time
 * the line; every other field is TG_STR_NULL. Tokenizing stops after the
 * last of them (at least 12 fields), as alb_parse_prefix() does. Nothing
 * else differs: the result and the kept fields are alb_parse_prefix()'s.
 * This is the grouping path's, the hot one: skipping unwanted fields saves
 * most of the per-field work of a long line.
 */
bool alb_parse_fields(const char *line, size_t n, uint64_t want, alb_record *out);

/*
 * The fields of alb_parse_fields() without its verdict, for a line known to
 * be an ALB access-log line (the printers': it was parsed when it was
 * read). out is alb_parse_fields()'s out->t, whatever the line; nothing is
 * validated, so no timestamp is parsed. Returns out->nfields.
 */
uint32_t alb_split_fields(const char *line, size_t n, uint64_t want, alb_line *out);

/*
 * Decodes ALB's escapes in a field's raw text into dst (capacity cap):
 * \xHH becomes the byte it names; the 8-digit form \x000000HH (eight hex
 * digits of which the first six are zeros) becomes byte HH; \" and \\
 * become " and \; any other backslash is kept. Returns the decoded length
 * (never more than s.n, so cap >= s.n always suffices).
 */
size_t alb_unescape(tg_str s, char *dst, size_t cap);

#endif
