/*
 * Preloaded into a real process whose wall clock a conformance scenario
 * jumps: gettimeofday() and time() return the real wall clock plus an offset
 * in microseconds that the harness writes, as a native-endian int64, at the
 * start of the file named by REDSIM_CLOCK_FILE. The file is mapped once, at
 * load, so a jump takes effect on the very next call.
 *
 * Redis 7.0 reads its wall clock (mstime(), ustime(), its log timestamps)
 * through gettimeofday() and times its event loop with
 * clock_gettime(CLOCK_MONOTONIC), which is left alone, as on a host whose
 * clock is set. clock_gettime() is not interposed at all: jemalloc calls it
 * while it initialises, before anything here may run (which is what makes
 * libfaketime 0.9.10 deadlock in a jemalloc-linked redis-server).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const volatile int64_t *offset_us;

__attribute__((constructor)) static void map_offset(void) {
    const char *path = getenv("REDSIM_CLOCK_FILE");
    if (!path) return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    void *p = mmap(NULL, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p != MAP_FAILED) offset_us = p;
}

static int64_t offset(void) {
    return offset_us ? __atomic_load_n(offset_us, __ATOMIC_RELAXED) : 0;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    (void)tz;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
    int64_t us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + offset();
    if (tv) {
        tv->tv_sec = us / 1000000;
        tv->tv_usec = us % 1000000;
        if (tv->tv_usec < 0) {
            tv->tv_usec += 1000000;
            tv->tv_sec -= 1;
        }
    }
    return 0;
}

time_t time(time_t *out) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    if (out) *out = tv.tv_sec;
    return tv.tv_sec;
}
