/*
 * sysmem: how much memory this process can count on.
 *
 * That is the machine's physical memory, or less when the process runs in a
 * control group with a memory limit: a container's (Docker, ECS, EKS), a
 * systemd service's. A default sized from the physical memory alone would
 * be the host's in a container, and the kernel would kill the process long
 * before the default was reached. Both cgroup versions are read: v2's
 * memory.max and v1's memory.limit_in_bytes, of the process's own group and
 * of every group above it, the lowest limit winning. Thread-safe; reads a
 * few small files.
 */
#ifndef TG_SYSMEM_H
#define TG_SYSMEM_H

#include <stdint.h>

/* The physical memory, or the lowest cgroup memory limit above this
 * process when that is lower; 0 when neither can be read. */
uint64_t tg_usable_memory(void);

/* tg_usable_memory() with the files elsewhere, for tests: `self_cgroup`
 * stands for /proc/self/cgroup, `root` for /sys/fs/cgroup, and `phys` is the
 * physical memory. */
uint64_t tg_usable_memory_at(const char *self_cgroup, const char *root, uint64_t phys);

#endif
