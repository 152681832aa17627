/*
 * bigmem: zeroed arrays of megabytes in mappings of their own, backed by
 * transparent huge pages where the system allows them.
 *
 * The group table's trace records and slots are tens of megabytes that a
 * run writes once and keeps: in 4 KiB pages each is faulted in and cleared
 * page by page, and on a virtual machine that allocates guest memory
 * lazily the faults themselves are the cost. An array of 2 MiB or more is
 * therefore mapped at a 2 MiB boundary and advised MADV_HUGEPAGE, so that
 * one fault brings 2 MiB; a smaller one is an ordinary page-rounded
 * mapping. Where huge pages are off (transparent_hugepage=never, other
 * systems) the advice fails harmlessly and the pages are ordinary ones.
 *
 * Growing moves the pages to the new mapping (mremap) instead of copying
 * them. Every call takes the size the array was allocated with. Under
 * AddressSanitizer the arrays are malloc's, so that their bounds are
 * checked.
 */
#ifndef TG_BIGMEM_H
#define TG_BIGMEM_H

#include <stddef.h>

/* n zero bytes (n > 0), or NULL when memory is short. */
void *bigmem_alloc(size_t n);

/* p (of `old` bytes, or NULL with old 0) made n bytes long, the bytes past
 * old zero; NULL when memory is short, p being then left as it was. */
void *bigmem_grow(void *p, size_t old, size_t n);

/* Frees p of n bytes; NULL is a no-op. */
void bigmem_free(void *p, size_t n);

#endif
