/*
 * A test double at the system-call boundary, preloaded into tracegrep
 * (LD_PRELOAD) by the test of a file cut short while it is read: it
 * truncates one file at a chosen moment of the read, which no test can time
 * from outside the process.
 *
 *   TG_SHRINK_PATH  the file
 *   TG_SHRINK_TO    the size it is cut to, in bytes
 *   TG_SHRINK_CALL  the MADV_POPULATE_READ call on its mapping that cuts it
 *                   (1 is the first call), "write": the first write(2)
 *                   to the standard output, once the printing has begun, or
 *                   "read:N": the Nth read(2) of the file
 *   TG_SHRINK_BLIND set: from the cut on, the populate calls on the mapping
 *                   do nothing and succeed, as on a kernel without
 *                   MADV_POPULATE_READ (or when the cut falls between the
 *                   call and the read): the read itself faults, SIGBUS
 *
 * mmap() notes where the file is mapped; madvise() counts the populate
 * calls that fall in that mapping and truncates the file just before the
 * chosen one runs, as another process would; read() counts the reads of
 * the file and does the same.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

static uintptr_t map_lo, map_hi;
static unsigned calls;
static int cut;

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int madvise(void *addr, size_t len, int advice);
ssize_t read(int fd, void *buf, size_t n);
ssize_t write(int fd, const void *buf, size_t n);

static void cut_now(void)
{
    cut = 1;
    if (truncate(getenv("TG_SHRINK_PATH"), (off_t)strtoull(getenv("TG_SHRINK_TO"), NULL, 10)) != 0)
        abort(); /* the test would prove nothing */
}

ssize_t read(int fd, void *buf, size_t n)
{
    ssize_t (*real)(int, void *, size_t) =
        (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    const char *call = getenv("TG_SHRINK_CALL"), *path = getenv("TG_SHRINK_PATH");
    struct stat a, b;
    if (!cut && call && strncmp(call, "read:", 5) == 0 && path && getenv("TG_SHRINK_TO") &&
        fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino && ++calls >= strtoul(call + 5, NULL, 10))
        cut_now();
    return real(fd, buf, n);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    ssize_t (*real)(int, const void *, size_t) =
        (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    const char *call = getenv("TG_SHRINK_CALL");
    if (fd == 1 && !cut && call && strcmp(call, "write") == 0 && getenv("TG_SHRINK_TO"))
        cut_now();
    return real(fd, buf, n);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *(*real)(void *, size_t, int, int, int, off_t) =
        (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
    void *p = real(addr, len, prot, flags, fd, off);
    const char *path = getenv("TG_SHRINK_PATH");
    struct stat a, b;
    if (p != MAP_FAILED && fd >= 0 && path && fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        map_lo = (uintptr_t)p;
        map_hi = map_lo + len;
    }
    return p;
}

int madvise(void *addr, size_t len, int advice)
{
    int (*real)(void *, size_t, int) = (int (*)(void *, size_t, int))dlsym(RTLD_NEXT, "madvise");
    uintptr_t a = (uintptr_t)addr;
    if (advice == MADV_POPULATE_READ && !cut && a >= map_lo && a < map_hi) {
        const char *to = getenv("TG_SHRINK_TO"), *call = getenv("TG_SHRINK_CALL");
        if (to && call && strcmp(call, "write") != 0 && strncmp(call, "read:", 5) != 0 &&
            ++calls >= strtoul(call, NULL, 10))
            cut_now();
    }
    if (advice == MADV_POPULATE_READ && cut && a >= map_lo && a < map_hi &&
        getenv("TG_SHRINK_BLIND"))
        return 0;
    return real(addr, len, advice);
}
