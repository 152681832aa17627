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

#endif
