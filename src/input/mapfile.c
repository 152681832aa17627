/*
 * mapfile: see mapfile.h.
 *
 * The mapping is private and read-only: the scanner never writes, and a
 * private mapping keeps a concurrent writer's later changes from being
 * promised to us. MADV_SEQUENTIAL doubles the kernel's read-ahead and lets it
 * drop pages behind us, which is how a scan walks the file. MADV_HUGEPAGE
 * would do nothing here: transparent huge pages back anonymous memory, not
 * the page cache of ordinary file systems.
 */
#define _GNU_SOURCE /* madvise */
#include "input/mapfile.h"

#include <errno.h>
#include <sys/mman.h>

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
