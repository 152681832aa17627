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
 * Tells the kernel the pages inside [start, end) are done with: they leave
 * this process's memory (the page cache keeps them), so scanning a file far
 * larger than memory does not show up as resident set. Reading them again
 * is still valid and faults them back in.
 */
void mapfile_drop(const mapfile *m, size_t start, size_t end);

#endif
