/*
 * mem: advice on memory about to be written. tg_mem_populate_write()
 * faults it in with one call instead of a trap per 4 KiB page (madvise
 * MADV_POPULATE_WRITE, Linux 5.14 and later); the group tables and the
 * line arenas use it: on the machines we measure, a trap costs about 2 us a
 * page, a third of it saved this way (event vectors, tried too, showed no
 * gain). tg_mem_advise_huge() asks for huge pages where they pay. Advice
 * only: neither changes contents or reports anything, and where the kernel
 * lacks the advice the pages fault in as they are written. Thread-safe:
 * they touch only the pages and the verdict given.
 */
#ifndef TG_MEM_H
#define TG_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Faults in the whole pages inside p[0..n) as writable. */
void tg_mem_populate_write(void *p, size_t n);

/*
 * Whether huge pages pay on this machine, as far as one array's first
 * stretches told (tg_mem_advise_huge()). They do not everywhere: some
 * virtual machines give the memory a guest frees back to their host (free
 * page reporting works on free 2 MiB blocks), and a huge page taken from
 * such a block is then faulted in by the host 4 KiB at a time. On one such
 * machine a 2 MiB huge page took 4.5 ms to fault in a few seconds after
 * another process had freed memory, 2 MiB of small pages 0.8 ms, and
 * stats -j1 over 1 GB of ALB logs 0.486 s with its tables in huge pages
 * against 0.410 s without (medians of 9, runs 5 s apart). On another, where
 * a small page cost 4.5 us, huge pages made the same run 0.429 -> 0.325 s.
 */
typedef enum tg_huge {
    TG_HUGE_UNKNOWN = 0, /* not measured yet */
    TG_HUGE_PAYS,        /* a huge page faults in at most TG_HUGE_RATIO times
                            as slowly as 512 small ones */
    TG_HUGE_DEAR         /* more slowly than that */
} tg_huge;

/* Huge pages also spare TLB misses, so they are kept while they cost up to
 * twice the time of small pages to fault in. */
#define TG_HUGE_RATIO 2

/* The verdict for a 2 MiB huge page faulted in in huge_ns against 2 MiB of
 * small pages in small_ns. TG_HUGE_UNKNOWN when small_ns is too short for
 * fresh pages (they were there already: the timing says nothing). */
tg_huge tg_mem_huge_verdict(uint64_t huge_ns, uint64_t small_ns);

/*
 * Advises the whole 2 MiB stretches inside p[0..n), an array of megabytes
 * read at random (a hash table) and not yet written, as transparent huge
 * pages (madvise MADV_HUGEPAGE) when *verdict says they pay, and as small
 * ones (MADV_NOHUGEPAGE) when it says they are dear. Where the kernel
 * allows them (the usual "madvise" setting, or "always"), a huge stretch is
 * faulted in and cleared 2 MiB at once and takes one TLB entry instead of
 * 512. The ends of the array short of a 2 MiB boundary keep ordinary
 * pages, so malloc's memory can be given.
 *
 * While *verdict is TG_HUGE_UNKNOWN and the array holds two whole
 * stretches, they are the measure: the first is faulted in as a huge page,
 * the second as small pages, each timed, and *verdict is set by
 * tg_mem_huge_verdict(). Those 4 MiB are faulted in, as the caller was
 * about to do by writing them. Without a measure, the advice is huge pages.
 */
void tg_mem_advise_huge(void *p, size_t n, tg_huge *verdict);

/* The stretch memory is faulted in by, ahead of writes that fill it in
 * order (an arena's chunk): large enough for one call to do a lot of work,
 * small enough not to fault in much that stays unused. */
#define TG_MEM_AHEAD ((size_t)1 << 20)

#endif
