// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * odpc_selftest: drives /dev/odpc_selftest (kernel-notifier/selftest) to
 * test rxe_odp_core on this process's own memory.  Prints TAP; exits
 * non-zero if a case failed.
 *
 *   odpc_selftest [-v] [case-name...]
 *
 * Needs root (the device is 0600) and the odpc_selftest module loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "odpc_selftest_uapi.h"

#define PG		4096UL
#define HPAGE		(2UL << 20)

enum { PASS, FAIL, SKIP };

static int dev = -1;
static int verbose;
static char skip_reason[256];

/* ---- small helpers ---------------------------------------------------- */

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			printf("#   %s:%d: check failed: %s: ",		\
			       __func__, __LINE__, #cond);		\
			printf(__VA_ARGS__);				\
			printf("\n");					\
			return FAIL;					\
		}							\
	} while (0)

static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static int skip(const char *why)
{
	snprintf(skip_reason, sizeof(skip_reason), "%s", why);
	return SKIP;
}

static int xioctl(unsigned long cmd, void *arg)
{
	return ioctl(dev, cmd, arg) ? -errno : 0;
}

static int r_create(void *va, size_t len, unsigned int flags, uint32_t *id)
{
	struct odpc_st_create a = {
		.va = (uintptr_t)va, .len = len, .flags = flags,
	};
	int ret = xioctl(ODPC_ST_CREATE, &a);

	if (!ret)
		*id = a.id;
	return ret;
}

static int r_create_raw(uint64_t va, uint64_t len)
{
	struct odpc_st_create a = { .va = va, .len = len,
				    .flags = ODPC_ST_REGION_WRITE };
	int ret = xioctl(ODPC_ST_CREATE, &a);

	if (!ret)
		xioctl(ODPC_ST_DESTROY, &a.id);
	return ret;
}

static int r_destroy(uint32_t id)
{
	return xioctl(ODPC_ST_DESTROY, &id);
}

static int r_copy(uint32_t id, void *va, void *buf, size_t len,
		  unsigned int flags)
{
	struct odpc_st_copy a = {
		.id = id, .flags = flags, .va = (uintptr_t)va, .len = len,
		.buf = (uintptr_t)buf,
	};

	return xioctl(ODPC_ST_COPY, &a);
}

static int r_read(uint32_t id, void *va, void *buf, size_t len)
{
	return r_copy(id, va, buf, len, 0);
}

static int r_write(uint32_t id, void *va, const void *buf, size_t len)
{
	return r_copy(id, va, (void *)buf, len, ODPC_ST_WRITE);
}

static int r_prefetch(uint32_t id, void *va, size_t len, unsigned int flags)
{
	struct odpc_st_prefetch a = {
		.id = id, .flags = flags, .va = (uintptr_t)va, .len = len,
	};

	return xioctl(ODPC_ST_PREFETCH, &a);
}

static int r_stats(uint32_t id, struct odpc_st_counters *c)
{
	struct odpc_st_stats a = { .id = id };
	int ret = xioctl(ODPC_ST_STATS, &a);

	*c = a.c;
	return ret;
}

static int r_hook(uint32_t id, unsigned int mode, unsigned int count,
		  void *va)
{
	struct odpc_st_hook a = {
		.id = id, .mode = mode, .count = count, .va = (uintptr_t)va,
	};

	return xioctl(ODPC_ST_HOOK, &a);
}

static int r_atomic(uint32_t id, unsigned int op, void *va, uint64_t cmp,
		    uint64_t swap_add, uint64_t *orig)
{
	struct odpc_st_atomic a = {
		.id = id, .op = op, .va = (uintptr_t)va, .compare = cmp,
		.swap_add = swap_add,
	};
	int ret = xioctl(ODPC_ST_ATOMIC, &a);

	*orig = a.orig;
	return ret;
}

static void *map_anon(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void fill(void *p, size_t len, unsigned int seed)
{
	unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		c[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 12));
}

/* Offset of the first difference, or -1. */
static long differs(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	size_t i;

	for (i = 0; i < len; i++)
		if (x[i] != y[i])
			return (long)i;
	return -1;
}

static int all_bytes(const void *p, size_t len, unsigned char v)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i] != v)
			return 0;
	return 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static unsigned int read_param(const char *path, unsigned int dflt)
{
	FILE *f = fopen(path, "r");
	unsigned int v;

	if (!f)
		return dflt;
	if (fscanf(f, "%u", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* ---- 1: fault + read ---------------------------------------------------- */

static int t_fault_read(void)
{
	size_t len = 16 * PG;
	struct odpc_st_counters c0, c1;
	unsigned char *buf = map_anon(len, PROT_READ | PROT_WRITE);
	unsigned char *out = malloc(len);
	uint32_t id;
	long d;

	CHECK(buf && out, "alloc");
	fill(buf, len, 1);
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(r_copy(id, buf, out, len, ODPC_ST_NOFAULT) == -EAGAIN,
	      "cold NOFAULT copy must miss");
	CHECK(!r_stats(id, &c0), "stats");
	CHECK(!r_read(id, buf, out, len), "copy_from");
	d = differs(buf, out, len);
	CHECK(d < 0, "bytes differ at %ld", d);
	CHECK(!r_stats(id, &c1), "stats");
	CHECK(c1.faults > c0.faults, "faults %llu", (unsigned long long)c1.faults);
	CHECK(c1.pages_faulted - c0.pages_faulted == 16, "pages_faulted %llu",
	      (unsigned long long)c1.pages_faulted);
	/* Warm: the fast path serves it without a fault. */
	memset(out, 0, len);
	CHECK(!r_copy(id, buf + 5, out, len - 5, ODPC_ST_NOFAULT),
	      "warm NOFAULT copy");
	CHECK(differs(buf + 5, out, len - 5) < 0, "warm bytes");
	CHECK(!r_stats(id, &c0) && c0.faults == c1.faults, "no new fault");
	CHECK(!r_destroy(id), "destroy");
	munmap(buf, len);
	free(out);
	return PASS;
}

/* ---- 2: write through the region ------------------------------------ */

static int t_write(void)
{
	size_t len = 8 * PG;
	unsigned char *buf = map_anon(len, PROT_READ | PROT_WRITE);
	unsigned char *src = malloc(len);
	uint32_t id;
	long d;

	CHECK(buf && src, "alloc");
	/* Never touched by the CPU: the region faults the pages writable. */
	fill(src, len, 2);
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(!r_write(id, buf, src, len), "copy_to untouched memory");
	d = differs(buf, src, len);
	CHECK(d < 0, "user sees different bytes at %ld", d);
	/* Unaligned, page-crossing write into now-present pages. */
	fill(src, 3 * PG, 3);
	CHECK(!r_write(id, buf + PG - 100, src, 2 * PG + 200), "copy_to");
	CHECK(differs(buf + PG - 100, src, 2 * PG + 200) < 0, "bytes 2");
	/* Read-faulted (zero page) then written: must COW, user sees it. */
	CHECK(!r_destroy(id), "destroy");
	munmap(buf, len);
	buf = map_anon(len, PROT_READ | PROT_WRITE);
	CHECK(buf, "map");
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(!r_read(id, buf, src, len), "read zero pages");
	CHECK(all_bytes(src, len, 0), "zero");
	fill(src, len, 4);
	CHECK(!r_write(id, buf, src, len), "write after read");
	CHECK(differs(buf, src, len) < 0, "bytes after COW");
	CHECK(!r_destroy(id), "destroy");
	munmap(buf, len);
	free(src);
	return PASS;
}

/* ---- 3: fault, invalidate, refault ---------------------------------- */

static int t_invalidate(void)
{
	size_t len = 8 * PG;
	struct odpc_st_counters c0, c1;
	unsigned char *buf = map_anon(len, PROT_READ | PROT_WRITE);
	unsigned char *out = malloc(len);
	void *p;
	uint32_t id;

	CHECK(buf && out, "alloc");
	fill(buf, len, 5);
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(!r_read(id, buf, out, len), "copy");
	CHECK(differs(buf, out, len) < 0, "bytes A");
	CHECK(!r_stats(id, &c0), "stats");

	CHECK(!madvise(buf, len, MADV_DONTNEED), "madvise");
	CHECK(r_copy(id, buf, out, PG, ODPC_ST_NOFAULT) == -EAGAIN,
	      "cache entry must be gone after DONTNEED");
	fill(buf, len, 6);			/* new pages, new bytes */
	CHECK(!r_read(id, buf, out, len), "refault");
	CHECK(differs(buf, out, len) < 0, "refault sees new contents");
	CHECK(!r_stats(id, &c1), "stats");
	CHECK(c1.invalidations > c0.invalidations, "invalidations");
	CHECK(c1.pages_invalidated >= c0.pages_invalidated + 8,
	      "pages_invalidated %llu -> %llu",
	      (unsigned long long)c0.pages_invalidated,
	      (unsigned long long)c1.pages_invalidated);
	CHECK(c1.faults > c0.faults, "faults");

	/* munmap + mmap MAP_FIXED at the same address: new pages again. */
	p = mmap(buf + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(p == buf + 2 * PG, "mmap fixed");
	fill(buf + 2 * PG, 2 * PG, 7);
	CHECK(!r_read(id, buf, out, len), "refault 2");
	CHECK(differs(buf, out, len) < 0, "sees the remapped pages");
	CHECK(!r_destroy(id), "destroy");
	munmap(buf, len);
	free(out);
	return PASS;
}

/* ---- 4: a fault blocks while an invalidation of its range runs -------- */

struct win_args {
	unsigned char *buf;
	unsigned char *out;
	size_t len;
	uint32_t id;
	pthread_barrier_t start;
	atomic_int madvise_done;
	int madvise_ret;
	int copy_ret;
	int wait_ret;
};

static void *win_madviser(void *p)
{
	struct win_args *a = p;

	pthread_barrier_wait(&a->start);
	a->madvise_ret = madvise(a->buf, a->len, MADV_DONTNEED) ? -errno : 0;
	atomic_store(&a->madvise_done, 1);
	return NULL;
}

static void *win_copier(void *p)
{
	struct win_args *a = p;
	struct odpc_st_window w = { .timeout_ms = 10000 };

	pthread_barrier_wait(&a->start);
	a->wait_ret = xioctl(ODPC_ST_WINDOW_WAIT, &w);
	a->copy_ret = r_copy(a->id, a->buf, a->out, a->len, ODPC_ST_TRACE);
	return NULL;
}

static const char *ev_name(unsigned int t)
{
	static const char * const n[] = {
		"?", "WINDOW_OPEN", "WINDOW_RELEASE", "WINDOW_TIMEOUT",
		"COPY_START", "COPY_DONE", "READ_BEGIN", "READ_BEGUN",
		"BEFORE_LOCK", "REMAP",
	};

	return t < sizeof(n) / sizeof(n[0]) ? n[t] : "?";
}

/* seq of the first event of a type, 0 if absent */
static unsigned int ev_seq(const struct odpc_st_events *e, unsigned int type)
{
	unsigned int i;

	for (i = 0; i < e->count; i++)
		if (e->ev[i].type == type)
			return e->ev[i].seq;
	return 0;
}

static void ev_dump(const struct odpc_st_events *e)
{
	unsigned int i;

	for (i = 0; i < e->count; i++)
		diag("  event %u %s arg %llu", e->ev[i].seq,
		     ev_name(e->ev[i].type),
		     (unsigned long long)e->ev[i].arg);
}

static int t_window(void)
{
	static struct win_args a;
	static struct odpc_st_events ev;
	struct odpc_st_window w;
	pthread_t t1, t2;
	unsigned int open, start, rb, rel, begun, done;
	int ret, madvise_early;

	memset(&a, 0, sizeof(a));
	a.len = 4 * PG;
	a.buf = map_anon(a.len, PROT_READ | PROT_WRITE);
	a.out = map_anon(a.len, PROT_READ | PROT_WRITE);
	CHECK(a.buf && a.out, "alloc");
	memset(a.buf, 0xaa, a.len);
	memset(a.out, 0x55, a.len);		/* pre-touch: no fault later */
	CHECK(!r_create(a.buf, a.len, ODPC_ST_REGION_WRITE, &a.id), "create");
	CHECK(!r_read(a.id, a.buf, a.out, a.len), "prefault");
	CHECK(all_bytes(a.out, a.len, 0xaa), "old contents");
	memset(a.out, 0x55, a.len);
	CHECK(!r_hook(a.id, ODPC_ST_HOOK_TRACE, 0, NULL), "hook");
	CHECK(!xioctl(ODPC_ST_EVENTS_RESET, NULL), "reset");

	/*
	 * Threads exist before the window opens: creating one takes
	 * mmap_lock for write, which would queue behind the blocked madvise
	 * and stall every later page fault of this process.
	 */
	pthread_barrier_init(&a.start, NULL, 3);
	CHECK(!pthread_create(&t1, NULL, win_madviser, &a), "thread");
	CHECK(!pthread_create(&t2, NULL, win_copier, &a), "thread");

	w = (struct odpc_st_window){ .va = (uintptr_t)a.buf, .len = a.len,
				     .timeout_ms = 10000 };
	ret = xioctl(ODPC_ST_WINDOW_ARM, &w);
	pthread_barrier_wait(&a.start);
	if (ret) {
		/* The copier gives up waiting for the window after 10 s. */
		diag("arm failed %d", ret);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		return FAIL;
	}

	/* The copier is inside the fault path, before read_begin... */
	w = (struct odpc_st_window){ .wait_event = ODPC_EV_READ_BEGIN,
				     .timeout_ms = 10000 };
	ret = xioctl(ODPC_ST_WAIT_EVENT, &w);
	/* ...give a broken read_begin every chance to run through. */
	usleep(300 * 1000);
	madvise_early = atomic_load(&a.madvise_done);

	w = (struct odpc_st_window){ .timeout_ms = 0 };
	xioctl(ODPC_ST_WINDOW_RELEASE, &w);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_barrier_destroy(&a.start);

	CHECK(!ret, "the copier never reached read_begin: %d", ret);
	CHECK(!xioctl(ODPC_ST_EVENTS, &ev), "events");
	if (verbose)
		ev_dump(&ev);
	CHECK(!a.wait_ret, "window never opened: %d", a.wait_ret);
	CHECK(!a.madvise_ret, "madvise %d", a.madvise_ret);
	CHECK(!madvise_early, "madvise finished inside the window");
	CHECK(!a.copy_ret, "copy %d", a.copy_ret);
	CHECK(!ev_seq(&ev, ODPC_EV_WINDOW_TIMEOUT), "window timed out");
	open = ev_seq(&ev, ODPC_EV_WINDOW_OPEN);
	start = ev_seq(&ev, ODPC_EV_COPY_START);
	rb = ev_seq(&ev, ODPC_EV_READ_BEGIN);
	rel = ev_seq(&ev, ODPC_EV_WINDOW_RELEASE);
	begun = ev_seq(&ev, ODPC_EV_READ_BEGUN);
	done = ev_seq(&ev, ODPC_EV_COPY_DONE);
	if (!(open && open < start && start < rb && rb < rel && rel < begun &&
	      begun < done))
		ev_dump(&ev);
	CHECK(open && open < start, "copy started inside the window");
	CHECK(start < rb, "copy went to the fault path");
	CHECK(rb < rel, "fault entered read_begin before the release");
	CHECK(rel < begun, "read_begin returned before the window closed");
	CHECK(begun < done, "copy completed after the window closed");
	CHECK(all_bytes(a.out, a.len, 0), "copy must see the new (zero) page");
	CHECK(!r_destroy(a.id), "destroy");
	munmap(a.buf, a.len);
	munmap(a.out, a.len);
	return PASS;
}

/* ---- 5: invalidation between hmm_range_fault and the lock: retry ----- */

static int t_retry(void)
{
	size_t len = 8 * PG;
	unsigned char *buf = map_anon(len, PROT_READ | PROT_WRITE);
	unsigned char *out = malloc(len);
	struct odpc_st_counters c0, c1;
	unsigned int max = read_param(
		"/sys/module/rxe_odp_core/parameters/fault_max_retries", 32);
	uint32_t id;
	int ret;

	CHECK(buf && out, "alloc");
	fill(buf, len, 8);
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(!r_hook(id, ODPC_ST_HOOK_REMAP, 1, buf + 3 * PG), "hook");
	CHECK(!r_stats(id, &c0), "stats");
	CHECK(!r_read(id, buf, out, len), "copy with one racing remap");
	CHECK(!r_stats(id, &c1), "stats");
	/* The retried fault saw the new mapping, not the replaced page. */
	CHECK(all_bytes(buf + 3 * PG, PG, 0), "user page is fresh");
	CHECK(all_bytes(out + 3 * PG, PG, 0), "copy saw the fresh page");
	CHECK(differs(buf, out, len) < 0, "rest of the bytes");
	CHECK(c1.fault_retries == c0.fault_retries + 1, "retries %llu",
	      (unsigned long long)(c1.fault_retries - c0.fault_retries));
	CHECK(c1.invalidations > c0.invalidations, "invalidation seen");

	/* Invalidation storm: the retries are bounded, error is transient. */
	CHECK(!madvise(buf, len, MADV_DONTNEED), "drop");
	CHECK(!r_hook(id, ODPC_ST_HOOK_REMAP, 100000, buf + 5 * PG), "hook");
	c0 = c1;
	ret = r_read(id, buf, out, len);
	CHECK(ret == -EAGAIN, "storm must give -EAGAIN, got %d", ret);
	CHECK(!r_stats(id, &c1), "stats");
	CHECK(c1.fault_retries - c0.fault_retries == max,
	      "retries %llu, bound %u",
	      (unsigned long long)(c1.fault_retries - c0.fault_retries), max);
	CHECK(!r_hook(id, ODPC_ST_HOOK_NONE, 0, NULL), "unhook");
	CHECK(!r_read(id, buf, out, len), "works again");
	CHECK(!r_destroy(id), "destroy");
	munmap(buf, len);
	free(out);
	return PASS;
}

/* ---- 6: munmap of the range ------------------------------------------- */

static int t_munmap(void)
{
	size_t len = 8 * PG;
	unsigned char *buf = map_anon(len, PROT_READ | PROT_WRITE);
	unsigned char *out = malloc(len);
	struct odpc_st_counters c0, c1;
	uint32_t id;
	int ret;

	CHECK(buf && out, "alloc");
	fill(buf, len, 9);
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(!r_read(id, buf, out, len), "copy");
	CHECK(!r_stats(id, &c0), "stats");
	CHECK(!munmap(buf + 2 * PG, 3 * PG), "munmap");
	CHECK(!r_stats(id, &c1), "stats");
	CHECK(c1.pages_invalidated - c0.pages_invalidated == 3,
	      "pages_invalidated +%llu",
	      (unsigned long long)(c1.pages_invalidated - c0.pages_invalidated));
	ret = r_read(id, buf + 3 * PG, out, 16);
	CHECK(ret == -EFAULT, "read of unmapped page: %d", ret);
	ret = r_write(id, buf + 2 * PG, out, 16);
	CHECK(ret == -EFAULT, "write of unmapped page: %d", ret);
	ret = r_read(id, buf, out, len);
	CHECK(ret == -EFAULT, "read across the hole: %d", ret);
	CHECK(!r_read(id, buf + 6 * PG, out, 2 * PG), "still mapped part");
	CHECK(differs(buf + 6 * PG, out, 2 * PG) < 0, "bytes");
	CHECK(!r_destroy(id), "destroy");
	/* Fault-around from page 1 runs into the hole: no error for that. */
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(!r_read(id, buf + PG, out, 16), "read next to the hole");
	CHECK(!r_copy(id, buf + 6 * PG, out, 16, ODPC_ST_NOFAULT),
	      "page after the hole recorded by fault-around");
	CHECK(!r_destroy(id), "destroy");
	munmap(buf, len);
	free(out);
	return PASS;
}

/* ---- 7: write to a read-only mapping ------------------------------ */

static int t_readonly(void)
{
	size_t len = 4 * PG;
	unsigned char *buf = map_anon(len, PROT_READ | PROT_WRITE);
	unsigned char *out = malloc(len);
	uint64_t orig;
	uint32_t id, ro;
	int ret;

	CHECK(buf && out, "alloc");
	fill(buf, len, 10);
	CHECK(!mprotect(buf, len, PROT_READ), "mprotect");
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(!r_read(id, buf, out, len), "read works");
	CHECK(differs(buf, out, len) < 0, "bytes");
	ret = r_write(id, buf + PG, out, 8);
	CHECK(ret == -EPERM || ret == -EFAULT, "write refused: %d", ret);
	ret = r_atomic(id, ODPC_ST_FETCH_ADD, buf, 0, 1, &orig);
	CHECK(ret == -EPERM || ret == -EFAULT, "atomic refused: %d", ret);
	CHECK(differs(buf, out, len) < 0, "memory unchanged");
	/* Write access becomes possible when the mapping allows it. */
	CHECK(!mprotect(buf, len, PROT_READ | PROT_WRITE), "mprotect rw");
	CHECK(!r_write(id, buf + PG, "hello", 5), "write after mprotect");
	CHECK(!memcmp(buf + PG, "hello", 5), "bytes");
	CHECK(!r_destroy(id), "destroy");

	/* A region created without write access refuses writes itself. */
	CHECK(!r_create(buf, len, 0, &ro), "create ro");
	ret = r_write(ro, buf, "x", 1);
	CHECK(ret == -EPERM, "ro region write: %d", ret);
	CHECK(!r_read(ro, buf, out, len), "ro region read");
	CHECK(!r_destroy(ro), "destroy");
	munmap(buf, len);
	free(out);
	return PASS;
}

/* ---- 8: transparent huge page ----------------------------------------- */

static long anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int t_thp(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	char mode[128] = "";
	size_t maplen = 3 * HPAGE, len;
	unsigned char *map, *h, *start, *out;
	struct odpc_st_counters c;
	uint32_t id;
	long kb0;

	if (!f)
		return skip("no THP support in this kernel");
	if (!fgets(mode, sizeof(mode), f))
		mode[0] = 0;
	fclose(f);
	if (strstr(mode, "[never]"))
		return skip("THP disabled ([never])");

	map = map_anon(maplen, PROT_READ | PROT_WRITE);
	CHECK(map, "map");
	h = (unsigned char *)(((uintptr_t)map + 2 * PG + HPAGE - 1) &
			     ~(HPAGE - 1));
	/* Exactly one huge page: none around it, even with THP "always". */
	CHECK(!madvise(map, h - map, MADV_NOHUGEPAGE), "NOHUGEPAGE below");
	CHECK(!madvise(h + HPAGE, map + maplen - (h + HPAGE), MADV_NOHUGEPAGE),
	      "NOHUGEPAGE above");
	CHECK(!madvise(h, HPAGE, MADV_HUGEPAGE), "MADV_HUGEPAGE");
	kb0 = anon_huge_kb();
	fill(h, HPAGE, 11);		/* first touch allocates the THP */
	if (anon_huge_kb() - kb0 < 2048) {
		munmap(map, maplen);
		return skip("no huge page was allocated");
	}
	/* The region sticks out of the huge page by 2 small pages each side. */
	start = h - 2 * PG;
	len = HPAGE + 4 * PG;
	fill(start, 2 * PG, 12);
	fill(h + HPAGE, 2 * PG, 13);
	out = malloc(len);
	CHECK(out, "alloc");
	CHECK(!r_create(start, len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(!r_read(id, start, out, len), "copy across the huge mapping");
	CHECK(differs(start, out, len) < 0, "bytes");
	CHECK(!r_stats(id, &c), "stats");
	CHECK(c.max_order == 9, "map order %llu",
	      (unsigned long long)c.max_order);
	CHECK(c.huge_pages == 512, "huge entries %llu",
	      (unsigned long long)c.huge_pages);
	CHECK(c.pages_faulted == len / PG, "pages %llu",
	      (unsigned long long)c.pages_faulted);
	/* Write through the huge mapping at the 4K sub-page level. */
	fill(out, len, 14);
	CHECK(!r_write(id, start + 100, out, len - 200), "write");
	CHECK(differs(start + 100, out, len - 200) < 0, "user sees it");
	CHECK(!r_destroy(id), "destroy");
	free(out);
	munmap(map, maplen);
	return PASS;
}

/* ---- 8b: hugetlbfs page --------------------------------------------- */

static int t_hugetlb(void)
{
	static const char nr[] = "/proc/sys/vm/nr_hugepages";
	unsigned int before = read_param(nr, 0);
	struct odpc_st_counters c;
	unsigned char *h, *out;
	char val[16];
	uint32_t id;
	int ret = PASS;

	snprintf(val, sizeof(val), "%u", before + 1);
	if (write_file(nr, val))
		return skip("cannot reserve a huge page");
	h = mmap(NULL, HPAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (h == MAP_FAILED) {
		snprintf(val, sizeof(val), "%u", before);
		write_file(nr, val);
		return skip("no 2 MiB hugetlb page available");
	}
	out = malloc(HPAGE);
	fill(h, HPAGE, 30);
	if (!out || r_create(h, HPAGE, ODPC_ST_REGION_WRITE, &id)) {
		diag("setup failed");
		ret = FAIL;
		goto out;
	}
	if (r_read(id, h, out, HPAGE) || differs(h, out, HPAGE) >= 0) {
		diag("copy from the hugetlb page");
		ret = FAIL;
	} else if (r_stats(id, &c) || c.max_order != 9 ||
		   c.huge_pages != HPAGE / PG) {
		diag("order %llu, huge entries %llu",
		     (unsigned long long)c.max_order,
		     (unsigned long long)c.huge_pages);
		ret = FAIL;
	} else {
		fill(out, HPAGE, 31);
		if (r_write(id, h + 3, out, HPAGE - 6) ||
		    differs(h + 3, out, HPAGE - 6) >= 0) {
			diag("write into the hugetlb page");
			ret = FAIL;
		} else if (madvise(h, HPAGE, MADV_DONTNEED) ||
			   r_copy(id, h, out, 8, ODPC_ST_NOFAULT) != -EAGAIN) {
			diag("DONTNEED did not drop the entries");
			ret = FAIL;
		}
	}
	r_destroy(id);
out:
	free(out);
	munmap(h, HPAGE);
	snprintf(val, sizeof(val), "%u", before);
	write_file(nr, val);
	return ret;
}

/* ---- 9: teardown racing invalidation ---------------------------------- */

struct race_args {
	unsigned char *buf;
	size_t len;
	atomic_int stop;
	long rounds;
};

static void *race_invalidator(void *p)
{
	struct race_args *a = p;

	while (!atomic_load(&a->stop)) {
		madvise(a->buf, a->len, MADV_DONTNEED);
		a->buf[(a->rounds % (a->len / PG)) * PG] = 1;
		mprotect(a->buf, a->len, PROT_READ);
		mprotect(a->buf, a->len, PROT_READ | PROT_WRITE);
		a->rounds++;
	}
	return NULL;
}

static int t_teardown_race(void)
{
	static struct race_args a;
	struct odpc_st_counters g0, g1;
	unsigned char out[256];
	pthread_t t;
	int i, ret, eagain = 0, bad = 0, badret = 0;
	uint32_t id;

	memset(&a, 0, sizeof(a));
	a.len = 16 * PG;
	a.buf = map_anon(a.len, PROT_READ | PROT_WRITE);
	CHECK(a.buf, "map");
	CHECK(!r_stats(ODPC_ST_GLOBAL, &g0), "stats");
	CHECK(!pthread_create(&t, NULL, race_invalidator, &a), "thread");
	/* 300 rounds, more if the invalidator has not run 20 times yet. */
	for (i = 0; i < 300 || (a.rounds < 20 && i < 5000); i++) {
		ret = r_create(a.buf, a.len, ODPC_ST_REGION_WRITE, &id);
		if (ret) {
			bad++;
			badret = ret;
			continue;
		}
		ret = r_read(id, a.buf + (i % 16) * PG, out, sizeof(out));
		if (ret == -EAGAIN)
			eagain++;
		else if (ret) {
			bad++;
			badret = ret;
		}
		ret = r_write(id, a.buf + ((i + 3) % 16) * PG, out, 64);
		/* -EPERM/-EFAULT while mprotected read-only is legitimate */
		if (ret && ret != -EAGAIN && ret != -EPERM && ret != -EFAULT) {
			bad++;
			badret = ret;
		}
		if (r_destroy(id))
			bad++;
	}
	atomic_store(&a.stop, 1);
	pthread_join(t, NULL);
	CHECK(!r_stats(ODPC_ST_GLOBAL, &g1), "stats");
	diag("teardown race: %d regions, %ld invalidator rounds, %d EAGAIN",
	     i, a.rounds, eagain);
	CHECK(!bad, "%d unexpected results (last %d)", bad, badret);
	CHECK(g1.regions == g0.regions, "regions leaked: %llu -> %llu",
	      (unsigned long long)g0.regions, (unsigned long long)g1.regions);
	CHECK(g1.invalidations > g0.invalidations, "invalidations ran");
	CHECK(a.rounds >= 20, "invalidator ran %ld times only", a.rounds);
	munmap(a.buf, a.len);
	return PASS;
}

/* ---- 9b: destroy during an open invalidation window ------------------- */

struct dwin_args {
	unsigned char *buf;
	size_t len;
	pthread_barrier_t start;
	atomic_int madvise_done;
	atomic_int releasing;
};

static void *dwin_madviser(void *p)
{
	struct dwin_args *a = p;

	pthread_barrier_wait(&a->start);
	madvise(a->buf, a->len, MADV_DONTNEED);
	atomic_store(&a->madvise_done, 1);
	return NULL;
}

static void *dwin_releaser(void *p)
{
	struct dwin_args *a = p;
	struct odpc_st_window w = { .timeout_ms = 10000 };

	pthread_barrier_wait(&a->start);
	xioctl(ODPC_ST_WINDOW_WAIT, &w);
	usleep(200 * 1000);
	atomic_store(&a->releasing, 1);
	w.timeout_ms = 0;
	xioctl(ODPC_ST_WINDOW_RELEASE, &w);
	return NULL;
}

/*
 * Destroying a region while an invalidation of its mm is in progress must
 * wait for the invalidation to end (mmu_interval_notifier_remove), and then
 * succeed; no hang, no use after free.
 */
static int t_destroy_in_window(void)
{
	static struct dwin_args a;
	struct odpc_st_window w;
	unsigned char out[64];
	pthread_t t1, t2;
	int ret, early, released_before;
	uint32_t id;

	memset(&a, 0, sizeof(a));
	a.len = 4 * PG;
	a.buf = map_anon(a.len, PROT_READ | PROT_WRITE);
	CHECK(a.buf, "map");
	memset(a.buf, 1, a.len);
	CHECK(!r_create(a.buf, a.len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(!r_read(id, a.buf, out, sizeof(out)), "prefault");
	pthread_barrier_init(&a.start, NULL, 3);
	CHECK(!pthread_create(&t1, NULL, dwin_madviser, &a), "thread");
	CHECK(!pthread_create(&t2, NULL, dwin_releaser, &a), "thread");
	w = (struct odpc_st_window){ .va = (uintptr_t)a.buf, .len = a.len,
				     .timeout_ms = 10000 };
	ret = xioctl(ODPC_ST_WINDOW_ARM, &w);
	pthread_barrier_wait(&a.start);
	if (!ret)
		ret = xioctl(ODPC_ST_WINDOW_WAIT, &w);
	early = atomic_load(&a.madvise_done);
	if (!ret)
		ret = r_destroy(id);
	released_before = atomic_load(&a.releasing);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_barrier_destroy(&a.start);
	CHECK(!early, "madvise did not block in the window");
	CHECK(!ret, "destroy inside the window: %d", ret);
	CHECK(released_before, "destroy returned while the invalidation ran");
	munmap(a.buf, a.len);
	return PASS;
}

/* ---- 10: range checks ----------------------------------------------- */

static int t_ranges(void)
{
	unsigned char *buf = map_anon(2 * PG, PROT_READ | PROT_WRITE);
	unsigned char tmp[16];
	/* x86-64 TASK_SIZE: 47-bit, or 56-bit with 5-level paging (LA57) */
	uint64_t top = 0x00007ffffffff000ull;
	uint32_t id;
	int ret;

	CHECK(buf, "map");
	if (r_create_raw(top - PG, 2 * PG) == 0)
		top = 0x00fffffffffff000ull;
	diag("TASK_SIZE 0x%llx", (unsigned long long)top);
	CHECK(r_create_raw((uintptr_t)buf, 0) == -EINVAL, "zero length");
	CHECK(r_create_raw(~0ull - PG + 1, 2 * PG) == -EINVAL, "wrap");
	CHECK(r_create_raw(~0ull, 1) == -EINVAL, "wrap by one");
	CHECK(r_create_raw(top - PG, 2 * PG) == -EINVAL, "beyond TASK_SIZE");
	CHECK(r_create_raw(top, 1) == -EINVAL, "at TASK_SIZE");
	CHECK(r_create_raw(PG, 1ull << 62) == -EINVAL, "huge length");
	/* Unmapped but valid ranges may be registered: ODP is lazy. */
	CHECK(r_create_raw(top - 4 * PG, 4 * PG) == 0, "ends at TASK_SIZE");
	CHECK(r_create_raw((uintptr_t)buf + 1, PG) == 0, "unaligned start");

	CHECK(!r_create(buf, 2 * PG, ODPC_ST_REGION_WRITE, &id), "create");
	ret = r_read(id, buf + 2 * PG, tmp, 1);
	CHECK(ret == -EFAULT, "read past the end: %d", ret);
	ret = r_read(id, buf + 2 * PG - 8, tmp, 16);
	CHECK(ret == -EFAULT, "read straddling the end: %d", ret);
	ret = r_read(id, buf - 1, tmp, 2);
	CHECK(ret == -EFAULT, "read before the start: %d", ret);
	ret = r_copy(id, (void *)(uintptr_t)~0ull, tmp, 16, 0);
	CHECK(ret == -EFAULT, "wrapping access: %d", ret);
	CHECK(!r_read(id, buf + 2 * PG, tmp, 0), "empty access at the end");
	{
		uint64_t orig;

		ret = r_atomic(id, ODPC_ST_CMP_SWAP, buf + 4, 0, 0, &orig);
		CHECK(ret == -EINVAL, "misaligned atomic: %d", ret);
		ret = r_atomic(id, 7, buf, 0, 0, &orig);
		CHECK(ret == -EINVAL, "bad atomic op: %d", ret);
	}
	CHECK(r_destroy(id) == 0, "destroy");
	CHECK(r_destroy(id) == -ENOENT, "double destroy");
	munmap(buf, 2 * PG);
	return PASS;
}

/* ---- 11: owner exited --------------------------------------------------- */

static int t_owner_exit(void)
{
	unsigned char out[64];
	int pfd[2], status, ret;
	uint64_t t0, dt;
	uint32_t id = 0, iid = 0;
	void *va = NULL;
	pid_t pid;

	CHECK(!pipe(pfd), "pipe");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		unsigned char *b = map_anon(4 * PG, PROT_READ | PROT_WRITE);
		uint32_t cid = 0;
		unsigned char o[64];

		uint32_t iid = 0;

		memset(b, 0x77, 4 * PG);
		if (r_create(b, 4 * PG, ODPC_ST_REGION_WRITE, &cid) ||
		    r_read(cid, b, o, sizeof(o)))
			cid = 0;
		if (r_create(NULL, 0, ODPC_ST_REGION_IMPLICIT, &iid))
			iid = 0;
		if (write(pfd[1], &cid, sizeof(cid)) != sizeof(cid) ||
		    write(pfd[1], &b, sizeof(b)) != sizeof(b) ||
		    write(pfd[1], &iid, sizeof(iid)) != sizeof(iid))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	ret = read(pfd[0], &id, sizeof(id)) == sizeof(id) &&
	      read(pfd[0], &va, sizeof(va)) == sizeof(va) &&
	      read(pfd[0], &iid, sizeof(iid)) == sizeof(iid);
	close(pfd[0]);
	waitpid(pid, &status, 0);
	CHECK(ret && id && iid, "child created no region");
	ret = r_read(iid, va, out, sizeof(out));
	CHECK(ret == -ESRCH, "implicit region of a dead owner: %d", ret);
	CHECK(!r_destroy(iid), "destroy implicit");

	t0 = now_ns();
	ret = r_read(id, va, out, sizeof(out));
	dt = now_ns() - t0;
	CHECK(ret == -ESRCH, "fault on a dead owner: %d", ret);
	CHECK(dt < 1000000000ull, "took %llu ns", (unsigned long long)dt);
	ret = r_copy(id, va, out, sizeof(out), ODPC_ST_NOFAULT);
	CHECK(ret == -EAGAIN, "cache emptied at exit: %d", ret);
	ret = r_write(id, va, out, sizeof(out));
	CHECK(ret == -ESRCH, "write: %d", ret);
	ret = r_prefetch(id, va, PG, 0);
	CHECK(ret == -ESRCH, "prefetch: %d", ret);
	CHECK(!r_destroy(id), "destroy after owner exit");
	return PASS;
}

/* ---- 12: dirty marking of a file-backed shared page ------------------- */

static int t_dirty(void)
{
	size_t len = 2 * PG;
	struct odpc_st_page pg;
	struct odpc_st_counters c;
	unsigned char src[PG], back[PG];
	volatile unsigned char *v;
	unsigned char *map;
	int mfd, before;
	uint32_t id;

	mfd = memfd_create("odpc_dirty", 0);
	CHECK(mfd >= 0, "memfd_create");
	CHECK(!ftruncate(mfd, len), "ftruncate");
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	CHECK(map != MAP_FAILED, "mmap");
	v = map;
	(void)v[0];			/* read fault: page cache, clean */
	pg = (struct odpc_st_page){ .va = (uintptr_t)map };
	CHECK(!xioctl(ODPC_ST_PAGE_DIRTY, &pg), "page flags");
	before = pg.dirty;

	CHECK(!r_create(map, len, ODPC_ST_REGION_WRITE, &id), "create");
	fill(src, PG, 15);
	CHECK(!r_write(id, map, src, PG), "write through the region");
	CHECK(!xioctl(ODPC_ST_PAGE_DIRTY, &pg), "page flags");
	CHECK(pg.dirty, "page not dirty after a NIC write");
	CHECK(!r_stats(id, &c) && c.pages_dirtied >= 1, "pages_dirtied");
	CHECK(!msync(map, len, MS_SYNC), "msync");
	CHECK(!munmap(map, len), "munmap");	/* invalidates the region */
	CHECK(pread(mfd, back, PG, 0) == (ssize_t)PG, "pread");
	CHECK(differs(src, back, PG) < 0, "file lost the NIC's bytes");
	CHECK(!r_destroy(id), "destroy");
	close(mfd);
	if (before) {
		diag("page was dirty before the write: flag check inconclusive");
		return skip("shmem page dirty before the write");
	}
	return PASS;
}

/* ---- 12b: lazily freed anonymous memory --------------------------- */

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

/*
 * MADV_FREE leaves writable but clean PTEs: the kernel may drop such pages
 * instead of swapping them.  A write through the region does not dirty the
 * PTE (it goes through the kernel mapping), so unless the core marks the
 * page dirty, MADV_PAGEOUT (reclaim) discards the NIC's bytes and the
 * process reads zeros.  Needs no swap device.
 */
static int t_lazyfree(void)
{
	size_t len = 8 * PG;
	unsigned char *buf = map_anon(len, PROT_READ | PROT_WRITE);
	unsigned char src[PG];
	uint32_t id;
	size_t i;

	CHECK(buf, "map");
	memset(buf, 0x11, len);
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(!madvise(buf, len, MADV_FREE), "MADV_FREE");
	fill(src, PG, 40);
	for (i = 0; i < len; i += PG)
		CHECK(!r_write(id, buf + i, src, PG), "write through region");
	if (madvise(buf, len, MADV_PAGEOUT)) {
		r_destroy(id);
		munmap(buf, len);
		return skip("no MADV_PAGEOUT");
	}
	for (i = 0; i < len; i += PG)
		CHECK(differs(buf + i, src, PG) < 0,
		      "page %zu lost the NIC's bytes (first byte 0x%02x)",
		      i / PG, buf[i]);
	CHECK(!r_destroy(id), "destroy");
	munmap(buf, len);
	return PASS;
}

/* ---- 13: atomics -------------------------------------------------------- */

static int t_atomic(void)
{
	size_t len = 2 * PG;
	uint64_t *buf = map_anon(len, PROT_READ | PROT_WRITE);
	uint64_t orig;
	uint32_t id;

	CHECK(buf, "map");
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	/* Untouched page: faults writable, reads 0. */
	CHECK(!r_atomic(id, ODPC_ST_FETCH_ADD, &buf[PG / 8], 0, 5, &orig),
	      "fetch_add");
	CHECK(orig == 0 && buf[PG / 8] == 5, "fetch_add result %llu %llu",
	      (unsigned long long)orig, (unsigned long long)buf[PG / 8]);
	buf[1] = 42;
	CHECK(!r_atomic(id, ODPC_ST_CMP_SWAP, &buf[1], 41, 7, &orig), "cas");
	CHECK(orig == 42 && buf[1] == 42, "failed cas must not store");
	CHECK(!r_atomic(id, ODPC_ST_CMP_SWAP, &buf[1], 42, 7, &orig), "cas");
	CHECK(orig == 42 && buf[1] == 7, "cas stores");
	CHECK(!r_atomic(id, ODPC_ST_FETCH_ADD, &buf[1], 0, -8ull, &orig),
	      "add");
	CHECK(orig == 7 && buf[1] == ~0ull, "wraps");
	CHECK(!r_destroy(id), "destroy");
	munmap(buf, len);
	return PASS;
}

/* ---- 14: prefetch ------------------------------------------------------ */

static int t_prefetch(void)
{
	size_t len = 8 * PG;
	unsigned char *buf = map_anon(len, PROT_READ | PROT_WRITE);
	unsigned char out[PG];
	struct odpc_st_counters c;
	uint32_t id;

	CHECK(buf, "map");
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	/* Snapshot: only present pages are recorded, nothing is faulted. */
	buf[2 * PG] = 1;
	CHECK(!r_prefetch(id, buf, len, ODPC_ST_NOFAULT), "snapshot");
	CHECK(!r_copy(id, buf + 2 * PG, out, PG, ODPC_ST_NOFAULT),
	      "present page is cached");
	CHECK(r_copy(id, buf + 4 * PG, out, PG, ODPC_ST_NOFAULT) == -EAGAIN,
	      "absent page is not");
	/* Write prefetch: everything cached writable. */
	CHECK(!r_prefetch(id, buf, len, ODPC_ST_WRITE), "prefetch");
	memset(out, 3, sizeof(out));
	CHECK(!r_copy(id, buf + 5 * PG, out, PG,
		      ODPC_ST_WRITE | ODPC_ST_NOFAULT), "cached writable");
	CHECK(all_bytes(buf + 5 * PG, PG, 3), "bytes");
	CHECK(!r_stats(id, &c) && c.prefetches == 2, "prefetches %llu",
	      (unsigned long long)c.prefetches);
	CHECK(r_prefetch(id, buf + len, 1, 0) == -EFAULT, "out of range");
	CHECK(!r_destroy(id), "destroy");
	munmap(buf, len);
	return PASS;
}

/* ---- 15: figures ---------------------------------------------------- */

static int t_perf(void)
{
	size_t len = 4 << 20;
	unsigned char *buf = map_anon(len, PROT_READ | PROT_WRITE);
	struct odpc_st_bench b;
	struct odpc_st_counters c0, c1;
	uint32_t id;
	double fault_us, mbs_r, mbs_w, mbs_b;

	CHECK(buf, "map");
	CHECK(!madvise(buf, len, MADV_NOHUGEPAGE), "nohugepage");
	memset(buf, 1, len);
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(!r_stats(id, &c0), "stats");
	/* Cold: present CPU pages, empty cache: fault cost per page. */
	CHECK(!r_prefetch(id, buf, len, 0), "prefetch");
	CHECK(!r_stats(id, &c1), "stats");
	fault_us = (double)(c1.fault_ns - c0.fault_ns) / 1000.0 /
		   (double)(c1.pages_faulted - c0.pages_faulted);
	b = (struct odpc_st_bench){ .id = id, .va = (uintptr_t)buf,
				    .len = len, .iters = 20 };
	CHECK(!xioctl(ODPC_ST_BENCH, &b), "bench read");
	mbs_r = (double)len * b.iters / ((double)b.ns / 1e9) / 1e6;
	CHECK(!r_prefetch(id, buf, len, ODPC_ST_WRITE), "prefetch w");
	b.flags = ODPC_ST_WRITE;
	CHECK(!xioctl(ODPC_ST_BENCH, &b), "bench write");
	mbs_w = (double)len * b.iters / ((double)b.ns / 1e9) / 1e6;
	diag("fault (present pages, 4 MiB in 512-page hmm calls): %.2f us/page",
	     fault_us);
	{
		/* Baseline: this guest's memcpy, same size, in userspace. */
		unsigned char *dst = map_anon(len, PROT_READ | PROT_WRITE);
		uint64_t t0;
		unsigned int k;

		CHECK(dst, "map");
		memset(dst, 0, len);
		t0 = now_ns();
		for (k = 0; k < b.iters; k++) {
			memcpy(dst, buf, len);
			__asm__ volatile("" : : "r"(dst) : "memory");
		}
		mbs_b = (double)len * b.iters / ((double)(now_ns() - t0) / 1e9) / 1e6;
		munmap(dst, len);
	}
	diag("warm copy from region: %.0f MB/s, to region: %.0f MB/s, userspace memcpy: %.0f MB/s",
	     mbs_r, mbs_w, mbs_b);
	/* Cold with page allocation: DONTNEED then write faults. */
	CHECK(!madvise(buf, len, MADV_DONTNEED), "dontneed");
	CHECK(!r_stats(id, &c0), "stats");
	CHECK(!r_prefetch(id, buf, len, ODPC_ST_WRITE), "prefetch alloc");
	CHECK(!r_stats(id, &c1), "stats");
	diag("fault with page allocation (write, zeroing): %.2f us/page",
	     (double)(c1.fault_ns - c0.fault_ns) / 1000.0 /
	     (double)(c1.pages_faulted - c0.pages_faulted));
	/*
	 * One 8-byte read per page, pages present: the per-request cost,
	 * without fault-around (one fault per page), then with it.
	 */
	{
		static const char fa[] =
			"/sys/module/rxe_odp_core/parameters/fault_around";
		unsigned int around = read_param(fa, 16), pass;
		char val[16];

		for (pass = 0; pass < 2; pass++) {
			uint64_t v, t0;
			size_t off;

			snprintf(val, sizeof(val), "%u", pass ? around : 0);
			if (write_file(fa, val) && !pass) {
				diag("cannot set fault_around");
				continue;
			}
			CHECK(!madvise(buf, len, MADV_DONTNEED), "dontneed");
			memset(buf, 2, len);
			CHECK(!r_stats(id, &c0), "stats");
			t0 = now_ns();
			for (off = 0; off < len; off += PG)
				CHECK(!r_read(id, buf + off, &v, sizeof(v)),
				      "read");
			t0 = now_ns() - t0;
			CHECK(!r_stats(id, &c1), "stats");
			diag("8-byte read per page, fault_around %s: %llu faults for %lu pages, %.2f us/fault in the core, %.2f us per ioctl",
			     val, (unsigned long long)(c1.faults - c0.faults),
			     len / PG, (double)(c1.fault_ns - c0.fault_ns) /
			     1000.0 / (double)(c1.faults - c0.faults),
			     (double)t0 / 1000.0 / (len / PG));
			if (pass && around)
				CHECK(c1.faults - c0.faults <=
				      (len / PG) / (around + 1) + 1,
				      "fault-around did not cut faults");
		}
	}
	CHECK(!r_destroy(id), "destroy");
	munmap(buf, len);
	return PASS;
}

/* ---- 16: debugfs totals ------------------------------------------ */

static int t_debugfs(void)
{
	FILE *f = fopen("/sys/kernel/debug/rxe_odp_core/stats", "r");
	struct odpc_st_counters g;
	char name[64];
	unsigned long long v, faults = 0, regions = ~0ull;
	unsigned char *buf = map_anon(PG, PROT_READ | PROT_WRITE);
	unsigned char out[8];
	uint32_t id;
	int n = 0;

	if (!f)
		return skip("debugfs not mounted");
	/* At least one fault in the totals, and one live region. */
	CHECK(buf, "map");
	CHECK(!r_create(buf, PG, 0, &id), "create");
	CHECK(!r_read(id, buf, out, sizeof(out)), "fault");
	while (fscanf(f, "%63s %llu", name, &v) == 2) {
		n++;
		if (!strcmp(name, "faults"))
			faults = v;
		if (!strcmp(name, "regions"))
			regions = v;
	}
	fclose(f);
	CHECK(!r_stats(ODPC_ST_GLOBAL, &g), "stats");
	CHECK(n == 12, "%d lines", n);
	CHECK(faults && faults <= g.faults, "faults %llu vs %llu", faults,
	      (unsigned long long)g.faults);
	CHECK(regions == g.regions && regions >= 1, "regions %llu", regions);
	CHECK(!r_destroy(id), "destroy");
	munmap(buf, PG);
	return PASS;
}

/* ---- 17: tracepoints --------------------------------------------- */

static int t_tracepoints(void)
{
	static const char * const roots[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[256], line[512];
	const char *root = NULL;
	size_t len = 4 * PG;
	unsigned char *buf, out[64];
	int saw_fault = 0, saw_inval = 0;
	unsigned int i;
	uint32_t id;
	FILE *f;

	for (i = 0; i < 2 && !root; i++) {
		snprintf(path, sizeof(path), "%s/events/rxe_odp_core/enable",
			 roots[i]);
		if (!access(path, W_OK))
			root = roots[i];
	}
	if (!root)
		return skip("tracefs not mounted");
	snprintf(path, sizeof(path), "%s/trace", root);
	write_file(path, "");
	snprintf(path, sizeof(path), "%s/events/rxe_odp_core/enable", root);
	CHECK(!write_file(path, "1"), "enable events");

	buf = map_anon(len, PROT_READ | PROT_WRITE);
	CHECK(buf, "map");
	memset(buf, 9, len);
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(!r_read(id, buf, out, sizeof(out)), "fault");
	CHECK(!madvise(buf, len, MADV_DONTNEED), "invalidate");
	CHECK(!r_destroy(id), "destroy");
	munmap(buf, len);

	CHECK(!write_file(path, "0"), "disable events");
	snprintf(path, sizeof(path), "%s/trace", root);
	f = fopen(path, "r");
	CHECK(f, "open trace");
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "odpc_fault:") && strstr(line, "ret=0"))
			saw_fault = 1;
		if (strstr(line, "odpc_invalidate:") &&
		    strstr(line, "dropped=") && !strstr(line, "dropped=0"))
			saw_inval = 1;
	}
	fclose(f);
	write_file(path, "");
	CHECK(saw_fault, "no odpc_fault event");
	CHECK(saw_inval, "no odpc_invalidate event");
	return PASS;
}

/* ---- 18: implicit (whole address space) regions ---------------------- */

#define CHUNK		(8UL << 20)	/* ODPC_CHILD_SIZE */

static int t_implicit(void)
{
	size_t blen = 5 * CHUNK;	/* keeps x's neighbours inside b */
	unsigned char *a = map_anon(8 * PG, PROT_READ | PROT_WRITE);
	unsigned char *b = map_anon(blen, PROT_READ | PROT_WRITE);
	unsigned char *hole, *x, *out = malloc(CHUNK);
	struct odpc_st_counters c0, c1;
	struct odpc_st_create bad = { .va = PG, .len = PG,
		.flags = ODPC_ST_REGION_WRITE | ODPC_ST_REGION_IMPLICIT };
	uint64_t orig;
	uint32_t id;
	int ret;

	CHECK(a && b && out, "alloc");
	CHECK(xioctl(ODPC_ST_CREATE, &bad) == -EINVAL, "implicit with a range");
	CHECK(!r_create(NULL, 0, ODPC_ST_REGION_WRITE |
			ODPC_ST_REGION_IMPLICIT, &id), "create implicit");
	fill(a, 8 * PG, 20);
	CHECK(!r_read(id, a, out, 8 * PG), "read");
	CHECK(differs(a, out, 8 * PG) < 0, "bytes");

	/* An access across a chunk boundary spans two children. */
	x = (unsigned char *)(((uintptr_t)b + CHUNK / 2 + CHUNK - 1) &
			      ~(CHUNK - 1));	/* x + 2 * CHUNK < b + blen */
	fill(x - 2 * PG, 4 * PG, 21);
	CHECK(!r_stats(id, &c0), "stats");
	CHECK(!r_read(id, x - 2 * PG, out, 4 * PG), "read across chunks");
	CHECK(differs(x - 2 * PG, out, 4 * PG) < 0, "bytes across chunks");
	fill(out, 4 * PG, 22);
	CHECK(!r_write(id, x - PG - 5, out, 2 * PG + 10), "write across");
	CHECK(differs(x - PG - 5, out, 2 * PG + 10) < 0, "user sees it");
	CHECK(!r_stats(id, &c1), "stats");
	CHECK(c1.regions >= c0.regions + 1 && c1.regions >= 2,
	      "children %llu -> %llu", (unsigned long long)c0.regions,
	      (unsigned long long)c1.regions);

	/* A chunk not touched yet: no child, NOFAULT misses; then faults. */
	CHECK(r_copy(id, x + CHUNK + 100, out, 8, ODPC_ST_NOFAULT) == -EAGAIN,
	      "untouched chunk");
	CHECK(!r_read(id, x + CHUNK + 100, out, 8), "fault creates a child");
	CHECK(!r_stats(id, &c0) && c0.regions == c1.regions + 1,
	      "children %llu -> %llu", (unsigned long long)c1.regions,
	      (unsigned long long)c0.regions);

	/* Unmapped chunk: -EFAULT, and no child is allocated for it. */
	hole = map_anon(3 * CHUNK, PROT_NONE);
	CHECK(hole, "map");
	CHECK(!munmap(hole, 3 * CHUNK), "unmap");
	hole = (unsigned char *)(((uintptr_t)hole + CHUNK - 1) & ~(CHUNK - 1));
	ret = r_read(id, hole + 64, out, 8);
	CHECK(ret == -EFAULT, "unmapped: %d", ret);
	CHECK(!r_stats(id, &c1) && c1.regions == c0.regions,
	      "no child for a hole");
	ret = r_read(id, (void *)(uintptr_t)(1ull << 58), out, 8);
	CHECK(ret == -EFAULT, "beyond TASK_SIZE: %d", ret);

	/* Invalidation reaches the children. */
	CHECK(!r_copy(id, a, out, 8 * PG, ODPC_ST_NOFAULT), "cached");
	CHECK(!madvise(a, 8 * PG, MADV_DONTNEED), "dontneed");
	CHECK(r_copy(id, a, out, 8, ODPC_ST_NOFAULT) == -EAGAIN,
	      "child cache entry dropped");
	fill(a, 8 * PG, 23);
	CHECK(!r_read(id, a, out, 8 * PG), "refault");
	CHECK(differs(a, out, 8 * PG) < 0, "new bytes");
	CHECK(!r_stats(id, &c1) && c1.invalidations > c0.invalidations,
	      "invalidations summed over children");

	memset(a, 0, 8);
	CHECK(!r_atomic(id, ODPC_ST_FETCH_ADD, a, 0, 3, &orig), "atomic");
	CHECK(orig == 0 && *(uint64_t *)a == 3, "atomic result");
	CHECK(!r_prefetch(id, x - PG, 2 * PG, ODPC_ST_WRITE), "prefetch");
	CHECK(!r_destroy(id), "destroy");
	munmap(a, 8 * PG);
	munmap(b, blen);
	free(out);
	return PASS;
}

/* ---- 19: coherency under remap storms ------------------------------- */

struct coh_args {
	unsigned char *p;
	uint32_t id;
	atomic_int stop;
	long reads, errors;
};

/* Keeps the translation cache busy re-faulting the page being replaced. */
static void *coh_reader(void *arg)
{
	struct coh_args *a = arg;
	uint64_t v;

	while (!atomic_load(&a->stop)) {
		int ret = r_read(a->id, a->p, &v, sizeof(v));

		if (ret && ret != -EAGAIN)
			a->errors++;
		a->reads++;
	}
	return NULL;
}

/*
 * Switch the page under two regions (one explicit, one implicit) between
 * two pages of a memfd again and again, while another thread reads through
 * the region.  After each switch, a read through either region must return
 * what the CPU just stored in the now-mapped page, and a write through
 * either region must land in that page: a translation that survived the
 * invalidation, or a fault that installed the other page, shows as a stale
 * value.  (File pages stay allocated, so the two pfns always differ; with
 * anonymous pages the allocator would hand the freed pfn straight back.)
 */
static int t_coherency(void)
{
	static struct coh_args a;
	unsigned char *buf = map_anon(4 * PG, PROT_READ | PROT_WRITE);
	uint64_t v, tok, back;
	uint32_t imp;
	pthread_t t;
	int i, ret, mfd, stale = 0, fails = 0, lastret = 0;

	CHECK(buf, "map");
	mfd = memfd_create("odpc_coh", 0);
	CHECK(mfd >= 0 && !ftruncate(mfd, 2 * PG), "memfd");
	memset(&a, 0, sizeof(a));
	a.p = buf + PG;
	CHECK(!r_create(buf, 4 * PG, ODPC_ST_REGION_WRITE, &a.id), "create");
	CHECK(!r_create(NULL, 0, ODPC_ST_REGION_WRITE |
			ODPC_ST_REGION_IMPLICIT, &imp), "create implicit");
	CHECK(!pthread_create(&t, NULL, coh_reader, &a), "thread");
	for (i = 0; i < 2000; i++) {
		uint32_t id = (i & 2) ? imp : a.id;
		off_t off = (i & 1) * PG;

		if (mmap(a.p, PG, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, mfd, off) != a.p) {
			fails++;
			break;
		}
		tok = 0x1000000ull + i;
		memcpy(a.p, &tok, sizeof(tok));
		ret = r_read(id, a.p, &v, sizeof(v));
		if (ret == -EAGAIN)	/* transient: once more */
			ret = r_read(id, a.p, &v, sizeof(v));
		if (ret) {
			fails++;
			lastret = ret;
		} else if (v != tok) {
			stale++;
		}
		tok |= 1ull << 40;
		ret = r_write(id, a.p + 8, &tok, sizeof(tok));
		if (ret == -EAGAIN)
			ret = r_write(id, a.p + 8, &tok, sizeof(tok));
		if (ret) {
			fails++;
			lastret = ret;
		} else if (pread(mfd, &back, sizeof(back), off + 8) !=
			   sizeof(back) || back != tok) {
			stale++;
		}
	}
	atomic_store(&a.stop, 1);
	pthread_join(t, NULL);
	diag("coherency: 2000 remaps, %ld racing reads", a.reads);
	CHECK(!stale, "%d stale accesses", stale);
	CHECK(!fails, "%d failed accesses (last %d)", fails, lastret);
	CHECK(!a.errors, "%ld reader errors", a.errors);
	CHECK(!r_destroy(a.id) && !r_destroy(imp), "destroy");
	munmap(buf, 4 * PG);
	close(mfd);
	return PASS;
}

/* ---- 20: hostile arguments ------------------------------------------- */

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* A value likely to sit on an edge: 0, ~0, page/region boundaries... */
static uint64_t edgy(uint64_t base, uint64_t span)
{
	static const uint64_t e[] = {
		0, 1, 7, 8, PG - 1, PG, PG + 1, ~0ull, ~0ull - PG + 1,
		1ull << 47, (1ull << 47) - PG, 1ull << 56, 1ull << 63,
	};

	switch (rnd() % 4) {
	case 0:
		return e[rnd() % (sizeof(e) / sizeof(e[0]))];
	case 1:
		return base + rnd() % (span + 2 * PG) - PG;
	case 2:
		return rnd();
	default:
		return base + (rnd() % (span / PG + 2)) * PG;
	}
}

/*
 * Random and edge-case arguments to every ioctl that cannot block (the
 * window ioctls can, by design).  User buffers are a scratch area or
 * invalid addresses only, so the program cannot corrupt itself.  Anything
 * may fail; nothing may crash or warn (the harness checks dmesg), and the
 * device must work normally afterwards.
 */
static int t_fuzz(void)
{
	size_t len = 16 * PG;
	unsigned char *buf = map_anon(len, PROT_READ | PROT_WRITE);
	unsigned char *scratch = map_anon(len, PROT_READ | PROT_WRITE);
	uint64_t bufs[3];
	struct odpc_st_counters g0, g1;
	uint32_t id, imp;
	int i, created = 0;

	CHECK(buf && scratch, "map");
	bufs[0] = (uintptr_t)scratch;
	bufs[1] = 0;
	bufs[2] = 0xffff800000000000ull;	/* kernel half */
	memset(buf, 5, len);
	CHECK(!r_stats(ODPC_ST_GLOBAL, &g0), "stats");
	CHECK(!r_create(buf, len, ODPC_ST_REGION_WRITE, &id), "create");
	CHECK(!r_create(NULL, 0, ODPC_ST_REGION_IMPLICIT, &imp), "implicit");
	for (i = 0; i < 3000; i++) {
		uint32_t rid = (rnd() % 4) ? ((rnd() & 1) ? id : imp) :
					     (uint32_t)rnd();
		uint64_t va = edgy((uintptr_t)buf, len);
		uint64_t l = (rnd() % 3) ? rnd() % (3 * PG) : edgy(0, len);
		unsigned int f = rnd() % 16;

		switch (rnd() % 6) {
		case 0: {
			struct odpc_st_create a = { .va = va, .len = l,
						    .flags = rnd() % 4 };

			if (!xioctl(ODPC_ST_CREATE, &a)) {
				created++;
				r_destroy(a.id);
			}
			break;
		}
		case 1: {
			struct odpc_st_copy a = {
				.id = rid, .flags = f & ~ODPC_ST_TRACE,
				.va = va, .len = l % (2 * len),
				.buf = bufs[rnd() % 3],
			};

			if (a.buf == bufs[0] && a.len > len)
				a.len = len;
			xioctl(ODPC_ST_COPY, &a);
			break;
		}
		case 2: {
			struct odpc_st_prefetch a = { .id = rid, .flags = f,
						      .va = va, .len = l };

			xioctl(ODPC_ST_PREFETCH, &a);
			break;
		}
		case 3: {
			uint64_t orig;

			r_atomic(rid, rnd() % 3, (void *)(uintptr_t)va, rnd(),
				 rnd(), &orig);
			break;
		}
		case 4: {
			struct odpc_st_stats a = { .id = rid };

			xioctl(ODPC_ST_STATS, &a);
			break;
		}
		default: {
			struct odpc_st_page a = { .va = va };

			xioctl(ODPC_ST_PAGE_DIRTY, &a);
			break;
		}
		}
	}
	/* The atomics may have changed buf; the regions must still work. */
	memset(scratch, 0, PG);
	memset(buf, 6, PG);
	CHECK(!r_read(id, buf, scratch, PG) && all_bytes(scratch, PG, 6),
	      "region still works");
	CHECK(!r_read(imp, buf, scratch, PG) && all_bytes(scratch, PG, 6),
	      "implicit region still works");
	CHECK(!r_destroy(id) && !r_destroy(imp), "destroy");
	CHECK(!r_stats(ODPC_ST_GLOBAL, &g1), "stats");
	CHECK(g1.regions == g0.regions, "regions leaked");
	diag("fuzz: 3000 calls, %d regions created from random arguments",
	     created);
	munmap(buf, len);
	munmap(scratch, len);
	return PASS;
}

/* ---- main ------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(void);
} cases[] = {
	{ "fault_read", t_fault_read },
	{ "write", t_write },
	{ "invalidate_refault", t_invalidate },
	{ "fault_blocks_in_invalidation", t_window },
	{ "retry_on_race", t_retry },
	{ "munmap_efault", t_munmap },
	{ "readonly_eperm", t_readonly },
	{ "thp", t_thp },
	{ "hugetlb", t_hugetlb },
	{ "teardown_race", t_teardown_race },
	{ "destroy_in_window", t_destroy_in_window },
	{ "range_checks", t_ranges },
	{ "owner_exit", t_owner_exit },
	{ "dirty_shared_file", t_dirty },
	{ "dirty_lazyfree_anon", t_lazyfree },
	{ "atomics", t_atomic },
	{ "prefetch", t_prefetch },
	{ "perf", t_perf },
	{ "debugfs", t_debugfs },
	{ "tracepoints", t_tracepoints },
	{ "implicit", t_implicit },
	{ "coherency_stress", t_coherency },
	{ "hostile_arguments", t_fuzz },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static int selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc <= 0)
		return 1;
	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int i, n = 0, failed = 0, t = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "-v")) {
		verbose = 1;
		argc--;
		argv++;
	}
	argc--;
	argv++;
	for (i = 0; i < NCASES; i++)
		n += selected(cases[i].name, argc, argv);

	printf("TAP version 13\n1..%u\n", n);
	dev = open(ODPC_ST_DEVICE, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		for (i = 0; i < n; i++)
			printf("not ok %u - cannot open %s: %s\n", i + 1,
			       ODPC_ST_DEVICE, strerror(errno));
		return 1;
	}
	for (i = 0; i < NCASES; i++) {
		int r;

		if (!selected(cases[i].name, argc, argv))
			continue;
		t++;
		r = cases[i].fn();
		if (r == PASS)
			printf("ok %u - %s\n", t, cases[i].name);
		else if (r == SKIP)
			printf("ok %u - %s # SKIP %s\n", t, cases[i].name,
			       skip_reason);
		else {
			printf("not ok %u - %s\n", t, cases[i].name);
			failed++;
		}
	}
	close(dev);
	return failed ? 1 : 0;
}
