#include "util/sysmem.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The number a limit file holds; UINT64_MAX for "max", a missing file or
 * anything else (no limit known). */
static uint64_t read_limit(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return UINT64_MAX;
    char buf[64];
    uint64_t v = UINT64_MAX;
    if (fgets(buf, sizeof buf, f)) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(buf, &end, 10);
        if (errno == 0 && end != buf && (*end == '\n' || *end == '\0'))
            v = (uint64_t)x;
    }
    fclose(f);
    return v;
}

/* The lowest limit in file `name` of group `group` (a path under dir) and
 * of the groups above it, up to dir itself. A group that the mount does not
 * show (a container sees its own group as the root) has no file: the walk
 * goes on up. */
static uint64_t lowest_limit(const char *dir, const char *group, const char *name)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s%s", dir, group);
    if (n < 0 || (size_t)n >= sizeof path)
        return UINT64_MAX;
    size_t len = (size_t)n;
    while (len > 1 && path[len - 1] == '/')
        len--;
    uint64_t low = UINT64_MAX;
    const size_t dirlen = strlen(dir);
    for (;;) {
        char file[4200];
        snprintf(file, sizeof file, "%.*s/%s", (int)len, path, name);
        uint64_t v = read_limit(file);
        if (v < low)
            low = v;
        if (len <= dirlen)
            break;
        while (len > dirlen && path[len - 1] != '/')
            len--;
        while (len > dirlen && path[len - 1] == '/')
            len--;
    }
    return low;
}

uint64_t tg_usable_memory_at(const char *self_cgroup, const char *root, uint64_t phys)
{
    uint64_t low = phys ? phys : UINT64_MAX;
    FILE *f = fopen(self_cgroup, "r");
    if (f) {
        /* Lines are "id:controllers:path": v2's is "0::path", v1's memory
         * controller has "memory" among its controllers. */
        char line[4096];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            char *c1 = strchr(line, ':');
            char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            if (!c2)
                continue;
            *c1 = '\0';
            *c2 = '\0';
            const char *ctrls = c1 + 1, *group = c2 + 1;
            char dir[4096];
            uint64_t v = UINT64_MAX;
            if (strcmp(line, "0") == 0 && *ctrls == '\0') {
                v = lowest_limit(root, group, "memory.max");
            } else if (strstr(ctrls, "memory") &&
                       snprintf(dir, sizeof dir, "%s/memory", root) < (int)sizeof dir) {
                v = lowest_limit(dir, group, "memory.limit_in_bytes");
            }
            if (v < low)
                low = v;
        }
        fclose(f);
    }
    return low == UINT64_MAX ? 0 : low;
}

uint64_t tg_usable_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t phys = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    return tg_usable_memory_at("/proc/self/cgroup", "/sys/fs/cgroup", phys);
}
