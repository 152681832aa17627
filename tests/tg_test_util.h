/*
 * Helpers shared by the test files: temporary folders, whole-file reads and
 * writes, and running a program with its output captured.
 */
#ifndef TG_TEST_UTIL_H
#define TG_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

typedef struct tt_run {
    char *out;  /* stdout, NUL-terminated, owned */
    size_t out_len;
    char *err;  /* stderr, NUL-terminated, owned */
    size_t err_len;
    int status; /* exit code, or 128+signal when killed */
} tt_run;

/* Makes a fresh folder under $TMPDIR (or /tmp); returns an owned path. */
char *tt_tmpdir(void);

/* Removes a tree made by the tests (rm -rf). */
void tt_rmtree(const char *path);

/* Reads a whole file; returns an owned NUL-terminated buffer or NULL. */
char *tt_read_file(const char *path, size_t *len);

/* Writes len bytes to path, replacing it; aborts the test on failure. */
void tt_write_file(const char *path, const void *data, size_t len);

/* Runs a shell command line (sh -c), feeding stdin_data (may be NULL) and
 * capturing both outputs. */
tt_run tt_sh(const char *cmdline, const char *stdin_data);

void tt_run_free(tt_run *r);

/* The tracegrep binary under test: $TRACEGREP_BIN when set (the
 * ThreadSanitizer run points it at an instrumented build), else the one
 * built beside the tests. */
const char *tt_binary(void);

/* printf into a fresh owned string. */
char *tt_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Counts the occurrences of needle in hay. */
size_t tt_count(const char *hay, const char *needle);

/* True when s[0..n) is exactly one valid JSON value (RFC 8259), blanks
 * around it allowed. Strings must be valid UTF-8. */
int tt_json_valid(const char *s, size_t n);

/* The number after the first "key": in json; aborts the test if absent. */
unsigned long long tt_json_u64(const char *json, const char *key);

/* The number after "key": inside the object that follows the first
 * "obj":{ in json; aborts the test if either is absent. */
unsigned long long tt_json_obj_u64(const char *json, const char *obj, const char *key);

/* The string after the first "key":" in json, copied (owned), or NULL. */
char *tt_json_str(const char *json, const char *key);

/* The ground truth tg-gen writes (see bench/tg-gen.c). */
typedef struct tt_truth_trace {
    char id[36];
    unsigned long events;
    long long start_us, end_us;
    unsigned worst;
    unsigned lbs;
} tt_truth_trace;

/* Event formats in the truth's order: alb, alb-conn, cloudfront, app, lambda. */
enum { TT_FMT_ALB, TT_FMT_CONN, TT_FMT_CF, TT_FMT_APP, TT_FMT_LAMBDA, TT_NFMT };

typedef struct tt_truth_fmt {
    char id[36];
    unsigned long n[TT_NFMT]; /* events of the trace by format */
} tt_truth_fmt;

typedef struct tt_truth {
    unsigned long long lines, header_lines, events, malformed, no_root, bad_root, zero_root,
        traces, multi, traces_5xx;
    tt_truth_trace *t;
    size_t nt;
    /* Written with --formats beyond alb (all zero otherwise). */
    int has_formats;
    unsigned long long fmt_lines[TT_NFMT], fmt_events[TT_NFMT], fmt_malformed[TT_NFMT];
    unsigned long long joined_conn, joined_cf, cf_unmatched;
    tt_truth_fmt *tf;
    size_t ntf;
} tt_truth;

/* The index of a truth format name, or -1. */
int tt_fmt_index(const char *name);

/* Deterministic pseudo-random numbers (xorshift64*), the same sequence in
 * every test (Criterion runs each test in a process of its own). */
uint64_t tt_rnd(void);
unsigned tt_rnd_below(unsigned n);

/* Appends to line[0..n) up to `parts` fragments drawn at random from
 * frags[0..nfrags), stopping at the first that does not fit in cap bytes;
 * returns the new length. For lines of random pieces in reference tests. */
size_t tt_append_frags(char *line, size_t n, size_t cap, const char *const *frags,
                       size_t nfrags, unsigned parts);

/* Reads a truth file; aborts the test when it is missing or malformed. */
tt_truth tt_truth_read(const char *path);
const tt_truth_trace *tt_truth_find(const tt_truth *t, const char *id);
void tt_truth_free(tt_truth *t);

/* What /proc/self/smaps says of the mapping that holds p about transparent
 * huge pages: 'h' advised as huge ("hg" among its VmFlags), 'n' advised
 * against ("nh"), '-' neither; -1 when smaps does not say, or the kernel
 * has no transparent huge pages at all. */
int tt_thp_advice(const void *p);

#endif
