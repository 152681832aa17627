/*
 * Tests of walk: the order of a recursive walk, symlink loops, files that are
 * not regular, and paths that cannot be used.
 */
#define _GNU_SOURCE
#include "input/walk.h"
#include "tg_test_util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Every report, one "KIND path: msg" line each. */
typedef struct reports {
    char text[8192];
    size_t n, errors, skipped;
} reports;

static void report_fn(void *ctx, walk_problem kind, const char *path, const char *msg)
{
    reports *r = ctx;
    if (kind == WALK_ERROR)
        r->errors++;
    else
        r->skipped++;
    size_t used = strlen(r->text);
    snprintf(r->text + used, sizeof r->text - used, "%s %s: %s\n",
             kind == WALK_ERROR ? "ERROR" : "SKIPPED", path, msg);
    r->n++;
}

/* The list as "path size" lines, with the folder's prefix cut off. */
static char *list_text(const walk_list *l, const char *dir)
{
    size_t cap = 64 + l->n * 256, used = 0, dl = strlen(dir);
    char *s = malloc(cap);
    s[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        const char *p = l->paths[i];
        if (strncmp(p, dir, dl) == 0)
            p += dl;
        used += (size_t)snprintf(s + used, cap - used, "%s %llu\n", p,
                                 (unsigned long long)l->sizes[i]);
    }
    return s;
}

static void put(const char *dir, const char *rel, const char *content)
{
    char *p = tt_fmt("%s/%s", dir, rel);
    tt_write_file(p, content, strlen(content));
    free(p);
}

static void sh_ok(const char *cmd)
{
    tt_run r = tt_sh(cmd, NULL);
    cr_assert_eq(r.status, 0, "%s: %s", cmd, r.err);
    tt_run_free(&r);
}

/* A tree whose bytewise order differs from creation order, from a case-
 * folding order and from a "directories first" order; made afresh for every
 * test and removed after it, failed or not. */
static char *dir;

static void sorted_tree(void)
{
    dir = tt_tmpdir();
    char *cmd = tt_fmt("cd '%s' && mkdir -p c/a d/e/f", dir);
    sh_ok(cmd);
    free(cmd);
    put(dir, "b", "bb");
    put(dir, "aa", "a");
    put(dir, "a", "");
    put(dir, "A", "AAA");
    put(dir, "a.b", "x");
    put(dir, "c/z", "zz");
    put(dir, "c/a/x", "xxxx");
    put(dir, "c/B", "b");
    put(dir, "d/e/f/deep", "deep!");
    put(dir, "d/e/0", "0");
}

static void remove_tree(void)
{
    if (dir)
        tt_rmtree(dir);
    free(dir);
    dir = NULL;
}

#define TEST(name) Test(walk, name, .init = sorted_tree, .fini = remove_tree)

static const char sorted_want[] = "/A 3\n/a 0\n/a.b 1\n/aa 1\n/b 2\n/c/B 1\n/c/a/x 4\n/c/z 2\n"
                                  "/d/e/0 1\n/d/e/f/deep 5\n";

TEST(sorted_recursive)
{
    walk_list l = {0};
    reports rep = {0};
    cr_assert_eq(walk_add(&l, dir, report_fn, &rep), 0, "%s", rep.text);
    cr_assert_eq(rep.n, 0, "%s", rep.text);
    char *got = list_text(&l, dir);
    cr_assert_str_eq(got, sorted_want);
    free(got);
    walk_free(&l);
    cr_assert_eq(l.n, 0);
    cr_assert_null(l.paths);
}

TEST(trailing_slash_and_appending)
{
    char *slash = tt_fmt("%s/", dir), *file = tt_fmt("%s/c/z", dir);
    walk_list l = {0};
    cr_assert_eq(walk_add(&l, "-", report_fn, &(reports){0}), 0);
    cr_assert_eq(walk_add(&l, slash, NULL, NULL), 0);
    cr_assert_eq(walk_add(&l, file, NULL, NULL), 0);
    cr_assert_eq(l.n, 12);
    cr_assert_str_eq(l.paths[0], "-");
    cr_assert_eq(l.sizes[0], 0);
    char *first = tt_fmt("%s/A", dir);
    cr_assert_str_eq(l.paths[1], first, "no double slash");
    cr_assert_str_eq(l.paths[11], file);
    cr_assert_eq(l.sizes[11], 2);
    for (size_t i = 0; i < l.n; i++)
        cr_assert_null(strstr(l.paths[i], "//"), "%s", l.paths[i]);
    free(first), free(slash), free(file);
    walk_free(&l);
}

TEST(symlink_loop_reported_once)
{
    char *cmd = tt_fmt("cd '%s' && ln -s .. c/a/up && ln -s ../.. d/e/f/again && ln -s c link",
                       dir);
    sh_ok(cmd);
    free(cmd);
    walk_list l = {0};
    reports rep = {0};
    cr_assert_eq(walk_add(&l, dir, report_fn, &rep), 0, "%s", rep.text);
    /* c/a/up is c: an ancestor. d/e/f/again is d: an ancestor. link is c
     * again, but not on its own path: walked a second time, and inside it
     * link/a/up points to link's own directory. */
    char *want = tt_fmt("SKIPPED %s/c/a/up: symlink loop\n"
                        "SKIPPED %s/d/e/f/again: symlink loop\n"
                        "SKIPPED %s/link/a/up: symlink loop\n",
                        dir, dir, dir);
    cr_assert_str_eq(rep.text, want);
    cr_assert_eq(rep.skipped, 3);
    char *got = list_text(&l, dir);
    cr_assert_str_eq(got, "/A 3\n/a 0\n/a.b 1\n/aa 1\n/b 2\n/c/B 1\n/c/a/x 4\n/c/z 2\n"
                          "/d/e/0 1\n/d/e/f/deep 5\n/link/B 1\n/link/a/x 4\n/link/z 2\n");
    free(got), free(want);
    walk_free(&l);
}

TEST(socket_and_fifo_skipped)
{
    char *sock = tt_fmt("%s/c/sock", dir), *fifo = tt_fmt("%s/c/fifo", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    cr_assert_lt(strlen(sock), sizeof addr.sun_path);
    strcpy(addr.sun_path, sock);
    cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0, "bind: %s", strerror(errno));
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    walk_list l = {0};
    reports rep = {0};
    cr_assert_eq(walk_add(&l, dir, report_fn, &rep), 0, "%s", rep.text);
    char *want = tt_fmt("SKIPPED %s: not a regular file\nSKIPPED %s: not a regular file\n",
                        fifo, sock);
    cr_assert_str_eq(rep.text, want);
    char *got = list_text(&l, dir);
    cr_assert_str_eq(got, sorted_want);
    /* A FIFO named on the command line is an input like <(...). */
    cr_assert_eq(walk_add(&l, fifo, report_fn, &rep), 0);
    cr_assert_str_eq(l.paths[l.n - 1], fifo);
    cr_assert_eq(walk_add(&l, "/dev/null", report_fn, &rep), 0);
    cr_assert_str_eq(l.paths[l.n - 1], "/dev/null");
    /* A socket named on the command line cannot be read. */
    cr_assert_eq(walk_add(&l, sock, report_fn, &rep), 1);
    cr_assert_eq(rep.errors, 1);
    close(fd);
    free(got), free(want), free(sock), free(fifo);
    walk_free(&l);
}

TEST(nonexistent_and_dangling)
{
    char *cmd = tt_fmt("cd '%s' && ln -s nowhere c/dangling", dir);
    sh_ok(cmd);
    free(cmd);
    walk_list l = {0};
    reports rep = {0};
    char *missing = tt_fmt("%s/missing", dir), *dangling = tt_fmt("%s/c/dangling", dir);
    cr_assert_eq(walk_add(&l, missing, report_fn, &rep), 1);
    cr_assert_eq(l.n, 0);
    char *want = tt_fmt("ERROR %s: No such file or directory\n", missing);
    cr_assert_str_eq(rep.text, want);
    free(want);

    rep = (reports){0};
    cr_assert_eq(walk_add(&l, dir, report_fn, &rep), 1);
    want = tt_fmt("ERROR %s: No such file or directory\n", dangling);
    cr_assert_str_eq(rep.text, want);
    char *got = list_text(&l, dir);
    cr_assert_str_eq(got, sorted_want, "the rest is still listed");

    rep = (reports){0};
    cr_assert_eq(walk_add(&l, dangling, report_fn, &rep), 1, "named directly");
    cr_assert_eq(rep.errors, 1);
    free(got), free(want), free(missing), free(dangling);
    walk_free(&l);
}

TEST(unreadable)
{
    if (geteuid() == 0) {
        remove_tree(); /* a skipped test does not get its .fini */
        cr_skip_test("root reads files whatever their mode");
    }
    char *cmd = tt_fmt("cd '%s' && chmod 000 b c", dir);
    sh_ok(cmd);
    free(cmd);
    walk_list l = {0};
    reports rep = {0};
    cr_assert_eq(walk_add(&l, dir, report_fn, &rep), 2, "%s", rep.text);
    char *want = tt_fmt("ERROR %s/b: Permission denied\nERROR %s/c: Permission denied\n", dir,
                        dir);
    cr_assert_str_eq(rep.text, want);
    free(want);
    walk_free(&l);
}
