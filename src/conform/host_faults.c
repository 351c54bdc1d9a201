/*
 * Preloaded into a real redis-server whose host a conformance scenario
 * faults. The harness writes a native-endian struct control at the start
 * of the file named by REDSIM_HOST_FAULTS, mapped once at load, shared, so
 * a change takes effect at the next call, in forked children too. Its bits:
 *
 *   bit 0  fork() fails with ENOMEM;
 *   bit 1  the disk is full: write(2) to a regular file fails with ENOSPC,
 *          and so do fwrite() that would go past the stream's buffer and
 *          fflush() of a stream with data buffered (glibc's stdio calls its
 *          own internal write, which a preload cannot reach; this is where
 *          the kernel's ENOSPC would surface);
 *   bit 2  the disk stalls: fsync() and fdatasync() take fsync_us longer,
 *          and a write(2) to a regular file made while one runs waits for
 *          it to end;
 *   bit 3  the RDB file named by REDSIM_HOST_FAULTS_RDB reads back with its
 *          signature damaged: fread() of its first bytes returns them with
 *          the 'R' of "REDIS" changed;
 *   bit 4  that file reads back with its trailing 8-byte checksum
 *          inverted;
 *   bit 5  fsync() and fdatasync() of a regular file fail with EIO at once
 *          (a disk that lost a write back).
 *
 * Redis reads an RDB file through stdio (rioFileRead() calls fread()), and
 * so does the redis-check-rdb it runs on a load error, so both see the same
 * damage; the file itself is never changed. The file named by
 * REDSIM_HOST_FAULTS_SPARE (the server's log) is spared, as a log on another
 * disk would be. Nothing is checked while no bit is
 * set, so an unfaulted process pays one load per call.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define FORK_FAILS 1u
#define DISK_FULL 2u
#define SLOW_FSYNC 4u
#define RDB_SIGNATURE 8u
#define RDB_CHECKSUM 16u
#define FSYNC_FAILS 32u

struct control {
    uint32_t bits;
    uint32_t unused;
    uint64_t fsync_us;
};

static const volatile struct control *control;
/* CLOCK_MONOTONIC µs at which the slow fsync running now ends (0: none). */
static volatile int64_t fsync_until;
static char spare[PATH_MAX];
static char rdb[PATH_MAX];
static pid_t (*real_fork)(void);
static ssize_t (*real_write)(int, const void *, size_t);
static size_t (*real_fwrite)(const void *, size_t, size_t, FILE *);
static int (*real_fflush)(FILE *);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static size_t (*real_fread)(void *, size_t, size_t, FILE *);

/* The real functions are looked up here, before main(), so no call made
 * while the allocator initialises has to. */
__attribute__((constructor)) static void load(void) {
    real_fork = (pid_t(*)(void))dlsym(RTLD_NEXT, "fork");
    real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    real_fwrite = (size_t(*)(const void *, size_t, size_t, FILE *))dlsym(RTLD_NEXT, "fwrite");
    real_fflush = (int (*)(FILE *))dlsym(RTLD_NEXT, "fflush");
    real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    real_fread = (size_t(*)(void *, size_t, size_t, FILE *))dlsym(RTLD_NEXT, "fread");
    const char *s = getenv("REDSIM_HOST_FAULTS_SPARE");
    if (s) strncpy(spare, s, sizeof spare - 1);
    const char *r = getenv("REDSIM_HOST_FAULTS_RDB");
    if (r) strncpy(rdb, r, sizeof rdb - 1);
    const char *path = getenv("REDSIM_HOST_FAULTS");
    if (!path) return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    void *p = mmap(NULL, sizeof(struct control), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p != MAP_FAILED) control = p;
}

static uint32_t now(void) {
    return control ? __atomic_load_n(&control->bits, __ATOMIC_RELAXED) : 0;
}

static int64_t monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_until(int64_t end) {
    for (int64_t left; (left = end - monotonic_us()) > 0;) {
        struct timespec ts = {left / 1000000, (left % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
}

/* A stalled disk: the fsync takes the control's time longer. */
static void stall(void) {
    if (!(now() & SLOW_FSYNC)) return;
    int64_t end = monotonic_us() + (int64_t)control->fsync_us;
    __atomic_store_n(&fsync_until, end, __ATOMIC_RELAXED);
    sleep_until(end);
}

/* Whether `fd` is a regular file other than the spared log. */
static int faultable(int fd, struct stat *st) {
    if (fd < 0 || fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) return 0;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n >= 0) {
        path[n] = 0;
        if (spare[0] && strcmp(path, spare) == 0) return 0;
    }
    return 1;
}

/* The block size of the regular file `fd` names while the disk is full
 * (stdio's buffer is that size), or 0 when writes to it succeed. */
static long full(int fd) {
    if (!(now() & DISK_FULL) || fd < 0) return 0;
    struct stat st;
    if (!faultable(fd, &st)) return 0;
    return st.st_blksize > 0 ? st.st_blksize : 4096;
}

pid_t fork(void) {
    if (now() & FORK_FAILS) {
        errno = ENOMEM;
        return -1;
    }
    return real_fork();
}

ssize_t write(int fd, const void *buf, size_t n) {
    if (n > 0 && full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    int64_t until = __atomic_load_n(&fsync_until, __ATOMIC_RELAXED);
    struct stat st;
    if (until > 0 && (now() & SLOW_FSYNC) && until > monotonic_us() && faultable(fd, &st))
        sleep_until(until);
    return real_write(fd, buf, n);
}

/* Whether an fsync of `fd` fails now (EIO). */
static int fsync_fails(int fd) {
    struct stat st;
    return (now() & FSYNC_FAILS) && faultable(fd, &st);
}

int fsync(int fd) {
    if (fsync_fails(fd)) {
        errno = EIO;
        return -1;
    }
    stall();
    return real_fsync(fd);
}

int fdatasync(int fd) {
    if (fsync_fails(fd)) {
        errno = EIO;
        return -1;
    }
    stall();
    return real_fdatasync(fd);
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *f) {
    long block = f ? full(fileno(f)) : 0;
    if (block && __fpending(f) + size * n > (size_t)block) {
        errno = ENOSPC;
        return 0;
    }
    return real_fwrite(p, size, n, f);
}

int fflush(FILE *f) {
    if (f && __fpending(f) > 0 && full(fileno(f))) {
        errno = ENOSPC;
        return EOF;
    }
    return real_fflush(f);
}

/* Whether `fd` is the RDB file the harness named. */
static int is_rdb(int fd, struct stat *st) {
    if (!rdb[0] || fd < 0 || fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) return 0;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0) return 0;
    path[n] = 0;
    return strcmp(path, rdb) == 0;
}

size_t fread(void *p, size_t size, size_t n, FILE *f) {
    size_t got = real_fread(p, size, n, f);
    uint32_t bits = now() & (RDB_SIGNATURE | RDB_CHECKSUM);
    struct stat st;
    if (!bits || got == 0 || !f || !is_rdb(fileno(f), &st)) return got;
    /* The bytes just read span [start, end) of the file. */
    off_t end = ftello(f), len = (off_t)(got * size), start = end - len;
    unsigned char *b = p;
    if ((bits & RDB_SIGNATURE) && start == 0) b[0] = 'X';
    for (off_t i = st.st_size - 8; (bits & RDB_CHECKSUM) && i < st.st_size; i++)
        if (i >= start && i < end) b[i - start] = ~b[i - start];
    return got;
}
