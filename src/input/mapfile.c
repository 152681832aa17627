/*
 * mapfile: see mapfile.h.
 *
 * The mapping is private and read-only: the scanner never writes, and a
 * private mapping keeps a concurrent writer's later changes from being
 * promised to us. MADV_SEQUENTIAL doubles the kernel's read-ahead and lets it
 * drop pages behind us, which is how a scan walks the file. MADV_HUGEPAGE
 * is not needed: where the page cache holds a file in 2 MiB folios (ext4
 * on Linux 6.16 and later, XFS, for a file read from disk), the kernel
 * places a large mapping at a 2 MiB boundary and maps those folios whole
 * on its own. Over 1 GB of ALB logs read back from disk, populating the
 * mapping took 0.001 s against 0.03 s for the same file in 4 KiB folios.
 */
#define _GNU_SOURCE /* madvise */
#include "input/mapfile.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The file each thread reads, for the SIGBUS handler: the signal is
 * delivered to the thread whose read faulted. */
static _Thread_local const char *reading;

void mapfile_reading(const char *path)
{
    reading = path;
}

const char *mapfile_reading_now(void)
{
    return reading;
}

static void say(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t k = write(2, s, n);
        if (k <= 0)
            return;
        s += k, n -= (size_t)k;
    }
}

/* Only async-signal-safe calls: write(2) and _exit(2). What was written to
 * the output stays; what was still buffered is lost, and the exit status
 * says the run failed. */
static void on_sigbus(int sig)
{
    (void)sig;
    const char *path = reading;
    say("tracegrep: ");
    if (path) {
        say(path);
        say(": the file shrank while it was read; stopping, the output is incomplete\n");
    } else {
        say("a mapped input shrank while it was read (SIGBUS); stopping, the output is "
            "incomplete\n");
    }
    _exit(2);
}

void mapfile_guard_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGBUS, &sa, NULL);
}

int mapfile_open(mapfile *m, int fd, size_t size)
{
    m->p = NULL;
    m->n = 0;
    if (size == 0) /* mmap rejects a zero length, and there is nothing to read */
        return 0;
    void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return errno;
    (void)madvise(p, size, MADV_SEQUENTIAL); /* advice only: failure is harmless */
    m->p = p;
    m->n = size;
    return 0;
}

void mapfile_close(mapfile *m)
{
    if (m->p)
        munmap((void *)m->p, m->n);
    m->p = NULL;
    m->n = 0;
}

int mapfile_populate(const mapfile *m, size_t start, size_t end)
{
#ifdef MADV_POPULATE_READ
    if (end > m->n)
        end = m->n;
    if (start >= end)
        return 0;
    /* Whole pages that cover the range, this time: its first and last
     * bytes are read too. */
    const uintptr_t page = 4096;
    uintptr_t base = (uintptr_t)m->p;
    uintptr_t a = (base + start) & ~(page - 1);
    uintptr_t b = (base + end + page - 1) & ~(page - 1);
    if (madvise((void *)a, b - a, MADV_POPULATE_READ) != 0 && errno == EFAULT)
        return EFAULT;
#else
    (void)m;
    (void)start;
    (void)end;
#endif
    return 0;
}

void mapfile_drop(const mapfile *m, size_t start, size_t end)
{
    /* Only whole pages inside [start, end) go: a page shared with a range
     * still being scanned (by another thread, too) must stay mapped. */
    const size_t page = 4096;
    uintptr_t base = (uintptr_t)m->p;
    uintptr_t a = (base + start + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t b = (base + end) & ~(uintptr_t)(page - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_DONTNEED); /* advice: failure is harmless */
}
