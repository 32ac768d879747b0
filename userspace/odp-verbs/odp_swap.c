// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * odp-swap: an ODP memory region much larger than the memory the process
 * may keep resident (run it in a cgroup whose memory.max is well below
 * -S, with swap on), written and read through RDMA while its pages are
 * swapped out and in under it.
 *
 * One RC QP pair (loopback on the device); T is the big target (ON_DEMAND,
 * never touched by the CPU before the device writes it), W a one-chunk
 * source and B a one-chunk read-back buffer (both ON_DEMAND as well).
 *   pass 1: RDMA WRITE stream 1 over all of T, chunk by chunk;
 *   pass 2: RDMA WRITE stream 2 over every other chunk, leaving the first
 *           and last byte of each such chunk alone (partial pages: the
 *           device must merge into swapped-out pages);
 *   read:   RDMA READ of every chunk of T into B, each byte checked
 *           (stream 2 where pass 2 wrote, stream 1 elsewhere);
 *   cpu:    the same check with the CPU on T itself.
 * A page that lost an RDMA write (the device wrote a page that was then
 * reclaimed without being marked dirty, and the swap copy came back) shows
 * as stream 1 where stream 2 was expected.  pswpout/pswpin from
 * /proc/vmstat are printed per phase; --expect-swap fails the run unless
 * both grew.
 *
 * Output: FAIL lines (offset in T, expected, got), summary, PASS/FAIL.
 * Exit status: 0 pass, 1 a check failed, 2 setup error, 3 registration
 * refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "odpv.h"

static struct {
	const char *dev;
	int gid_index;
	size_t size;
	size_t chunk;
	uint64_t seed;
	bool pinned;
	bool expect_swap;
} opt = {
	.dev = "rxe0",
	.gid_index = -1,
	.size = 256 << 20,
	.chunk = 1 << 20,
	.seed = 1,
};

static struct odpv_dev dev;
static struct ibv_cq *cq;
static struct ibv_qp *qa, *qb;
static uint8_t *T, *W, *B;
static struct ibv_mr *mt, *mw, *mb;
static bool rdma(enum ibv_wr_opcode op, uint8_t *local, struct ibv_mr *lmr, size_t off,
		 size_t len, const char *what)
{
	return odpv_rdma1(qa, cq, op, local, lmr->lkey, (uintptr_t)(T + off), mt->rkey, len,
			  what);
}

/* pass 2 wrote chunk K in [k*chunk + 1, (k+1)*chunk - 1) */
static bool pass2_chunk(size_t k)
{
	return k & 1;
}

/* Check LEN bytes at BUF, which hold T[off, off+len) of one chunk K. */
static void check_chunk(const char *who, const uint8_t *buf, size_t k, uint64_t s1, uint64_t s2)
{
	size_t off = k * opt.chunk, len = opt.chunk;
	char what[96];

	snprintf(what, sizeof(what), "%s: chunk %zu", who, k);
	if (!pass2_chunk(k)) {
		odpv_check(what, buf, len, s1, off, off);
		return;
	}
	odpv_check(what, buf, 1, s1, off, off);
	odpv_check(what, buf + 1, len - 2, s2, off + 1, off + 1);
	odpv_check(what, buf + len - 1, 1, s1, off + len - 1, off + len - 1);
}

struct swapstat {
	long long out, in;
};

static void swap_now(struct swapstat *s)
{
	s->out = odpv_vmstat("pswpout");
	s->in = odpv_vmstat("pswpin");
}

static void phase_done(const char *name, double t0, struct swapstat *prev, unsigned long f0)
{
	struct swapstat now;

	swap_now(&now);
	odpv_info("%s: %.1f s, pswpout +%lld, pswpin +%lld, %s", name, odpv_now() - t0,
		  now.out - prev->out, now.in - prev->in, odpv_failures == f0 ? "ok" : "FAILED");
	*prev = now;
}

static void usage(int code)
{
	printf("usage: %s -g GID_INDEX [-d DEV] [-S SIZE] [-c CHUNK] [-s SEED] [--pinned] [--expect-swap]\n"
	       "  SIZE of T (256M), CHUNK of each RDMA operation (1M)\n"
	       "exit: 0 pass, 1 check failed, 2 setup error, 3 registration refused\n",
	       odpv_prog);
	exit(code);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "pinned", no_argument, NULL, 'P' },
		{ "expect-swap", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
	struct swapstat s0, sp;
	uint64_t s1, s2;
	unsigned long f0;
	size_t k, n;
	double t0;
	char what[96];
	int c;

	odpv_prog = "odp-swap";
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "d:g:S:c:s:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': opt.dev = optarg; break;
		case 'g': opt.gid_index = atoi(optarg); break;
		case 'S': opt.size = odpv_parse_size(optarg, "-S"); break;
		case 'c': opt.chunk = odpv_parse_size(optarg, "-c"); break;
		case 's': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'P': opt.pinned = true; break;
		case 'X': opt.expect_swap = true; break;
		case 'h': usage(0); break;
		default: usage(ODPV_EXIT_SETUP);
		}
	}
	if (opt.gid_index < 0 || optind != argc || opt.chunk < ODPV_PAGE ||
	    opt.chunk % ODPV_PAGE || opt.size % opt.chunk || opt.size < 2 * opt.chunk)
		usage(ODPV_EXIT_SETUP);
	n = opt.size / opt.chunk;
	s1 = odpv_mix(opt.seed) | 1;
	s2 = odpv_mix(s1) | 1;

	odpv_open(&dev, opt.dev, opt.gid_index);
	odpv_print_odp_caps(&dev);
	printf("%s: T %zu MiB in %zu chunks of %zu KiB, seed %" PRIu64 ", %s MRs\n", odpv_prog,
	       opt.size >> 20, n, opt.chunk >> 10, opt.seed, opt.pinned ? "pinned" : "ON_DEMAND");
	cq = odpv_cq(&dev, 16);
	qa = odpv_qp(&dev, IBV_QPT_RC, cq, cq, NULL, 8);
	qb = odpv_qp(&dev, IBV_QPT_RC, cq, cq, NULL, 8);
	odpv_rc_connect(&dev, qa, qb->qp_num);
	odpv_rc_connect(&dev, qb, qa->qp_num);
	T = odpv_map(opt.size);
	W = odpv_map(opt.chunk);
	B = odpv_map(opt.chunk);
	mt = odpv_reg(&dev, T, opt.size, access, !opt.pinned, "T (target)");
	mw = odpv_reg(&dev, W, opt.chunk, access, !opt.pinned, "W (source)");
	mb = odpv_reg(&dev, B, opt.chunk, access, !opt.pinned, "B (read-back)");

	swap_now(&s0);
	if (s0.out < 0 || s0.in < 0)
		odpv_die("no pswpout/pswpin in /proc/vmstat");
	sp = s0;

	f0 = odpv_failures;
	t0 = odpv_now();
	for (k = 0; k < n; k++) {
		odpv_fill(W, opt.chunk, s1, k * opt.chunk);
		snprintf(what, sizeof(what), "pass 1: RDMA WRITE of chunk %zu", k);
		if (!rdma(IBV_WR_RDMA_WRITE, W, mw, k * opt.chunk, opt.chunk, what))
			break;
	}
	phase_done("pass 1 (RDMA WRITE of all of T)", t0, &sp, f0);

	f0 = odpv_failures;
	t0 = odpv_now();
	for (k = 1; k < n; k += 2) {
		odpv_fill(W, opt.chunk - 2, s2, k * opt.chunk + 1);
		snprintf(what, sizeof(what), "pass 2: RDMA WRITE into chunk %zu", k);
		if (!rdma(IBV_WR_RDMA_WRITE, W, mw, k * opt.chunk + 1, opt.chunk - 2, what))
			break;
	}
	phase_done("pass 2 (RDMA WRITE into every other chunk)", t0, &sp, f0);

	f0 = odpv_failures;
	t0 = odpv_now();
	for (k = 0; k < n; k++) {
		memset(B, 0, opt.chunk);
		snprintf(what, sizeof(what), "read: RDMA READ of chunk %zu", k);
		if (!rdma(IBV_WR_RDMA_READ, B, mb, k * opt.chunk, opt.chunk, what))
			break;
		check_chunk("RDMA READ of T", B, k, s1, s2);
	}
	phase_done("read (RDMA READ of all of T, checked)", t0, &sp, f0);

	f0 = odpv_failures;
	t0 = odpv_now();
	for (k = 0; k < n; k++)
		check_chunk("CPU read of T", T + k * opt.chunk, k, s1, s2);
	phase_done("cpu (CPU check of all of T)", t0, &sp, f0);

	odpv_info("total: pswpout +%lld, pswpin +%lld", sp.out - s0.out, sp.in - s0.in);
	if (opt.expect_swap) {
		odpv_checks++;
		if (sp.out <= s0.out || sp.in <= s0.in)
			odpv_fail("--expect-swap: pswpout +%lld, pswpin +%lld: no swapping seen",
				  sp.out - s0.out, sp.in - s0.in);
	}

	odpv_dereg(mt);
	odpv_dereg(mw);
	odpv_dereg(mb);
	if (ibv_destroy_qp(qa) || ibv_destroy_qp(qb) || ibv_destroy_cq(cq))
		odpv_fail("destroying QPs/CQ failed: %s", strerror(errno));
	odpv_close(&dev);
	odpv_finish();
}
