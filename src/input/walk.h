/*
 * walk: turns the command line's paths into the ordered list of inputs.
 *
 * Files are taken as given, "-" is stdin, directories are walked recursively
 * with entries sorted bytewise at every level, so the order (and so every
 * tie-break that depends on it) is stable from run to run. Symlinks are
 * followed; a symlink loop, a socket, a FIFO or a device met during a walk is
 * reported once through the callback and skipped. A path that cannot be
 * opened or read is reported as an error.
 *
 * Not thread-safe per list; independent lists may be built concurrently.
 */
#ifndef TG_WALK_H
#define TG_WALK_H

#include <stddef.h>
#include <stdint.h>

typedef struct walk_list {
    char **paths;  /* owned; "-" stands for stdin */
    uint64_t *sizes; /* st_size at walk time, 0 for stdin */
    size_t n, cap;
} walk_list;

typedef enum walk_problem {
    WALK_ERROR,   /* the path could not be used: counts as a failed input */
    WALK_SKIPPED, /* passed over on purpose (loop, socket…): a warning */
} walk_problem;

/* Called once per problem; msg says what went wrong, without the path. */
typedef void (*walk_report_fn)(void *ctx, walk_problem kind, const char *path,
                               const char *msg);

/* Appends the inputs that path names to list. Returns the number of
 * WALK_ERROR problems reported (0 when all went well). */
size_t walk_add(walk_list *list, const char *path, walk_report_fn report, void *ctx);

void walk_free(walk_list *list);

/* The name of input i in messages: its path, or "<stdin>". */
const char *walk_name(const walk_list *list, size_t i);

#endif
