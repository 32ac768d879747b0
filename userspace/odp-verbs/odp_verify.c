// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * odp-verify / odp-refault: data-path checks of ODP memory regions on one
 * RDMA device, with RC and UD QP pairs in this process talking to each
 * other through the device's loopback (our own GID at the index given).
 *
 * Two buffers, "local" L (requester side: gather lists of WRITE and SEND,
 * scatter lists of READ, atomic results, UD send) and "remote" R (target of
 * WRITE/READ/atomics, receive buffers), are registered per combination:
 * L ODP + R pinned, L pinned + R ODP, both ODP, and both reached through
 * one implicit ODP MR (ibv_reg_mr(NULL, SIZE_MAX), if the device
 * advertises IBV_ODP_SUPPORT_IMPLICIT) (default: all four; with --pinned
 * one run with neither, to validate the program itself).
 *
 * Per iteration and combination:
 *  - RDMA WRITE and RDMA READ, SEND/RECV on an RC QP with a receive queue and
 *    on one with an SRQ, in several shapes: one byte, a few bytes across a
 *    page boundary, several pages, 1 MiB + a bit (many packets at the path
 *    MTU) and a random one; odd offsets, 1-3 SGEs scattered over L (and over
 *    R for receives);
 *  - RDMA WRITE with immediate (consumes a receive);
 *  - FETCH_ADD, CAS that succeeds and CAS that fails on 8-byte aligned
 *    words of R (some at the end of a page), results landing in L at an
 *    aligned and at an odd, page-crossing offset;
 *  - UD SEND/RECV from L into R (GRH in front), up to the path MTU, across
 *    page boundaries.
 * Before each operation the destination is filled with a guard stream and
 * the source with a data stream, both fresh per operation and iteration;
 * after it every byte of both buffers is compared (data where the operation
 * put it, guard everywhere else), and the completions' status, opcode,
 * wr_id, byte_len, immediate and source QP are checked.
 *
 * odp-refault (or --refault): before every operation the ODP buffers are
 * dropped with madvise(MADV_DONTNEED), so that every operation finds pages
 * the driver mapped before invalidated (with --pinned the pinned buffers
 * are dropped too: a control run that must FAIL, because a pinned MR keeps
 * its old pages); the destination is then either
 * guard-filled, left untouched (no page at all: the RDMA access must
 * allocate it; expected zeros) or only read by the CPU (the shared zero
 * page is mapped: a write must break it).  With --expect-grow NAME the
 * device counter NAME (hw_counters) must grow in every iteration of a
 * combination with an ODP MR.
 *
 * --at-end CMD runs CMD (sh -c) at the end of each combination while the
 * MRs still exist, with ODPV_PID, ODPV_COMBO and ODPV_MRS ("L:lkey:odp
 * R:lkey:pinned") in its environment; a non-zero status is a failure.
 *
 * Output: FAIL lines (offset, expected, got), a summary, "PASS" or "FAIL".
 * Exit status: 0 pass, 1 a check failed, 2 setup error, 3 registration
 * refused.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "odpv.h"

#ifndef ODPV_REFAULT_DEFAULT
#define ODPV_REFAULT_DEFAULT 0
#endif

#define GRH_LEN 40
#define MAX_PIECES 4
#define MAX_GROW 4

enum { T_WRITE, T_READ, T_SEND, T_SRQ, T_IMM, T_ATOMIC, T_UD, T_MAX };
static const char *const test_name[T_MAX] = {
	"write", "read", "send", "srq", "imm", "atomic", "ud",
};

static struct {
	const char *dev;
	int gid_index;
	int iters;
	size_t size;
	uint64_t seed;
	bool pinned;
	bool refault;
	unsigned int combos; /* bit 0 local, 1 remote, 2 both, 3 implicit */
	bool combos_given;
	unsigned int tests;
	const char *at_end;
	bool inject; /* corrupt one byte once, to prove the checks see it */
	const char *grow[MAX_GROW];
	int ngrow;
} opt = {
	.dev = "rxe0",
	.gid_index = -1,
	.iters = 3,
	.size = 2 << 20,
	.seed = 1,
	.refault = ODPV_REFAULT_DEFAULT,
	.combos = 15,
	.tests = (1u << T_MAX) - 1,
};

struct side {
	const char *name;
	uint8_t *buf;
	size_t len;
	struct ibv_mr *mr;
	bool odp;
	const char *prep; /* how prepare() left it: guard, none, zero */
};

struct piece {
	size_t off, len;
};

/* A scatter/gather layout: pieces in increasing buffer order. */
struct layout {
	struct piece p[MAX_PIECES];
	int n;
	size_t total;
};

static struct odpv_dev dev;
static struct ibv_cq *cq_req, *cq_resp;
static struct ibv_qp *rc_a, *rc_b;   /* rc_b receives on its RQ */
static struct ibv_qp *rc_c, *rc_d;   /* rc_d receives on the SRQ */
static struct ibv_srq *srq;
static struct ibv_qp *ud_a, *ud_b;
static struct ibv_ah *ah;
static struct side L = { .name = "L" }, R = { .name = "R" };
static uint64_t rng;
static uint64_t wr_seq;
static int op_index;
static int cur_iter;

static uint64_t new_seed(void)
{
	uint64_t s;

	do
		s = odpv_rnd(&rng);
	while (!s);
	return s;
}

/* ---- layouts ---------------------------------------------------------- */

/*
 * LEN bytes in N pieces starting at OFF (moved down if the pieces and the
 * gaps between them would not fit in BUFLEN), cut at random points, with
 * random gaps of up to two pages between them.
 */
static void make_layout(struct layout *lo, size_t buflen, size_t off, size_t len, int n)
{
	size_t cuts[MAX_PIECES + 1], gaps[MAX_PIECES], need, pos;
	int i, j;

	if (n > MAX_PIECES)
		n = MAX_PIECES;
	if ((size_t)n > len)
		n = len ? (int)len : 1;
	cuts[0] = 0;
	cuts[n] = len;
	for (i = 1; i < n; i++) {
		size_t c;

		/* distinct cut points in (0, len) */
		do {
			c = odpv_rnd_range(&rng, 1, len - 1);
			for (j = 1; j < i && cuts[j] != c; j++)
				;
		} while (j < i);
		cuts[i] = c;
	}
	/* sort the inner cuts */
	for (i = 1; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (cuts[j] < cuts[i]) {
				size_t t = cuts[i];

				cuts[i] = cuts[j];
				cuts[j] = t;
			}
	need = len;
	for (i = 0; i < n - 1; i++) {
		gaps[i] = odpv_rnd_range(&rng, 1, 2 * ODPV_PAGE + 13);
		need += gaps[i];
	}
	if (need > buflen) {
		fprintf(stderr, "layout of %zu bytes does not fit in %zu\n", need, buflen);
		exit(ODPV_EXIT_SETUP);
	}
	if (off + need > buflen)
		off = buflen - need;
	lo->n = n;
	lo->total = len;
	pos = off;
	for (i = 0; i < n; i++) {
		lo->p[i].off = pos;
		lo->p[i].len = cuts[i + 1] - cuts[i];
		pos += lo->p[i].len + (i < n - 1 ? gaps[i] : 0);
	}
}

static void one_piece(struct layout *lo, size_t off, size_t len)
{
	lo->n = 1;
	lo->total = len;
	lo->p[0].off = off;
	lo->p[0].len = len;
}

static void fill_layout(struct side *s, const struct layout *lo, uint64_t seed)
{
	size_t pos = 0;
	int i;

	for (i = 0; i < lo->n; i++) {
		odpv_fill(s->buf + lo->p[i].off, lo->p[i].len, seed, pos);
		pos += lo->p[i].len;
	}
}

static int to_sges(const struct side *s, const struct layout *lo, struct ibv_sge *sg)
{
	int i;

	for (i = 0; i < lo->n; i++) {
		sg[i].addr = (uintptr_t)(s->buf + lo->p[i].off);
		sg[i].length = lo->p[i].len;
		sg[i].lkey = s->mr->lkey;
	}
	return lo->n;
}

/*
 * Check all of side S: inside LO's pieces, scatter position q (counted
 * over the pieces) holds nothing checked for q < SKIP, data stream SEED at
 * q - SKIP for SKIP <= q < SKIP + MSGLEN, and the guard stream GUARD (at
 * the buffer offset) beyond; outside the pieces the guard stream.
 */
static bool check_side(const char *op, struct side *s, const struct layout *lo, uint64_t seed,
		       size_t skip, size_t msglen, uint64_t guard)
{
	char what[200];
	size_t at = 0, q = 0;
	bool ok = true;
	int i;

	for (i = 0; i <= lo->n; i++) {
		size_t start = i < lo->n ? lo->p[i].off : s->len;
		size_t plen = i < lo->n ? lo->p[i].len : 0;
		size_t a, b;

		if (start > at) {
			snprintf(what, sizeof(what), "%s: %s guard before piece %d", op, s->name, i);
			ok &= odpv_check(what, s->buf + at, start - at, guard, at, at);
		}
		if (i == lo->n)
			break;
		/* [start, start+plen) covers scatter positions [q, q+plen) */
		a = skip > q ? skip - q : 0; /* piece bytes before the data */
		if (a > plen)
			a = plen;
		b = skip + msglen > q ? skip + msglen - q : 0; /* end of the data in the piece */
		if (b > plen)
			b = plen;
		if (b < a)
			b = a;
		if (b > a) {
			snprintf(what, sizeof(what), "%s: %s data (piece %d of %d)", op, s->name, i,
				 lo->n);
			ok &= odpv_check(what, s->buf + start + a, b - a, seed, q + a - skip,
					 start + a);
		}
		if (plen > b) {
			snprintf(what, sizeof(what), "%s: %s beyond the data in piece %d", op,
				 s->name, i);
			ok &= odpv_check(what, s->buf + start + b, plen - b, guard, start + b,
					 start + b);
		}
		q += plen;
		at = start + plen;
	}
	return ok;
}

/* ---- buffer preparation -------------------------------------------------- */

static void drop(struct side *s)
{
	if (madvise(s->buf, s->len, MADV_DONTNEED))
		odpv_die("madvise(%s, MADV_DONTNEED): %s", s->name, strerror(errno));
}

/*
 * Give S a known background and return its stream: a fresh guard stream,
 * or in refault mode after dropping every page, sometimes nothing (0: no
 * page at all) or zero pages mapped by CPU reads (0 as well).
 */
static uint64_t prepare(struct side *s)
{
	volatile uint8_t *p = s->buf;
	uint64_t g;
	size_t i;

	s->prep = "guard";
	if (!opt.refault) {
		g = new_seed();
		odpv_fill(s->buf, s->len, g, 0);
		return g;
	}
	/*
	 * A pinned MR keeps the pages it pinned: dropping them would leave the
	 * device and the process on different memory.  Only with --pinned
	 * (the control run, which must fail) are pinned buffers dropped too.
	 */
	if (!s->odp && !opt.pinned) {
		g = new_seed();
		odpv_fill(s->buf, s->len, g, 0);
		return g;
	}
	drop(s);
	switch ((cur_iter + op_index + (s == &R)) % 3) {
	case 0:
		g = new_seed();
		odpv_fill(s->buf, s->len, g, 0);
		return g;
	case 1:
		s->prep = "no pages";
		return 0;
	default:
		s->prep = "zero pages";
		for (i = 0; i < s->len; i += ODPV_PAGE)
			(void)p[i];
		return 0;
	}
}

/* ---- operations -------------------------------------------------------- */

struct shape {
	size_t loff, roff, len;
	int lsge, rsge;
};

static void describe(char *buf, size_t n, const char *t, const struct shape *sh,
		     const struct layout *ll, const struct layout *rl)
{
	snprintf(buf, n, "iter %d op %d %s len %zu L@%zu(%d sge) R@%zu(%d sge)", cur_iter,
		 op_index, t, sh->len, ll->p[0].off, ll->n, rl->p[0].off, rl->n);
}

/*
 * One RDMA WRITE (L to R) or READ (R to L) of the shape: the source side
 * is filled with a fresh pattern, and afterwards both sides are checked
 * in full (the destination carries the pattern, the rest of both buffers
 * is untouched).
 */
static void op_rdma(const struct shape *sh, bool read)
{
	struct layout ll, rl;
	struct ibv_sge sg[MAX_PIECES];
	struct ibv_send_wr wr;
	uint64_t gl, gr, seed;
	char what[200];

	gl = prepare(&L);
	gr = prepare(&R);
	seed = new_seed();
	make_layout(&ll, L.len, sh->loff, sh->len, sh->lsge);
	one_piece(&rl, sh->roff, sh->len);
	if (read)
		fill_layout(&R, &rl, seed);
	else
		fill_layout(&L, &ll, seed);
	describe(what, sizeof(what), read ? "READ" : "WRITE", sh, &ll, &rl);
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = ++wr_seq;
	wr.sg_list = sg;
	wr.num_sge = to_sges(&L, &ll, sg);
	wr.opcode = read ? IBV_WR_RDMA_READ : IBV_WR_RDMA_WRITE;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)(R.buf + sh->roff);
	wr.wr.rdma.rkey = R.mr->rkey;
	if (!odpv_post_send(rc_a, &wr, what))
		return;
	if (!odpv_expect_wc(cq_req, what, wr.wr_id,
			    read ? IBV_WC_RDMA_READ : IBV_WC_RDMA_WRITE, -1, NULL))
		return;
	if (!read && opt.inject) {
		opt.inject = false;
		R.buf[sh->roff + sh->len / 2] ^= 0x5a;
		odpv_info("%s: --inject-error: flipped bits of R at offset %zu", what,
			  sh->roff + sh->len / 2);
	}
	/* The destination first: it is where a failure would show. */
	if (read) {
		check_side(what, &L, &ll, seed, 0, sh->len, gl);
		check_side(what, &R, &rl, seed, 0, sh->len, gr);
	} else {
		check_side(what, &R, &rl, seed, 0, sh->len, gr);
		check_side(what, &L, &ll, seed, 0, sh->len, gl);
	}
	if (odpv_verbose)
		odpv_info("%s: ok (L %s, R %s)", what, L.prep, R.prep);
}

/*
 * SEND from L into receive buffers in R posted on rc_b's RQ, or on the SRQ
 * for rc_d; with IMM an RDMA WRITE with immediate into R instead, which
 * consumes a receive without scatter entries.
 */
static void op_send(const struct shape *sh, bool use_srq, bool imm)
{
	struct layout ll, rl;
	struct ibv_sge sg[MAX_PIECES], rsg[MAX_PIECES];
	struct ibv_send_wr wr;
	struct ibv_recv_wr rwr;
	struct ibv_wc wc;
	struct ibv_qp *sq = use_srq ? rc_c : rc_a, *rq = use_srq ? rc_d : rc_b;
	uint64_t gl, gr, seed;
	uint32_t immv = (uint32_t)odpv_rnd(&rng);
	size_t extra = imm ? 0 : odpv_rnd_range(&rng, 0, 100);
	char what[200];

	gl = prepare(&L);
	gr = prepare(&R);
	seed = new_seed();
	make_layout(&ll, L.len, sh->loff, sh->len, sh->lsge);
	if (imm)
		one_piece(&rl, sh->roff, sh->len);
	else
		make_layout(&rl, R.len, sh->roff, sh->len + extra, sh->rsge);
	fill_layout(&L, &ll, seed);
	describe(what, sizeof(what), imm ? "WRITE_WITH_IMM" : use_srq ? "SEND (SRQ)" : "SEND",
		 sh, &ll, &rl);

	memset(&rwr, 0, sizeof(rwr));
	rwr.wr_id = ++wr_seq;
	if (!imm) {
		rwr.sg_list = rsg;
		rwr.num_sge = to_sges(&R, &rl, rsg);
	}
	if (use_srq ? !odpv_post_srq_recv(srq, &rwr, what) : !odpv_post_recv(rq, &rwr, what))
		return;

	memset(&wr, 0, sizeof(wr));
	wr.wr_id = ++wr_seq;
	wr.sg_list = sg;
	wr.num_sge = to_sges(&L, &ll, sg);
	wr.send_flags = IBV_SEND_SIGNALED;
	if (imm) {
		wr.opcode = IBV_WR_RDMA_WRITE_WITH_IMM;
		wr.imm_data = htonl(immv);
		wr.wr.rdma.remote_addr = (uintptr_t)(R.buf + sh->roff);
		wr.wr.rdma.rkey = R.mr->rkey;
	} else {
		wr.opcode = IBV_WR_SEND;
	}
	if (!odpv_post_send(sq, &wr, what))
		return;
	if (!odpv_expect_wc(cq_req, what, wr.wr_id, imm ? IBV_WC_RDMA_WRITE : IBV_WC_SEND, -1,
			    NULL))
		return;
	if (!odpv_expect_wc(cq_resp, what, rwr.wr_id,
			    imm ? IBV_WC_RECV_RDMA_WITH_IMM : IBV_WC_RECV, sh->len, &wc))
		return;
	if (wc.qp_num != rq->qp_num)
		odpv_fail("%s: receive completion on QP 0x%x, expected 0x%x", what, wc.qp_num,
			  rq->qp_num);
	if (imm && (!(wc.wc_flags & IBV_WC_WITH_IMM) || ntohl(wc.imm_data) != immv))
		odpv_fail("%s: immediate: flags 0x%x data 0x%x, expected 0x%x", what, wc.wc_flags,
			  ntohl(wc.imm_data), immv);
	check_side(what, &R, &rl, seed, 0, sh->len, gr);
	check_side(what, &L, &ll, seed, 0, sh->len, gl);
	if (odpv_verbose)
		odpv_info("%s: ok (L %s, R %s)", what, L.prep, R.prep);
}

static bool check_word(const char *what, const char *which, const uint8_t *p, uint64_t want,
		       size_t off)
{
	uint64_t got;

	memcpy(&got, p, 8);
	odpv_checks++;
	if (got != want) {
		odpv_fail("%s: %s at offset %zu: expected 0x%016" PRIx64 " got 0x%016" PRIx64, what,
			  which, off, want, got);
		return false;
	}
	return true;
}

/* check all of S except 8 bytes at OFF against GUARD */
static void check_but_word(const char *what, struct side *s, size_t off, uint64_t guard)
{
	struct layout lo;

	one_piece(&lo, off, 8);
	/* the word itself is "beyond the data" of an empty message: skip it */
	check_side(what, s, &lo, 1, 8, 0, guard);
}

/*
 * One atomic group: FETCH_ADD, CAS that matches, CAS that does not, on the
 * 8-byte word at ROFF of R, each result landing at LOFF in L.
 */
static void op_atomic(size_t loff, size_t roff)
{
	struct ibv_sge sg;
	struct ibv_send_wr wr;
	uint64_t gl, gr, v0, add, swp;
	uint8_t *rw = R.buf + roff, *lw = L.buf + loff;
	char what[200];
	int step;

	gl = prepare(&L);
	gr = prepare(&R);
	v0 = odpv_rnd(&rng);
	add = odpv_rnd(&rng) | 1;
	swp = odpv_rnd(&rng);
	memcpy(rw, &v0, 8);
	for (step = 0; step < 3; step++) {
		static const char *const names[] = { "FETCH_ADD", "CAS (match)", "CAS (mismatch)" };
		uint64_t before = step == 0 ? v0 : step == 1 ? v0 + add : swp;
		uint64_t after = step == 0 ? v0 + add : swp;

		snprintf(what, sizeof(what), "iter %d op %d %s R@%zu result L@%zu", cur_iter,
			 op_index, names[step], roff, loff);
		memset(&wr, 0, sizeof(wr));
		sg.addr = (uintptr_t)lw;
		sg.length = 8;
		sg.lkey = L.mr->lkey;
		wr.wr_id = ++wr_seq;
		wr.sg_list = &sg;
		wr.num_sge = 1;
		wr.send_flags = IBV_SEND_SIGNALED;
		wr.wr.atomic.remote_addr = (uintptr_t)rw;
		wr.wr.atomic.rkey = R.mr->rkey;
		if (step == 0) {
			wr.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
			wr.wr.atomic.compare_add = add;
		} else {
			wr.opcode = IBV_WR_ATOMIC_CMP_AND_SWP;
			wr.wr.atomic.compare_add = step == 1 ? v0 + add : ~swp;
			wr.wr.atomic.swap = step == 1 ? swp : v0;
		}
		if (!odpv_post_send(rc_a, &wr, what))
			return;
		if (!odpv_expect_wc(cq_req, what, wr.wr_id,
				    step ? IBV_WC_COMP_SWAP : IBV_WC_FETCH_ADD, -1, NULL))
			return;
		check_word(what, "result in L", lw, before, loff);
		check_word(what, "word in R", rw, after, roff);
	}
	check_but_word(what, &L, loff, gl);
	check_but_word(what, &R, roff, gr);
	if (odpv_verbose)
		odpv_info("%s: ok", what);
}

/* UD SEND of LEN bytes from L (LSGE pieces) into R after the GRH. */
static void op_ud(size_t loff, size_t roff, size_t len, int lsge, int rsge)
{
	struct layout ll, rl;
	struct ibv_sge sg[MAX_PIECES], rsg[MAX_PIECES];
	struct ibv_send_wr wr;
	struct ibv_recv_wr rwr;
	struct ibv_wc wc;
	uint64_t gl, gr, seed;
	size_t extra = odpv_rnd_range(&rng, 0, 64);
	char what[200];

	gl = prepare(&L);
	gr = prepare(&R);
	seed = new_seed();
	make_layout(&ll, L.len, loff, len, lsge);
	make_layout(&rl, R.len, roff, GRH_LEN + len + extra, rsge);
	fill_layout(&L, &ll, seed);
	snprintf(what, sizeof(what), "iter %d op %d UD SEND len %zu L@%zu(%d sge) R@%zu(%d sge)",
		 cur_iter, op_index, len, ll.p[0].off, ll.n, rl.p[0].off, rl.n);
	memset(&rwr, 0, sizeof(rwr));
	rwr.wr_id = ++wr_seq;
	rwr.sg_list = rsg;
	rwr.num_sge = to_sges(&R, &rl, rsg);
	if (!odpv_post_recv(ud_b, &rwr, what))
		return;
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = ++wr_seq;
	wr.sg_list = sg;
	wr.num_sge = to_sges(&L, &ll, sg);
	wr.opcode = IBV_WR_SEND;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.ud.ah = ah;
	wr.wr.ud.remote_qpn = ud_b->qp_num;
	wr.wr.ud.remote_qkey = ODPV_QKEY;
	if (!odpv_post_send(ud_a, &wr, what))
		return;
	if (!odpv_expect_wc(cq_req, what, wr.wr_id, IBV_WC_SEND, -1, NULL))
		return;
	if (!odpv_expect_wc(cq_resp, what, rwr.wr_id, IBV_WC_RECV, GRH_LEN + len, &wc))
		return;
	if (wc.src_qp != ud_a->qp_num || !(wc.wc_flags & IBV_WC_GRH) || wc.qp_num != ud_b->qp_num)
		odpv_fail("%s: receive completion src_qp 0x%x (want 0x%x) qp 0x%x (want 0x%x) flags 0x%x (want GRH)",
			  what, wc.src_qp, ud_a->qp_num, wc.qp_num, ud_b->qp_num, wc.wc_flags);
	check_side(what, &R, &rl, seed, GRH_LEN, len, gr);
	check_side(what, &L, &ll, seed, 0, len, gl);
	if (odpv_verbose)
		odpv_info("%s: ok", what);
}

/* ---- iterations ------------------------------------------------------------ */

static int nshapes(struct shape *sh)
{
	size_t big = (1u << 20) + 333;
	size_t maxr;
	int n = 0;

	sh[n++] = (struct shape){ .loff = 4095, .roff = 1, .len = 1, .lsge = 1, .rsge = 1 };
	sh[n++] = (struct shape){ .loff = ODPV_PAGE - 17, .roff = 2 * ODPV_PAGE - 5, .len = 37,
				  .lsge = 2, .rsge = 2 };
	sh[n++] = (struct shape){ .loff = 4093, .roff = 3 * ODPV_PAGE - 1,
				  .len = 3 * ODPV_PAGE + 123, .lsge = 3, .rsge = 1 };
	if (big + 8 * ODPV_PAGE < opt.size)
		sh[n++] = (struct shape){ .loff = ODPV_PAGE + 7, .roff = 3 * ODPV_PAGE + 7,
					  .len = big, .lsge = 3, .rsge = 3 };
	maxr = opt.size / 4 < 300000 ? opt.size / 4 : 300000;
	sh[n].len = odpv_rnd_range(&rng, 1, maxr);
	sh[n].loff = odpv_rnd_range(&rng, 0, opt.size - sh[n].len - 6 * ODPV_PAGE);
	sh[n].roff = odpv_rnd_range(&rng, 0, opt.size - sh[n].len - 6 * ODPV_PAGE);
	sh[n].lsge = (int)odpv_rnd_range(&rng, 1, 3);
	sh[n].rsge = (int)odpv_rnd_range(&rng, 1, 3);
	n++;
	return n;
}

static void run_iteration(void)
{
	struct shape sh[8];
	int n = nshapes(sh), i;
	size_t mtu = dev.mtu_bytes, pages = opt.size / ODPV_PAGE;

	op_index = 0;
	for (i = 0; i < n; i++) {
		if (opt.tests & (1u << T_WRITE)) {
			op_rdma(&sh[i], false);
			op_index++;
		}
		if (opt.tests & (1u << T_READ)) {
			op_rdma(&sh[i], true);
			op_index++;
		}
		if (opt.tests & (1u << T_SEND)) {
			op_send(&sh[i], false, false);
			op_index++;
		}
		if (opt.tests & (1u << T_SRQ)) {
			op_send(&sh[i], true, false);
			op_index++;
		}
	}
	if (opt.tests & (1u << T_IMM)) {
		op_send(&sh[2], false, true);
		op_index++;
		op_send(&sh[n - 1], false, true);
		op_index++;
	}
	if (opt.tests & (1u << T_ATOMIC)) {
		/* aligned result; word in the middle of a page */
		op_atomic(8 * odpv_rnd_range(&rng, 0, opt.size / 8 - 1),
			  odpv_rnd_range(&rng, 1, pages - 1) * ODPV_PAGE +
			  8 * odpv_rnd_range(&rng, 1, ODPV_PAGE / 8 - 2));
		op_index++;
		/* result at an odd offset across a page boundary; last word of a page */
		op_atomic(odpv_rnd_range(&rng, 1, pages - 1) * ODPV_PAGE - 3,
			  odpv_rnd_range(&rng, 1, pages) * ODPV_PAGE - 8);
		op_index++;
	}
	if (opt.tests & (1u << T_UD)) {
		op_ud(ODPV_PAGE - 100, 2 * ODPV_PAGE - GRH_LEN - 7, mtu, 2, 2);
		op_index++;
		op_ud(odpv_rnd_range(&rng, 0, opt.size - 4 * ODPV_PAGE),
		      odpv_rnd_range(&rng, 0, opt.size - 4 * ODPV_PAGE),
		      odpv_rnd_range(&rng, 1, mtu), (int)odpv_rnd_range(&rng, 1, 3),
		      (int)odpv_rnd_range(&rng, 1, 3));
		op_index++;
	}
}

static const char *combo_name(bool lodp, bool rodp, bool implicit)
{
	if (implicit)
		return "implicit";
	return lodp ? (rodp ? "both" : "local") : (rodp ? "remote" : "pinned");
}

static void run_hook(const char *combo)
{
	char mrs[128], pid[32];
	int st;

	snprintf(mrs, sizeof(mrs), "L:0x%x:%s R:0x%x:%s", L.mr->lkey, L.odp ? "odp" : "pinned",
		 R.mr->lkey, R.odp ? "odp" : "pinned");
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("ODPV_PID", pid, 1);
	setenv("ODPV_COMBO", combo, 1);
	setenv("ODPV_MRS", mrs, 1);
	fflush(stdout);
	st = system(opt.at_end);
	odpv_checks++;
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st))
		odpv_fail("--at-end command failed (status 0x%x): %s", st, opt.at_end);
}

/*
 * One combination: L and R registered ODP or pinned each, or (IMPLICIT)
 * both reached through one implicit ODP MR of the whole address space.
 */
static void run_combo(bool lodp, bool rodp, bool implicit)
{
	const char *combo = combo_name(lodp, rodp, implicit);
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
		     IBV_ACCESS_REMOTE_ATOMIC;
	long long g0[MAX_GROW], g1[MAX_GROW];
	unsigned long f0;
	double t0;
	int it, k;

	snprintf(odpv_where, sizeof(odpv_where), "combo %s", combo);
	L.len = R.len = opt.size;
	L.buf = odpv_map(L.len);
	R.buf = odpv_map(R.len);
	L.odp = lodp;
	R.odp = rodp;
	if (implicit) {
		L.mr = R.mr = odpv_reg(&dev, NULL, SIZE_MAX, access, true,
				       "implicit (all of the address space)");
	} else {
		L.mr = odpv_reg(&dev, L.buf, L.len, access, lodp, "L");
		R.mr = odpv_reg(&dev, R.buf, R.len, access, rodp, "R");
	}
	for (it = 0; it < opt.iters; it++) {
		cur_iter = it;
		snprintf(odpv_where, sizeof(odpv_where), "combo %s", combo);
		for (k = 0; k < opt.ngrow; k++)
			g0[k] = odpv_hw_counter(opt.dev, opt.grow[k]);
		f0 = odpv_failures;
		t0 = odpv_now();
		run_iteration();
		odpv_info("iteration %d: %d operations, %s, %.1f s", it, op_index,
			  odpv_failures == f0 ? "ok" : "FAILED", odpv_now() - t0);
		for (k = 0; k < opt.ngrow && (lodp || rodp); k++) {
			g1[k] = odpv_hw_counter(opt.dev, opt.grow[k]);
			odpv_checks++;
			if (g0[k] < 0 || g1[k] < 0)
				odpv_fail("iteration %d: counter %s not found under /sys/class/infiniband/%s",
					  it, opt.grow[k], opt.dev);
			else if (g1[k] <= g0[k])
				odpv_fail("iteration %d: counter %s did not grow (%lld -> %lld)", it,
					  opt.grow[k], g0[k], g1[k]);
			else
				odpv_info("iteration %d: %s +%lld", it, opt.grow[k], g1[k] - g0[k]);
		}
	}
	if (opt.at_end)
		run_hook(combo);
	odpv_dereg(L.mr);
	if (!implicit)
		odpv_dereg(R.mr);
	odpv_unmap(L.buf, L.len);
	odpv_unmap(R.buf, R.len);
	odpv_where[0] = 0;
}

static unsigned int parse_tests(const char *s)
{
	char *dup = strdup(s), *tok, *save = NULL;
	unsigned int m = 0;
	int i;

	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < T_MAX && strcmp(tok, test_name[i]); i++)
			;
		if (i == T_MAX) {
			fprintf(stderr, "%s: unknown test '%s'\n", odpv_prog, tok);
			exit(ODPV_EXIT_SETUP);
		}
		m |= 1u << i;
	}
	free(dup);
	return m;
}

static void usage(int code)
{
	printf("usage: %s -g GID_INDEX [options]\n"
	       "  -d DEV          RDMA device (rxe0)\n"
	       "  -g N            GID index of our own address (loopback), required\n"
	       "  -n N            iterations per combination (3)\n"
	       "  -S SIZE         size of each buffer (2M; >= 1M + 40K for the 1 MiB shape)\n"
	       "  -s SEED         random seed (1)\n"
	       "  -t LIST         tests: write,read,send,srq,imm,atomic,ud (all)\n"
	       "  --odp WHICH     local|remote|both|implicit|all (all): which side(s) ON_DEMAND;\n"
	       "                  implicit: one implicit ODP MR (NULL, SIZE_MAX) for both sides\n"
	       "                  (all skips it if the device lacks IBV_ODP_SUPPORT_IMPLICIT)\n"
	       "  --pinned        no ON_DEMAND anywhere (one run), to validate the program\n"
	       "  --refault       drop the ODP buffers with MADV_DONTNEED before every operation%s\n"
	       "                  (--pinned --refault drops pinned ones: a control that must FAIL)\n"
	       "  --expect-grow C hw counter C must grow in each ODP iteration (repeatable)\n"
	       "  --at-end CMD    run CMD before deregistering, per combination\n"
	       "  --inject-error  flip a byte after the first WRITE (the run must FAIL)\n"
	       "  -v              print every operation\n"
	       "exit: 0 pass, 1 check failed, 2 setup error, 3 registration refused\n",
	       odpv_prog, ODPV_REFAULT_DEFAULT ? " (default here)" : "");
	exit(code);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "odp", required_argument, NULL, 'O' },
		{ "pinned", no_argument, NULL, 'P' },
		{ "refault", no_argument, NULL, 'R' },
		{ "expect-grow", required_argument, NULL, 'G' },
		{ "at-end", required_argument, NULL, 'E' },
		{ "inject-error", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	odpv_prog = ODPV_REFAULT_DEFAULT ? "odp-refault" : "odp-verify";
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "d:g:n:S:s:t:vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': opt.dev = optarg; break;
		case 'g': opt.gid_index = atoi(optarg); break;
		case 'n': opt.iters = atoi(optarg); break;
		case 'S': opt.size = odpv_parse_size(optarg, "-S"); break;
		case 's': opt.seed = strtoull(optarg, NULL, 0); break;
		case 't': opt.tests = parse_tests(optarg); break;
		case 'v': odpv_verbose = 1; break;
		case 'P': opt.pinned = true; break;
		case 'R': opt.refault = true; break;
		case 'E': opt.at_end = optarg; break;
		case 'I': opt.inject = true; break;
		case 'G':
			if (opt.ngrow == MAX_GROW)
				usage(ODPV_EXIT_SETUP);
			opt.grow[opt.ngrow++] = optarg;
			break;
		case 'O':
			opt.combos_given = true;
			if (!strcmp(optarg, "local"))
				opt.combos = 1;
			else if (!strcmp(optarg, "remote"))
				opt.combos = 2;
			else if (!strcmp(optarg, "both"))
				opt.combos = 4;
			else if (!strcmp(optarg, "implicit"))
				opt.combos = 8;
			else if (!strcmp(optarg, "all"))
				opt.combos = 15;
			else
				usage(ODPV_EXIT_SETUP);
			break;
		case 'h': usage(0); break;
		default: usage(ODPV_EXIT_SETUP);
		}
	}
	if (opt.gid_index < 0 || optind != argc || opt.iters < 1)
		usage(ODPV_EXIT_SETUP);
	opt.size = (opt.size + ODPV_PAGE - 1) & ~(ODPV_PAGE - 1);
	if (opt.size < 16 * ODPV_PAGE)
		usage(ODPV_EXIT_SETUP);
	rng = odpv_mix(opt.seed);

	odpv_open(&dev, opt.dev, opt.gid_index);
	odpv_print_odp_caps(&dev);
	printf("%s: buffers %zu bytes, %d iterations, seed %" PRIu64 "%s%s\n", odpv_prog,
	       opt.size, opt.iters, opt.seed, opt.refault ? ", refault before every operation" : "",
	       opt.pinned ? ", pinned MRs only" : "");
	cq_req = odpv_cq(&dev, 64);
	cq_resp = odpv_cq(&dev, 64);
	srq = odpv_srq(&dev, 16, 4);
	rc_a = odpv_qp(&dev, IBV_QPT_RC, cq_req, cq_resp, NULL, 16);
	rc_b = odpv_qp(&dev, IBV_QPT_RC, cq_req, cq_resp, NULL, 16);
	rc_c = odpv_qp(&dev, IBV_QPT_RC, cq_req, cq_resp, NULL, 16);
	rc_d = odpv_qp(&dev, IBV_QPT_RC, cq_req, cq_resp, srq, 16);
	odpv_rc_connect(&dev, rc_a, rc_b->qp_num);
	odpv_rc_connect(&dev, rc_b, rc_a->qp_num);
	odpv_rc_connect(&dev, rc_c, rc_d->qp_num);
	odpv_rc_connect(&dev, rc_d, rc_c->qp_num);
	ud_a = odpv_qp(&dev, IBV_QPT_UD, cq_req, cq_resp, NULL, 16);
	ud_b = odpv_qp(&dev, IBV_QPT_UD, cq_req, cq_resp, NULL, 16);
	odpv_ud_ready(&dev, ud_a);
	odpv_ud_ready(&dev, ud_b);
	ah = odpv_loop_ah(&dev);

	if (opt.pinned) {
		run_combo(false, false, false);
	} else {
		if (opt.combos & 1)
			run_combo(true, false, false);
		if (opt.combos & 2)
			run_combo(false, true, false);
		if (opt.combos & 4)
			run_combo(true, true, false);
		if ((opt.combos & 8) && !opt.combos_given &&
		    !(dev.attr.odp_caps.general_caps & IBV_ODP_SUPPORT_IMPLICIT))
			printf("%s: device has no IBV_ODP_SUPPORT_IMPLICIT: implicit combination skipped\n",
			       odpv_prog);
		else if (opt.combos & 8)
			run_combo(true, true, true);
	}

	if (ibv_destroy_ah(ah) || ibv_destroy_qp(ud_a) || ibv_destroy_qp(ud_b) ||
	    ibv_destroy_qp(rc_a) || ibv_destroy_qp(rc_b) || ibv_destroy_qp(rc_c) ||
	    ibv_destroy_qp(rc_d) || ibv_destroy_srq(srq) || ibv_destroy_cq(cq_req) ||
	    ibv_destroy_cq(cq_resp))
		odpv_fail("destroying the QPs/CQs/SRQ/AH failed: %s", strerror(errno));
	odpv_close(&dev);
	odpv_finish();
}
