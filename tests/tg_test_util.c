#define _GNU_SOURCE
#include "tg_test_util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char *tt_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        cr_assert_fail("vasprintf failed");
    va_end(ap);
    return s;
}

char *tt_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *tmpl = tt_fmt("%s/tracegrep-test-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
    return tmpl;
}

void tt_rmtree(const char *path)
{
    char *cmd = tt_fmt("chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", path, path);
    int rc = system(cmd);
    (void)rc;
    free(cmd);
}

char *tt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

void tt_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, len, f), len, "write %s", path);
    cr_assert_eq(fclose(f), 0, "close %s", path);
}

typedef struct sink {
    char *p;
    size_t n, cap;
} sink;

static void sink_add(sink *s, const char *p, size_t n)
{
    if (s->n + n + 1 > s->cap) {
        while (s->n + n + 1 > s->cap)
            s->cap = s->cap ? s->cap * 2 : 4096;
        s->p = realloc(s->p, s->cap);
    }
    memcpy(s->p + s->n, p, n);
    s->n += n;
    s->p[s->n] = '\0';
}

tt_run tt_sh(const char *cmdline, const char *stdin_data)
{
    int in[2], out[2], err[2];
    signal(SIGPIPE, SIG_IGN); /* a child that stops reading stdin must not kill us */
    cr_assert(pipe(in) == 0 && pipe(out) == 0 && pipe(err) == 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]), close(err[0]), close(err[1]);
        execl("/bin/sh", "sh", "-c", cmdline, (char *)NULL);
        _exit(127);
    }
    close(in[0]), close(out[1]), close(err[1]);
    size_t in_len = stdin_data ? strlen(stdin_data) : 0, in_off = 0;
    if (in_len == 0)
        close(in[1]), in[1] = -1;
    else
        fcntl(in[1], F_SETFL, O_NONBLOCK);
    sink so = {0}, se = {0};
    sink_add(&so, "", 0);
    sink_add(&se, "", 0);
    int open_fds = 2;
    while (open_fds > 0 || in[1] >= 0) {
        struct pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
        if (poll(fds, 3, -1) < 0 && errno != EINTR)
            break;
        char buf[65536];
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t got = read(fds[i].fd, buf, sizeof buf);
                if (got <= 0) {
                    close(fds[i].fd);
                    if (i == 0)
                        out[0] = -1;
                    else
                        err[0] = -1;
                    open_fds--;
                } else {
                    sink_add(i == 0 ? &so : &se, buf, (size_t)got);
                }
            }
        }
        if (in[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t put = write(in[1], stdin_data + in_off, in_len - in_off);
            if (put > 0)
                in_off += (size_t)put;
            if (put < 0 || in_off == in_len)
                close(in[1]), in[1] = -1;
        }
    }
    int wst = 0;
    waitpid(pid, &wst, 0);
    tt_run r = {so.p, so.n, se.p, se.n, 0};
    r.status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
    return r;
}

void tt_run_free(tt_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

size_t tt_count(const char *hay, const char *needle)
{
    size_t c = 0, nl = strlen(needle);
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += nl)
        c++;
    return c;
}
