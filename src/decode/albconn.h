/*
 * albconn: the ALB connection-log line parser (FORMATS.md §4).
 *
 * A connection log has one line per TLS connection a load balancer
 * accepted, space separated: timestamp, client ip, client port, listener
 * port, TLS protocol, cipher, handshake latency, "leaf client cert
 * subject", cert validity, cert serial, verify status, conn_trace_id, and
 * in newer files TLS key exchange, elb and the node's ip address. It has
 * no trace id: its conn_trace_id (TID_…) is the one every request on that
 * connection carries in access-log field 30, which is how a connection is
 * joined to its requests.
 *
 * The split is alb_tokenize()'s (the quoting rules are ALB's), so fields
 * past the known ones are counted and ignored, as AWS asks. Slices point
 * into the caller's line, unquoted, escapes as written (alb_unescape()
 * decodes them for printing). Nothing is allocated; thread-safe.
 */
#ifndef TG_ALBCONN_H
#define TG_ALBCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/alb.h"
#include "util/tg_str.h"

/* Zero-based field positions (FORMATS.md numbers them from 1). */
enum albconn_field {
    ALBCONN_TIME = 0,
    ALBCONN_CLIENT_IP,
    ALBCONN_CLIENT_PORT,
    ALBCONN_LISTENER_PORT,
    ALBCONN_TLS_PROTOCOL,
    ALBCONN_TLS_CIPHER,
    ALBCONN_HANDSHAKE_LATENCY,
    ALBCONN_CERT_SUBJECT,
    ALBCONN_CERT_VALIDITY,
    ALBCONN_CERT_SERIAL,
    ALBCONN_VERIFY_STATUS,
    ALBCONN_CONN_TRACE_ID,
    ALBCONN_TLS_KEYEXCHANGE, /* newer files from here on */
    ALBCONN_ELB,
    ALBCONN_IP_ADDRESS,
    ALBCONN_NFIELDS
};

/* The fields every connection-log line has. */
#define ALBCONN_MIN_FIELDS 12

typedef struct albconn_record {
    alb_line t;            /* fields by enum albconn_field; TG_STR_NULL past t.nfields */
    int64_t time_us;       /* field 1 */
    int64_t handshake_us;  /* field 7 in microseconds, -1 for "-" (no handshake time) */
    int64_t not_before_us; /* from field 9 "NotBefore=…;NotAfter=…", TGTIME_NONE when absent */
    int64_t not_after_us;
    uint16_t client_port, listener_port;
    bool ipv6;             /* the client ip is an IPv6 address */
} albconn_record;

/*
 * Tokenizes and validates line[0..n) (no newline; a trailing '\r' is the
 * caller's to strip). Returns true for a connection-log line: at least 12
 * fields, an ISO-8601 time, an IPv4 or IPv6 client ip (no brackets), two
 * ports 0..65535, a handshake latency in seconds or "-", and a
 * conn_trace_id that starts with "TID_" or is "-". False for anything else
 * (access-log lines, classic ELB, text); *out is then unspecified.
 */
bool albconn_parse(const char *line, size_t n, albconn_record *out);

/* True when s is a dotted-quad IPv4 or a colon-hex IPv6 address (with an
 * optional embedded IPv4 tail), as the connection log writes them. */
bool albconn_is_ip(tg_str s, bool *ipv6);

#endif
