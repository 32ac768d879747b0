// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * objstress: create and destroy verbs objects of every kind on one RDMA
 * device, in several forked worker processes, checking every result.
 *
 * Each worker opens the device and, per iteration, builds a random set of
 * objects and tears it down again in a random order:
 *  - PDs; CQs of 1..4096 entries, some on completion channels, resized up
 *    and down (also while flushed completions land in them);
 *  - an SRQ: caps checked, filled until ENOMEM, resized, limit set, queried;
 *  - RC/UC/UD QPs (some on the SRQ): caps written back >= requested, walked
 *    RESET->INIT->RTR->RTS with a loopback address vector (a GID of port 1,
 *    dest QPN = itself), queried after every step, RTS->RTS and SQD cycles
 *    (with the SQ_DRAINED event), receive queues filled, sends posted, then
 *    ERR: every WR must come back flushed, in order, with the completion
 *    event an armed CQ owes; ERR->RESET and reuse; RC QPs destroyed while
 *    retrying sends (RNR, or a peer that does not exist);
 *  - AHs (loopback and multicast), MRs of many sizes and access flags, MWs
 *    of type 1 and 2, multicast attachments (ff0e::1234:N and 239.1.x.y
 *    v4-mapped groups shared between workers; a group's attach limit);
 *  - bad inputs, each expecting a precise errno: CQ sizes, comp vectors,
 *    QP caps and types, invalid or incomplete state transitions, ports,
 *    P_Key indexes, MTUs, RD atomics, SRQ sizes and limits, destroying
 *    objects still in use (EBUSY), multicast on RC/UC or unicast GIDs, AHs
 *    on missing GIDs or ports, MR access flags, ODP on a device without it.
 * Pending async events are read after every iteration: only port/GID
 * changes, LAST_WQE_REACHED and the SQ_DRAINED events asked for may come.
 * A second context is opened and closed now and then.  MRs and MWs the
 * driver does not implement (EOPNOTSUPP; for MWs only if the device does
 * not advertise them) are reported and skipped.
 *
 * With --leak-on-exit a worker finishes by building a set of live objects
 * in many states (and a closed second context still mapped) and exits --
 * or is killed -- holding them, so that the kernel has to clean up.
 *
 * Output: "FAIL worker W iter I: <call>: <what>" for every failed check,
 * then per worker and total "created N destroyed N errors N".  Exit
 * status 0 only if every check in every worker passed.  Runs are
 * reproducible per seed (-s) as far as the driver's answers are.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_GIDS 16
#define MAX_WORKERS 64
#define FLUSH_TIMEOUT_MS 10000
#define EVENT_TIMEOUT_MS 5000
/* errno stand-in for "the call failed but left errno at 0" */
#define NO_ERRNO (-1)

enum kind { K_UCTX, K_PD, K_AH, K_CQ, K_SRQ, K_QP, K_MR, K_MW, K_MAX };
static const char *const kind_name[K_MAX] = {
	"ucontext", "pd", "ah", "cq", "srq", "qp", "mr", "mw",
};

/* Per-worker results, in memory shared with the parent. */
struct wstats {
	pid_t pid;
	long iters;
	unsigned long created[K_MAX];
	unsigned long destroyed[K_MAX];
	unsigned long errors;
	unsigned long checks;
	unsigned long bad_input_checks;
	unsigned long flushed;
	unsigned long mcast_attach;
	unsigned long qp_walks;
	unsigned long async_events;
	int mr_unsupported;
	int mw_unsupported[3]; /* by MW type (1, 2) */
	int holding;
	int finished;
};

static struct {
	const char *dev;
	int nproc;
	long iters;
	unsigned long seed;
	int max_seconds;
	int hold;
	int max_fail_print;
	bool no_mr;
	bool no_mw;
	bool leak;
	bool verbose;
} opt = {
	.dev = "rxe0",
	.nproc = 3,
	.iters = 200,
	.seed = 1,
	.max_fail_print = 40,
};

struct gident {
	int index;
	union ibv_gid gid;
	bool v4;
};

struct worker {
	int id;
	long iter;
	uint64_t rng;
	struct wstats *st;
	struct ibv_device *dev;
	struct ibv_context *ctx;
	struct ibv_device_attr da;
	struct ibv_port_attr pa;
	struct gident gid[MAX_GIDS];
	int ngid;
	int empty_gid_index; /* an index inside the table with no GID, or -1 */
	struct ibv_comp_channel *chan;
	bool mr_unsupported;
	bool mw_unsupported[3];
	bool odp; /* the device says it can do ODP memory regions on RC */
	bool srq_resize; /* the device says IBV_DEVICE_SRQ_RESIZE */
};

struct cqx {
	struct ibv_cq *cq;
	int req;
	struct ibv_comp_channel *ch;
	bool armed;
	int sol; /* armed for solicited (or unsuccessful) completions only */
	bool dirty; /* completions left behind by a failed check */
};

struct srqx {
	struct ibv_srq *srq;
	uint32_t req_wr, req_sge;
	uint32_t max_wr;
	uint32_t limit;
	int posted;
};

struct qpx {
	struct ibv_qp *qp;
	enum ibv_qp_type type;
	struct ibv_qp_cap req;
	struct ibv_qp_cap cap;
	struct cqx *scq, *rcq;
	struct srqx *srq;
	struct ibv_pd *pd;
	int sig_all;
	enum ibv_qp_state state;
	/* attributes set, for the query checks */
	unsigned int access;
	uint32_t qkey;
	enum ibv_mtu mtu;
	uint32_t rq_psn, sq_psn;
	uint32_t dest; /* dest_qp_num: the QP itself, or nobody */
	uint8_t timeout, retry, rnr_retry, min_rnr, max_rd, max_dest_rd;
	uint8_t tclass, hop;
	int gi; /* index into worker.gid[] of the AV's GID */
	int nmc;
	union ibv_gid mc[4];
};

/* ---- helpers ---------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rnd64(struct worker *W)
{
	/* xorshift64* */
	uint64_t x = W->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	W->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static unsigned int rnd(struct worker *W, unsigned int n)
{
	return n ? (unsigned int)(rnd64(W) % n) : 0;
}

static bool coin(struct worker *W)
{
	return rnd64(W) & 1;
}

static const char *errname(int err)
{
	const char *n;

	if (err == NO_ERRNO)
		return "no errno";
	n = strerrorname_np(err);
	return n ? n : "?";
}

/* errno after a call that returned NULL (0 if it did not set one) */
static int ptr_err(const void *p)
{
	if (p)
		return 0;
	return errno ? errno : NO_ERRNO;
}

/* libibverbs returns 0 or an errno value (a few paths -1 and errno) */
static int rc_err(int rc)
{
	if (rc == 0)
		return 0;
	if (rc > 0)
		return rc;
	return errno ? errno : -rc;
}

__attribute__((format(printf, 4, 5)))
static void failf(struct worker *W, const char *call, int err, const char *fmt, ...)
{
	char msg[512], e[96] = "";
	va_list ap;

	W->st->errors++;
	if (W->st->errors > (unsigned long)opt.max_fail_print) {
		if (W->st->errors == (unsigned long)opt.max_fail_print + 1)
			printf("FAIL worker %d: further failures not printed\n", W->id);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err)
		snprintf(e, sizeof(e), "%serrno %d %s (%s)", msg[0] ? ": " : "",
			 err, errname(err), err > 0 ? strerror(err) : "-");
	printf("FAIL worker %d iter %ld: %s: %s%s\n", W->id, W->iter, call, msg, e);
	fflush(stdout);
}

#define CHECK(W, cond, call, ...) do {					\
	(W)->st->checks++;						\
	if (!(cond))							\
		failf((W), (call), 0, __VA_ARGS__);			\
} while (0)

/*
 * A bad-input check: the call must have failed (@err != 0) with one of the
 * errnos in @want (0-terminated).  Returns true if it did.
 */
static bool expect_errs(struct worker *W, const char *call, int err, const int *want)
{
	char list[128] = "";
	size_t len = 0;
	int i;

	W->st->checks++;
	W->st->bad_input_checks++;
	for (i = 0; want[i]; i++) {
		if (err == want[i])
			return true;
		len += snprintf(list + len, sizeof(list) - len, "%s%s",
				i ? "|" : "", errname(want[i]));
		if (len >= sizeof(list))
			break;
	}
	if (!err)
		failf(W, call, 0, "succeeded, expected %s", list);
	else
		failf(W, call, err, "expected %s, got", list);
	return false;
}
#define EXPECT_ERR(W, call, err, ...) \
	expect_errs((W), (call), (err), (const int[]){ __VA_ARGS__, 0 })

static void created(struct worker *W, enum kind k)
{
	W->st->created[k]++;
}

static void destroyed(struct worker *W, enum kind k)
{
	W->st->destroyed[k]++;
}

__attribute__((format(printf, 2, 3)))
static void vlog(struct worker *W, const char *fmt, ...)
{
	va_list ap;

	if (!opt.verbose)
		return;
	printf("worker %d iter %ld: ", W->id, W->iter);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static const char *qps_name(enum ibv_qp_state s)
{
	static const char *const n[] = {
		"RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR", "UNKNOWN",
	};

	return (unsigned int)s < ARRAY_SIZE(n) ? n[s] : "?";
}

static const char *qpt_name(enum ibv_qp_type t)
{
	switch (t) {
	case IBV_QPT_RC: return "RC";
	case IBV_QPT_UC: return "UC";
	case IBV_QPT_UD: return "UD";
	default: return "?";
	}
}

static void mgid_v6(union ibv_gid *g, unsigned int n)
{
	memset(g, 0, sizeof(*g));
	g->raw[0] = 0xff;
	g->raw[1] = 0x0e;
	g->raw[12] = 0x12;
	g->raw[13] = 0x34;
	g->raw[14] = (n >> 8) & 0xff;
	g->raw[15] = n & 0xff;
}

static void mgid_v4(union ibv_gid *g, unsigned int a, unsigned int b)
{
	memset(g, 0, sizeof(*g));
	g->raw[10] = 0xff;
	g->raw[11] = 0xff;
	g->raw[12] = 239;
	g->raw[13] = 1;
	g->raw[14] = a & 0xff;
	g->raw[15] = b & 0xff;
}

static bool gid_is_v4mapped(const union ibv_gid *g)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(g->raw, pfx, sizeof(pfx));
}

static void gid_str(const union ibv_gid *g, char *buf, size_t len)
{
	if (!inet_ntop(AF_INET6, g->raw, buf, len))
		snprintf(buf, len, "?");
}

/* ---- PD ----------------------------------------------------------------- */

static struct ibv_pd *pd_alloc(struct worker *W)
{
	struct ibv_pd *pd;

	errno = 0;
	pd = ibv_alloc_pd(W->ctx);
	if (!pd) {
		failf(W, "ibv_alloc_pd", ptr_err(pd), "%s", "");
		return NULL;
	}
	created(W, K_PD);
	CHECK(W, pd->context == W->ctx, "ibv_alloc_pd", "pd->context is not the context");
	return pd;
}

static void pd_free(struct worker *W, struct ibv_pd *pd)
{
	int err;

	if (!pd)
		return;
	err = rc_err(ibv_dealloc_pd(pd));
	if (err)
		failf(W, "ibv_dealloc_pd", err, "%s", "");
	else
		destroyed(W, K_PD);
}

/* ---- CQ ----------------------------------------------------------------- */

static void cq_check_empty(struct worker *W, struct cqx *c, const char *what)
{
	struct ibv_wc wc[4];
	int n = ibv_poll_cq(c->cq, 4, wc);

	CHECK(W, n == 0, "ibv_poll_cq", "%s: returned %d on a CQ with no work (cqe %d)",
	      what, n, c->cq->cqe);
}

static bool cq_create(struct worker *W, struct cqx *c, int cqe,
		      struct ibv_comp_channel *ch, int vec)
{
	char call[96];

	memset(c, 0, sizeof(*c));
	snprintf(call, sizeof(call), "ibv_create_cq(cqe=%d, channel=%s, vector=%d)",
		 cqe, ch ? "yes" : "no", vec);
	errno = 0;
	c->cq = ibv_create_cq(W->ctx, cqe, NULL, ch, vec);
	if (!c->cq) {
		failf(W, call, ptr_err(c->cq), "%s", "");
		return false;
	}
	created(W, K_CQ);
	c->req = cqe;
	c->ch = ch;
	CHECK(W, c->cq->cqe >= cqe, call, "cq->cqe %d < requested %d", c->cq->cqe, cqe);
	CHECK(W, c->cq->channel == ch, call, "cq->channel not the channel given");
	cq_check_empty(W, c, "new CQ");
	return true;
}

static bool cq_resize_ex(struct worker *W, struct cqx *c, int cqe, bool empty)
{
	char call[64];
	int err;

	snprintf(call, sizeof(call), "ibv_resize_cq(%d -> %d)", c->cq->cqe, cqe);
	err = rc_err(ibv_resize_cq(c->cq, cqe));
	if (err) {
		failf(W, call, err, "%s", "");
		return false;
	}
	c->req = cqe;
	CHECK(W, c->cq->cqe >= cqe, call, "cq->cqe %d < requested %d", c->cq->cqe, cqe);
	if (empty)
		cq_check_empty(W, c, "resized CQ");
	return true;
}

static void cq_resize(struct worker *W, struct cqx *c, int cqe)
{
	cq_resize_ex(W, c, cqe, true);
}

static void cq_destroy(struct worker *W, struct cqx *c)
{
	int err;

	if (!c->cq)
		return;
	err = rc_err(ibv_destroy_cq(c->cq));
	if (err) {
		failf(W, "ibv_destroy_cq", err, "%s", "");
		return;
	}
	destroyed(W, K_CQ);
	c->cq = NULL;
}

static struct ibv_comp_channel *chan_create(struct worker *W)
{
	struct ibv_comp_channel *ch;

	errno = 0;
	ch = ibv_create_comp_channel(W->ctx);
	if (!ch)
		failf(W, "ibv_create_comp_channel", ptr_err(ch), "%s", "");
	return ch;
}

static void chan_destroy(struct worker *W, struct ibv_comp_channel *ch)
{
	int err;

	if (!ch)
		return;
	err = rc_err(ibv_destroy_comp_channel(ch));
	if (err)
		failf(W, "ibv_destroy_comp_channel", err, "%s", "");
}

/* ---- SRQ ---------------------------------------------------------------- */

static bool srq_query_check(struct worker *W, struct srqx *s, const char *when)
{
	struct ibv_srq_attr a;
	char call[64];
	int err;

	snprintf(call, sizeof(call), "ibv_query_srq(%s)", when);
	memset(&a, 0xa5, sizeof(a));
	err = rc_err(ibv_query_srq(s->srq, &a));
	if (err) {
		failf(W, call, err, "%s", "");
		return false;
	}
	CHECK(W, a.max_wr >= s->req_wr, call, "max_wr %u < requested %u", a.max_wr, s->req_wr);
	CHECK(W, a.max_sge >= s->req_sge, call, "max_sge %u < requested %u", a.max_sge, s->req_sge);
	CHECK(W, a.srq_limit == s->limit, call, "srq_limit %u, expected %u", a.srq_limit, s->limit);
	if (a.max_wr >= s->req_wr)
		s->max_wr = a.max_wr;
	return true;
}

static bool srq_create(struct worker *W, struct srqx *s, struct ibv_pd *pd,
		       uint32_t max_wr, uint32_t max_sge)
{
	struct ibv_srq_init_attr ia = { .attr = { .max_wr = max_wr, .max_sge = max_sge } };
	char call[80];

	memset(s, 0, sizeof(*s));
	snprintf(call, sizeof(call), "ibv_create_srq(max_wr=%u, max_sge=%u)", max_wr, max_sge);
	errno = 0;
	s->srq = ibv_create_srq(pd, &ia);
	if (!s->srq) {
		failf(W, call, ptr_err(s->srq), "%s", "");
		return false;
	}
	created(W, K_SRQ);
	s->req_wr = max_wr;
	s->req_sge = max_sge;
	CHECK(W, ia.attr.max_wr >= max_wr, call, "max_wr written back %u < %u", ia.attr.max_wr, max_wr);
	CHECK(W, ia.attr.max_sge >= max_sge, call, "max_sge written back %u < %u", ia.attr.max_sge, max_sge);
	s->max_wr = ia.attr.max_wr;
	srq_query_check(W, s, "new");
	return true;
}

static void srq_destroy(struct worker *W, struct srqx *s)
{
	int err;

	if (!s->srq)
		return;
	err = rc_err(ibv_destroy_srq(s->srq));
	if (err) {
		failf(W, "ibv_destroy_srq", err, "%s", "");
		return;
	}
	destroyed(W, K_SRQ);
	s->srq = NULL;
}

/* Post @n receive WRs with no SGE. */
static int post_srq(struct worker *W, struct srqx *s, int n)
{
	struct ibv_recv_wr wr[16], *bad = NULL;
	int i, err;

	if (n > (int)ARRAY_SIZE(wr))
		n = ARRAY_SIZE(wr);
	if (n > (int)s->max_wr - s->posted)
		n = (int)s->max_wr - s->posted;
	if (n <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		memset(&wr[i], 0, sizeof(wr[i]));
		wr[i].wr_id = 0x5000 + i;
		wr[i].next = i + 1 < n ? &wr[i + 1] : NULL;
	}
	err = rc_err(ibv_post_srq_recv(s->srq, wr, &bad));
	if (err) {
		failf(W, "ibv_post_srq_recv", err, "%d WRs, max_wr %u, %d posted before",
		      n, s->max_wr, s->posted);
		return 0;
	}
	s->posted += n;
	return n;
}

static void srq_modify(struct worker *W, struct srqx *s, uint32_t max_wr, uint32_t limit,
		       int mask, const char *what)
{
	struct ibv_srq_attr a = { .max_wr = max_wr, .srq_limit = limit };
	char call[96];
	int err;

	snprintf(call, sizeof(call), "ibv_modify_srq(%s: max_wr=%u limit=%u)", what, max_wr, limit);
	err = rc_err(ibv_modify_srq(s->srq, &a, mask));
	if (err) {
		failf(W, call, err, "%s", "");
		return;
	}
	if (mask & IBV_SRQ_MAX_WR)
		s->req_wr = max_wr;
	if (mask & IBV_SRQ_LIMIT)
		s->limit = limit;
	srq_query_check(W, s, what);
}

/* Resize up and down, set the limit, try a limit above max_wr. */
static void srq_exercise(struct worker *W, struct srqx *s)
{
	struct ibv_srq_attr a;
	uint32_t n, lim;
	int err;

	if (coin(W))
		post_srq(W, s, 1 + rnd(W, s->max_wr < 8 ? s->max_wr : 8));
	if (W->srq_resize && coin(W)) {
		n = s->max_wr * 2 + rnd(W, 100);
		if (n > (uint32_t)W->da.max_srq_wr)
			n = W->da.max_srq_wr;
		srq_modify(W, s, n, 0, IBV_SRQ_MAX_WR, "grow");
	}
	lim = 1 + rnd(W, s->max_wr);
	srq_modify(W, s, 0, lim, IBV_SRQ_LIMIT, "limit");

	/* a limit above max_wr is invalid and leaves the limit alone */
	a.max_wr = 0;
	a.srq_limit = s->max_wr + 1 + rnd(W, 1000);
	err = rc_err(ibv_modify_srq(s->srq, &a, IBV_SRQ_LIMIT));
	if (EXPECT_ERR(W, "ibv_modify_srq(IBV_SRQ_LIMIT > max_wr)", err, EINVAL))
		srq_query_check(W, s, "after refused limit");
	else if (!err)
		s->limit = a.srq_limit;

	if (!rnd(W, 4) && s->max_wr <= 4096) {
		/* fill it: it must take max_wr WRs, then say ENOMEM */
		struct ibv_recv_wr wr[16], *bad;
		int i, total = s->posted;

		for (i = 0; i < (int)ARRAY_SIZE(wr); i++) {
			memset(&wr[i], 0, sizeof(wr[i]));
			wr[i].wr_id = 0x6000 + i;
			wr[i].next = i + 1 < (int)ARRAY_SIZE(wr) ? &wr[i + 1] : NULL;
		}
		for (;;) {
			bad = NULL;
			err = rc_err(ibv_post_srq_recv(s->srq, wr, &bad));
			if (err) {
				total += bad ? (int)(bad - wr) : 0;
				break;
			}
			total += ARRAY_SIZE(wr);
			if (total > (int)s->max_wr + 4096) /* runaway: stop */
				break;
		}
		if (EXPECT_ERR(W, "ibv_post_srq_recv(SRQ full)", err, ENOMEM))
			CHECK(W, total >= (int)s->max_wr, "ibv_post_srq_recv",
			      "SRQ full after %d WRs, max_wr %u (%d posted before)", total,
			      s->max_wr, s->posted);
		s->posted = total;
	}
	if (W->srq_resize && coin(W)) {
		n = s->max_wr / 2;
		if (n < s->limit)
			n = s->limit;
		if (n < (uint32_t)s->posted)
			n = s->posted;
		if (n < 1)
			n = 1;
		srq_modify(W, s, n, 0, IBV_SRQ_MAX_WR, "shrink");
	}
}

/* ---- QP ----------------------------------------------------------------- */

static bool qp_create(struct worker *W, struct qpx *q, struct ibv_pd *pd,
		      enum ibv_qp_type type, struct cqx *scq, struct cqx *rcq,
		      struct srqx *srq, const struct ibv_qp_cap *cap)
{
	struct ibv_qp_init_attr ia;
	char call[160];

	memset(q, 0, sizeof(*q));
	memset(&ia, 0, sizeof(ia));
	ia.qp_type = type;
	ia.send_cq = scq->cq;
	ia.recv_cq = rcq->cq;
	ia.srq = srq ? srq->srq : NULL;
	ia.cap = *cap;
	ia.sq_sig_all = coin(W);
	snprintf(call, sizeof(call),
		 "ibv_create_qp(%s%s, send wr %u sge %u, recv wr %u sge %u, inline %u)",
		 qpt_name(type), srq ? " with SRQ" : "", cap->max_send_wr, cap->max_send_sge,
		 cap->max_recv_wr, cap->max_recv_sge, cap->max_inline_data);
	errno = 0;
	q->qp = ibv_create_qp(pd, &ia);
	if (!q->qp) {
		failf(W, call, ptr_err(q->qp), "%s", "");
		return false;
	}
	created(W, K_QP);
	q->type = type;
	q->req = *cap;
	q->cap = ia.cap;
	q->scq = scq;
	q->rcq = rcq;
	q->srq = srq;
	q->pd = pd;
	q->sig_all = ia.sq_sig_all;
	q->state = IBV_QPS_RESET;
	CHECK(W, q->qp->qp_type == type, call, "qp_type %d", q->qp->qp_type);
	CHECK(W, q->qp->qp_num > 1, call, "qp_num %u (0 and 1 are reserved)", q->qp->qp_num);
	CHECK(W, q->qp->state == IBV_QPS_RESET, call, "state %s", qps_name(q->qp->state));
	CHECK(W, ia.cap.max_send_wr >= cap->max_send_wr, call,
	      "max_send_wr written back %u", ia.cap.max_send_wr);
	CHECK(W, ia.cap.max_send_sge >= cap->max_send_sge, call,
	      "max_send_sge written back %u", ia.cap.max_send_sge);
	CHECK(W, ia.cap.max_inline_data >= cap->max_inline_data, call,
	      "max_inline_data written back %u", ia.cap.max_inline_data);
	if (!srq) {
		CHECK(W, ia.cap.max_recv_wr >= cap->max_recv_wr, call,
		      "max_recv_wr written back %u", ia.cap.max_recv_wr);
		CHECK(W, ia.cap.max_recv_sge >= cap->max_recv_sge, call,
		      "max_recv_sge written back %u", ia.cap.max_recv_sge);
	}
	return true;
}

static void qp_destroy(struct worker *W, struct qpx *q)
{
	char call[64];
	int err;

	if (!q->qp)
		return;
	snprintf(call, sizeof(call), "ibv_destroy_qp(%s in %s, %d mcast)",
		 qpt_name(q->type), qps_name(q->state), q->nmc);
	err = rc_err(ibv_destroy_qp(q->qp));
	if (err) {
		failf(W, call, err, "%s", "");
		return;
	}
	destroyed(W, K_QP);
	q->qp = NULL;
}

static void random_caps(struct worker *W, struct ibv_qp_cap *cap, bool srq)
{
	static const uint32_t wrs[] = { 1, 2, 3, 16, 63, 100, 256, 1000 };
	static const uint32_t inl[] = { 0, 0, 1, 32, 64, 128, 200 };
	uint32_t maxsge = W->da.max_sge;

	memset(cap, 0, sizeof(*cap));
	cap->max_send_wr = wrs[rnd(W, ARRAY_SIZE(wrs))];
	cap->max_send_sge = 1 + rnd(W, maxsge);
	cap->max_inline_data = inl[rnd(W, ARRAY_SIZE(inl))];
	if (!srq) {
		cap->max_recv_wr = wrs[rnd(W, ARRAY_SIZE(wrs))];
		cap->max_recv_sge = 1 + rnd(W, maxsge);
	}
}

/* Query the QP and compare with what was set for its current state. */
static void qp_check(struct worker *W, struct qpx *q, const char *when)
{
	struct ibv_qp_attr a;
	struct ibv_qp_init_attr ia;
	const struct gident *g;
	char call[96];
	int err, mask;

	snprintf(call, sizeof(call), "ibv_query_qp(%s %s, %s)", qpt_name(q->type),
		 qps_name(q->state), when);
	mask = IBV_QP_STATE | IBV_QP_CAP | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
	       IBV_QP_ACCESS_FLAGS | IBV_QP_QKEY | IBV_QP_AV | IBV_QP_PATH_MTU |
	       IBV_QP_DEST_QPN | IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
	       IBV_QP_MIN_RNR_TIMER | IBV_QP_SQ_PSN | IBV_QP_TIMEOUT |
	       IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC;
	memset(&a, 0, sizeof(a));
	memset(&ia, 0, sizeof(ia));
	err = rc_err(ibv_query_qp(q->qp, &a, mask, &ia));
	if (err) {
		failf(W, call, err, "%s", "");
		return;
	}
	CHECK(W, a.qp_state == q->state, call, "qp_state %s", qps_name(a.qp_state));
	CHECK(W, ia.cap.max_send_wr >= q->req.max_send_wr, call, "cap.max_send_wr %u < %u",
	      ia.cap.max_send_wr, q->req.max_send_wr);
	CHECK(W, ia.cap.max_send_sge >= q->req.max_send_sge, call, "cap.max_send_sge %u < %u",
	      ia.cap.max_send_sge, q->req.max_send_sge);
	CHECK(W, ia.cap.max_inline_data >= q->req.max_inline_data, call,
	      "cap.max_inline_data %u < %u", ia.cap.max_inline_data, q->req.max_inline_data);
	if (!q->srq) {
		CHECK(W, ia.cap.max_recv_wr >= q->req.max_recv_wr, call, "cap.max_recv_wr %u < %u",
		      ia.cap.max_recv_wr, q->req.max_recv_wr);
		CHECK(W, ia.cap.max_recv_sge >= q->req.max_recv_sge, call,
		      "cap.max_recv_sge %u < %u", ia.cap.max_recv_sge, q->req.max_recv_sge);
	}
	CHECK(W, ia.sq_sig_all == q->sig_all, call, "sq_sig_all %d, created with %d",
	      ia.sq_sig_all, q->sig_all);
	if (q->state != IBV_QPS_INIT && q->state != IBV_QPS_RTR && q->state != IBV_QPS_RTS &&
	    q->state != IBV_QPS_SQD)
		return;

	CHECK(W, a.port_num == 1, call, "port_num %u", a.port_num);
	CHECK(W, a.pkey_index == 0, call, "pkey_index %u", a.pkey_index);
	if (q->type == IBV_QPT_UD)
		CHECK(W, a.qkey == q->qkey, call, "qkey %#x, set %#x", a.qkey, q->qkey);
	else
		CHECK(W, a.qp_access_flags == q->access, call, "qp_access_flags %#x, set %#x",
		      a.qp_access_flags, q->access);
	if (q->state == IBV_QPS_INIT || q->type == IBV_QPT_UD)
		goto rts;

	g = &W->gid[q->gi];
	CHECK(W, a.path_mtu == q->mtu, call, "path_mtu %d, set %d", a.path_mtu, q->mtu);
	CHECK(W, a.dest_qp_num == q->dest, call, "dest_qp_num %u, set %u",
	      a.dest_qp_num, q->dest);
	CHECK(W, a.rq_psn == q->rq_psn, call, "rq_psn %#x, set %#x", a.rq_psn, q->rq_psn);
	CHECK(W, a.ah_attr.is_global == 1, call, "ah_attr.is_global %u", a.ah_attr.is_global);
	CHECK(W, a.ah_attr.port_num == 1, call, "ah_attr.port_num %u", a.ah_attr.port_num);
	CHECK(W, !memcmp(&a.ah_attr.grh.dgid, &g->gid, sizeof(g->gid)), call,
	      "ah_attr.grh.dgid differs from the one set");
	CHECK(W, a.ah_attr.grh.sgid_index == g->index, call, "grh.sgid_index %u, set %d",
	      a.ah_attr.grh.sgid_index, g->index);
	/* the IB core puts the route's hop limit in a RoCE AV: not compared */
	CHECK(W, a.ah_attr.grh.hop_limit != 0, call, "grh.hop_limit 0");
	CHECK(W, a.ah_attr.grh.traffic_class == q->tclass, call, "grh.traffic_class %u, set %u",
	      a.ah_attr.grh.traffic_class, q->tclass);
	if (q->type == IBV_QPT_RC) {
		CHECK(W, a.max_dest_rd_atomic >= q->max_dest_rd, call,
		      "max_dest_rd_atomic %u < set %u", a.max_dest_rd_atomic, q->max_dest_rd);
		CHECK(W, a.min_rnr_timer == q->min_rnr, call, "min_rnr_timer %u, set %u",
		      a.min_rnr_timer, q->min_rnr);
	}
rts:
	if (q->state != IBV_QPS_RTS && q->state != IBV_QPS_SQD)
		return;
	CHECK(W, a.sq_psn == q->sq_psn, call, "sq_psn %#x, set %#x", a.sq_psn, q->sq_psn);
	if (q->type == IBV_QPT_RC) {
		CHECK(W, a.timeout == q->timeout, call, "timeout %u, set %u", a.timeout, q->timeout);
		CHECK(W, a.retry_cnt == q->retry, call, "retry_cnt %u, set %u", a.retry_cnt, q->retry);
		CHECK(W, a.rnr_retry == q->rnr_retry, call, "rnr_retry %u, set %u",
		      a.rnr_retry, q->rnr_retry);
		CHECK(W, a.max_rd_atomic >= q->max_rd, call, "max_rd_atomic %u < set %u",
		      a.max_rd_atomic, q->max_rd);
	}
}

static bool qp_modify(struct worker *W, struct qpx *q, struct ibv_qp_attr *a, int mask,
		      const char *what)
{
	char call[96];
	int err;

	snprintf(call, sizeof(call), "ibv_modify_qp(%s %s->%s%s%s)", qpt_name(q->type),
		 qps_name(q->state), qps_name(a->qp_state), what[0] ? ", " : "", what);
	vlog(W, "%s", call);
	err = rc_err(ibv_modify_qp(q->qp, a, mask));
	if (err) {
		failf(W, call, err, "%s", "");
		return false;
	}
	q->state = a->qp_state;
	CHECK(W, q->qp->state == a->qp_state, call, "qp->state %s after the call",
	      qps_name(q->qp->state));
	qp_check(W, q, "after modify");
	return true;
}

static void init_attr_for(struct worker *W, struct qpx *q, struct ibv_qp_attr *a, int *mask)
{
	static const unsigned int rc_access[] = {
		0, IBV_ACCESS_REMOTE_WRITE, IBV_ACCESS_REMOTE_READ,
		IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ,
		IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC,
		IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
	};

	memset(a, 0, sizeof(*a));
	a->qp_state = IBV_QPS_INIT;
	a->pkey_index = 0;
	a->port_num = 1;
	*mask = IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT;
	if (q->type == IBV_QPT_UD) {
		q->qkey = (uint32_t)rnd64(W) & 0x7fffffff;
		a->qkey = q->qkey;
		*mask |= IBV_QP_QKEY;
	} else {
		if (q->type == IBV_QPT_RC)
			q->access = rc_access[rnd(W, ARRAY_SIZE(rc_access))];
		else
			q->access = coin(W) ? IBV_ACCESS_REMOTE_WRITE : 0;
		a->qp_access_flags = q->access;
		*mask |= IBV_QP_ACCESS_FLAGS;
	}
}

static void rtr_attr_for(struct worker *W, struct qpx *q, struct ibv_qp_attr *a, int *mask)
{
	const struct gident *g;
	enum ibv_mtu maxmtu = W->pa.active_mtu;

	memset(a, 0, sizeof(*a));
	a->qp_state = IBV_QPS_RTR;
	*mask = IBV_QP_STATE;
	if (q->type == IBV_QPT_UD)
		return;
	q->gi = rnd(W, W->ngid);
	g = &W->gid[q->gi];
	if (maxmtu < IBV_MTU_256 || maxmtu > IBV_MTU_4096)
		maxmtu = IBV_MTU_1024;
	q->mtu = IBV_MTU_256 + rnd(W, maxmtu - IBV_MTU_256 + 1);
	q->rq_psn = rnd64(W) & 0xffffff;
	q->hop = 1 + rnd(W, 255);
	q->tclass = rnd(W, 256) & 0xfc;
	a->path_mtu = q->mtu;
	q->dest = q->qp->qp_num;
	a->dest_qp_num = q->dest;
	a->rq_psn = q->rq_psn;
	a->ah_attr.is_global = 1;
	a->ah_attr.port_num = 1;
	a->ah_attr.sl = 0;
	a->ah_attr.grh.dgid = g->gid;
	a->ah_attr.grh.sgid_index = g->index;
	a->ah_attr.grh.hop_limit = q->hop;
	a->ah_attr.grh.traffic_class = q->tclass;
	*mask |= IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN;
	if (q->type == IBV_QPT_RC) {
		q->max_dest_rd = rnd(W, 17);
		q->min_rnr = rnd(W, 32);
		a->max_dest_rd_atomic = q->max_dest_rd;
		a->min_rnr_timer = q->min_rnr;
		*mask |= IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER;
	}
}

static void rts_attr_for(struct worker *W, struct qpx *q, struct ibv_qp_attr *a, int *mask)
{
	memset(a, 0, sizeof(*a));
	a->qp_state = IBV_QPS_RTS;
	q->sq_psn = rnd64(W) & 0xffffff;
	a->sq_psn = q->sq_psn;
	*mask = IBV_QP_STATE | IBV_QP_SQ_PSN;
	if (q->type == IBV_QPT_RC) {
		q->timeout = rnd(W, 32);
		q->retry = rnd(W, 8);
		q->rnr_retry = rnd(W, 8);
		q->max_rd = rnd(W, 17);
		a->timeout = q->timeout;
		a->retry_cnt = q->retry;
		a->rnr_retry = q->rnr_retry;
		a->max_rd_atomic = q->max_rd;
		*mask |= IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			 IBV_QP_MAX_QP_RD_ATOMIC;
	}
}

/* Walk up from the current state (RESET, INIT or RTR) to @target. */
static bool qp_walk(struct worker *W, struct qpx *q, enum ibv_qp_state target)
{
	struct ibv_qp_attr a;
	int mask;

	if (q->state == IBV_QPS_RESET && target != IBV_QPS_RESET) {
		W->st->qp_walks++;
		init_attr_for(W, q, &a, &mask);
		if (!qp_modify(W, q, &a, mask, ""))
			return false;
	}
	if (q->state == IBV_QPS_INIT && (target == IBV_QPS_RTR || target == IBV_QPS_RTS)) {
		rtr_attr_for(W, q, &a, &mask);
		if (!qp_modify(W, q, &a, mask, ""))
			return false;
	}
	if (q->state == IBV_QPS_RTR && target == IBV_QPS_RTS) {
		rts_attr_for(W, q, &a, &mask);
		if (!qp_modify(W, q, &a, mask, ""))
			return false;
	}
	return q->state == target;
}

/* RTS->RTS with an optional attribute: the change must show in a query. */
static void qp_rts_tweak(struct worker *W, struct qpx *q)
{
	struct ibv_qp_attr a;

	if (q->state != IBV_QPS_RTS)
		return;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	if (q->type == IBV_QPT_RC) {
		uint8_t old = q->min_rnr;

		q->min_rnr = (q->min_rnr + 1 + rnd(W, 30)) % 32;
		a.min_rnr_timer = q->min_rnr;
		if (!qp_modify(W, q, &a, IBV_QP_STATE | IBV_QP_MIN_RNR_TIMER, "min_rnr_timer"))
			q->min_rnr = old;
	} else if (q->type == IBV_QPT_UD) {
		uint32_t old = q->qkey;

		q->qkey = (uint32_t)rnd64(W) & 0x7fffffff;
		a.qkey = q->qkey;
		if (!qp_modify(W, q, &a, IBV_QP_STATE | IBV_QP_QKEY, "qkey"))
			q->qkey = old;
	} else {
		unsigned int old = q->access;

		q->access ^= IBV_ACCESS_REMOTE_WRITE;
		a.qp_access_flags = q->access;
		if (!qp_modify(W, q, &a, IBV_QP_STATE | IBV_QP_ACCESS_FLAGS, "access"))
			q->access = old;
	}
}

static bool qp_to(struct worker *W, struct qpx *q, enum ibv_qp_state s)
{
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	a.qp_state = s;
	return qp_modify(W, q, &a, IBV_QP_STATE, "");
}

static const char *ev_name(enum ibv_event_type t)
{
	return ibv_event_type_str(t);
}

/*
 * Read and acknowledge every pending async event, waiting up to
 * @timeout_ms for one of type @want on QP @qp (if @qp).  Events nothing
 * here can cause are failures; port/GID changes and LAST_WQE_REACHED
 * (an SRQ QP entering ERR) are allowed.  Returns true if the wanted event
 * came.
 */
static bool drain_async(struct worker *W, struct ibv_qp *qp, enum ibv_event_type want,
			int timeout_ms)
{
	struct ibv_async_event ev;
	double deadline = now() + timeout_ms / 1000.0;
	bool found = false;

	for (;;) {
		if (ibv_get_async_event(W->ctx, &ev)) {
			struct pollfd pfd = { .fd = W->ctx->async_fd, .events = POLLIN };
			int left = (int)((deadline - now()) * 1000);

			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				failf(W, "ibv_get_async_event", errno, "%s", "");
				return found;
			}
			if (found || !qp || left <= 0 || poll(&pfd, 1, left) <= 0)
				return found;
			continue;
		}
		W->st->async_events++;
		switch (ev.event_type) {
		case IBV_EVENT_PORT_ACTIVE:
		case IBV_EVENT_PORT_ERR:
		case IBV_EVENT_LID_CHANGE:
		case IBV_EVENT_PKEY_CHANGE:
		case IBV_EVENT_GID_CHANGE:
		case IBV_EVENT_SM_CHANGE:
		case IBV_EVENT_CLIENT_REREGISTER:
		case IBV_EVENT_QP_LAST_WQE_REACHED:
			break;
		default:
			if (qp && ev.event_type == want && ev.element.qp == qp) {
				found = true;
				break;
			}
			failf(W, "ibv_get_async_event", 0, "unexpected event %s%s",
			      ev_name(ev.event_type),
			      qp && ev.element.qp == qp ? " for the QP being watched" : "");
			break;
		}
		ibv_ack_async_event(&ev);
	}
}

/*
 * RTS -> SQD (with or without the drained notification), query, then back
 * to RTS.  Nothing is in flight, so with notification the SQ_DRAINED event
 * must come.
 */
static void qp_sqd_cycle(struct worker *W, struct qpx *q)
{
	struct ibv_qp_attr a;
	bool notify = coin(W);

	if (q->state != IBV_QPS_RTS)
		return;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_SQD;
	a.en_sqd_async_notify = notify;
	if (!qp_modify(W, q, &a, IBV_QP_STATE | (notify ? IBV_QP_EN_SQD_ASYNC_NOTIFY : 0),
		       notify ? "notify" : ""))
		return;
	if (notify && !drain_async(W, q->qp, IBV_EVENT_SQ_DRAINED, EVENT_TIMEOUT_MS))
		failf(W, "ibv_get_async_event", 0,
		      "no IBV_EVENT_SQ_DRAINED within %d ms of an idle %s QP entering SQD",
		      EVENT_TIMEOUT_MS, qpt_name(q->type));
	if (coin(W)) {
		/* SQD -> SQD is allowed too */
		memset(&a, 0, sizeof(a));
		a.qp_state = IBV_QPS_SQD;
		qp_modify(W, q, &a, IBV_QP_STATE, "again");
	}
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	qp_modify(W, q, &a, IBV_QP_STATE, "");
}

/*
 * Wait for one completion event for each of the @n CQs (armed, and owed
 * an event), whatever their channels; an event for any other CQ fails.
 */
static void wait_cq_events(struct worker *W, struct cqx **cqs, const int *sol,
			   const char *const *names, int n, const char *what)
{
	double deadline = now() + EVENT_TIMEOUT_MS / 1000.0;
	bool got[2] = { false, false };
	struct ibv_cq *ev_cq;
	void *ev_ctx;
	int i, j, left;

	for (;;) {
		left = 0;
		for (i = 0; i < n; i++) {
			struct pollfd pfd = { .fd = cqs[i]->ch->fd, .events = POLLIN };

			if (got[i])
				continue;
			left++;
			if (poll(&pfd, 1, 0) <= 0)
				continue;
			if (rc_err(ibv_get_cq_event(cqs[i]->ch, &ev_cq, &ev_ctx))) {
				failf(W, "ibv_get_cq_event", errno, "%s", what);
				cqs[i]->dirty = true;
				return;
			}
			ibv_ack_cq_events(ev_cq, 1);
			for (j = 0; j < n; j++)
				if (!got[j] && cqs[j]->cq == ev_cq)
					break;
			if (j == n) {
				failf(W, "ibv_get_cq_event", 0, "event for a CQ not owed one (%s)", what);
				cqs[i]->dirty = true;
				return;
			}
			got[j] = true;
			cqs[j]->armed = false;
		}
		if (!left)
			return;
		if (now() > deadline)
			break;
		usleep(1000);
	}
	for (i = 0; i < n; i++)
		if (!got[i]) {
			failf(W, "ibv_get_cq_event", 0,
			      "no completion event within %d ms after completions on the %s CQ armed "
			      "with solicited_only %d (%s)", EVENT_TIMEOUT_MS, names[i], sol[i], what);
			cqs[i]->dirty = true; /* an event may still come: do not arm again */
		}
}


#define SEND_TAG (1ULL << 63)

static uint64_t flush_wr_id(struct worker *W, struct qpx *q, int i, bool send)
{
	return (send ? SEND_TAG : 0) | ((uint64_t)(W->iter & 0x7fffff) << 40) |
	       ((uint64_t)q->qp->qp_num << 16) | (uint64_t)(i & 0xffff);
}

static struct ibv_ah *ah_create(struct worker *W, struct ibv_pd *pd, const struct gident *sg,
				const union ibv_gid *dgid, bool expect_ok, const char *what);
static void ah_destroy(struct worker *W, struct ibv_ah *ah);

/* Post @n signaled zero-length sends to the QP itself; returns how many went in. */
static int post_sends(struct worker *W, struct qpx *q, int n, int first, struct ibv_ah *ah)
{
	struct ibv_send_wr wr[8], *bad = NULL;
	char call[64];
	int i, err;

	if (n > (int)ARRAY_SIZE(wr))
		n = ARRAY_SIZE(wr);
	for (i = 0; i < n; i++) {
		memset(&wr[i], 0, sizeof(wr[i]));
		wr[i].wr_id = flush_wr_id(W, q, first + i, true);
		wr[i].opcode = IBV_WR_SEND;
		wr[i].send_flags = IBV_SEND_SIGNALED;
		if (q->type == IBV_QPT_UD) {
			wr[i].wr.ud.ah = ah;
			wr[i].wr.ud.remote_qpn = q->qp->qp_num;
			wr[i].wr.ud.remote_qkey = q->qkey;
		}
		wr[i].next = i + 1 < n ? &wr[i + 1] : NULL;
	}
	err = rc_err(ibv_post_send(q->qp, wr, &bad));
	if (!err)
		return n;
	snprintf(call, sizeof(call), "ibv_post_send(%s %s, %d sends)", qpt_name(q->type),
		 qps_name(q->state), n);
	if (q->state == IBV_QPS_RTS)
		failf(W, call, err, "%s", "");
	return bad ? (int)(bad - wr) : 0;
}

/* Check one completion of a flush; returns false (CQ now dirty) on a mismatch. */
static bool flush_wc_ok(struct worker *W, struct qpx *q, struct cqx *from, const struct ibv_wc *wc,
			int *got_r, int *got_s, int nr, int ns, bool sends)
{
	bool send = wc->wr_id & SEND_TAG;
	uint64_t want = flush_wr_id(W, q, send ? *got_s : *got_r, send);
	bool ok = wc->wr_id == want && wc->qp_num == q->qp->qp_num;

	if (send) {
		/* once the transport runs, a send to itself may finish first */
		ok = ok && from == q->scq && *got_s < ns &&
		     (wc->status == IBV_WC_WR_FLUSH_ERR ||
		      (wc->status == IBV_WC_SUCCESS && wc->opcode == IBV_WC_SEND) ||
		      wc->status == IBV_WC_RNR_RETRY_EXC_ERR || wc->status == IBV_WC_RETRY_EXC_ERR);
		(*got_s)++;
	} else {
		/* a receive may take one of the sends: any status then (UD needs GRH room) */
		ok = ok && from == q->rcq && *got_r < nr &&
		     (wc->status == IBV_WC_WR_FLUSH_ERR || sends);
		(*got_r)++;
	}
	if (ok)
		return true;
	failf(W, "ibv_poll_cq", 0,
	      "flush of %s QP %u (%d recv, %d send): %s CQ gave wr_id %#" PRIx64 " (want %#" PRIx64
	      ") status %d %s opcode %d qp_num %u", qpt_name(q->type), q->qp->qp_num, nr, ns,
	      from == q->rcq ? "recv" : "send", wc->wr_id, want, wc->status,
	      ibv_wc_status_str(wc->status), wc->opcode, wc->qp_num);
	from->dirty = true;
	return false;
}

/*
 * Poll the QP's CQs until @nr receives and @ns sends are back; count per
 * CQ (0: receive CQ, 1: send CQ if another) the completions and the
 * unsuccessful ones, which decide whether an armed CQ owes an event.
 */
static bool flush_drain(struct worker *W, struct qpx *q, int nr, int ns, bool sends,
			int nany[2], int nerr[2])
{
	struct cqx *cqs[2] = { q->rcq, q->scq };
	int ncq = q->rcq == q->scq ? 1 : 2;
	int got_r = 0, got_s = 0, c, i, k;
	double deadline = now() + FLUSH_TIMEOUT_MS / 1000.0;
	struct ibv_wc wc[16];

	while (got_r < nr || got_s < ns) {
		bool any = false;

		for (c = 0; c < ncq; c++) {
			k = ibv_poll_cq(cqs[c]->cq, ARRAY_SIZE(wc), wc);
			if (k < 0) {
				failf(W, "ibv_poll_cq", 0, "returned %d", k);
				cqs[c]->dirty = true;
				return false;
			}
			for (i = 0; i < k; i++) {
				if (!flush_wc_ok(W, q, cqs[c], &wc[i], &got_r, &got_s, nr, ns, sends))
					return false;
				nany[c]++;
				nerr[c] += wc[i].status != IBV_WC_SUCCESS;
			}
			any |= k > 0;
		}
		if (got_r >= nr && got_s >= ns)
			break;
		if (now() > deadline) {
			failf(W, "ibv_poll_cq", 0,
			      "%d of %d receives and %d of %d sends completed %d ms after %s QP %u "
			      "went to ERR", got_r, nr, got_s, ns, FLUSH_TIMEOUT_MS,
			      qpt_name(q->type), q->qp->qp_num);
			q->rcq->dirty = q->scq->dirty = true;
			return false;
		}
		if (!any)
			usleep(1000);
	}
	for (c = 0; c < ncq; c++) {
		k = ibv_poll_cq(cqs[c]->cq, ARRAY_SIZE(wc), wc);
		CHECK(W, k == 0, "ibv_poll_cq", "%d completions more than posted after a flush", k);
	}
	W->st->flushed += nr + ns;
	return true;
}

/*
 * Arm a CQ on a channel (again, if it still is).  A CQ armed for the next
 * completion stays so when asked for solicited ones: *solicited is the
 * mode in effect.
 */
static bool arm_cq(struct worker *W, struct cqx *c, int *solicited)
{
	int err, sol;

	if (!c->ch)
		return false;
	sol = coin(W);
	err = rc_err(ibv_req_notify_cq(c->cq, sol));
	if (err) {
		failf(W, "ibv_req_notify_cq", err, "solicited_only %d", sol);
		return false;
	}
	*solicited = c->armed ? (c->sol && sol) : sol;
	c->sol = *solicited;
	c->armed = true;
	return true;
}

/*
 * Post receives (no SGE) -- a few, or until the receive queue is full (it
 * must take at least max_recv_wr) -- and, in RTS, a few signaled sends to
 * the QP itself; arm the CQs (next or solicited: an error completion
 * counts as solicited), move the QP to ERR, maybe resize the receive CQ
 * while the flush lands in it, and expect every WR back in order as
 * IBV_WC_WR_FLUSH_ERR, plus one event per armed CQ.  Then a send posted
 * in ERR must be flushed too.
 */
static void qp_flush_check(struct worker *W, struct qpx *q)
{
	struct ibv_recv_wr wr[16], *bad = NULL;
	struct cqx *rc = q->rcq, *sc = q->scq;
	struct ibv_ah *ah = NULL;
	int i, nr = 0, ns = 0, err, avail, sol_r = 0, sol_s = 0;
	bool arm_r = false, arm_s = false, fill = false, resized = false;
	int nany[2] = { 0, 0 }, nerr[2] = { 0, 0 };
	char what[192];

	if (rc->dirty || sc->dirty ||
	    (q->state != IBV_QPS_INIT && q->state != IBV_QPS_RTR && q->state != IBV_QPS_RTS))
		return;

	/* plan: sends only without an SRQ (a send to itself would take an SRQ WR) */
	if (q->state == IBV_QPS_RTS && !q->srq && coin(W)) {
		ns = 1 + rnd(W, 6);
		if ((uint32_t)ns > q->cap.max_send_wr)
			ns = q->cap.max_send_wr;
		if (ns > sc->cq->cqe - 1)
			ns = sc->cq->cqe - 1;
		if (ns < 0)
			ns = 0;
	}
	avail = rc->cq->cqe - (rc == sc ? ns + 1 : 0);
	if (!q->srq) {
		fill = q->cap.max_recv_wr <= 1024 && q->cap.max_recv_wr + 16 <= (uint32_t)avail &&
		       !rnd(W, 3);
		nr = fill ? (int)q->cap.max_recv_wr : (int)(1 + rnd(W, 8));
		if ((uint32_t)nr > q->cap.max_recv_wr)
			nr = q->cap.max_recv_wr;
		if (nr > avail)
			nr = avail;
		if (nr < 0)
			nr = 0;
	}
	if (!nr && !ns)
		return;
	/* arm first: with a transport, completions may come as soon as posted */
	if (nr || (rc == sc && ns))
		arm_r = arm_cq(W, rc, &sol_r);
	if (sc != rc && ns)
		arm_s = arm_cq(W, sc, &sol_s);

	if (ns) {
		if (q->type == IBV_QPT_UD) {
			const struct gident *g = &W->gid[rnd(W, W->ngid)];

			ah = ah_create(W, q->pd, g, &g->gid, true, "for UD sends");
			if (!ah)
				ns = 0;
		}
		if (ns > 0)
			ns = post_sends(W, q, ns, 0, ah);
		if (ns < 0)
			ns = 0;
	}

	nr = 0;
	if (fill) {
		/* post until the receive queue is full */
		for (;;) {
			for (i = 0; i < (int)ARRAY_SIZE(wr); i++) {
				memset(&wr[i], 0, sizeof(wr[i]));
				wr[i].wr_id = flush_wr_id(W, q, nr + i, false);
				wr[i].next = i + 1 < (int)ARRAY_SIZE(wr) ? &wr[i + 1] : NULL;
			}
			bad = NULL;
			err = rc_err(ibv_post_recv(q->qp, wr, &bad));
			if (!err) {
				nr += ARRAY_SIZE(wr);
				continue;
			}
			nr += bad ? (int)(bad - wr) : 0;
			break;
		}
		if (!EXPECT_ERR(W, "ibv_post_recv(receive queue full)", err, ENOMEM))
			nr = -1;
		else
			CHECK(W, (uint32_t)nr >= q->cap.max_recv_wr, "ibv_post_recv",
			      "%s receive queue full after %d WRs, max_recv_wr %u",
			      qpt_name(q->type), nr, q->cap.max_recv_wr);
		if (nr < 0 || nr > avail) {
			/* cannot tell what was posted, or it would overflow the CQ */
			rc->dirty = true;
			goto out;
		}
	} else if (!q->srq) {
		nr = 1 + rnd(W, 8);
		if ((uint32_t)nr > q->cap.max_recv_wr)
			nr = q->cap.max_recv_wr;
		if (nr > avail)
			nr = avail;
		if (nr < 0)
			nr = 0;
		for (i = 0; i < nr; i++) {
			memset(&wr[i], 0, sizeof(wr[i]));
			wr[i].wr_id = flush_wr_id(W, q, i, false);
			wr[i].next = i + 1 < nr ? &wr[i + 1] : NULL;
		}
		if (nr) {
			err = rc_err(ibv_post_recv(q->qp, wr, &bad));
			if (err) {
				failf(W, "ibv_post_recv", err, "%d WRs with no SGE on %s %s", nr,
				      qpt_name(q->type), qps_name(q->state));
				rc->dirty = true;
				goto out;
			}
		}
	}
	if (!nr && !ns)
		goto out;
	if (!qp_to(W, q, IBV_QPS_ERR)) {
		rc->dirty = sc->dirty = true;
		goto out;
	}
	if (!rnd(W, 3)) {
		/* resize while the flushed completions are (being) queued */
		int need = nr + (rc == sc ? ns + 1 : 0);
		int sz = need + rnd(W, need + 64);

		if (sz < 1)
			sz = 1;
		if (sz > W->da.max_cqe)
			sz = W->da.max_cqe;
		if (!cq_resize_ex(W, rc, sz, false)) {
			rc->dirty = true;
			goto out;
		}
		resized = true;
	}
	if (!flush_drain(W, q, nr, ns, ns > 0, nany, nerr))
		goto out;
	snprintf(what, sizeof(what),
		 "%s QP %u: %d recv %d send, %s, recv CQ cqe %d%s; %d/%d completions unsuccessful",
		 qpt_name(q->type), q->qp->qp_num, nr, ns, rc == sc ? "one CQ" : "two CQs",
		 rc->cq->cqe, resized ? " (resized in the flush)" : "", nerr[0] + nerr[1],
		 nany[0] + nany[1]);
	/* an event is owed for any completion, or with solicited_only for an
	 * unsuccessful one (a send that the transport completed is neither) */
	{
		struct cqx *owed[2];
		const char *names[2];
		int sols[2], n = 0;

		if (arm_r && (sol_r ? nerr[0] : nany[0])) {
			sols[n] = sol_r;
			names[n] = rc == sc ? "receive/send" : "receive";
			owed[n++] = rc;
		}
		if (arm_s && (sol_s ? nerr[1] : nany[1])) {
			sols[n] = sol_s;
			names[n] = "send";
			owed[n++] = sc;
		}
		wait_cq_events(W, owed, sols, names, n, what);
	}

	/* a send posted in ERR is completed with a flush error */
	if (ns && !rnd(W, 2)) {
		int n = post_sends(W, q, 1, ns, ah);

		if (n == 1) {
			int got_r = nr, got_s = ns, k;
			struct ibv_wc wc;
			double deadline = now() + FLUSH_TIMEOUT_MS / 1000.0;

			while ((k = ibv_poll_cq(sc->cq, 1, &wc)) == 0 && now() < deadline)
				usleep(1000);
			if (k != 1)
				failf(W, "ibv_poll_cq", 0,
				      "no flush completion %d ms after a send posted to %s QP in ERR",
				      FLUSH_TIMEOUT_MS, qpt_name(q->type));
			else if (flush_wc_ok(W, q, sc, &wc, &got_r, &got_s, nr, ns + 1, true))
				CHECK(W, wc.status == IBV_WC_WR_FLUSH_ERR, "ibv_poll_cq",
				      "send posted in ERR completed with status %s",
				      ibv_wc_status_str(wc.status));
			/* a CQ still armed (nothing owed it so far) owes an event now */
			if (k == 1 && sc->armed && !sc->dirty &&
			    (!sc->sol || wc.status != IBV_WC_SUCCESS)) {
				struct cqx *owed[1] = { sc };
				const char *names[1] = { "send" };
				int sols[1] = { sc->sol };

				strcat(what, "; then a send posted in ERR");
				wait_cq_events(W, owed, sols, names, 1, what);
			}
		}
	}
out:
	ah_destroy(W, ah);
}

/* ---- multicast ------------------------------------------------------------ */

static void mc_attach(struct worker *W, struct qpx *q, const union ibv_gid *g)
{
	char call[96], s[INET6_ADDRSTRLEN];
	int err;

	if (q->nmc >= (int)ARRAY_SIZE(q->mc))
		return;
	gid_str(g, s, sizeof(s));
	snprintf(call, sizeof(call), "ibv_attach_mcast(%s, %s)", qpt_name(q->type), s);
	err = rc_err(ibv_attach_mcast(q->qp, g, 0));
	if (err) {
		failf(W, call, err, "%s", "");
		return;
	}
	W->st->mcast_attach++;
	q->mc[q->nmc++] = *g;
}

static void mc_detach_all(struct worker *W, struct qpx *q)
{
	char call[96], s[INET6_ADDRSTRLEN];
	int err;

	while (q->nmc > 0) {
		union ibv_gid *g = &q->mc[--q->nmc];

		gid_str(g, s, sizeof(s));
		snprintf(call, sizeof(call), "ibv_detach_mcast(%s)", s);
		err = rc_err(ibv_detach_mcast(q->qp, g, 0));
		if (err)
			failf(W, call, err, "%s", "");
	}
}

static void mc_exercise(struct worker *W, struct qpx *q)
{
	union ibv_gid g;
	int err;

	mgid_v6(&g, rnd(W, 8));
	mc_attach(W, q, &g);
	if (coin(W)) {
		mgid_v4(&g, W->id, rnd(W, 256));
		mc_attach(W, q, &g);
	}
	if (coin(W)) {
		/* the same group again: uverbs keeps one attachment */
		mgid_v6(&g, 100 + W->id);
		mc_attach(W, q, &g);
		err = rc_err(ibv_attach_mcast(q->qp, &g, 0));
		CHECK(W, !err, "ibv_attach_mcast(same group twice)", "errno %d %s", err, errname(err));
	}
	if (coin(W)) {
		mc_detach_all(W, q);
		/* a detach of a group not attached fails */
		mgid_v6(&g, 200 + W->id);
		err = rc_err(ibv_detach_mcast(q->qp, &g, 0));
		EXPECT_ERR(W, "ibv_detach_mcast(not attached)", err, EINVAL);
	}
}

/* ---- AH ------------------------------------------------------------------ */

static struct ibv_ah *ah_create(struct worker *W, struct ibv_pd *pd, const struct gident *sg,
				const union ibv_gid *dgid, bool expect_ok, const char *what)
{
	struct ibv_ah_attr a;
	struct ibv_ah *ah;
	char call[160], s[INET6_ADDRSTRLEN];

	memset(&a, 0, sizeof(a));
	a.is_global = 1;
	a.port_num = 1;
	a.sl = rnd(W, 8);
	a.grh.dgid = *dgid;
	a.grh.sgid_index = sg->index;
	a.grh.hop_limit = 1 + rnd(W, 255);
	a.grh.traffic_class = rnd(W, 256);
	gid_str(dgid, s, sizeof(s));
	snprintf(call, sizeof(call), "ibv_create_ah(%s: sgid_index %d, dgid %s)", what,
		 sg->index, s);
	errno = 0;
	ah = ibv_create_ah(pd, &a);
	if (!ah) {
		if (expect_ok)
			failf(W, call, ptr_err(ah), "%s", "");
		return NULL;
	}
	created(W, K_AH);
	CHECK(W, ah->pd == pd, call, "ah->pd is not the PD");
	return ah;
}

static void ah_destroy(struct worker *W, struct ibv_ah *ah)
{
	int err;

	if (!ah)
		return;
	err = rc_err(ibv_destroy_ah(ah));
	if (err)
		failf(W, "ibv_destroy_ah", err, "%s", "");
	else
		destroyed(W, K_AH);
}

static const struct gident *gid_of_family(struct worker *W, bool v4)
{
	int i, start = rnd(W, W->ngid);

	for (i = 0; i < W->ngid; i++) {
		const struct gident *g = &W->gid[(start + i) % W->ngid];

		if (g->v4 == v4)
			return g;
	}
	return NULL;
}

static void ah_exercise(struct worker *W, struct ibv_pd *pd)
{
	struct ibv_ah *ah[4] = { NULL };
	const struct gident *g;
	union ibv_gid mg;
	int i, n = 1 + rnd(W, 3);

	for (i = 0; i < n; i++) {
		g = &W->gid[rnd(W, W->ngid)];
		ah[i] = ah_create(W, pd, g, &g->gid, true, "loopback");
	}
	if (coin(W)) {
		g = gid_of_family(W, false);
		mgid_v6(&mg, rnd(W, 8));
		if (g)
			ah[n++] = ah_create(W, pd, g, &mg, true, "multicast");
	}
	/* destroy in a random order */
	for (i = 0; i < n; i++) {
		int j = rnd(W, n);
		struct ibv_ah *t = ah[i];

		ah[i] = ah[j];
		ah[j] = t;
	}
	for (i = 0; i < n; i++)
		ah_destroy(W, ah[i]);
}

/* ---- MR / MW --------------------------------------------------------------- */

struct mrx {
	struct ibv_mr *mr;
	void *buf;
	size_t len;
	bool mapped;
};

static bool mr_reg(struct worker *W, struct mrx *m, struct ibv_pd *pd, size_t len,
		   unsigned int access)
{
	char call[96];
	int err;

	memset(m, 0, sizeof(*m));
	m->len = len;
	switch (rnd(W, 3)) {
	case 0:
		m->buf = malloc(len);
		break;
	case 1:
		if (posix_memalign(&m->buf, 4096, len))
			m->buf = NULL;
		break;
	default:
		m->buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m->buf == MAP_FAILED)
			m->buf = NULL;
		else
			m->mapped = true;
		break;
	}
	if (!m->buf) {
		failf(W, "malloc", ENOMEM, "%zu bytes for an MR", len);
		return false;
	}
	memset(m->buf, 0x5a, len);
	snprintf(call, sizeof(call), "ibv_reg_mr(len=%zu, access=%#x)", len, access);
	errno = 0;
	m->mr = ibv_reg_mr(pd, m->buf, len, access);
	if (!m->mr) {
		err = ptr_err(m->mr);
		if (err == EOPNOTSUPP) {
			if (!W->mr_unsupported)
				printf("worker %d: MR unsupported (%s: EOPNOTSUPP)\n", W->id, call);
			W->mr_unsupported = true;
			W->st->mr_unsupported = 1;
		} else {
			failf(W, call, err, "%s", "");
		}
		goto free_buf;
	}
	created(W, K_MR);
	CHECK(W, m->mr->addr == m->buf, call, "mr->addr %p, buffer %p", m->mr->addr, m->buf);
	CHECK(W, m->mr->length == len, call, "mr->length %zu", m->mr->length);
	CHECK(W, m->mr->pd == pd, call, "mr->pd is not the PD");
	return true;
free_buf:
	if (m->mapped)
		munmap(m->buf, len);
	else
		free(m->buf);
	m->buf = NULL;
	return false;
}

static void mr_dereg(struct worker *W, struct mrx *m)
{
	int err;

	if (!m->mr)
		return;
	err = rc_err(ibv_dereg_mr(m->mr));
	if (err) {
		failf(W, "ibv_dereg_mr", err, "%s", "");
		return; /* keep the buffer: the MR may still point at it */
	}
	destroyed(W, K_MR);
	m->mr = NULL;
	if (m->mapped)
		munmap(m->buf, m->len);
	else
		free(m->buf);
	m->buf = NULL;
}

static void mr_exercise(struct worker *W, struct ibv_pd *pd)
{
	static const size_t lens[] = { 1, 64, 4095, 4096, 4097, 65536, 200000, 1 << 20 };
	static const unsigned int acc[] = {
		0,
		IBV_ACCESS_LOCAL_WRITE,
		IBV_ACCESS_REMOTE_READ,
		IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
		IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ,
		IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_ATOMIC,
		IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_MW_BIND,
	};
	struct mrx m[4];
	int i, j, n = 1 + rnd(W, 3);

	if (opt.no_mr || W->mr_unsupported)
		return;
	for (i = 0; i < n; i++) {
		if (!mr_reg(W, &m[i], pd, lens[rnd(W, ARRAY_SIZE(lens))], acc[rnd(W, ARRAY_SIZE(acc))]))
			continue;
		for (j = 0; j < i; j++)
			if (m[j].mr)
				CHECK(W, m[j].mr->lkey != m[i].mr->lkey, "ibv_reg_mr",
				      "two live MRs share lkey %#x", m[i].mr->lkey);
	}
	/* the same buffer registered twice gives two MRs */
	if (n < 4 && m[0].mr && coin(W)) {
		errno = 0;
		m[n].mr = ibv_reg_mr(pd, m[0].buf, m[0].len, IBV_ACCESS_LOCAL_WRITE);
		if (!m[n].mr) {
			failf(W, "ibv_reg_mr(same buffer again)", ptr_err(m[n].mr), "%s", "");
		} else {
			created(W, K_MR);
			CHECK(W, m[n].mr->lkey != m[0].mr->lkey, "ibv_reg_mr(same buffer again)",
			      "same lkey %#x as the first registration", m[0].mr->lkey);
			if (rc_err(ibv_dereg_mr(m[n].mr)))
				failf(W, "ibv_dereg_mr(second registration)", errno, "%s", "");
			else
				destroyed(W, K_MR);
		}
	}
	for (i = 0; i < n; i++)
		mr_dereg(W, &m[(i + 1) % n]);
}

static struct ibv_mw *mw_alloc(struct worker *W, struct ibv_pd *pd, enum ibv_mw_type type)
{
	struct ibv_mw *mw;
	char call[48];
	int err;

	if (opt.no_mw || W->mw_unsupported[type])
		return NULL;
	snprintf(call, sizeof(call), "ibv_alloc_mw(type %d)", type);
	errno = 0;
	mw = ibv_alloc_mw(pd, type);
	if (!mw) {
		err = ptr_err(mw);
		if (err == EOPNOTSUPP) {
			bool claimed = type == IBV_MW_TYPE_1 ?
				(W->da.device_cap_flags & IBV_DEVICE_MEM_WINDOW) :
				(W->da.device_cap_flags & (IBV_DEVICE_MEM_WINDOW_TYPE_2A |
							   IBV_DEVICE_MEM_WINDOW_TYPE_2B));

			if (claimed)
				failf(W, call, err, "the device advertises type %d windows", type);
			else
				printf("worker %d: MW type %d unsupported (%s: EOPNOTSUPP)\n", W->id,
				       type, call);
			W->mw_unsupported[type] = true;
			W->st->mw_unsupported[type] = 1;
		} else {
			failf(W, call, err, "%s", "");
		}
		return NULL;
	}
	created(W, K_MW);
	CHECK(W, mw->type == type, call, "mw->type %d", mw->type);
	CHECK(W, mw->pd == pd, call, "mw->pd is not the PD");
	return mw;
}

static void mw_dealloc(struct worker *W, struct ibv_mw *mw)
{
	int err;

	if (!mw)
		return;
	err = rc_err(ibv_dealloc_mw(mw));
	if (err)
		failf(W, "ibv_dealloc_mw", err, "%s", "");
	else
		destroyed(W, K_MW);
}

/* ---- bad inputs -------------------------------------------------------- */

struct neg_env {
	struct ibv_pd *pd;
	struct cqx *cq; /* a live CQ */
};

static void neg_cq_sizes(struct worker *W, struct neg_env *e)
{
	struct ibv_cq *cq;
	int bad[] = { 0, W->da.max_cqe + 1, -1 };
	char call[64];
	unsigned int i;

	(void)e;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(call, sizeof(call), "ibv_create_cq(cqe=%d, max_cqe %d)", bad[i], W->da.max_cqe);
		errno = 0;
		cq = ibv_create_cq(W->ctx, bad[i], NULL, NULL, 0);
		if (!EXPECT_ERR(W, call, ptr_err(cq), EINVAL) && cq) {
			created(W, K_CQ);
			if (!rc_err(ibv_destroy_cq(cq)))
				destroyed(W, K_CQ);
		}
	}
}

static void neg_cq_vector(struct worker *W, struct neg_env *e)
{
	struct ibv_cq *cq;
	int vec = W->ctx->num_comp_vectors;

	(void)e;
	errno = 0;
	cq = ibv_create_cq(W->ctx, 16, NULL, W->chan, vec);
	if (!EXPECT_ERR(W, "ibv_create_cq(comp_vector = num_comp_vectors)", ptr_err(cq), EINVAL) &&
	    cq) {
		created(W, K_CQ);
		if (!rc_err(ibv_destroy_cq(cq)))
			destroyed(W, K_CQ);
	}
}

static void neg_cq_resize(struct worker *W, struct neg_env *e)
{
	struct cqx *c = e->cq;
	int before = c->cq->cqe, err;

	err = rc_err(ibv_resize_cq(c->cq, 0));
	EXPECT_ERR(W, "ibv_resize_cq(0)", err, EINVAL);
	err = rc_err(ibv_resize_cq(c->cq, W->da.max_cqe + 1));
	EXPECT_ERR(W, "ibv_resize_cq(max_cqe + 1)", err, EINVAL);
	CHECK(W, c->cq->cqe == before, "ibv_resize_cq", "refused resizes changed cqe %d -> %d",
	      before, c->cq->cqe);
	cq_check_empty(W, c, "after refused resizes");
}

static void neg_qp_caps(struct worker *W, struct neg_env *e)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp *qp;
	char call[96];
	int which;

	for (which = 0; which < 5; which++) {
		memset(&ia, 0, sizeof(ia));
		ia.qp_type = (enum ibv_qp_type[]){ IBV_QPT_RC, IBV_QPT_UC, IBV_QPT_UD }[rnd(W, 3)];
		ia.send_cq = e->cq->cq;
		ia.recv_cq = e->cq->cq;
		ia.cap.max_send_wr = 4;
		ia.cap.max_recv_wr = 4;
		ia.cap.max_send_sge = 1;
		ia.cap.max_recv_sge = 1;
		switch (which) {
		case 0:
			ia.cap.max_send_sge = W->da.max_sge + 1;
			snprintf(call, sizeof(call), "ibv_create_qp(%s, max_send_sge %d > max_sge %d)",
				 qpt_name(ia.qp_type), W->da.max_sge + 1, W->da.max_sge);
			break;
		case 1:
			ia.cap.max_recv_sge = W->da.max_sge + 1;
			snprintf(call, sizeof(call), "ibv_create_qp(%s, max_recv_sge %d > max_sge %d)",
				 qpt_name(ia.qp_type), W->da.max_sge + 1, W->da.max_sge);
			break;
		case 2:
			ia.cap.max_send_wr = W->da.max_qp_wr + 1;
			snprintf(call, sizeof(call), "ibv_create_qp(%s, max_send_wr %d > max_qp_wr %d)",
				 qpt_name(ia.qp_type), W->da.max_qp_wr + 1, W->da.max_qp_wr);
			break;
		case 3:
			ia.cap.max_recv_wr = W->da.max_qp_wr + 1;
			snprintf(call, sizeof(call), "ibv_create_qp(%s, max_recv_wr %d > max_qp_wr %d)",
				 qpt_name(ia.qp_type), W->da.max_qp_wr + 1, W->da.max_qp_wr);
			break;
		default:
			ia.cap.max_inline_data = 1 << 20;
			snprintf(call, sizeof(call), "ibv_create_qp(%s, max_inline_data 1 MiB)",
				 qpt_name(ia.qp_type));
			break;
		}
		errno = 0;
		qp = ibv_create_qp(e->pd, &ia);
		if (!EXPECT_ERR(W, call, ptr_err(qp), EINVAL) && qp) {
			created(W, K_QP);
			if (!rc_err(ibv_destroy_qp(qp)))
				destroyed(W, K_QP);
		}
	}
}

static void neg_qp_type(struct worker *W, struct neg_env *e)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp *qp;

	memset(&ia, 0, sizeof(ia));
	ia.qp_type = IBV_QPT_RAW_PACKET;
	ia.send_cq = e->cq->cq;
	ia.recv_cq = e->cq->cq;
	ia.cap.max_send_wr = 4;
	ia.cap.max_recv_wr = 4;
	ia.cap.max_send_sge = 1;
	ia.cap.max_recv_sge = 1;
	errno = 0;
	qp = ibv_create_qp(e->pd, &ia);
	if (!EXPECT_ERR(W, "ibv_create_qp(IBV_QPT_RAW_PACKET on RoCE soft device)", ptr_err(qp),
			EOPNOTSUPP, EINVAL, EPROTONOSUPPORT) && qp) {
		created(W, K_QP);
		if (!rc_err(ibv_destroy_qp(qp)))
			destroyed(W, K_QP);
	}
}

/*
 * A modify that must fail with EINVAL and leave the QP state alone.
 * Returns false if it succeeded (the QP is then in an unknown state).
 */
static bool expect_modify_fails(struct worker *W, struct qpx *q, struct ibv_qp_attr *a, int mask,
				const char *what)
{
	char call[128];
	enum ibv_qp_state before = q->state;
	int err;

	snprintf(call, sizeof(call), "ibv_modify_qp(%s %s->%s: %s)", qpt_name(q->type),
		 qps_name(q->state), qps_name(a->qp_state), what);
	err = rc_err(ibv_modify_qp(q->qp, a, mask));
	if (!EXPECT_ERR(W, call, err, EINVAL) && !err)
		return false;
	q->state = before;
	qp_check(W, q, "after a refused modify");
	return true;
}
#define REFUSED(...) do { if (!expect_modify_fails(__VA_ARGS__)) goto out; } while (0)

static void neg_qp_transitions(struct worker *W, struct neg_env *e)
{
	struct ibv_qp_cap cap = { .max_send_wr = 8, .max_recv_wr = 8,
				  .max_send_sge = 1, .max_recv_sge = 1 };
	enum ibv_qp_type type = (enum ibv_qp_type[]){ IBV_QPT_RC, IBV_QPT_UC, IBV_QPT_UD }[rnd(W, 3)];
	struct ibv_qp_attr a;
	struct qpx q, t;
	int mask;

	if (!qp_create(W, &q, e->pd, type, e->cq, e->cq, NULL, &cap))
		return;

	/* Attributes for refused modifies are built on a scratch copy. */
	t = q;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_ERR;
	REFUSED(W, &q, &a, IBV_QP_STATE, "RESET goes only to INIT");
	rts_attr_for(W, &t, &a, &mask);
	REFUSED(W, &q, &a, mask, "skips INIT and RTR");
	rtr_attr_for(W, &t, &a, &mask);
	REFUSED(W, &q, &a, mask, "skips INIT");
	init_attr_for(W, &t, &a, &mask);
	REFUSED(W, &q, &a, mask & ~IBV_QP_PORT, "without IBV_QP_PORT");
	init_attr_for(W, &t, &a, &mask);
	if (type == IBV_QPT_UD)
		REFUSED(W, &q, &a, mask | IBV_QP_ACCESS_FLAGS, "UD with ACCESS_FLAGS");
	else
		REFUSED(W, &q, &a, mask | IBV_QP_QKEY, "RC/UC with QKEY");
	init_attr_for(W, &t, &a, &mask);
	a.port_num = W->da.phys_port_cnt + 1;
	REFUSED(W, &q, &a, mask, "port_num out of range");
	init_attr_for(W, &t, &a, &mask);
	a.port_num = 0;
	REFUSED(W, &q, &a, mask, "port_num 0");
	init_attr_for(W, &t, &a, &mask);
	a.pkey_index = W->pa.pkey_tbl_len;
	REFUSED(W, &q, &a, mask, "pkey_index past the P_Key table");

	if (!qp_walk(W, &q, IBV_QPS_INIT))
		goto out;
	t = q;
	rts_attr_for(W, &t, &a, &mask);
	REFUSED(W, &q, &a, mask, "skips RTR");
	if (type != IBV_QPT_UD) {
		rtr_attr_for(W, &t, &a, &mask);
		REFUSED(W, &q, &a, mask & ~IBV_QP_DEST_QPN, "without IBV_QP_DEST_QPN");
		rtr_attr_for(W, &t, &a, &mask);
		a.path_mtu = (enum ibv_mtu)(IBV_MTU_4096 + 1);
		REFUSED(W, &q, &a, mask, "path_mtu past 4096");
		rtr_attr_for(W, &t, &a, &mask);
		a.ah_attr.port_num = W->da.phys_port_cnt + 1;
		REFUSED(W, &q, &a, mask, "ah_attr.port_num out of range");
		if (type == IBV_QPT_RC && W->da.max_qp_init_rd_atom < 255) {
			rtr_attr_for(W, &t, &a, &mask);
			a.max_dest_rd_atomic = W->da.max_qp_init_rd_atom + 1;
			REFUSED(W, &q, &a, mask, "max_dest_rd_atomic > max_qp_init_rd_atom");
		}
	}
	if (!qp_walk(W, &q, IBV_QPS_RTR))
		goto out;
	t = q;
	if (type == IBV_QPT_RC && W->da.max_qp_rd_atom < 255) {
		rts_attr_for(W, &t, &a, &mask);
		a.max_rd_atomic = W->da.max_qp_rd_atom + 1;
		REFUSED(W, &q, &a, mask, "max_rd_atomic > max_qp_rd_atom");
	}
	if (type != IBV_QPT_UD) {
		rts_attr_for(W, &t, &a, &mask);
		REFUSED(W, &q, &a, mask & ~IBV_QP_SQ_PSN, "without IBV_QP_SQ_PSN");
	}
	if (!qp_walk(W, &q, IBV_QPS_RTS))
		goto out;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	REFUSED(W, &q, &a, IBV_QP_STATE, "backwards");
	a.qp_state = IBV_QPS_RTR;
	REFUSED(W, &q, &a, IBV_QP_STATE, "backwards");
	if (!qp_to(W, &q, IBV_QPS_ERR))
		goto out;
	a.qp_state = IBV_QPS_RTS;
	REFUSED(W, &q, &a, IBV_QP_STATE, "out of ERR only to RESET");
	a.qp_state = IBV_QPS_INIT;
	t = q;
	init_attr_for(W, &t, &a, &mask);
	REFUSED(W, &q, &a, mask, "out of ERR only to RESET");
	if (!qp_to(W, &q, IBV_QPS_RESET))
		goto out;
	/* a reset QP can be used again */
	qp_walk(W, &q, coin(W) ? IBV_QPS_RTS : IBV_QPS_INIT);
out:
	qp_destroy(W, &q);
}

static void neg_srq(struct worker *W, struct neg_env *e)
{
	struct ibv_srq_init_attr ia;
	struct ibv_srq_attr a;
	struct ibv_srq *srq;
	struct srqx s;
	char call[96];
	int err, which;

	for (which = 0; which < 3; which++) {
		memset(&ia, 0, sizeof(ia));
		ia.attr.max_wr = 16;
		ia.attr.max_sge = 1;
		if (which == 0) {
			ia.attr.max_wr = W->da.max_srq_wr + 1;
			snprintf(call, sizeof(call), "ibv_create_srq(max_wr %u > max_srq_wr %d)",
				 ia.attr.max_wr, W->da.max_srq_wr);
		} else if (which == 1) {
			ia.attr.max_sge = W->da.max_srq_sge + 1;
			snprintf(call, sizeof(call), "ibv_create_srq(max_sge %u > max_srq_sge %d)",
				 ia.attr.max_sge, W->da.max_srq_sge);
		} else {
			ia.attr.max_wr = 0;
			snprintf(call, sizeof(call), "ibv_create_srq(max_wr 0)");
		}
		errno = 0;
		srq = ibv_create_srq(e->pd, &ia);
		if (!EXPECT_ERR(W, call, ptr_err(srq), EINVAL) && srq) {
			created(W, K_SRQ);
			if (!rc_err(ibv_destroy_srq(srq)))
				destroyed(W, K_SRQ);
		}
	}

	/* boundaries that must work: max_sge = max_srq_sge; srq_limit, which
	 * ibv_create_srq ignores, above max_wr */
	if (srq_create(W, &s, e->pd, 8, W->da.max_srq_sge))
		srq_destroy(W, &s);
	memset(&ia, 0, sizeof(ia));
	ia.attr.max_wr = 8;
	ia.attr.max_sge = 1;
	ia.attr.srq_limit = 100;
	errno = 0;
	srq = ibv_create_srq(e->pd, &ia);
	if (!srq) {
		failf(W, "ibv_create_srq(max_wr 8, srq_limit 100)", ptr_err(srq),
		      "srq_limit is irrelevant to ibv_create_srq");
	} else {
		created(W, K_SRQ);
		if (!rc_err(ibv_destroy_srq(srq)))
			destroyed(W, K_SRQ);
		else
			failf(W, "ibv_destroy_srq", errno, "%s", "");
	}

	if (!srq_create(W, &s, e->pd, 32, 1))
		return;
	/* limit above max_wr */
	a.max_wr = 0;
	a.srq_limit = s.max_wr + 1;
	err = rc_err(ibv_modify_srq(s.srq, &a, IBV_SRQ_LIMIT));
	if (EXPECT_ERR(W, "ibv_modify_srq(IBV_SRQ_LIMIT = max_wr + 1)", err, EINVAL))
		srq_query_check(W, &s, "after refused limit");
	if (!W->srq_resize)
		goto out;
	/* one invalid attribute: nothing changes (ibv_modify_srq(3)) */
	{
		uint32_t before = s.max_wr;

		a.max_wr = s.max_wr * 4;
		a.srq_limit = a.max_wr + 1;
		err = rc_err(ibv_modify_srq(s.srq, &a, IBV_SRQ_MAX_WR | IBV_SRQ_LIMIT));
		if (EXPECT_ERR(W, "ibv_modify_srq(MAX_WR x4 and LIMIT above it)", err, EINVAL) &&
		    srq_query_check(W, &s, "after refused resize+limit"))
			CHECK(W, s.max_wr == before, "ibv_modify_srq(MAX_WR x4 and LIMIT above it)",
			      "refused, but max_wr went %u -> %u", before, s.max_wr);
		a.max_wr = W->da.max_srq_wr + 1;
		a.srq_limit = 5;
		err = rc_err(ibv_modify_srq(s.srq, &a, IBV_SRQ_MAX_WR | IBV_SRQ_LIMIT));
		if (EXPECT_ERR(W, "ibv_modify_srq(MAX_WR > max_srq_wr and LIMIT 5)", err, EINVAL))
			srq_query_check(W, &s, "after refused resize+limit (limit unchanged)");
	}
	/* resize past the device limit */
	a.max_wr = W->da.max_srq_wr + 1;
	a.srq_limit = 0;
	err = rc_err(ibv_modify_srq(s.srq, &a, IBV_SRQ_MAX_WR));
	if (EXPECT_ERR(W, "ibv_modify_srq(IBV_SRQ_MAX_WR > max_srq_wr)", err, EINVAL))
		srq_query_check(W, &s, "after refused resize");
	/* shrink below the armed limit: the limit would exceed max_wr */
	if (s.max_wr >= 32) {
		srq_modify(W, &s, 0, 20, IBV_SRQ_LIMIT, "limit 20");
		a.max_wr = 10;
		a.srq_limit = 0;
		err = rc_err(ibv_modify_srq(s.srq, &a, IBV_SRQ_MAX_WR));
		if (EXPECT_ERR(W, "ibv_modify_srq(IBV_SRQ_MAX_WR 10 < srq_limit 20)", err, EINVAL))
			srq_query_check(W, &s, "after refused shrink below the limit");
		else if (!err)
			s.req_wr = 10; /* accepted: compare from here on */
		srq_modify(W, &s, 0, 0, IBV_SRQ_LIMIT, "limit 0");
	}
	/* shrink below the WRs already posted */
	if (post_srq(W, &s, 16) == 16) {
		a.max_wr = 4;
		a.srq_limit = 0;
		err = rc_err(ibv_modify_srq(s.srq, &a, IBV_SRQ_MAX_WR));
		if (EXPECT_ERR(W, "ibv_modify_srq(IBV_SRQ_MAX_WR 4 < 16 posted)", err, EINVAL))
			srq_query_check(W, &s, "after refused shrink");
	}
out:
	srq_destroy(W, &s);
}

/* Destroying an object that others still use fails with EBUSY. */
static void neg_busy(struct worker *W, struct neg_env *e)
{
	struct ibv_qp_cap cap = { .max_send_wr = 4, .max_send_sge = 1 };
	struct cqx scq, rcq;
	struct srqx s;
	struct qpx q;
	struct ibv_pd *pd;
	struct ibv_comp_channel *ch;
	struct ibv_ah *ah = NULL;
	struct ibv_mw *mw = NULL;
	struct mrx m = { 0 };
	int err;

	(void)e;
	pd = pd_alloc(W);
	if (!pd)
		return;
	ch = chan_create(W);
	if (!cq_create(W, &scq, 8, ch, 0))
		goto out_ch;
	if (!cq_create(W, &rcq, 8, NULL, 0))
		goto out_scq;
	if (!srq_create(W, &s, pd, 8, 1))
		goto out_rcq;
	if (!qp_create(W, &q, pd, coin(W) ? IBV_QPT_RC : IBV_QPT_UD, &scq, &rcq, &s, &cap))
		goto out_srq;
	qp_walk(W, &q, rnd(W, 4));

	err = rc_err(ibv_destroy_cq(scq.cq));
	EXPECT_ERR(W, "ibv_destroy_cq(send CQ of a live QP)", err, EBUSY);
	if (!err)
		scq.cq = NULL;
	err = rc_err(ibv_destroy_cq(rcq.cq));
	EXPECT_ERR(W, "ibv_destroy_cq(recv CQ of a live QP)", err, EBUSY);
	if (!err)
		rcq.cq = NULL;
	err = rc_err(ibv_destroy_srq(s.srq));
	EXPECT_ERR(W, "ibv_destroy_srq(SRQ of a live QP)", err, EBUSY);
	if (!err)
		s.srq = NULL;
	if (ch) {
		err = rc_err(ibv_destroy_comp_channel(ch));
		EXPECT_ERR(W, "ibv_destroy_comp_channel(with a CQ)", err, EBUSY);
		if (!err)
			ch = NULL;
	}
	err = rc_err(ibv_dealloc_pd(pd));
	EXPECT_ERR(W, "ibv_dealloc_pd(with a QP and an SRQ)", err, EBUSY);
	if (!err)
		pd = NULL;

	/* the refused destroys left everything usable */
	if (scq.cq)
		cq_check_empty(W, &scq, "after a refused destroy");
	if (q.qp)
		qp_check(W, &q, "after refused destroys of its CQs");
	if (s.srq)
		srq_query_check(W, &s, "after a refused destroy");
	qp_destroy(W, &q);
out_srq:
	if (pd && s.srq) {
		err = rc_err(ibv_dealloc_pd(pd));
		EXPECT_ERR(W, "ibv_dealloc_pd(with an SRQ)", err, EBUSY);
		if (!err)
			pd = NULL;
	}
	srq_destroy(W, &s);
	if (pd) {
		const struct gident *g = &W->gid[rnd(W, W->ngid)];

		switch (rnd(W, 3)) {
		case 0:
			ah = ah_create(W, pd, g, &g->gid, true, "to keep a PD busy");
			break;
		case 1:
			if (!opt.no_mr && !W->mr_unsupported)
				mr_reg(W, &m, pd, 4096, IBV_ACCESS_LOCAL_WRITE);
			break;
		default:
			mw = mw_alloc(W, pd, IBV_MW_TYPE_2);
			break;
		}
		if (ah || m.mr || mw) {
			err = rc_err(ibv_dealloc_pd(pd));
			EXPECT_ERR(W, ah ? "ibv_dealloc_pd(with an AH)" :
				   m.mr ? "ibv_dealloc_pd(with an MR)" : "ibv_dealloc_pd(with an MW)",
				   err, EBUSY);
			if (!err)
				pd = NULL;
		}
		ah_destroy(W, ah);
		mr_dereg(W, &m);
		mw_dealloc(W, mw);
	}
out_rcq:
	cq_destroy(W, &rcq);
out_scq:
	cq_destroy(W, &scq);
out_ch:
	chan_destroy(W, ch);
	pd_free(W, pd);
}

static void neg_mcast(struct worker *W, struct neg_env *e)
{
	struct ibv_qp_cap cap = { .max_send_wr = 4, .max_recv_wr = 4,
				  .max_send_sge = 1, .max_recv_sge = 1 };
	enum ibv_qp_type type = coin(W) ? IBV_QPT_RC : IBV_QPT_UC;
	union ibv_gid g;
	struct qpx q;
	char call[64];
	int err;

	if (qp_create(W, &q, e->pd, type, e->cq, e->cq, NULL, &cap)) {
		qp_walk(W, &q, rnd(W, 4));
		mgid_v6(&g, 1);
		snprintf(call, sizeof(call), "ibv_attach_mcast(%s QP)", qpt_name(type));
		err = rc_err(ibv_attach_mcast(q.qp, &g, 0));
		if (!EXPECT_ERR(W, call, err, EINVAL) && !err)
			ibv_detach_mcast(q.qp, &g, 0);
		qp_destroy(W, &q);
	}
	if (qp_create(W, &q, e->pd, IBV_QPT_UD, e->cq, e->cq, NULL, &cap)) {
		g = W->gid[rnd(W, W->ngid)].gid;
		err = rc_err(ibv_attach_mcast(q.qp, &g, 0));
		if (!EXPECT_ERR(W, "ibv_attach_mcast(UD QP, unicast GID)", err, EINVAL) && !err)
			ibv_detach_mcast(q.qp, &g, 0);
		qp_destroy(W, &q);
	}
}

static void neg_ah(struct worker *W, struct neg_env *e)
{
	struct ibv_ah_attr a;
	struct ibv_ah *ah;
	const struct gident *g = &W->gid[rnd(W, W->ngid)];
	char call[96];
	int which;

	for (which = 0; which < 4; which++) {
		memset(&a, 0, sizeof(a));
		a.is_global = 1;
		a.port_num = 1;
		a.grh.dgid = g->gid;
		a.grh.sgid_index = g->index;
		a.grh.hop_limit = 64;
		switch (which) {
		case 0:
			a.grh.sgid_index = W->pa.gid_tbl_len < 256 ? W->pa.gid_tbl_len : 255;
			snprintf(call, sizeof(call), "ibv_create_ah(sgid_index %u, table %d)",
				 a.grh.sgid_index, W->pa.gid_tbl_len);
			if (W->pa.gid_tbl_len > 255)
				continue;
			break;
		case 1:
			if (W->empty_gid_index < 0)
				continue;
			a.grh.sgid_index = W->empty_gid_index;
			snprintf(call, sizeof(call), "ibv_create_ah(sgid_index %d: no GID there)",
				 W->empty_gid_index);
			break;
		case 2:
			a.port_num = W->da.phys_port_cnt + 1;
			snprintf(call, sizeof(call), "ibv_create_ah(port_num %u)", a.port_num);
			break;
		default:
			a.is_global = 0;
			a.dlid = 1;
			snprintf(call, sizeof(call), "ibv_create_ah(no GRH on RoCE)");
			break;
		}
		errno = 0;
		ah = ibv_create_ah(e->pd, &a);
		if (!EXPECT_ERR(W, call, ptr_err(ah), EINVAL, ENODATA, ENOENT) && ah) {
			created(W, K_AH);
			if (!rc_err(ibv_destroy_ah(ah)))
				destroyed(W, K_AH);
		}
	}
}

static void neg_mr(struct worker *W, struct neg_env *e)
{
	static const unsigned int bad[] = {
		IBV_ACCESS_REMOTE_WRITE,
		IBV_ACCESS_REMOTE_ATOMIC,
		IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ,
	};
	char buf[256], call[80];
	struct ibv_mr *mr;
	unsigned int i;

	if (opt.no_mr)
		return;
	/* ODP: must work if the device claims it, else be refused */
	errno = 0;
	mr = ibv_reg_mr(e->pd, buf, sizeof(buf), IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE);
	if (W->odp) {
		if (!mr) {
			failf(W, "ibv_reg_mr(IBV_ACCESS_ON_DEMAND, device has ODP)", ptr_err(mr), "%s", "");
		} else {
			created(W, K_MR);
			if (!rc_err(ibv_dereg_mr(mr)))
				destroyed(W, K_MR);
			else
				failf(W, "ibv_dereg_mr(ODP)", errno, "%s", "");
		}
	} else if (!EXPECT_ERR(W, "ibv_reg_mr(IBV_ACCESS_ON_DEMAND, device has no ODP)", ptr_err(mr),
			       EINVAL, EOPNOTSUPP) && mr) {
		created(W, K_MR);
		if (!rc_err(ibv_dereg_mr(mr)))
			destroyed(W, K_MR);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(call, sizeof(call), "ibv_reg_mr(access %#x without LOCAL_WRITE)", bad[i]);
		errno = 0;
		mr = ibv_reg_mr(e->pd, buf, sizeof(buf), bad[i]);
		if (!EXPECT_ERR(W, call, ptr_err(mr), EINVAL) && mr) {
			created(W, K_MR);
			if (!rc_err(ibv_dereg_mr(mr)))
				destroyed(W, K_MR);
		}
	}
}

static void (*const neg_tests[])(struct worker *, struct neg_env *) = {
	neg_cq_sizes, neg_qp_transitions, neg_cq_vector, neg_busy, neg_qp_caps,
	neg_srq, neg_mcast, neg_cq_resize, neg_ah, neg_qp_type, neg_mr,
	neg_qp_transitions, neg_busy,
};

/*
 * An RC QP in RTS with sends in flight: to itself with no receive posted
 * (RNR NAKs, retried for ever), or to a QP number nobody has (no answer:
 * transport timer retries).  Its CQ is marked dirty: what completes there
 * once the QP is gone is not checked.
 */
static bool rc_busy_qp(struct worker *W, struct qpx *q, struct ibv_pd *pd, struct cqx *cq,
		       bool lost_peer)
{
	struct ibv_qp_cap cap = { .max_send_wr = 8, .max_recv_wr = 1,
				  .max_send_sge = 1, .max_recv_sge = 1 };
	struct ibv_qp_attr a;
	int mask;

	if (!qp_create(W, q, pd, IBV_QPT_RC, cq, cq, NULL, &cap))
		return false;
	cq->dirty = true;
	if (!qp_walk(W, q, IBV_QPS_INIT))
		return false;
	rtr_attr_for(W, q, &a, &mask);
	if (lost_peer) {
		q->dest = (q->qp->qp_num ^ 0x800000) & 0xffffff;
		a.dest_qp_num = q->dest;
	}
	q->min_rnr = 1;
	a.min_rnr_timer = 1;
	if (!qp_modify(W, q, &a, mask, lost_peer ? "to nobody" : "to itself"))
		return false;
	rts_attr_for(W, q, &a, &mask);
	q->timeout = a.timeout = 8 + rnd(W, 4);
	q->retry = a.retry_cnt = 7;
	q->rnr_retry = a.rnr_retry = 7;
	if (!qp_modify(W, q, &a, mask, ""))
		return false;
	post_sends(W, q, 1 + rnd(W, 4), 0, NULL);
	return true;
}

/*
 * With every QP gone and every flush drained, the CQs must be empty and
 * no completion event pending on the channels (CQs left dirty by an
 * earlier failure excepted).  Pending events are read and acknowledged.
 */
static void check_quiet(struct worker *W, struct cqx *cq, int ncq, struct ibv_comp_channel *ch2)
{
	struct ibv_comp_channel *chans[2] = { W->chan, ch2 };
	struct ibv_cq *ev_cq;
	struct ibv_wc wc;
	void *ev_ctx;
	int i, c, k;

	for (i = 0; i < ncq; i++) {
		if (cq[i].dirty)
			continue;
		k = ibv_poll_cq(cq[i].cq, 1, &wc);
		CHECK(W, k == 0, "ibv_poll_cq",
		      "CQ %d: a completion nobody asked for: wr_id %#" PRIx64 " status %s qp_num %u",
		      i, k > 0 ? wc.wr_id : 0, k > 0 ? ibv_wc_status_str(wc.status) : "-",
		      k > 0 ? wc.qp_num : 0);
		if (k)
			cq[i].dirty = true;
	}
	for (c = 0; c < 2; c++) {
		struct pollfd pfd = { .fd = chans[c] ? chans[c]->fd : -1, .events = POLLIN };

		while (chans[c] && poll(&pfd, 1, 0) > 0) {
			if (rc_err(ibv_get_cq_event(chans[c], &ev_cq, &ev_ctx)))
				break;
			ibv_ack_cq_events(ev_cq, 1);
			for (i = 0; i < ncq; i++)
				if (cq[i].cq == ev_cq)
					break;
			if (i < ncq && cq[i].dirty)
				continue;
			failf(W, "ibv_get_cq_event", 0,
			      "a stray completion event on %s for %s (armed %d, solicited_only %d)",
			      c ? "the iteration's channel" : "the worker's channel",
			      i < ncq ? "a CQ of this iteration" : "a CQ not of this iteration",
			      i < ncq ? cq[i].armed : -1, i < ncq ? cq[i].sol : -1);
		}
	}
}

/* ---- one iteration ------------------------------------------------------- */

#define MAX_CQ 4
#define MAX_QP 6

static void iteration(struct worker *W)
{
	static const int cq_sizes[] = { 1, 2, 3, 7, 16, 63, 64, 100, 255, 256, 1000, 1023, 4096 };
	static const uint32_t srq_wrs[] = { 1, 2, 16, 100, 1000, 4096 };
	static const enum ibv_qp_state targets[] = {
		IBV_QPS_RESET, IBV_QPS_INIT, IBV_QPS_RTR, IBV_QPS_RTS, IBV_QPS_RTS, IBV_QPS_RTS,
	};
	struct ibv_pd *pd, *pd2 = NULL;
	struct ibv_comp_channel *ch2 = NULL;
	struct cqx cq[MAX_CQ];
	struct srqx srq = { 0 };
	struct qpx qp[MAX_QP];
	struct ibv_mw *mw[2] = { NULL, NULL };
	struct neg_env ne;
	int ncq, nqp, i, j, order[MAX_QP];
	bool have_srq = false;

	memset(cq, 0, sizeof(cq));
	memset(qp, 0, sizeof(qp));
	vlog(W, "start");
	pd = pd_alloc(W);
	if (!pd)
		return;
	if (coin(W))
		pd2 = pd_alloc(W);
	if (!rnd(W, 4))
		ch2 = chan_create(W);

	ncq = 2 + rnd(W, MAX_CQ - 1);
	for (i = 0; i < ncq; i++) {
		int size = cq_sizes[rnd(W, ARRAY_SIZE(cq_sizes))];
		struct ibv_comp_channel *ch = NULL;

		if (rnd(W, 3))
			ch = ch2 && coin(W) ? ch2 : W->chan;
		cq_create(W, &cq[i], size, ch, rnd(W, W->ctx->num_comp_vectors));
		if (cq[i].cq && !rnd(W, 3)) {
			int grow = size * 2 + 1 + rnd(W, 64);

			cq_resize(W, &cq[i], grow > W->da.max_cqe ? W->da.max_cqe : grow);
			if (coin(W))
				cq_resize(W, &cq[i], size / 2 ? size / 2 : 1);
		}
	}
	/* every QP below needs CQs: compact the array to the live ones */
	for (i = j = 0; i < ncq; i++)
		if (cq[i].cq)
			cq[j++] = cq[i];
	for (i = j; i < ncq; i++)
		memset(&cq[i], 0, sizeof(cq[i]));
	ncq = j;
	if (!ncq)
		goto out_pd;

	if (rnd(W, 3)) {
		have_srq = srq_create(W, &srq, pd2 && coin(W) ? pd2 : pd,
				      srq_wrs[rnd(W, ARRAY_SIZE(srq_wrs))],
				      1 + rnd(W, W->da.max_srq_sge));
		if (have_srq)
			srq_exercise(W, &srq);
	}

	nqp = 3 + rnd(W, MAX_QP - 2);
	for (i = 0; i < nqp; i++) {
		enum ibv_qp_type type = i < 3 ? (enum ibv_qp_type[]){ IBV_QPT_RC, IBV_QPT_UC,
								     IBV_QPT_UD }[i] :
					(enum ibv_qp_type[]){ IBV_QPT_RC, IBV_QPT_UC, IBV_QPT_UD }[rnd(W, 3)];
		bool use_srq = have_srq && !rnd(W, 3);
		struct ibv_qp_cap cap;

		random_caps(W, &cap, use_srq);
		qp_create(W, &qp[i], pd2 && coin(W) ? pd2 : pd, type, &cq[rnd(W, ncq)],
			  &cq[rnd(W, ncq)], use_srq ? &srq : NULL, &cap);
	}
	for (i = 0; i < nqp; i++) {
		if (!qp[i].qp)
			continue;
		qp_walk(W, &qp[i], targets[rnd(W, ARRAY_SIZE(targets))]);
		if (!rnd(W, 3))
			qp_rts_tweak(W, &qp[i]);
		if (!rnd(W, 4))
			qp_sqd_cycle(W, &qp[i]);
		if (qp[i].type == IBV_QPT_UD && rnd(W, 3))
			mc_exercise(W, &qp[i]);
	}
	if (have_srq && coin(W))
		post_srq(W, &srq, 1 + rnd(W, 4));

	ah_exercise(W, pd2 && coin(W) ? pd2 : pd);
	mr_exercise(W, pd2 && coin(W) ? pd2 : pd);
	if (coin(W))
		mw[0] = mw_alloc(W, pd, IBV_MW_TYPE_1);
	if (coin(W))
		mw[1] = mw_alloc(W, pd2 ? pd2 : pd, IBV_MW_TYPE_2);

	ne.pd = pd;
	ne.cq = &cq[rnd(W, ncq)];
	neg_tests[(W->iter * 2 + W->id) % ARRAY_SIZE(neg_tests)](W, &ne);
	neg_tests[(W->iter * 2 + W->id + 1) % ARRAY_SIZE(neg_tests)](W, &ne);

	for (i = 0; i < nqp; i++)
		if (qp[i].qp && !rnd(W, 3))
			qp_flush_check(W, &qp[i]);

	drain_async(W, NULL, 0, 0);

	/* tear down: QPs in a random order and from various states */
	for (i = 0; i < nqp; i++)
		order[i] = i;
	for (i = 0; i < nqp; i++) {
		j = rnd(W, nqp);
		int t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < nqp; i++) {
		struct qpx *q = &qp[order[i]];

		if (!q->qp)
			continue;
		if (q->nmc) {
			/* a user destroy is refused while attachments remain */
			if (!rnd(W, 4)) {
				int err = rc_err(ibv_destroy_qp(q->qp));

				EXPECT_ERR(W, "ibv_destroy_qp(UD QP still attached to a group)", err, EBUSY);
				if (!err) {
					destroyed(W, K_QP);
					q->qp = NULL;
					continue;
				}
			}
			mc_detach_all(W, q);
		}
		switch (rnd(W, 4)) {
		case 0:
			if (q->state != IBV_QPS_RESET && qp_to(W, q, IBV_QPS_ERR))
				qp_to(W, q, IBV_QPS_RESET);
			break;
		case 1:
			if (q->state != IBV_QPS_ERR && q->state != IBV_QPS_RESET)
				qp_to(W, q, IBV_QPS_ERR);
			break;
		case 2:
			if (q->state != IBV_QPS_RESET && qp_to(W, q, IBV_QPS_RESET))
				qp_walk(W, q, IBV_QPS_INIT);
			break;
		default:
			break;
		}
		qp_destroy(W, q);
	}
	if (!rnd(W, 5)) {
		/* destroyed while its sends are being retried */
		struct qpx bq;
		struct cqx *c = &cq[rnd(W, ncq)];

		if (rc_busy_qp(W, &bq, pd, c, coin(W))) {
			usleep(rnd(W, 20000));
			if (coin(W))
				qp_to(W, &bq, IBV_QPS_ERR);
		}
		qp_destroy(W, &bq);
	}
	mw_dealloc(W, mw[0]);
	mw_dealloc(W, mw[1]);
	srq_destroy(W, &srq);
	check_quiet(W, cq, ncq, ch2);
	for (i = 0; i < ncq; i++)
		cq_destroy(W, &cq[(i + W->iter) % ncq]);
out_pd:
	chan_destroy(W, ch2);
	pd_free(W, pd2);
	pd_free(W, pd);
}

/* A group takes max_mcast_qp_attach QPs, and no more (ENOMEM). */
static void mcast_group_limit(struct worker *W)
{
	struct ibv_qp_cap cap = { .max_send_wr = 1, .max_recv_wr = 1,
				  .max_send_sge = 1, .max_recv_sge = 1 };
	static struct qpx qp[130];
	struct cqx cq;
	struct ibv_pd *pd;
	union ibv_gid g;
	int i, n = W->da.max_mcast_qp_attach + 1, err = 0;
	char call[80];

	if (n < 2 || n > (int)ARRAY_SIZE(qp))
		return;
	pd = pd_alloc(W);
	if (!pd)
		return;
	if (!cq_create(W, &cq, 4, NULL, 0))
		goto out_pd;
	mgid_v6(&g, 0x5000 + W->id); /* a group of this worker only */
	for (i = 0; i < n; i++) {
		if (!qp_create(W, &qp[i], pd, IBV_QPT_UD, &cq, &cq, NULL, &cap))
			break;
		if (i < n - 1) {
			mc_attach(W, &qp[i], &g);
			continue;
		}
		snprintf(call, sizeof(call), "ibv_attach_mcast(QP %d of a group, max_mcast_qp_attach %d)",
			 n, W->da.max_mcast_qp_attach);
		err = rc_err(ibv_attach_mcast(qp[i].qp, &g, 0));
		if (!EXPECT_ERR(W, call, err, ENOMEM) && !err)
			qp[i].mc[qp[i].nmc++] = g;
	}
	for (i--; i >= 0; i--) {
		mc_detach_all(W, &qp[i]);
		qp_destroy(W, &qp[i]);
	}
	cq_destroy(W, &cq);
out_pd:
	pd_free(W, pd);
}

/* The largest CQ the device offers. */
static void cq_max(struct worker *W)
{
	struct cqx c;

	if (cq_create(W, &c, W->da.max_cqe, W->chan, 0)) {
		cq_resize(W, &c, W->da.max_cqe / 3);
		cq_destroy(W, &c);
	}
}

/* Many QPs and CQs at once, destroyed in reverse order. */
static void burst(struct worker *W)
{
	struct ibv_qp_cap cap = { .max_send_wr = 2, .max_recv_wr = 2,
				  .max_send_sge = 1, .max_recv_sge = 1 };
	static struct cqx cq[8];
	static struct qpx qp[32];
	struct ibv_pd *pd;
	int i, ncq = 0;

	pd = pd_alloc(W);
	if (!pd)
		return;
	for (i = 0; i < (int)ARRAY_SIZE(cq); i++)
		if (cq_create(W, &cq[ncq], 1 + rnd(W, 64), NULL, 0))
			ncq++;
	for (i = 0; i < (int)ARRAY_SIZE(qp) && ncq; i++) {
		qp[i].qp = NULL;
		qp_create(W, &qp[i], pd, (enum ibv_qp_type[]){ IBV_QPT_RC, IBV_QPT_UC,
							       IBV_QPT_UD }[rnd(W, 3)],
			  &cq[rnd(W, ncq)], &cq[rnd(W, ncq)], NULL, &cap);
		if (qp[i].qp && !rnd(W, 4))
			qp_walk(W, &qp[i], IBV_QPS_INIT);
	}
	/* QP numbers of live QPs are distinct */
	for (i = 0; i < (int)ARRAY_SIZE(qp) && ncq; i++) {
		int j;

		for (j = 0; j < i; j++)
			if (qp[i].qp && qp[j].qp)
				CHECK(W, qp[i].qp->qp_num != qp[j].qp->qp_num, "ibv_create_qp",
				      "two live QPs with number %u", qp[i].qp->qp_num);
	}
	for (i = ARRAY_SIZE(qp) - 1; i >= 0 && ncq; i--)
		qp_destroy(W, &qp[i]);
	for (i = 0; i < ncq; i++)
		cq_destroy(W, &cq[i]);
	pd_free(W, pd);
}

/* An extra context with a few objects, closed cleanly. */
static void second_context(struct worker *W)
{
	struct ibv_qp_init_attr ia;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	int err;

	errno = 0;
	ctx = ibv_open_device(W->dev);
	if (!ctx) {
		failf(W, "ibv_open_device(second context)", ptr_err(ctx), "%s", "");
		return;
	}
	created(W, K_UCTX);
	pd = ibv_alloc_pd(ctx);
	if (!pd) {
		failf(W, "ibv_alloc_pd(second context)", errno, "%s", "");
		goto close;
	}
	created(W, K_PD);
	cq = ibv_create_cq(ctx, 32, NULL, NULL, 0);
	if (!cq) {
		failf(W, "ibv_create_cq(second context)", errno, "%s", "");
		goto pd;
	}
	created(W, K_CQ);
	memset(&ia, 0, sizeof(ia));
	ia.qp_type = IBV_QPT_RC;
	ia.send_cq = cq;
	ia.recv_cq = cq;
	ia.cap.max_send_wr = ia.cap.max_recv_wr = 8;
	ia.cap.max_send_sge = ia.cap.max_recv_sge = 1;
	qp = ibv_create_qp(pd, &ia);
	if (!qp) {
		failf(W, "ibv_create_qp(second context)", errno, "%s", "");
	} else {
		created(W, K_QP);
		err = rc_err(ibv_destroy_qp(qp));
		if (err)
			failf(W, "ibv_destroy_qp(second context)", err, "%s", "");
		else
			destroyed(W, K_QP);
	}
	err = rc_err(ibv_destroy_cq(cq));
	if (err)
		failf(W, "ibv_destroy_cq(second context)", err, "%s", "");
	else
		destroyed(W, K_CQ);
pd:
	err = rc_err(ibv_dealloc_pd(pd));
	if (err)
		failf(W, "ibv_dealloc_pd(second context)", err, "%s", "");
	else
		destroyed(W, K_PD);
close:
	err = rc_err(ibv_close_device(ctx));
	if (err)
		failf(W, "ibv_close_device(second context)", err, "%s", "");
	else
		destroyed(W, K_UCTX);
}

/* ---- leak on exit ---------------------------------------------------------- */

/*
 * Build a set of live objects in many states and leave them to the kernel:
 * QPs in RESET, INIT, RTR, RTS and ERR (with unpolled flush completions),
 * posted receives, an SRQ, CQs armed on a channel, multicast attachments,
 * AHs, MRs, MWs, and a second context whose file descriptor is closed
 * while its objects are still mapped.
 */
static void hold_wake(int sig)
{
	(void)sig;
}

static int hold_objects(struct worker *W)
{
	static struct cqx cq[3];
	static struct srqx srq;
	static struct qpx qp[6];
	static struct mrx mr[2];
	static struct qpx busy[2];
	struct ibv_qp_cap cap = { .max_send_wr = 16, .max_recv_wr = 16,
				  .max_send_sge = 2, .max_recv_sge = 2, .max_inline_data = 64 };
	static const enum ibv_qp_type types[] = {
		IBV_QPT_RC, IBV_QPT_UC, IBV_QPT_UD, IBV_QPT_RC, IBV_QPT_UD, IBV_QPT_RC,
	};
	static const enum ibv_qp_state states[] = {
		IBV_QPS_RTS, IBV_QPS_RTR, IBV_QPS_RTS, IBV_QPS_INIT, IBV_QPS_RESET, IBV_QPS_RTS,
	};
	struct ibv_recv_wr wr[4], *bad;
	struct ibv_context *ctx2;
	struct ibv_pd *pd;
	union ibv_gid g;
	unsigned long before = 0;
	int i, k;

	for (k = 0; k < K_MAX; k++)
		before += W->st->created[k] - W->st->destroyed[k];
	pd = pd_alloc(W);
	if (!pd)
		return 0;
	cq_create(W, &cq[0], 256, W->chan, 0);
	cq_create(W, &cq[1], 64, NULL, 0);
	if (!cq[0].cq || !cq[1].cq)
		goto done;
	ibv_req_notify_cq(cq[0].cq, 0);
	if (srq_create(W, &srq, pd, 64, 2))
		post_srq(W, &srq, 8);
	for (i = 0; i < (int)ARRAY_SIZE(qp); i++) {
		bool use_srq = srq.srq && i == 4;

		if (!qp_create(W, &qp[i], pd, types[i], &cq[i % 2], &cq[0], use_srq ? &srq : NULL, &cap))
			continue;
		qp_walk(W, &qp[i], states[i]);
		if (!use_srq && qp[i].state != IBV_QPS_RESET) {
			for (k = 0; k < 4; k++) {
				memset(&wr[k], 0, sizeof(wr[k]));
				wr[k].wr_id = k;
				wr[k].next = k < 3 ? &wr[k + 1] : NULL;
			}
			if (rc_err(ibv_post_recv(qp[i].qp, wr, &bad)))
				failf(W, "ibv_post_recv(held QP)", errno, "%s", "");
		}
		if (types[i] == IBV_QPT_UD) {
			mgid_v6(&g, 0x40 + i);
			mc_attach(W, &qp[i], &g);
			mgid_v4(&g, 0x40 + W->id, i);
			mc_attach(W, &qp[i], &g);
		}
	}
	/* the last RC QP goes to ERR: its receives are flushed and not polled */
	if (qp[5].qp)
		qp_to(W, &qp[5], IBV_QPS_ERR);
	/* and two RC QPs busy retrying their sends */
	rc_busy_qp(W, &busy[0], pd, &cq[1], false);
	rc_busy_qp(W, &busy[1], pd, &cq[1], true);
	for (i = 0; i < 2; i++) {
		const struct gident *sg = &W->gid[rnd(W, W->ngid)];

		ah_create(W, pd, sg, &sg->gid, true, "held");
	}
	if (!opt.no_mr && !W->mr_unsupported) {
		mr_reg(W, &mr[0], pd, 8192, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
		mr_reg(W, &mr[1], pd, 100000, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_MW_BIND);
	}
	mw_alloc(W, pd, IBV_MW_TYPE_1);
	mw_alloc(W, pd, IBV_MW_TYPE_2);

	/* a second context, closed with its objects alive */
	errno = 0;
	ctx2 = ibv_open_device(W->dev);
	if (!ctx2) {
		failf(W, "ibv_open_device(held context)", ptr_err(ctx2), "%s", "");
	} else {
		struct ibv_pd *pd2 = ibv_alloc_pd(ctx2);
		struct ibv_cq *cq2 = ibv_create_cq(ctx2, 16, NULL, NULL, 0);
		struct ibv_qp_init_attr ia = { .qp_type = IBV_QPT_UD, .cap = cap };

		created(W, K_UCTX);
		if (!pd2 || !cq2) {
			failf(W, "ibv_alloc_pd/ibv_create_cq(held context)", errno, "%s", "");
		} else {
			created(W, K_PD);
			created(W, K_CQ);
			ia.send_cq = ia.recv_cq = cq2;
			if (ibv_create_qp(pd2, &ia))
				created(W, K_QP);
			else
				failf(W, "ibv_create_qp(held context)", errno, "%s", "");
		}
		/* libibverbs closes the command fd; the rings stay mapped */
		ibv_close_device(ctx2);
	}
done:
	k = 0;
	for (i = 0; i < K_MAX; i++)
		k += W->st->created[i] - W->st->destroyed[i];
	return k - before;
}

/* ---- worker and main ------------------------------------------------------- */

static int load_gids(struct worker *W)
{
	struct ibv_gid_entry *ent;
	ssize_t n;
	int i, j;
	bool used[256] = { false };

	ent = calloc(W->pa.gid_tbl_len + 1, sizeof(*ent));
	if (!ent)
		return -1;
	n = ibv_query_gid_table(W->ctx, ent, W->pa.gid_tbl_len + 1, 0);
	if (n < 0) {
		failf(W, "ibv_query_gid_table", (int)-n, "%s", "");
		free(ent);
		return -1;
	}
	W->ngid = 0;
	for (i = 0; i < n && W->ngid < MAX_GIDS; i++) {
		if (ent[i].port_num != 1)
			continue;
		W->gid[W->ngid].index = ent[i].gid_index;
		W->gid[W->ngid].gid = ent[i].gid;
		W->gid[W->ngid].v4 = gid_is_v4mapped(&ent[i].gid);
		if (ent[i].gid_index < ARRAY_SIZE(used))
			used[ent[i].gid_index] = true;
		W->ngid++;
	}
	free(ent);
	W->empty_gid_index = -1;
	for (j = 0; j < W->pa.gid_tbl_len && j < (int)ARRAY_SIZE(used); j++)
		if (!used[j]) {
			W->empty_gid_index = j;
			break;
		}
	/* the same GIDs through the single-entry query */
	for (i = 0; i < W->ngid; i++) {
		union ibv_gid g;

		if (ibv_query_gid(W->ctx, 1, W->gid[i].index, &g))
			failf(W, "ibv_query_gid", errno, "index %d", W->gid[i].index);
		else
			CHECK(W, !memcmp(&g, &W->gid[i].gid, sizeof(g)), "ibv_query_gid",
			      "index %d differs from ibv_query_gid_table", W->gid[i].index);
	}
	return W->ngid ? 0 : -1;
}

static int worker_main(int id, struct wstats *st, pid_t parent)
{
	struct ibv_device **list;
	struct worker W;
	double t0 = now();
	int i, n, err;

	memset(&W, 0, sizeof(W));
	W.id = id;
	W.st = st;
	W.iter = -1;
	W.rng = (opt.seed * 1000003ULL + id * 7919ULL) | 1;
	st->pid = getpid();

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(3);

	list = ibv_get_device_list(&n);
	if (!list) {
		failf(&W, "ibv_get_device_list", errno, "%s", "");
		return 1;
	}
	for (i = 0; i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), opt.dev))
			W.dev = list[i];
	if (!W.dev) {
		failf(&W, "ibv_get_device_list", 0, "no device %s", opt.dev);
		return 1;
	}
	errno = 0;
	W.ctx = ibv_open_device(W.dev);
	if (!W.ctx) {
		failf(&W, "ibv_open_device", ptr_err(W.ctx), "%s", opt.dev);
		return 1;
	}
	created(&W, K_UCTX);
	err = rc_err(ibv_query_device(W.ctx, &W.da));
	if (err) {
		failf(&W, "ibv_query_device", err, "%s", "");
		return 1;
	}
	{
		struct ibv_device_attr_ex dx;

		memset(&dx, 0, sizeof(dx));
		if (!ibv_query_device_ex(W.ctx, NULL, &dx))
			W.odp = (dx.odp_caps.general_caps & IBV_ODP_SUPPORT) &&
				(dx.odp_caps.per_transport_caps.rc_odp_caps & IBV_ODP_SUPPORT_RECV);
	}
	W.srq_resize = W.da.device_cap_flags & IBV_DEVICE_SRQ_RESIZE;
	if (!W.srq_resize && id == 0)
		printf("device %s: no IBV_DEVICE_SRQ_RESIZE: SRQs are not resized\n", opt.dev);
	err = rc_err(ibv_query_port(W.ctx, 1, &W.pa));
	if (err) {
		failf(&W, "ibv_query_port", err, "%s", "");
		return 1;
	}
	CHECK(&W, W.pa.state == IBV_PORT_ACTIVE, "ibv_query_port", "port state %d", W.pa.state);
	if (load_gids(&W)) {
		failf(&W, "ibv_query_gid_table", 0, "no usable GID on port 1");
		return 1;
	}
	if (id == 0) {
		char s[INET6_ADDRSTRLEN];

		printf("device %s: max_cqe %d max_qp_wr %d max_sge %d max_srq_wr %d max_srq_sge %d "
		       "max_qp_rd_atom %d max_qp_init_rd_atom %d comp_vectors %d gid_tbl_len %d%s\n",
		       opt.dev, W.da.max_cqe, W.da.max_qp_wr, W.da.max_sge, W.da.max_srq_wr,
		       W.da.max_srq_sge, W.da.max_qp_rd_atom, W.da.max_qp_init_rd_atom,
		       W.ctx->num_comp_vectors, W.pa.gid_tbl_len, W.odp ? " odp" : "");
		for (i = 0; i < W.ngid; i++) {
			gid_str(&W.gid[i].gid, s, sizeof(s));
			printf("device %s: gid %d %s\n", opt.dev, W.gid[i].index, s);
		}
		fflush(stdout);
	}
	{
		int fl = fcntl(W.ctx->async_fd, F_GETFL);

		if (fl < 0 || fcntl(W.ctx->async_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			failf(&W, "fcntl(async_fd, O_NONBLOCK)", errno, "%s", "");
			return 1;
		}
	}
	W.chan = chan_create(&W);
	if (!W.chan)
		return 1;

	for (W.iter = 0; W.iter < opt.iters; W.iter++) {
		iteration(&W);
		if (W.iter % 25 == 12)
			second_context(&W);
		if (W.iter % 10 == 5)
			burst(&W);
		if (W.iter == 2)
			cq_max(&W);
		if (W.iter == 3)
			mcast_group_limit(&W);
		st->iters = W.iter + 1;
		if (W.iter == 0) {
			printf("worker %d: running (pid %d)\n", id, (int)getpid());
			fflush(stdout);
		}
		if (opt.max_seconds && now() - t0 > opt.max_seconds) {
			printf("worker %d: time limit %ds reached after %ld iterations\n", id,
			       opt.max_seconds, W.iter + 1);
			W.iter++;
			break;
		}
	}

	if (opt.leak) {
		int held = hold_objects(&W);

		st->holding = held;
		printf("worker %d: holding %d objects (pid %d)\n", id, held, (int)getpid());
		fflush(stdout);
		if (opt.hold) {
			/* SIGUSR1 ends the hold early (sleep returns) */
			struct sigaction sa;

			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = hold_wake;
			sigaction(SIGUSR1, &sa, NULL);
			sleep(opt.hold);
		}
		st->finished = 1;
		return st->errors ? 1 : 0;
	}

	chan_destroy(&W, W.chan);
	err = rc_err(ibv_close_device(W.ctx));
	if (err)
		failf(&W, "ibv_close_device", err, "%s", "");
	else
		destroyed(&W, K_UCTX);
	ibv_free_device_list(list);
	st->finished = 1;
	return st->errors ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: objstress [options]\n"
		"  -d DEV           RDMA device (default rxe0)\n"
		"  -p NPROC         worker processes (default 3, max %d)\n"
		"  -n ITER          iterations per worker (default 200)\n"
		"  -s SEED          random seed (default 1); worker w uses a seed derived from it\n"
		"  -T SECONDS       stop iterating after this long (default: no limit)\n"
		"  --no-mr          no memory registrations\n"
		"  --no-mw          no memory windows\n"
		"  --leak-on-exit   end by building a set of live objects and exit holding them\n"
		"  --hold SECONDS   with --leak-on-exit: sleep this long before exiting\n"
		"                   (SIGUSR1 to a worker ends its hold early)\n"
		"  --max-fail N     print at most N failures per worker (default 40)\n"
		"  -v               log every step\n"
		"Exit status 0 only if every check in every worker passed.\n", MAX_WORKERS);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "no-mr", no_argument, NULL, 'M' },
		{ "no-mw", no_argument, NULL, 'W' },
		{ "leak-on-exit", no_argument, NULL, 'L' },
		{ "hold", required_argument, NULL, 'H' },
		{ "max-fail", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long tc = 0, td = 0, te = 0, tk[K_MAX] = { 0 }, held = 0;
	struct wstats *st;
	pid_t parent = getpid();
	int c, i, k, bad = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "d:p:n:s:T:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'd': opt.dev = optarg; break;
		case 'p': opt.nproc = strtol(optarg, &end, 0); if (*end) goto badarg; break;
		case 'n': opt.iters = strtol(optarg, &end, 0); if (*end) goto badarg; break;
		case 's': opt.seed = strtoul(optarg, &end, 0); if (*end) goto badarg; break;
		case 'T': opt.max_seconds = strtol(optarg, &end, 0); if (*end) goto badarg; break;
		case 'H': opt.hold = strtol(optarg, &end, 0); if (*end) goto badarg; break;
		case 'F': opt.max_fail_print = strtol(optarg, &end, 0); if (*end) goto badarg; break;
		case 'M': opt.no_mr = true; break;
		case 'W': opt.no_mw = true; break;
		case 'L': opt.leak = true; break;
		case 'v': opt.verbose = true; break;
		case 'h': usage(stdout); return 0;
		default:
badarg:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || opt.nproc < 1 || opt.nproc > MAX_WORKERS || opt.iters < 0) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	st = mmap(NULL, sizeof(*st) * opt.nproc, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	memset(st, 0, sizeof(*st) * opt.nproc);
	printf("objstress: device %s, %d workers x %ld iterations, seed %lu%s%s%s\n", opt.dev,
	       opt.nproc, opt.iters, opt.seed, opt.leak ? ", leak-on-exit" : "",
	       opt.no_mr ? ", no MR" : "", opt.no_mw ? ", no MW" : "");
	fflush(stdout);

	for (i = 0; i < opt.nproc; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (!pid) {
			int rc = worker_main(i, &st[i], parent);

			fflush(stdout);
			_exit(rc);
		}
		st[i].pid = pid;
	}
	for (i = 0; i < opt.nproc; i++) {
		int status;
		pid_t pid = waitpid(st[i].pid, &status, 0);
		char how[64];

		if (pid < 0) {
			snprintf(how, sizeof(how), "waitpid: %s", strerror(errno));
			bad++;
		} else if (WIFEXITED(status)) {
			snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(status));
			if (WEXITSTATUS(status))
				bad++;
		} else {
			snprintf(how, sizeof(how), "killed by signal %d (%s)", WTERMSIG(status),
				 strsignal(WTERMSIG(status)));
			bad++;
		}
		unsigned long wc = 0, wd = 0;

		for (k = 0; k < K_MAX; k++) {
			wc += st[i].created[k];
			wd += st[i].destroyed[k];
			tk[k] += st[i].created[k];
		}
		printf("worker %d pid %d: %s, iterations %ld, created %lu destroyed %lu errors %lu "
		       "(checks %lu, bad-input checks %lu, QP walks %lu, flushed WRs %lu, mcast attaches %lu, "
		       "async events %lu)\n",
		       i, (int)st[i].pid, how, st[i].iters, wc, wd, st[i].errors, st[i].checks,
		       st[i].bad_input_checks, st[i].qp_walks, st[i].flushed, st[i].mcast_attach,
		       st[i].async_events);
		printf("worker %d objects (created/destroyed):", i);
		for (k = 0; k < K_MAX; k++)
			printf(" %s %lu/%lu", kind_name[k], st[i].created[k], st[i].destroyed[k]);
		printf("%s%s%s\n", st[i].mr_unsupported ? "; MR unsupported" : "",
		       st[i].mw_unsupported[1] ? "; MW type 1 unsupported" : "",
		       st[i].mw_unsupported[2] ? "; MW type 2 unsupported" : "");
		if (opt.leak) {
			printf("worker %d: held %d objects at exit (leak-on-exit)\n", i, st[i].holding);
			held += wc - wd;
		} else if (st[i].finished && wc != wd) {
			printf("FAIL worker %d: %lu objects created but not destroyed\n", i, wc - wd);
			bad++;
		}
		if (!st[i].finished && WIFEXITED(status) && !WEXITSTATUS(status)) {
			printf("FAIL worker %d: exited without finishing\n", i);
			bad++;
		}
		tc += wc;
		td += wd;
		te += st[i].errors;
	}
	printf("total: created %lu destroyed %lu errors %lu", tc, td, te);
	for (k = 0; k < K_MAX; k++)
		printf("%s%s %lu", k ? " " : " (", kind_name[k], tk[k]);
	printf(" created)\n");
	if (opt.leak)
		printf("total: left to the kernel at exit %lu\n", held);
	printf("objstress: %s\n", !bad && !te ? "PASS" : "FAIL");
	return !bad && !te ? 0 : 1;
}
