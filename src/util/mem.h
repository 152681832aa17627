/*
 * mem: advice on memory about to be written. tg_mem_populate_write()
 * faults it in with one call instead of a trap per 4 KiB page (madvise
 * MADV_POPULATE_WRITE, Linux 5.14 and later); the group tables and the
 * line arenas use it: on the machines we measure, a trap costs about 2 us a
 * page, a third of it saved this way (event vectors, tried too, showed no
 * gain). tg_mem_advise_huge() asks for huge pages. Advice only: neither
 * changes contents or reports anything, and where the kernel lacks the
 * advice the pages fault in as they are written. Thread-safe: they touch
 * only the pages given.
 */
#ifndef TG_MEM_H
#define TG_MEM_H

#include <stddef.h>

/* Faults in the whole pages inside p[0..n) as writable. */
void tg_mem_populate_write(void *p, size_t n);

/*
 * Advises the whole 2 MiB stretches inside p[0..n) as transparent huge
 * pages (madvise MADV_HUGEPAGE), for an array of megabytes read at random
 * (a hash table) and not yet written. Where the kernel allows them (the
 * usual "madvise" setting, or "always"), such a stretch is then faulted in
 * and cleared 2 MiB at once and takes one TLB entry instead of 512. The
 * ends of the array short of a 2 MiB boundary keep ordinary pages, so
 * malloc's memory can be given. Advice only, as above.
 */
void tg_mem_advise_huge(void *p, size_t n);

/* The stretch memory is faulted in by, ahead of writes that fill it in
 * order (an arena's chunk): large enough for one call to do a lot of work,
 * small enough not to fault in much that stays unused. */
#define TG_MEM_AHEAD ((size_t)1 << 20)

#endif
