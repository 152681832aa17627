/*
 * walk: see walk.h.
 *
 * Directories are read whole, their names sorted with strcmp (bytewise, so
 * the order does not depend on the locale), then visited in that order.
 * Entries are looked at relative to their directory's descriptor (fstatat,
 * openat), which spares the kernel a walk of the whole path per entry and
 * keeps working when paths get long. The directories on the current path are
 * a chain of (st_dev, st_ino) pairs on the C stack: a directory that is its
 * own ancestor is a symlink loop.
 */
#define _GNU_SOURCE /* strdup, fdopendir, openat, fstatat, faccessat */
#include "input/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct walk_dirid {
    dev_t dev;
    ino_t ino;
    const struct walk_dirid *up;
} walk_dirid;

typedef struct walk_ctx {
    walk_list *list;
    walk_report_fn report;
    void *ctx;
    size_t errors;
    char *path; /* the path being looked at, rebuilt in place per entry */
    size_t len, cap;
} walk_ctx;

static void walk_problem_at(walk_ctx *w, walk_problem kind, const char *path, const char *msg)
{
    if (kind == WALK_ERROR)
        w->errors++;
    if (w->report)
        w->report(w->ctx, kind, path, msg);
}

static void walk_push(walk_ctx *w, const char *path, uint64_t size)
{
    walk_list *l = w->list;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **paths = realloc(l->paths, cap * sizeof *paths);
        if (!paths)
            goto oom;
        l->paths = paths;
        uint64_t *sizes = realloc(l->sizes, cap * sizeof *sizes);
        if (!sizes)
            goto oom;
        l->sizes = sizes;
        l->cap = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        goto oom;
    l->paths[l->n] = copy;
    l->sizes[l->n] = size;
    l->n++;
    return;
oom:
    walk_problem_at(w, WALK_ERROR, path, strerror(ENOMEM));
}

/* Appends "/" + name to w->path (no second slash after a trailing one). */
static int walk_path_append(walk_ctx *w, const char *name)
{
    size_t nl = strlen(name), need = w->len + 1 + nl + 1;
    if (need > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < need)
            cap *= 2;
        char *p = realloc(w->path, cap);
        if (!p)
            return -1;
        w->path = p;
        w->cap = cap;
    }
    if (w->len && w->path[w->len - 1] != '/')
        w->path[w->len++] = '/';
    memcpy(w->path + w->len, name, nl + 1);
    w->len += nl;
    return 0;
}

static int walk_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_on_path(const walk_dirid *d, dev_t dev, ino_t ino)
{
    for (; d; d = d->up)
        if (d->dev == dev && d->ino == ino)
            return 1;
    return 0;
}

/* The entries of directory d, sorted; NULL when memory is short. One pool
 * holds the names, so a directory costs two allocations, not one per name. */
static char **walk_read_names(walk_ctx *w, DIR *d, size_t *count, char **pool_out)
{
    char *pool = NULL;
    size_t used = 0, cap = 0, n = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
            continue;
        size_t len = strlen(nm) + 1;
        if (used + len > cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            while (ncap < used + len)
                ncap *= 2;
            char *np = realloc(pool, ncap);
            if (!np)
                goto oom;
            pool = np;
            cap = ncap;
        }
        memcpy(pool + used, nm, len);
        used += len;
        n++;
        errno = 0;
    }
    if (errno) /* the listing broke off: say so, and walk what was read */
        walk_problem_at(w, WALK_ERROR, w->path, strerror(errno));
    char **names = malloc((n ? n : 1) * sizeof *names);
    if (!names)
        goto oom;
    for (size_t i = 0, at = 0; i < n; i++) {
        names[i] = pool + at;
        at += strlen(pool + at) + 1;
    }
    qsort(names, n, sizeof *names, walk_cmp);
    *count = n;
    *pool_out = pool;
    return names;
oom:
    free(pool);
    walk_problem_at(w, WALK_ERROR, w->path, strerror(ENOMEM));
    return NULL;
}

static void walk_dir(walk_ctx *w, int dfd, const walk_dirid *self);

/* One entry of an open directory; w->path already names it. */
static void walk_entry(walk_ctx *w, int dfd, const char *name, const walk_dirid *parent)
{
    struct stat st;
    if (fstatat(dfd, name, &st, 0) != 0) { /* follows symlinks: a dangling one fails */
        walk_problem_at(w, WALK_ERROR, w->path, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        if (walk_on_path(parent, st.st_dev, st.st_ino)) {
            walk_problem_at(w, WALK_SKIPPED, w->path, "symlink loop");
            return;
        }
        int cfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cfd < 0) {
            walk_problem_at(w, WALK_ERROR, w->path, strerror(errno));
            return;
        }
        walk_dirid self = {st.st_dev, st.st_ino, parent};
        walk_dir(w, cfd, &self);
    } else if (S_ISREG(st.st_mode)) {
        if (faccessat(dfd, name, R_OK, 0) != 0)
            walk_problem_at(w, WALK_ERROR, w->path, strerror(errno));
        else
            walk_push(w, w->path, (uint64_t)st.st_size);
    } else {
        /* Opening a FIFO found in a tree would block until a writer comes,
         * and a device is never a log archive. */
        walk_problem_at(w, WALK_SKIPPED, w->path, "not a regular file");
    }
}

/* Walks the directory open on dfd (and closes it); w->path names it. */
static void walk_dir(walk_ctx *w, int dfd, const walk_dirid *self)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        walk_problem_at(w, WALK_ERROR, w->path, strerror(errno));
        close(dfd);
        return;
    }
    size_t n = 0;
    char *pool = NULL;
    char **names = walk_read_names(w, d, &n, &pool);
    size_t base = w->len;
    for (size_t i = 0; names && i < n; i++) {
        if (walk_path_append(w, names[i]) != 0) {
            walk_problem_at(w, WALK_ERROR, w->path, strerror(ENOMEM));
            break;
        }
        walk_entry(w, dirfd(d), names[i], self);
        w->len = base;
        w->path[base] = '\0';
    }
    free(names);
    free(pool);
    closedir(d);
}

size_t walk_add(walk_list *list, const char *path, walk_report_fn report, void *ctx)
{
    walk_ctx w = {.list = list, .report = report, .ctx = ctx};
    struct stat st;
    if (strcmp(path, "-") == 0) {
        walk_push(&w, path, 0);
    } else if (stat(path, &st) != 0) {
        walk_problem_at(&w, WALK_ERROR, path, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
            walk_problem_at(&w, WALK_ERROR, path, strerror(errno));
        } else if (walk_path_append(&w, path) != 0) {
            walk_problem_at(&w, WALK_ERROR, path, strerror(ENOMEM));
            close(dfd);
        } else {
            walk_dirid self = {st.st_dev, st.st_ino, NULL};
            walk_dir(&w, dfd, &self);
        }
    } else if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
        /* A named FIFO or character device is what /dev/stdin and a shell's
         * <(...) look like: the user asked for it, so it is streamed. */
        if (access(path, R_OK) != 0)
            walk_problem_at(&w, WALK_ERROR, path, strerror(errno));
        else
            walk_push(&w, path, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
    } else {
        walk_problem_at(&w, WALK_ERROR, path, "not a regular file");
    }
    free(w.path);
    return w.errors;
}

void walk_free(walk_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->paths[i]);
    free(list->paths);
    free(list->sizes);
    list->paths = NULL;
    list->sizes = NULL;
    list->n = list->cap = 0;
}

const char *walk_name(const walk_list *list, size_t i)
{
    return strcmp(list->paths[i], "-") == 0 ? "<stdin>" : list->paths[i];
}
