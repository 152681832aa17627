/*
 * mapfile: read-only memory mapping of a whole regular file.
 *
 * Plain files are scanned straight out of the page cache: no copy, no read
 * buffer. An empty file maps to {NULL, 0}. The mapping is owned by the
 * mapfile and lives until mapfile_close().
 */
#ifndef TG_MAPFILE_H
#define TG_MAPFILE_H

#include <stddef.h>

typedef struct mapfile {
    const char *p;
    size_t n;
} mapfile;

/* Maps fd (which the caller may close afterwards). Returns 0, or an errno
 * value on failure. */
int mapfile_open(mapfile *m, int fd, size_t size);
void mapfile_close(mapfile *m);

/*
 * Maps in, before they are read, the pages that hold [start, end), in one
 * call: a scan then takes no page fault inside the range, and the
 * prefetches that run ahead of it (which a missing mapping would drop)
 * reach memory. Returns 0, or EFAULT when part of the range is no longer
 * in the file (it was truncated since it was mapped: reading there would
 * raise SIGBUS). On a kernel without MADV_POPULATE_READ (before Linux 5.14)
 * nothing is done and 0 is returned; so it is for any other failure, the
 * pages then faulting in as they are read.
 */
int mapfile_populate(const mapfile *m, size_t start, size_t end);

/*
 * Tells the kernel the pages inside [start, end) are done with: they leave
 * this process's memory (the page cache keeps them), so scanning a file far
 * larger than memory does not show up as resident set. Reading them again
 * is still valid and faults them back in.
 */
void mapfile_drop(const mapfile *m, size_t start, size_t end);

/*
 * A file cut short while its mapping is read raises SIGBUS at the first
 * byte read past its new end. mapfile_populate() sees the cut before a step
 * is scanned; a cut it cannot see (between the populate and the read, or
 * while the lines of a kept mapping are printed) ends the process through
 * this guard: an error that names the file, exit status 2, instead of a
 * bare "Bus error". mapfile_guard_install() sets the handler, once, before
 * any thread starts; mapfile_reading() names the file whose mapping the
 * calling thread reads from now on (NULL when none).
 */
void mapfile_guard_install(void);
void mapfile_reading(const char *path);
/* The file the calling thread reads, as mapfile_reading() last named it:
 * for a helper thread that reads the same mapping. */
const char *mapfile_reading_now(void);

#endif
