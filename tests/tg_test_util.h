/*
 * Helpers shared by the test files: temporary folders, whole-file reads and
 * writes, and running a program with its output captured.
 */
#ifndef TG_TEST_UTIL_H
#define TG_TEST_UTIL_H

#include <stddef.h>

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

/* printf into a fresh owned string. */
char *tt_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Counts the occurrences of needle in hay. */
size_t tt_count(const char *hay, const char *needle);

#endif
