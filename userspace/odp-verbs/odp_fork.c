// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * odp-fork: RDMA WRITEs into an ODP memory region of a process that has
 * forked land in that process's own copy-on-write pages.
 *
 * rdma-core does not mark ON_DEMAND memory MADV_DONTFORK, and this program
 * does not call ibv_fork_init(), so after fork() parent and child share the
 * buffer's pages copy-on-write.  One RC QP pair in the parent (loopback on
 * the device), a target buffer P registered ON_DEMAND, a source buffer S
 * (ON_DEMAND too) and a read-back buffer D.  Per iteration:
 *
 *   1. an RDMA WRITE of the "old" stream over all of P, so that the driver
 *      has P's pages mapped writable before the fork;
 *   2. fork(); the child writes its own copy of region C (breaking COW from
 *      the child's side) and reports ready;
 *   3. the parent writes region A with the CPU (breaking COW itself), then
 *      RDMA WRITEs a "new" stream from S into part of A, part of B (pages
 *      the parent has not touched since the fork: the write fault has to
 *      break COW) and part of C;
 *   4. the parent checks P with the CPU and through an RDMA READ of all of P
 *      into D: A = CPU data except the RDMA part, B and C = old except the
 *      RDMA parts, the rest (never written after the fork) old;
 *   5. the child checks its copy: old everywhere except its own C data, so
 *      none of the parent's writes (CPU or RDMA) reached it; exit status 0;
 *   6. after the child is gone, another RDMA WRITE over all of P, checked.
 *
 * The MRs live across all iterations (several forks of one registration).
 * --pinned registers without ON_DEMAND (the kernel copies pinned pages for
 * the child at fork time, so the same expectations hold).
 *
 * Output: FAIL lines (region, offset, expected, got), summary, PASS/FAIL.
 * Exit status: 0 pass, 1 a check failed, 2 setup error, 3 registration
 * refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "odpv.h"

static struct {
	const char *dev;
	int gid_index;
	int iters;
	size_t size;
	uint64_t seed;
	bool pinned;
} opt = {
	.dev = "rxe0",
	.gid_index = -1,
	.iters = 3,
	.size = 64 * ODPV_PAGE,
	.seed = 1,
};

static struct odpv_dev dev;
static struct ibv_cq *cq;
static struct ibv_qp *qa, *qb;
static uint8_t *P, *S, *D;
static struct ibv_mr *mp, *ms, *md;
static uint64_t rng;

/* Regions of P, by page: A [0, q), B [q, 2q), C [2q, 3q), rest [3q, end). */
static size_t q;

/* An expected layout of P: segments with their stream seeds (pos = P offset). */
struct seg {
	size_t off, len;
	uint64_t seed;
	const char *name;
};

static bool check_segs(const char *who, const uint8_t *buf, const struct seg *s, int n)
{
	char what[160];
	bool ok = true;
	int i;

	for (i = 0; i < n; i++) {
		if (!s[i].len)
			continue;
		snprintf(what, sizeof(what), "%s: %s [%zu, %zu)", who, s[i].name, s[i].off,
			 s[i].off + s[i].len);
		ok &= odpv_check(what, buf + s[i].off, s[i].len, s[i].seed, s[i].off, s[i].off);
	}
	return ok;
}

static uint64_t new_seed(void)
{
	uint64_t s;

	do
		s = odpv_rnd(&rng);
	while (!s);
	return s;
}

/* RDMA WRITE S[off, off+len) to P[off, off+len), or READ P into D. */
static bool rdma(enum ibv_wr_opcode op, size_t off, size_t len, const char *what)
{
	bool w = op == IBV_WR_RDMA_WRITE;

	return odpv_rdma1(qa, cq, op, (w ? S : D) + off, w ? ms->lkey : md->lkey,
			  (uintptr_t)(P + off), mp->rkey, len, what);
}

static void xwrite(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		odpv_die("pipe write: %s", strerror(errno));
}

static int xread(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? c : -1;
}

/* The child: break COW on C, report, wait, check its copy, exit. */
static void child(int rd, int wr, uint64_t old, uint64_t cseed)
{
	struct seg exp[] = {
		{ 0, 2 * q, old, "A+B (old)" },
		{ 2 * q, q, cseed, "C (child's own write)" },
		{ 3 * q, opt.size - 3 * q, old, "rest (old)" },
	};

	snprintf(odpv_where, sizeof(odpv_where), "child (pid %d) iter", (int)getpid());
	odpv_fill(P + 2 * q, q, cseed, 2 * q);
	xwrite(wr, 'r');
	if (xread(rd) != 'g')
		odpv_die("child: parent vanished");
	check_segs("child's copy of P", P, exp, 3);
	/* stdout is line buffered; _exit skips atexit handlers of the verbs library */
	fflush(stdout);
	_exit(odpv_failures ? ODPV_EXIT_FAIL : ODPV_EXIT_PASS);
}

static void iteration(int it)
{
	uint64_t old = new_seed(), cpu = new_seed(), neu = new_seed(), cseed = new_seed();
	uint64_t last = new_seed();
	/* RDMA parts, odd and page-crossing */
	size_t a0 = ODPV_PAGE + 5, a1 = q - ODPV_PAGE - 77;
	size_t b0 = q + 3, b1 = 2 * q - 11;
	size_t c0 = 2 * q + ODPV_PAGE / 2 + 1, c1 = 3 * q - ODPV_PAGE / 2;
	int p2c[2], c2p[2], st, r;
	pid_t pid;
	char what[96];

	snprintf(odpv_where, sizeof(odpv_where), "iter %d", it);
	/* 1. old stream over all of P through the device */
	odpv_fill(S, opt.size, old, 0);
	if (!rdma(IBV_WR_RDMA_WRITE, 0, opt.size, "pre-fork RDMA WRITE of P"))
		return;
	{
		struct seg e[] = { { 0, opt.size, old, "P before fork" } };

		check_segs("parent", P, e, 1);
	}

	/* 2. fork */
	if (pipe(p2c) || pipe(c2p))
		odpv_die("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		odpv_die("fork: %s", strerror(errno));
	if (!pid) {
		close(p2c[1]);
		close(c2p[0]);
		child(p2c[0], c2p[1], old, cseed);
	}
	close(p2c[0]);
	close(c2p[1]);
	if (xread(c2p[0]) != 'r') {
		odpv_fail("child did not report ready");
		goto reap;
	}

	/* 3. CPU write of A, then RDMA WRITEs into A, B and C */
	odpv_fill(P, q, cpu, 0);
	odpv_fill(S, opt.size, neu, 0);
	snprintf(what, sizeof(what), "RDMA WRITE into A (parent wrote it) [%zu, %zu)", a0, a1);
	rdma(IBV_WR_RDMA_WRITE, a0, a1 - a0, what);
	snprintf(what, sizeof(what), "RDMA WRITE into B (COW shared) [%zu, %zu)", b0, b1);
	rdma(IBV_WR_RDMA_WRITE, b0, b1 - b0, what);
	snprintf(what, sizeof(what), "RDMA WRITE into C (child wrote it) [%zu, %zu)", c0, c1);
	rdma(IBV_WR_RDMA_WRITE, c0, c1 - c0, what);

	/* 4. the parent's view, by CPU and by RDMA READ */
	{
		struct seg e[] = {
			{ 0, a0, cpu, "A before the RDMA part (parent's CPU data)" },
			{ a0, a1 - a0, neu, "A RDMA part" },
			{ a1, q - a1, cpu, "A after the RDMA part (parent's CPU data)" },
			{ q, b0 - q, old, "B before the RDMA part (old)" },
			{ b0, b1 - b0, neu, "B RDMA part" },
			{ b1, 2 * q - b1, old, "B after the RDMA part (old)" },
			{ 2 * q, c0 - 2 * q, old, "C before the RDMA part (old)" },
			{ c0, c1 - c0, neu, "C RDMA part" },
			{ c1, 3 * q - c1, old, "C after the RDMA part (old)" },
			{ 3 * q, opt.size - 3 * q, old, "rest (old)" },
		};
		int n = ODPV_ARRAY_SIZE(e);

		check_segs("parent's P (CPU)", P, e, n);
		memset(D, 0, opt.size);
		if (rdma(IBV_WR_RDMA_READ, 0, opt.size, "RDMA READ of all of P"))
			check_segs("parent's P (RDMA READ into D)", D, e, n);
	}

	/* 5. the child's view */
	xwrite(p2c[1], 'g');
reap:
	close(p2c[1]);
	close(c2p[0]);
	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	odpv_checks++;
	if (r != pid)
		odpv_fail("waitpid: %s", strerror(errno));
	else if (!WIFEXITED(st) || WEXITSTATUS(st))
		odpv_fail("child %d: %s %d (its FAIL lines above)", (int)pid,
			  WIFEXITED(st) ? "exit status" : "killed by signal",
			  WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));

	/* 6. P after the child has gone */
	odpv_fill(S, opt.size, last, 0);
	if (rdma(IBV_WR_RDMA_WRITE, 0, opt.size, "RDMA WRITE of all of P after the child exited")) {
		struct seg e[] = { { 0, opt.size, last, "P after the child exited" } };

		check_segs("parent", P, e, 1);
	}
}

static void usage(int code)
{
	printf("usage: %s -g GID_INDEX [-d DEV] [-n ITERS] [-S SIZE] [-s SEED] [--pinned]\n"
	       "  SIZE: at least 16 pages (default 64 pages); regions A, B, C are a quarter each\n"
	       "exit: 0 pass, 1 check failed, 2 setup error, 3 registration refused\n",
	       odpv_prog);
	exit(code);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "pinned", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
	unsigned long f0;
	int c, it;

	odpv_prog = "odp-fork";
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "d:g:n:S:s:vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': opt.dev = optarg; break;
		case 'g': opt.gid_index = atoi(optarg); break;
		case 'n': opt.iters = atoi(optarg); break;
		case 'S': opt.size = odpv_parse_size(optarg, "-S"); break;
		case 's': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'v': odpv_verbose = 1; break;
		case 'P': opt.pinned = true; break;
		case 'h': usage(0); break;
		default: usage(ODPV_EXIT_SETUP);
		}
	}
	if (opt.gid_index < 0 || optind != argc || opt.iters < 1)
		usage(ODPV_EXIT_SETUP);
	opt.size = (opt.size + ODPV_PAGE - 1) & ~(ODPV_PAGE - 1);
	if (opt.size < 16 * ODPV_PAGE)
		usage(ODPV_EXIT_SETUP);
	q = opt.size / ODPV_PAGE / 4 * ODPV_PAGE;
	rng = odpv_mix(opt.seed);
	signal(SIGPIPE, SIG_IGN);

	odpv_open(&dev, opt.dev, opt.gid_index);
	odpv_print_odp_caps(&dev);
	printf("%s: P %zu bytes (regions of %zu), %d iterations, seed %" PRIu64 ", %s MRs\n",
	       odpv_prog, opt.size, q, opt.iters, opt.seed, opt.pinned ? "pinned" : "ON_DEMAND");
	cq = odpv_cq(&dev, 16);
	qa = odpv_qp(&dev, IBV_QPT_RC, cq, cq, NULL, 8);
	qb = odpv_qp(&dev, IBV_QPT_RC, cq, cq, NULL, 8);
	odpv_rc_connect(&dev, qa, qb->qp_num);
	odpv_rc_connect(&dev, qb, qa->qp_num);
	P = odpv_map(opt.size);
	S = odpv_map(opt.size);
	D = odpv_map(opt.size);
	mp = odpv_reg(&dev, P, opt.size, access, !opt.pinned, "P (fork target)");
	ms = odpv_reg(&dev, S, opt.size, access, !opt.pinned, "S (source)");
	md = odpv_reg(&dev, D, opt.size, access, !opt.pinned, "D (read-back)");

	for (it = 0; it < opt.iters; it++) {
		f0 = odpv_failures;
		iteration(it);
		odpv_where[0] = 0;
		odpv_info("iteration %d: %s", it, odpv_failures == f0 ? "ok" : "FAILED");
	}

	odpv_dereg(mp);
	odpv_dereg(ms);
	odpv_dereg(md);
	if (ibv_destroy_qp(qa) || ibv_destroy_qp(qb) || ibv_destroy_cq(cq))
		odpv_fail("destroying QPs/CQ failed: %s", strerror(errno));
	odpv_close(&dev);
	odpv_finish();
}
