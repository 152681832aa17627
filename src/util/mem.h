/*
 * mem: advice on memory about to be written, and big arrays that grow
 * without being copied (tg_mem_big_realloc(), below). tg_mem_populate_write()
 * faults it in with one call instead of a trap per 4 KiB page (madvise
 * MADV_POPULATE_WRITE, Linux 5.14 and later); the group tables and the
 * line arenas use it: on the machines we measure, a trap costs about 2 us a
 * page, a third of it saved this way (event vectors, tried too, showed no
 * gain). tg_mem_populate_huge() does it in huge pages where they pay. Advice
 * only: neither changes contents or reports anything, and where the kernel
 * lacks the advice the pages fault in as they are written. Thread-safe:
 * they touch only the pages and the verdict given.
 */
#ifndef TG_MEM_H
#define TG_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Faults in the whole pages inside p[0..n) as writable. */
void tg_mem_populate_write(void *p, size_t n);

/*
 * Whether huge pages pay, as the stretches faulted in so far told
 * (tg_mem_populate_huge()). They do not everywhere: some virtual machines
 * give the memory a guest frees back to their host (free page reporting
 * works on free 2 MiB blocks), and a huge page taken from such a block is
 * then faulted in by the host 4 KiB at a time. On one such machine, a few
 * seconds after another process had freed memory, 2 MiB huge pages took
 * 5-6 ms each to fault in, or 0.2 ms for the first ten and 5 ms for the
 * rest, while 2 MiB of small pages took 1 ms; perf put 29% of stats -j1
 * over 1 GB of ALB logs in the kernel clearing the table's huge pages. On
 * another, where a small page cost 4.5 us, huge pages made the same run
 * 0.429 -> 0.325 s.
 */
typedef struct tg_huge {
    enum {
        TG_HUGE_MEASURE = 0, /* time every huge page against small_ns */
        TG_HUGE_PAYS,        /* huge pages, unmeasured (set by hand, or the
                                kernel cannot fault memory in ahead) */
        TG_HUGE_DEAR         /* small pages from now on */
    } state;
    uint64_t small_ns; /* 2 MiB of small pages took this long; 0: not known */
} tg_huge;

/* The stretch tg_mem_populate_huge() works in: one x86-64 huge page. */
#define TG_MEM_STRETCH ((uintptr_t)2 << 20)

/* Huge pages also spare TLB misses, so they are kept while they cost up to
 * twice the time of small pages to fault in. */
#define TG_HUGE_RATIO 2

/* Whether a 2 MiB huge page faulted in in huge_ns is dear against 2 MiB of
 * small pages faulted in in small_ns. */
bool tg_mem_huge_dear(uint64_t huge_ns, uint64_t small_ns);

/*
 * Faults in the whole pages of p[0..n) as writable, like
 * tg_mem_populate_write(), for an array of megabytes read or written at
 * random (a hash table) and about to be written: its whole 2 MiB stretches
 * as transparent huge pages (madvise MADV_HUGEPAGE) while they come cheap,
 * as *h says and learns. A huge stretch is faulted in and cleared 2 MiB at
 * once and takes one TLB entry instead of 512.
 *
 * While *h has no small_ns, the next whole stretch is faulted in as small
 * pages (MADV_NOHUGEPAGE) and timed, for reference. Then each stretch is
 * faulted in as a huge page and timed, and the first that is dear
 * (tg_mem_huge_dear()) makes *h TG_HUGE_DEAR: the stretches after it, in
 * this call and the later ones, are small pages. The ends of the array
 * short of a 2 MiB boundary are small pages, so malloc's memory can be
 * given. One *h serves the arrays of one owner (a table), never two
 * threads at once.
 */
void tg_mem_populate_huge(void *p, size_t n, tg_huge *h);

/*
 * Big arrays that grow without being copied: each lives in a mapping of its
 * own, which growing moves to a larger address range (mremap) with the
 * pages already written, instead of copying them into fresh memory as
 * realloc() did (it would move them too, but not across the several
 * mappings that tg_mem_populate_huge()'s advice splits an array into).
 * Fresh memory is what growing cost: on a virtual machine that faults in
 * each fresh page through its host, copying 48 MB of a group table as it
 * grew took a third of stats over 260 MB of application logs. The array
 * starts 64 bytes into its mapping, so it is aligned to a cache line.
 *
 * tg_mem_big_realloc(NULL, n) allocates; growing or shrinking keeps the
 * contents up to the smaller size, as realloc() does, and returns NULL,
 * leaving p as it was, when memory is short. tg_mem_big_free(NULL) does
 * nothing. Memory from here is freed only by tg_mem_big_free().
 */
void *tg_mem_big_realloc(void *p, size_t n);
void tg_mem_big_free(void *p);

/* The stretch memory is faulted in by, ahead of writes that fill it in
 * order (an arena's chunk): large enough for one call to do a lot of work,
 * small enough not to fault in much that stays unused. */
#define TG_MEM_AHEAD ((size_t)1 << 20)

#endif
