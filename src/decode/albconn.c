/*
 * albconn: ALB connection-log lines.
 *
 * Decisions the header leaves open, made here:
 * - The TLS protocol, cipher, verify status and certificate fields are kept
 *   as text and not checked: AWS adds protocols and verify reasons
 *   ("Failed:ClientCertUntrusted") over time, and a field we do not know is
 *   no reason to drop a line.
 * - The validity field is "NotBefore=<iso>;NotAfter=<iso>" in any order;
 *   a part that is missing or unreadable leaves its time TGTIME_NONE.
 * - An IPv6 address is checked for its alphabet and shape (hex groups of
 *   up to 4 digits, at least two colons, at most one "::", an optional
 *   dotted tail), not for every RFC 4291 rule: this is a line check, not
 *   an address validator.
 */
#include "decode/albconn.h"

#include "decode/tgtime.h"

static inline bool is_digit(char c)
{
    return (unsigned)(unsigned char)c - '0' <= 9;
}

static inline bool is_hex(char c)
{
    unsigned l = (unsigned)(unsigned char)c | 0x20;
    return is_digit(c) || (l >= 'a' && l <= 'f');
}

/* A decimal port 0..65535, 1 to 5 digits. */
static bool parse_port(tg_str s, uint16_t *out)
{
    if (s.n == 0 || s.n > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (!is_digit(s.p[i]))
            return false;
        v = v * 10 + (unsigned)(s.p[i] - '0');
    }
    if (v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

static bool is_ipv4(const char *p, size_t n)
{
    unsigned parts = 0, digits = 0, v = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '.') {
            if (digits == 0 || v > 255 || ++parts > 4)
                return false;
            digits = v = 0;
        } else if (is_digit(p[i]) && digits < 3) {
            v = v * 10 + (unsigned)(p[i] - '0');
            digits++;
        } else {
            return false;
        }
    }
    return parts == 4;
}

static bool is_ipv6(const char *p, size_t n)
{
    if (n < 2 || n > 45)
        return false;
    unsigned colons = 0, group = 0;
    bool dbl = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == ':') {
            if (i + 1 < n && p[i + 1] == ':') {
                if (dbl)
                    return false;
                dbl = true;
            }
            colons++;
            group = 0;
        } else if (c == '.') {
            /* An embedded IPv4 tail ("::ffff:192.0.2.1") ends the address. */
            size_t s = i;
            while (s > 0 && p[s - 1] != ':')
                s--;
            return colons >= 2 && is_ipv4(p + s, n - s);
        } else if (is_hex(c) && group < 4) {
            group++;
        } else {
            return false;
        }
    }
    return colons >= 2 && colons <= 7;
}

bool albconn_is_ip(tg_str s, bool *ipv6)
{
    if (s.p == NULL)
        return false;
    if (is_ipv4(s.p, s.n)) {
        *ipv6 = false;
        return true;
    }
    if (is_ipv6(s.p, s.n)) {
        *ipv6 = true;
        return true;
    }
    return false;
}

/* Reads "NotBefore=…;NotAfter=…" into the two times. */
static void parse_validity(tg_str v, albconn_record *out)
{
    const char *p = v.p, *end = v.p + v.n;
    while (p < end) {
        const char *e = memchr(p, ';', (size_t)(end - p));
        if (e == NULL)
            e = end;
        size_t len = (size_t)(e - p);
        if (len > 10 && memcmp(p, "NotBefore=", 10) == 0)
            tgtime_parse_iso(p + 10, len - 10, &out->not_before_us);
        else if (len > 9 && memcmp(p, "NotAfter=", 9) == 0)
            tgtime_parse_iso(p + 9, len - 9, &out->not_after_us);
        p = e + 1;
    }
}

bool albconn_parse(const char *line, size_t n, albconn_record *out)
{
    out->time_us = TGTIME_NONE;
    out->handshake_us = -1;
    out->not_before_us = out->not_after_us = TGTIME_NONE;
    out->client_port = out->listener_port = 0;
    out->ipv6 = false;

    /* The cheapest rejections first: the sniffer calls this on lines of
     * every format, and an access-log line fails on its first byte. */
    if (n < 20 || !is_digit(line[0]))
        return false;
    const alb_line *t = &out->t;
    if (alb_tokenize(line, n, &out->t) < ALBCONN_MIN_FIELDS)
        return false;
    tg_str f = t->f[ALBCONN_TIME];
    if (!tgtime_parse_iso(f.p, f.n, &out->time_us))
        return false;
    if (!albconn_is_ip(t->f[ALBCONN_CLIENT_IP], &out->ipv6) ||
        !parse_port(t->f[ALBCONN_CLIENT_PORT], &out->client_port) ||
        !parse_port(t->f[ALBCONN_LISTENER_PORT], &out->listener_port))
        return false;
    tg_str id = t->f[ALBCONN_CONN_TRACE_ID];
    if (!tg_str_is_dash(id) && !(id.n > 4 && memcmp(id.p, "TID_", 4) == 0))
        return false;
    /* tgtime_parse_seconds() reads "-" as -1, the unknown marker we want. */
    f = t->f[ALBCONN_HANDSHAKE_LATENCY];
    if (!tgtime_parse_seconds(f.p, f.n, &out->handshake_us))
        return false;
    parse_validity(t->f[ALBCONN_CERT_VALIDITY], out);
    return true;
}
