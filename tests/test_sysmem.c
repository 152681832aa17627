/*
 * Unit tests of util/sysmem: the lowest memory limit of the process's
 * control groups (v2 memory.max, v1 memory.limit_in_bytes, of the group and
 * the groups above it) caps the physical memory, read from stand-in files
 * laid out as /proc/self/cgroup and /sys/fs/cgroup are.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tg_test_util.h"
#include "util/sysmem.h"

#define GIB ((uint64_t)1 << 30)

/* Writes text to dir/rel, making the folders on the way. */
static void put(const char *dir, const char *rel, const char *text)
{
    char *cmd = tt_fmt("mkdir -p \"$(dirname '%s/%s')\"", dir, rel);
    tt_run r = tt_sh(cmd, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    tt_run_free(&r);
    free(cmd);
    char *path = tt_fmt("%s/%s", dir, rel);
    tt_write_file(path, text, strlen(text));
    free(path);
}

/* tg_usable_memory_at() over the stand-ins in dir, with 8 GiB of memory. */
static uint64_t usable(const char *dir)
{
    char *self = tt_fmt("%s/self-cgroup", dir);
    char *root = tt_fmt("%s/sys", dir);
    uint64_t v = tg_usable_memory_at(self, root, 8 * GIB);
    free(self);
    free(root);
    return v;
}

Test(sysmem, v2_limit_of_a_group_above_the_process_counts)
{
    char *d = tt_tmpdir();
    put(d, "self-cgroup", "0::/a/b\n");
    put(d, "sys/a/b/memory.max", "max\n");
    put(d, "sys/a/memory.max", "1073741824\n");
    cr_expect_eq(usable(d), GIB);
    tt_rmtree(d);
    free(d);
}

Test(sysmem, v1_memory_controller_and_its_unlimited_value)
{
    char *d = tt_tmpdir();
    put(d, "self-cgroup", "9:pids:/x/y\n4:cpu,memory:/x/y\n0::/\n");
    put(d, "sys/memory/x/y/memory.limit_in_bytes", "9223372036854771712\n");
    put(d, "sys/memory/x/memory.limit_in_bytes", "536870912\n");
    put(d, "sys/memory/memory.limit_in_bytes", "9223372036854771712\n");
    cr_expect_eq(usable(d), GIB / 2);
    tt_rmtree(d);
    free(d);
}

/* Without a cgroup namespace, a container's /proc/self/cgroup names a
 * group its own mount does not show: the mount's root is that group. */
Test(sysmem, a_group_the_mount_does_not_show_falls_back_to_its_root)
{
    char *d = tt_tmpdir();
    put(d, "self-cgroup", "4:memory:/docker/0123abcd\n");
    put(d, "sys/memory/memory.limit_in_bytes", "268435456\n");
    cr_expect_eq(usable(d), GIB / 4);
    tt_rmtree(d);
    free(d);
}

Test(sysmem, no_limit_or_a_higher_one_leaves_the_physical_memory)
{
    char *d = tt_tmpdir();
    cr_expect_eq(usable(d), 8 * GIB, "no /proc/self/cgroup");
    put(d, "self-cgroup", "0::/svc\n");
    put(d, "sys/svc/memory.max", "17179869184\n");
    cr_expect_eq(usable(d), 8 * GIB, "a limit above the physical memory");
    put(d, "sys/svc/memory.max", "12junk\n");
    cr_expect_eq(usable(d), 8 * GIB, "a value that is not a number");
    tt_rmtree(d);
    free(d);
}

Test(sysmem, this_machine_reads_something_sensible)
{
    uint64_t m = tg_usable_memory();
    cr_expect_gt(m, (uint64_t)16 << 20);
    cr_expect_lt(m, (uint64_t)1 << 50);
}
