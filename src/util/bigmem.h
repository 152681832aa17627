/*
 * bigmem: advice for arrays of many megabytes that are filled at random or
 * throughout (the trace table's slots and records, event vectors, the
 * joins' references).
 *
 * Such an array is backed by 4 KiB pages, each taken with a page fault of
 * its own the first time it is touched: a table of a million traces costs
 * tens of thousands of faults, a tenth of a stats run. Transparent huge
 * pages take one fault per 2 MiB; Debian's kernels give them only to
 * memory that asks (madvise mode), which is what tg_bigmem_advise() does.
 * The advice is for the 2 MiB-aligned stretches inside the array, so it
 * never reaches memory the array does not own. Arrays are sized by what
 * they hold and filled throughout, so whole huge pages cost no memory that
 * small pages would not.
 *
 * Thread-safe; advice only: failure, or a kernel without huge pages,
 * changes nothing but the speed.
 */
#ifndef TG_BIGMEM_H
#define TG_BIGMEM_H

#include <stddef.h>

/* Asks for huge pages under p[0..n), when that holds a whole 2 MiB page. */
void tg_bigmem_advise(void *p, size_t n);

#endif
