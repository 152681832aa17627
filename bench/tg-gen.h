/*
 * tg-gen.h: what the two halves of tg-gen share.
 *
 * tg-gen.c is the driver and the ALB access-log generator: the command line,
 * the service landscape, the traces and the noise around them, and the
 * truth. tg-gen-formats.c writes the other log kinds of the same incident
 * (ALB connection logs, CloudFront, the targets' nginx logs, API Gateway and
 * Lambda) from the ALB lines tg-gen.c hands it, behind --formats.
 *
 * The one rule that binds them: the formats half never draws from the ALB
 * half's random stream. It has a stream of its own, seeded from --seed, so
 * that the ALB access logs of a seed are the same bytes whatever --formats
 * says. It reads the ALB lines (line_spec) and the landscape (lb_info), and
 * never changes them.
 *
 * Everything here is single-threaded; nothing is thread-safe.
 */
#ifndef TG_GEN_H
#define TG_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GEN_ACCOUNT "123456789012"
#define GEN_REGION "us-east-1"
#define GEN_MAX_LBS 64

/* ------------------------------------------------------------------------ */
/* Random numbers: xoshiro256** seeded with splitmix64 (tg-gen.c).          */

typedef struct rng {
    uint64_t s[4];
} rng;

uint64_t splitmix64(uint64_t *x);
void rng_seed(rng *r, uint64_t seed);
uint64_t rng_next(rng *r);
uint32_t rng_below(rng *r, uint32_t n);      /* [0, n), n > 0 */
int64_t rng_range(rng *r, int64_t lo, int64_t hi); /* [lo, hi] */
double rng_unit(rng *r);                     /* [0, 1) */
bool rng_chance(rng *r, double p);

#define PICK(r, arr) ((arr)[rng_below((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

/* ------------------------------------------------------------------------ */
/* A bounded writer: once something does not fit, `over` is set and every  */
/* later put is dropped, so a caller checks once at the end.                */

typedef struct wbuf {
    char *p, *end;
    bool over; /* something did not fit; the line must not be used */
} wbuf;

void put_mem(wbuf *w, const char *s, size_t n);
void put_str(wbuf *w, const char *s);
void put_ch(wbuf *w, char c);
void put_dec(wbuf *w, uint64_t v, int width); /* at least `width` digits */
void put_int(wbuf *w, int64_t v);
void put_hex(wbuf *w, uint64_t v, int digits, bool upper); /* the low `digits` nibbles */
void put_ms3(wbuf *w, int64_t ms); /* milliseconds as seconds, 3 decimals; -1 stays -1 */

typedef struct civil {
    int y;
    unsigned mo, d, h, mi, s;
} civil;

civil civil_from_s(int64_t secs);
void put_time(wbuf *w, int64_t us); /* "2018-07-02T22:23:00.186641Z" */

void str_copy(char *dst, size_t cap, const char *src);
int mkdir_p(char *path); /* path is restored before returning */

/* ------------------------------------------------------------------------ */
/* Settings and the landscape.                                               */

/* --formats bits beyond the ALB access logs, which are always written. */
enum gen_format {
    GEN_FMT_CONN = 1u << 0,       /* ALB connection logs */
    GEN_FMT_CLOUDFRONT = 1u << 1, /* CloudFront standard logs */
    GEN_FMT_NGINX = 1u << 2,      /* the targets' nginx access logs */
    GEN_FMT_APIGW = 1u << 3,      /* API Gateway access logs (JSON lines) */
    GEN_FMT_LAMBDA = 1u << 4,     /* Lambda logs as exported from CloudWatch */
    GEN_FMT_ALL = (1u << 5) - 1
};

typedef struct settings {
    uint64_t seed;
    uint64_t max_traces; /* 0 = no limit */
    uint64_t max_bytes;  /* 0 = no limit */
    int lbs;
    int64_t start_s;
    double rate; /* traces per second */
    const char *out_dir;
    const char *single; /* "-" = stdout */
    const char *truth;
    unsigned formats; /* enum gen_format bits; 0 = ALB access logs only */
} settings;

typedef struct lb_info {
    char name[40];
    char svc[24]; /* the service behind it: used in host names and paths */
    char id[17];  /* 16 hex */
    char node_ip[2][24];
    char domain[64];
    char tg_arn[128];
    char cert_arn[96];
    unsigned net_b, net_c; /* targets live in 10.net_b.net_c.0/24 */
    int target_port;
    bool internal;
} lb_info;

/* ------------------------------------------------------------------------ */
/* One ALB access-log line before rendering.                                 */

enum req_type { T_HTTP, T_HTTPS, T_H2, T_WS, T_WSS, T_GRPCS };

typedef struct line_spec {
    int lb, node;
    enum req_type type;
    int nfields;     /* 18, 20, 29, 30, 33 or 36 */
    int64_t time_us; /* field 2, the response time */
    int64_t created_us;
    char client[48];
    char target[24];                 /* "-" when the request never reached one */
    int64_t req_ms, tgt_ms, resp_ms; /* milliseconds, -1 = "-1" */
    int elb_status;
    int target_status; /* 0 = "-" */
    uint64_t rx, tx;
    char request[320];
    char ua[360];
    char header[192]; /* field 18 unquoted, "-" for none */
    bool tls;
    bool has_tg;
    bool has_domain; /* SNI: only on TLS listeners */
    int rule;        /* -1 = "-" */
    const char *actions, *error_reason, *classification, *class_reason;
    const char *cipher, *protocol;
    uint64_t tid_hi, tid_lo; /* field 30, written when nfields >= 30 */
} line_spec;

typedef struct root_id {
    uint32_t epoch;
    uint32_t hi; /* the first 8 of the 24 id digits */
    uint64_t lo; /* the last 16 */
} root_id;

void put_root(wbuf *w, root_id id, bool upper); /* "1-xxxxxxxx-xxx…" */
root_id random_root(rng *r, uint32_t epoch);

/* ------------------------------------------------------------------------ */
/* The other log kinds (tg-gen-formats.c).                                   */

/*
 * A formats context writes every log kind of cfg->formats under
 * cfg->out_dir and keeps their truth. It borrows cfg and lbs (they must
 * outlive it) and owns its files. Calls come in generation order, the
 * same order in which tg-gen.c makes its lines:
 *
 *   fmt_alb_line()  every ALB access line, as emitted (connection logs,
 *                   health checks reaching the target's nginx);
 *   fmt_trace()     once per trace, after its hops were emitted;
 *   fmt_between()   once per gap between traces (lines of no trace);
 *   fmt_advance()   with the generator's clock: closes files whose
 *                   interval no later line can reach.
 *
 * Every call makes the same random draws whatever cfg->formats selects,
 * and an unselected format is only not written: each kind's bytes depend
 * on the seed and the options, never on which other kinds were asked for.
 * Functions that return int return 0, or -1 after a message on stderr.
 */
typedef struct fmt_ctx fmt_ctx;

fmt_ctx *fmt_open(const settings *cfg, const lb_info *lbs);
int fmt_alb_line(fmt_ctx *x, const line_spec *s);
/* hops[i] and depth[i] for the n ALB lines of the trace root, in the order
 * they were emitted (hop 0 is the internet-facing one). */
int fmt_trace(fmt_ctx *x, root_id root, const line_spec *hops, const int *depth, int n);
int fmt_between(fmt_ctx *x, int64_t t_us, int64_t gap_us);
int fmt_advance(fmt_ctx *x, int64_t clock_us);
/* Closes every file; the truth functions below need it first. */
int fmt_finish(fmt_ctx *x);
/* The truth keys after the ALB ones (format, joined.*, cloudfront.unmatched);
 * the ALB counts are the caller's. */
int fmt_truth_keys(fmt_ctx *x, FILE *f, uint64_t alb_lines, uint64_t alb_events,
                   uint64_t alb_malformed);
/* The tracefmt rows, one per trace in trace order. */
int fmt_truth_rows(fmt_ctx *x, FILE *f);
/* Lines and files written (for the summary on stderr). */
void fmt_totals(const fmt_ctx *x, uint64_t *lines, uint64_t *files);
void fmt_free(fmt_ctx *x);

#endif
