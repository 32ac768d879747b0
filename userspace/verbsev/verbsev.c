// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * verbsev: device life cycle and asynchronous event checks for one RDMA
 * device (run in the test guest by tests/cases/031-verbs-lifetime.sh and
 * tests/cases/032-async-events.sh).
 *
 *   verbsev -d DEV hold
 *	Opens DEV and creates a PD, a CQ on a completion channel, an SRQ with
 *	receives posted, an RC QP (INIT) on that SRQ, a UD QP (RTS) with
 *	receives posted, an MR and, when the port has a RoCE v2 GID, an AH.
 *	Prints "verbsev: holding ..." and then waits, holding all of it,
 *	until a signal ends the process (or -T seconds pass; exit 0 then).
 *	It never destroys anything itself: the kernel has to clean up.
 *
 *   verbsev -d DEV srq-limit
 *	A UD QP on an SRQ sends to itself.  With 16 receives posted and the
 *	limit armed at 8: 8 receives consumed must raise no event; the 9th
 *	(7 left, below the limit) must raise IBV_EVENT_SRQ_LIMIT_REACHED for
 *	that SRQ, after which the SRQ reads back disarmed (srq_limit 0) and
 *	consuming more raises nothing.  Every received payload is compared.
 *
 *   verbsev -d DEV cq-overflow
 *	A UD QP whose send CQ holds C entries (C = the cqe the device
 *	returned) posts C + 4 signalled sends.  IBV_EVENT_CQ_ERR must come
 *	for that CQ, and the CQ must then hold exactly the first C
 *	completions (wr_id 0..C-1 in order, successful): a full CQ is never
 *	overwritten and never grows.
 *
 *   verbsev -d DEV send-inv
 *	Two RC QPs on DEV connected to each other (loopback).  A SEND
 *	without invalidate must complete on both sides successfully, payload
 *	compared; then a SEND with Invalidate naming the R_Key of an ordinary
 *	MR (which cannot be invalidated) must complete the receive with
 *	IBV_WC_REM_INV_REQ_ERR and leave the receiving QP in ERR; the MR
 *	still deregisters normally.
 *
 *   verbsev -d DEV uc-errors
 *	Two UC QPs on DEV connected to each other (loopback, path MTU 1024).
 *	Remote errors the responder has to drop must not break the receiving
 *	QP (UC has no NAK; the sender's WQE completes successfully): a
 *	4000-byte RDMA WRITE running off the end of a 2048-byte MR and a
 *	3000-byte WRITE naming the R_Key of a deregistered MR change no byte
 *	anywhere (the whole RETH range is checked before anything lands), a
 *	good multi-packet WRITE after each lands intact, and the receiving QP
 *	is still in RTS.  A local error on the receive side ends the QP, as
 *	on stock rxe: a 200-byte SEND into 64-byte receives completes the
 *	first receive in error (stock: local QP operation error; ours: local
 *	length error), flushes the second and leaves the receiver in ERR; the
 *	sender stays in RTS.
 *
 *   verbsev -d DEV uc-rnr
 *	The same UC pair: a 3000-byte RDMA WRITE with immediate finds no
 *	receive posted.  UC has no RNR NAK, so the message is dropped; a good
 *	4000-byte WRITE after it must land intact and the receiver stay in
 *	RTS.  (Stock 6.1 fails this: its UC responder then drops the messages
 *	that follow as out of sequence.)
 *
 *   verbsev -d DEV uc-loss
 *	Ours only (its transmit fault injection in <debugfs>/rdma_rxe).  The
 *	same UC pair: a 3000-byte SEND loses its middle packet; it must
 *	complete nothing on the receiver, and the next SEND must complete the
 *	receive the broken one had been filling, with its own bytes; a third
 *	lands in the next receive.  Then a 3000-byte WRITE with immediate
 *	loses its middle packet: no completion; the next one completes the
 *	receive and its bytes land.  out_of_seq_request grows by the 2 gaps and
 *	both QPs stay in RTS.
 *
 *   verbsev -d DEV rc-reset
 *	Two RC QPs on DEV connected to each other (loopback, path MTU 1024).
 *	100 rounds: the sender posts 16 SENDs of 4000 bytes in one
 *	ibv_post_send() on one thread (that system call also runs the
 *	receiver's transport for its loopback packets) while the main thread
 *	moves the receiver to RESET at a random moment within the time a
 *	burst takes (measured by an uncut round first); then the sender goes
 *	to RESET too, both CQs are drained, and both QPs are connected again
 *	with new PSNs.  Two 3000-byte SENDs must then complete the two
 *	receives posted for them, in order, successfully, with their bytes,
 *	and nothing else may complete: no state of the interrupted run
 *	(a half-filled receive, an old PSN, an in-flight WQE) may survive
 *	the reset.  At least one reset must have cut a burst short.  Where
 *	<debugfs>/rdma_rxe/resp_delay_us exists (ours), it is set to 1000
 *	for the run: the responder then sleeps between reading the QP state
 *	and acting on a packet, so most resets come while a run holds state
 *	from before them.
 *
 *   verbsev -d DEV rc-reset-asleep
 *	Ours only (its debugfs knob odp_copy_delay_ms).  The same RC pair,
 *	RNR retries unlimited, ACK timeout 1 s, the receive buffers in an
 *	ODP MR.  4 rounds: a one-packet SEND at PSN P reaches the receiver's
 *	responder, which takes the receive and then sleeps 2 s in the ODP
 *	copy (the knob: a slow fault), holding the receiver's transport.
 *	Meanwhile both QPs are reset and connected again with the sender
 *	starting at the same PSN P, and a new SEND is posted with no receive
 *	for it yet; in odd rounds the receiver first goes through INIT, a
 *	full RQ and ERR, whose flush brings the RQ's consumer index round to
 *	the sleeper's slot.  The old SEND's bytes must not have landed when
 *	the new SEND is posted (so the sleep spans the reconnection) and must
 *	land after (the sleeper may finish its memory access).  Nothing of
 *	the old connection may reach the new one: no ACK of the old packet
 *	may complete the new SEND (it must stay outstanding, RNR-retrying,
 *	until its receive is posted 0.5 s later, then land there with its
 *	bytes), and the old receive must never complete.
 *
 *   verbsev -d DEV srq-flush
 *	Ours only (its transmit fault injection).  An RC pair whose receiver
 *	takes its receives from an SRQ (3 posted): a 2000-byte SEND loses
 *	its last packet (every time it is sent), so the receiver holds the
 *	SRQ receive its first packet took; nothing may complete.  Moved to
 *	ERR, the receiver must complete exactly that receive (the first
 *	posted) with WR_FLUSH_ERR; the other two stay in the SRQ.
 *
 *   verbsev -d DEV rd-depth
 *	Ours only (its transmit fault injection).  RC pairs on DEV, READs
 *	and FETCH_ADDs from a to b.  Initiator depth: with max_rd_atomic 3,
 *	8 READs (then 5 FETCH_ADDs) posted in one call while every READ
 *	request (FETCH_ADD) we send is lost: after 0.5 s exactly 3 must have
 *	gone out (xmit_dropped); the loss stops, the resend after the 4 s
 *	ACK timeout completes all of them in order, bytes and results
 *	checked.  With max_rd_atomic 0 a READ completes with a local QP
 *	operation error and the QP is in ERR (stock rxe waits for ever).
 *	Responder resources: with max_rd_atomic and max_dest_rd_atomic 64,
 *	64 FETCH_ADDs of 1 while every 3rd ATOMIC ACKNOWLEDGE is lost: all
 *	must complete in order, the counter end at 64 and FETCH_ADD i return
 *	i (a duplicate executed twice, or dropped because its result was no
 *	longer kept, fails this).
 *
 *   verbsev -d DEV fence
 *	An RC pair: a READ fills a buffer that a WRITE posted right after it
 *	sends on.  With IBV_SEND_FENCE on the WRITE (5 rounds) the WRITE must
 *	carry the READ's bytes; unfenced rounds first are a control (the
 *	number of stale WRITEs is printed, not judged).
 *
 *   verbsev -d DEV local-inv
 *	An RC pair: a posts BIND_MW of a type 2 window over its memory and a
 *	SEND of the new R_Key in one call; b's WRITE through it must land.
 *	Then a posts a 16 KiB WRITE, a LOCAL_INV of the window and a SEND:
 *	they complete in that order, and b's WRITE through the window after
 *	the SEND arrives must fail with a remote access error, changing
 *	nothing.
 *
 *   verbsev -d DEV fair
 *	Three RC pairs each stream 1024 WRITEs of 32 KiB (posted in one call
 *	per thread); once each has completed something, a fourth pair posts
 *	one 64-byte WRITE.  It must complete before any stream is half done,
 *	and every stream must be a quarter done when the first finishes.
 *
 *   verbsev -d DEV wc-errors
 *	RC pairs, one per error: a SEND with a dead lkey (requester: local
 *	protection error), a 200-byte SEND into a 64-byte receive (remote
 *	invalid request), a SEND into a receive with a dead lkey (remote
 *	operation error), a WRITE with a dead rkey (remote access error), a
 *	SEND with no receive and rnr_retry 0 (RNR retry exceeded), a SEND to
 *	a peer moved to RESET with retry_cnt 2 (retry exceeded).  The
 *	requester's status must be that, or stock 6.1's (local QP operation
 *	error for the dead lkey, remote operation error for the long SEND),
 *	and its QP in ERR; where the responder has a receive, it must
 *	complete in error and its QP be in ERR.  Both statuses are printed
 *	("requester: CASE STATUS", "responder: CASE STATUS").
 *
 *   verbsev -d DEV ack-coalesce
 *	An RC pair, path MTU 1024: 4 WRITEs of 64 KiB posted together must
 *	land and make sent_pkts grow by their 256 packets plus 1 to 8
 *	acknowledges (AckReq on a message's last packet, not an ACK per
 *	packet).
 *
 *   verbsev -d DEV rd-no-res
 *	An RC pair whose responder has max_dest_rd_atomic 0: a READ, then
 *	(on a fresh pair) a FETCH_ADD, must complete with a remote invalid
 *	request error, nothing read or added (as stock rxe).
 *
 * Output: "ok: ..." or "FAIL: ..." per check, "verbsev: PASS" or
 * "verbsev: FAIL (N)" last.  Exit status 0 only if every check passed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#define PORT		1
#define QKEY		0x1ee7c0deu
#define MSG_LEN		64
#define GRH_LEN		40
#define SLOT_LEN	(GRH_LEN + MSG_LEN)

static const char *dev_name;
static int wait_secs = 20;	/* -t: longest wait for a completion or event */
static int hold_secs = 600;	/* -T: hold mode gives up after this */
static int failures;
static int rnr_retry = 3;	/* qp_connect*(): 7 retries for ever */
static int ack_timeout = 14;	/* qp_connect*(): 4.096 us << this */
static int retry_cnt = 3;	/* qp_connect*(): 7 retries for ever */
static int conn_rd = 1;		/* qp_connect*(): max_rd_atomic */
static int conn_dest_rd = 1;	/* qp_connect*(): max_dest_rd_atomic */

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* check(cond, what...): one line per check, counted when it fails. */
static bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	fputs(ok ? "ok: " : "FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
	return ok;
}

static void __attribute__((noreturn)) die(const char *fmt, ...)
{
	va_list ap;

	fputs("FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\nverbsev: FAIL (%d)\n", failures + 1);
	fflush(stdout);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct ibv_context *open_dev(void)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list)
		die("ibv_get_device_list: %s", strerror(errno));
	for (i = 0; i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), dev_name))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (!ctx)
		die("cannot open device %s", dev_name);
	return ctx;
}

/* A RoCE v2 GID of the port, IPv4-mapped if there is one; -1 if none. */
static int find_gid(struct ibv_context *ctx, union ibv_gid *gid)
{
	static const uint8_t v4pfx[12] = { [10] = 0xff, [11] = 0xff };
	struct ibv_port_attr pa;
	struct ibv_gid_entry e;
	int i, best = -1;

	if (ibv_query_port(ctx, PORT, &pa))
		die("ibv_query_port: %s", strerror(errno));
	for (i = 0; i < pa.gid_tbl_len; i++) {
		if (ibv_query_gid_ex(ctx, PORT, i, &e, 0))
			continue;
		if (e.gid_type != IBV_GID_TYPE_ROCE_V2)
			continue;
		if (best < 0 || !memcmp(e.gid.raw, v4pfx, sizeof(v4pfx))) {
			best = i;
			*gid = e.gid;
			if (!memcmp(e.gid.raw, v4pfx, sizeof(v4pfx)))
				break;
		}
	}
	return best;
}

static struct ibv_qp *ud_qp(struct ibv_pd *pd, struct ibv_cq *scq,
			    struct ibv_cq *rcq, struct ibv_srq *srq,
			    uint32_t max_send, uint32_t max_recv)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = scq,
		.recv_cq = rcq,
		.srq = srq,
		.qp_type = IBV_QPT_UD,
		.sq_sig_all = 0,
		.cap = {
			.max_send_wr = max_send,
			.max_recv_wr = srq ? 0 : max_recv,
			.max_send_sge = 1,
			.max_recv_sge = srq ? 0 : 1,
		},
	};
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = PORT,
		.qkey = QKEY,
	};
	struct ibv_qp *qp;

	qp = ibv_create_qp(pd, &ia);
	if (!qp)
		die("ibv_create_qp(UD): %s", strerror(errno));
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_QKEY))
		die("UD QP to INIT: %s", strerror(errno));
	a.qp_state = IBV_QPS_RTR;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE))
		die("UD QP to RTR: %s", strerror(errno));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0x123;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN))
		die("UD QP to RTS: %s", strerror(errno));
	return qp;
}

static struct ibv_ah *self_ah(struct ibv_pd *pd, int gidx,
			      const union ibv_gid *gid)
{
	struct ibv_ah_attr aa = {
		.is_global = 1,
		.port_num = PORT,
		.grh = {
			.dgid = *gid,
			.sgid_index = gidx,
			.hop_limit = 64,
		},
	};
	struct ibv_ah *ah;

	ah = ibv_create_ah(pd, &aa);
	if (!ah)
		die("ibv_create_ah (GID index %d): %s", gidx, strerror(errno));
	return ah;
}

static void post_recv(struct ibv_qp *qp, struct ibv_srq *srq,
		      struct ibv_mr *mr, char *buf, uint64_t id)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)buf,
		.length = SLOT_LEN,
		.lkey = mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = id, .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad;
	int err;

	err = srq ? ibv_post_srq_recv(srq, &wr, &bad) :
		    ibv_post_recv(qp, &wr, &bad);
	if (err)
		die("post receive %" PRIu64 ": %s", id, strerror(err));
}

/* Fill the send buffer with message @seq and post it to our own QP. */
static int post_send(struct ibv_qp *qp, struct ibv_ah *ah, struct ibv_mr *mr,
		     char *buf, uint64_t id, bool signaled)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)buf,
		.length = MSG_LEN,
		.lkey = mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = id,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_SEND,
		.send_flags = signaled ? IBV_SEND_SIGNALED : 0,
		.wr.ud = { .ah = ah, .remote_qpn = qp->qp_num,
			   .remote_qkey = QKEY },
	};
	struct ibv_send_wr *bad;

	return ibv_post_send(qp, &wr, &bad);
}

static void fill_msg(char *buf, uint64_t seq)
{
	int i;

	for (i = 0; i < MSG_LEN; i++)
		buf[i] = (char)(seq * 37 + i * 11 + 1);
}

/*
 * Poll @cq until @n completions came or wait_secs passed; store them in
 * @wc.  Returns how many came.
 */
static int poll_n(struct ibv_cq *cq, struct ibv_wc *wc, int n)
{
	double end = now() + wait_secs;
	int got = 0, r;

	while (got < n) {
		r = ibv_poll_cq(cq, n - got, wc + got);
		if (r < 0)
			die("ibv_poll_cq: %d", r);
		got += r;
		if (got < n) {
			if (now() > end)
				break;
			usleep(1000);
		}
	}
	return got;
}

/* The QP's state as ibv_query_qp reports it (-1: the query failed). */
static int qp_state(struct ibv_qp *qp)
{
	struct ibv_qp_init_attr qi;
	struct ibv_qp_attr qa;

	memset(&qa, 0, sizeof(qa));
	if (ibv_query_qp(qp, &qa, IBV_QP_STATE, &qi))
		return -1;
	return qa.qp_state;
}

/*
 * Next async event within @secs seconds (0: none pending).  Returns false
 * when none came.  The caller acks it.
 */
static bool next_event(struct ibv_context *ctx, struct ibv_async_event *ev,
		       double secs)
{
	struct pollfd p = { .fd = ctx->async_fd, .events = POLLIN };
	int r;

	r = poll(&p, 1, (int)(secs * 1000));
	if (r < 0)
		die("poll(async_fd): %s", strerror(errno));
	if (r == 0)
		return false;
	if (ibv_get_async_event(ctx, ev))
		die("ibv_get_async_event: %s", strerror(errno));
	return true;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl(O_NONBLOCK): %s", strerror(errno));
}

/* ------------------------------------------------------------------------ */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int run_hold(void)
{
	struct ibv_context *ctx = open_dev();
	struct ibv_comp_channel *ch;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_srq *srq;
	struct ibv_qp *rc, *ud;
	struct ibv_mr *mr;
	struct ibv_ah *ah = NULL;
	union ibv_gid gid;
	struct ibv_srq_init_attr si = { .attr = { .max_wr = 8, .max_sge = 1 } };
	struct ibv_qp_init_attr rci = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_send_sge = 1 },
	};
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = PORT,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE,
	};
	double end;
	char *buf;
	int gidx, i;

	ch = ibv_create_comp_channel(ctx);
	pd = ibv_alloc_pd(ctx);
	if (!ch || !pd)
		die("comp channel / PD: %s", strerror(errno));
	cq = ibv_create_cq(ctx, 32, NULL, ch, 0);
	if (!cq || ibv_req_notify_cq(cq, 0))
		die("CQ: %s", strerror(errno));
	srq = ibv_create_srq(pd, &si);
	if (!srq)
		die("SRQ: %s", strerror(errno));
	buf = aligned_alloc(4096, 64 * 1024);
	if (!buf)
		die("out of memory");
	memset(buf, 0, 64 * 1024);
	mr = ibv_reg_mr(pd, buf, 64 * 1024, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	if (!mr)
		die("MR: %s", strerror(errno));
	rci.send_cq = cq;
	rci.recv_cq = cq;
	rci.srq = srq;
	rc = ibv_create_qp(pd, &rci);
	if (!rc || ibv_modify_qp(rc, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
				 IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		die("RC QP to INIT: %s", strerror(errno));
	ud = ud_qp(pd, cq, cq, NULL, 4, 4);
	for (i = 0; i < 4; i++) {
		post_recv(NULL, srq, mr, buf + i * SLOT_LEN, i);
		post_recv(ud, NULL, mr, buf + (8 + i) * SLOT_LEN, 100 + i);
	}
	gidx = find_gid(ctx, &gid);
	if (gidx >= 0)
		ah = self_ah(pd, gidx, &gid);
	say("verbsev: holding pd, cq, srq, rc qp %u, ud qp %u, mr, %s (pid %d)",
	    rc->qp_num, ud->qp_num, ah ? "ah" : "no ah (no RoCE v2 GID)",
	    (int)getpid());

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	end = now() + hold_secs;
	while (!stop && now() < end)
		sleep(1);
	say("verbsev: %s; exiting without destroying anything",
	    stop ? "signalled" : "hold time over");
	return 0;
}

/* What srq-limit's self-sends need. */
struct loop {
	struct ibv_qp *qp;
	struct ibv_cq *cq;
	struct ibv_ah *ah;
	struct ibv_mr *mr;
	char *rbuf;	/* receive slots, SLOT_LEN each, slot i = wr_id i */
	char *sbuf;	/* send buffer */
	uint64_t seq;	/* next message number */
};

/*
 * Send @k messages to ourselves, one at a time; for each, its send and its
 * receive completion must come and the received payload must be the one
 * sent.  Returns the number of receives consumed.
 */
static int send_and_receive(struct loop *L, int k)
{
	struct ibv_wc wc;
	int j, s = 0, r = 0, intact = 0, got;

	for (j = 0; j < k; j++, L->seq++) {
		fill_msg(L->sbuf, L->seq);
		if (post_send(L->qp, L->ah, L->mr, L->sbuf, 1000 + L->seq, true))
			die("ibv_post_send: %s", strerror(errno));
		for (got = 0; got < 2; got++) {
			if (poll_n(L->cq, &wc, 1) != 1)
				break;
			if (wc.status != IBV_WC_SUCCESS) {
				check(false, "message %" PRIu64 ": completion "
				      "wr_id %" PRIu64 ": %s", L->seq, wc.wr_id,
				      ibv_wc_status_str(wc.status));
				continue;
			}
			if (wc.opcode == IBV_WC_SEND) {
				s++;
				continue;
			}
			r++;
			if (wc.byte_len == SLOT_LEN &&
			    !memcmp(L->rbuf + wc.wr_id * SLOT_LEN + GRH_LEN,
				    L->sbuf, MSG_LEN))
				intact++;
			else
				check(false, "message %" PRIu64 " in receive %"
				      PRIu64 ": byte_len %u, payload %s",
				      L->seq, wc.wr_id, wc.byte_len,
				      "differs");
		}
		if (got < 2)
			break;
	}
	check(s == k && r == k && intact == k, "%d send(s) to ourselves: %d "
	      "send and %d receive completions, %d payload(s) intact", k, s, r,
	      intact);
	return r;
}

static int run_srq_limit(void)
{
	struct ibv_context *ctx = open_dev();
	struct ibv_srq_init_attr si = { .attr = { .max_wr = 16, .max_sge = 1 } };
	struct ibv_srq_attr sa;
	struct ibv_async_event ev;
	struct loop L;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_srq *srq;
	struct ibv_qp *qp;
	struct ibv_mr *mr;
	struct ibv_ah *ah;
	union ibv_gid gid;
	char *buf, *sbuf;
	int gidx, i, nrecv = 0, posted = 16, limit = 8;
	bool got;

	set_nonblock(ctx->async_fd);
	pd = ibv_alloc_pd(ctx);
	cq = ibv_create_cq(ctx, 64, NULL, NULL, 0);
	if (!pd || !cq)
		die("PD/CQ: %s", strerror(errno));
	srq = ibv_create_srq(pd, &si);
	if (!srq)
		die("ibv_create_srq(max_wr 16): %s", strerror(errno));
	check(si.attr.max_wr >= 16, "SRQ created with max_wr %u (asked 16)",
	      si.attr.max_wr);
	buf = aligned_alloc(4096, 64 * SLOT_LEN + 4096);
	if (!buf)
		die("out of memory");
	memset(buf, 0, 64 * SLOT_LEN + 4096);
	sbuf = buf + 64 * SLOT_LEN;
	mr = ibv_reg_mr(pd, buf, 64 * SLOT_LEN + 4096, IBV_ACCESS_LOCAL_WRITE);
	if (!mr)
		die("ibv_reg_mr: %s", strerror(errno));
	qp = ud_qp(pd, cq, cq, srq, 16, 0);
	gidx = find_gid(ctx, &gid);
	if (gidx < 0)
		die("port %d has no RoCE v2 GID", PORT);
	ah = self_ah(pd, gidx, &gid);
	for (i = 0; i < posted; i++)
		post_recv(NULL, srq, mr, buf + i * SLOT_LEN, i);
	L = (struct loop){ .qp = qp, .cq = cq, .ah = ah, .mr = mr,
			   .rbuf = buf, .sbuf = sbuf };

	sa.srq_limit = limit;
	check(!ibv_modify_srq(srq, &sa, IBV_SRQ_LIMIT),
	      "arm the SRQ limit at %d with %d receives posted", limit, posted);
	memset(&sa, 0, sizeof(sa));
	i = ibv_query_srq(srq, &sa);
	check(!i && sa.srq_limit == (uint32_t)limit,
	      "ibv_query_srq reads srq_limit %u (status %d)", sa.srq_limit, i);


	nrecv += send_and_receive(&L, posted - limit);
	got = next_event(ctx, &ev, 1.0);
	if (got) {
		check(false, "no async event with %d receives left (the limit): "
		      "got %s", posted - nrecv, ibv_event_type_str(ev.event_type));
		ibv_ack_async_event(&ev);
	} else {
		check(true, "no async event with %d receives left (the limit)",
		      posted - nrecv);
	}

	nrecv += send_and_receive(&L, 1);
	got = next_event(ctx, &ev, wait_secs);
	if (!check(got, "an async event once %d receives are left",
		   posted - nrecv))
		goto out;
	check(ev.event_type == IBV_EVENT_SRQ_LIMIT_REACHED &&
	      ev.element.srq == srq, "it is IBV_EVENT_SRQ_LIMIT_REACHED for our "
	      "SRQ (got %s)", ibv_event_type_str(ev.event_type));
	ibv_ack_async_event(&ev);
	memset(&sa, 0xff, sizeof(sa));
	i = ibv_query_srq(srq, &sa);
	check(!i && sa.srq_limit == 0,
	      "the SRQ reads back disarmed (srq_limit %u, status %d)",
	      sa.srq_limit, i);

	nrecv += send_and_receive(&L, 2);
	got = next_event(ctx, &ev, 1.0);
	if (got) {
		check(false, "no second event once disarmed: got %s",
		      ibv_event_type_str(ev.event_type));
		ibv_ack_async_event(&ev);
	} else {
		check(true, "no second event once disarmed (%d receives left)",
		      posted - nrecv);
	}
out:
	ibv_destroy_qp(qp);
	ibv_destroy_ah(ah);
	ibv_destroy_srq(srq);
	ibv_dereg_mr(mr);
	ibv_destroy_cq(cq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	free(buf);
	return 0;
}

static int run_cq_overflow(void)
{
	struct ibv_context *ctx = open_dev();
	struct ibv_async_event ev;
	struct ibv_wc wc[256];
	struct ibv_pd *pd;
	struct ibv_cq *scq, *rcq;
	struct ibv_qp *qp;
	struct ibv_mr *mr;
	struct ibv_ah *ah;
	union ibv_gid gid;
	char others[256] = "";
	char *buf;
	int gidx, cap, total, i, n, posted, cq_err = 0, in_order;
	double end;

	set_nonblock(ctx->async_fd);
	pd = ibv_alloc_pd(ctx);
	scq = ibv_create_cq(ctx, 4, NULL, NULL, 0);
	rcq = ibv_create_cq(ctx, 64, NULL, NULL, 0);
	if (!pd || !scq || !rcq)
		die("PD/CQs: %s", strerror(errno));
	cap = scq->cqe;
	check(cap >= 4 && cap <= 64, "send CQ asked for 4 entries holds %d",
	      cap);
	total = cap + 4;
	buf = aligned_alloc(4096, 4096);
	if (!buf)
		die("out of memory");
	memset(buf, 0x5a, 4096);
	mr = ibv_reg_mr(pd, buf, 4096, IBV_ACCESS_LOCAL_WRITE);
	if (!mr)
		die("ibv_reg_mr: %s", strerror(errno));
	qp = ud_qp(pd, scq, rcq, NULL, total, 1);
	gidx = find_gid(ctx, &gid);
	if (gidx < 0)
		die("port %d has no RoCE v2 GID", PORT);
	ah = self_ah(pd, gidx, &gid);

	/* No receives are posted: the messages are dropped at the target. */
	for (posted = 0; posted < total; posted++)
		if (post_send(qp, ah, mr, buf, posted, true))
			break;
	check(posted == total, "posted %d signalled sends (%d more than the "
	      "send CQ holds): %d accepted", total, total - cap, posted);

	/* Collect async events until a CQ_ERR for our CQ (or time out). */
	end = now() + wait_secs;
	while (!cq_err && now() < end) {
		if (!next_event(ctx, &ev, end - now()))
			break;
		if (ev.event_type == IBV_EVENT_CQ_ERR && ev.element.cq == scq) {
			cq_err++;
		} else if (strlen(others) < sizeof(others) - 40) {
			strcat(others, " ");
			strcat(others, ibv_event_type_str(ev.event_type));
		}
		ibv_ack_async_event(&ev);
	}
	check(cq_err, "IBV_EVENT_CQ_ERR for the send CQ%s%s",
	      others[0] ? "; other events:" : "", others);
	/*
	 * Let whatever else the overflow sets off settle: no new event for
	 * 2 s (stock rxe carries on with the remaining sends and drops each
	 * completion with an event of its own; ours moves the QP to the
	 * error state).
	 */
	while (next_event(ctx, &ev, 2.0)) {
		if (ev.event_type == IBV_EVENT_CQ_ERR && ev.element.cq == scq)
			cq_err++;
		else
			say("verbsev: also %s", ibv_event_type_str(ev.event_type));
		ibv_ack_async_event(&ev);
	}
	say("verbsev: %d CQ_ERR event(s) for the send CQ", cq_err);

	n = ibv_poll_cq(scq, 256, wc);
	in_order = 0;
	for (i = 0; i < n && i < 256; i++)
		if (wc[i].wr_id == (uint64_t)i &&
		    wc[i].status == IBV_WC_SUCCESS && wc[i].opcode == IBV_WC_SEND)
			in_order++;
	check(n == cap, "the full send CQ holds exactly %d completions (polled %d)",
	      cap, n);
	check(in_order == n && n > 0, "they are the first %d sends, in order, "
	      "successful (%d of %d are)", n, in_order, n);
	if (in_order != n)
		for (i = 0; i < n && i < 8; i++)
			say("verbsev: wc[%d] wr_id %" PRIu64 " status %s opcode %d",
			    i, wc[i].wr_id, ibv_wc_status_str(wc[i].status),
			    wc[i].opcode);
	/*
	 * Whatever comes after the drain may only be for the sends that did
	 * not fit (the spec leaves them undefined), never one delivered again.
	 */
	usleep(1000 * 1000);
	n = ibv_poll_cq(scq, 256, wc);
	in_order = 0;
	for (i = 0; i < n; i++)
		if (wc[i].wr_id < (uint64_t)cap)
			in_order++;
	check(n >= 0 && in_order == 0, "nothing delivered twice: %d late "
	      "completion(s), %d of them for a send already completed",
	      n, in_order);

	ibv_destroy_qp(qp);
	ibv_destroy_ah(ah);
	ibv_dereg_mr(mr);
	ibv_destroy_cq(rcq);
	ibv_destroy_cq(scq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	free(buf);
	return 0;
}

/*
 * Bring an RC or UC QP to RTS towards @dqpn on our own GID @gidx; it sends
 * from PSN @sq_psn and expects @rq_psn first.
 */
static void qp_connect_psn(struct ibv_qp *qp, uint32_t dqpn, int gidx,
			   const union ibv_gid *gid, uint32_t sq_psn,
			   uint32_t rq_psn)
{
	bool rc = qp->qp_type == IBV_QPT_RC;
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = PORT,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				   (rc ? IBV_ACCESS_REMOTE_READ |
					 IBV_ACCESS_REMOTE_ATOMIC : 0),
	};

	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		die("modify QP to INIT: %s", strerror(errno));
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = IBV_MTU_1024;
	a.dest_qp_num = dqpn;
	a.rq_psn = rq_psn;
	a.max_dest_rd_atomic = conn_dest_rd;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = *gid;
	a.ah_attr.grh.sgid_index = gidx;
	a.ah_attr.grh.hop_limit = 64;
	a.ah_attr.port_num = PORT;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  (rc ? IBV_QP_MAX_DEST_RD_ATOMIC |
				IBV_QP_MIN_RNR_TIMER : 0)))
		die("modify QP to RTR: %s", strerror(errno));
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = ack_timeout;
	a.retry_cnt = retry_cnt;
	a.rnr_retry = rnr_retry;
	a.sq_psn = sq_psn;
	a.max_rd_atomic = conn_rd;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			  (rc ? IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
				IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC : 0)))
		die("modify QP to RTS: %s", strerror(errno));
}

static void qp_connect(struct ibv_qp *qp, uint32_t dqpn, int gidx,
		       const union ibv_gid *gid)
{
	qp_connect_psn(qp, dqpn, gidx, gid, 0, 0);
}

/*
 * Two QPs of @ia's type on this device, @a on @cq_a and @b on @cq_b,
 * connected to each other (loopback) and in RTS.
 */
static void make_pair(struct ibv_pd *pd, struct ibv_qp_init_attr *ia,
		      struct ibv_cq *cq_a, struct ibv_cq *cq_b, int gidx,
		      const union ibv_gid *gid, struct ibv_qp **a,
		      struct ibv_qp **b)
{
	ia->send_cq = ia->recv_cq = cq_a;
	*a = ibv_create_qp(pd, ia);
	ia->send_cq = ia->recv_cq = cq_b;
	*b = ibv_create_qp(pd, ia);
	if (!*a || !*b)
		die("ibv_create_qp(%s): %s",
		    ia->qp_type == IBV_QPT_RC ? "RC" : "UC", strerror(errno));
	qp_connect(*a, (*b)->qp_num, gidx, gid);
	qp_connect(*b, (*a)->qp_num, gidx, gid);
}

/*
 * One SEND from @a to @b (a receive posted on @b first); with @inv != 0 a
 * SEND with Invalidate of @inv.  Fills the receive completion.
 */
static bool rc_send_once(struct ibv_qp *a, struct ibv_qp *b, struct ibv_cq *cq_b,
			 struct ibv_mr *mr, uint32_t inv, uint64_t seq,
			 struct ibv_wc *rwc)
{
	char *buf = mr->addr;
	struct ibv_sge rs = {
		.addr = (uintptr_t)buf + MSG_LEN,
		.length = MSG_LEN,
		.lkey = mr->lkey,
	};
	struct ibv_recv_wr rwr = { .wr_id = seq, .sg_list = &rs, .num_sge = 1 };
	struct ibv_sge ss = {
		.addr = (uintptr_t)buf,
		.length = MSG_LEN,
		.lkey = mr->lkey,
	};
	struct ibv_send_wr swr = {
		.wr_id = seq,
		.sg_list = &ss,
		.num_sge = 1,
		.opcode = inv ? IBV_WR_SEND_WITH_INV : IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
	};
	struct ibv_recv_wr *rbad;
	struct ibv_send_wr *sbad;

	swr.invalidate_rkey = inv;
	fill_msg(buf, seq);
	memset(buf + MSG_LEN, 0, MSG_LEN);
	if (ibv_post_recv(b, &rwr, &rbad))
		die("ibv_post_recv: %s", strerror(errno));
	if (ibv_post_send(a, &swr, &sbad))
		die("ibv_post_send: %s", strerror(errno));
	return poll_n(cq_b, rwc, 1) == 1;
}

/* Destroy a pair's QPs and CQs, its PD (its MRs are gone) and the device. */
static void pair_teardown_rest(struct ibv_context *ctx, struct ibv_pd *pd,
			       struct ibv_cq *cq_a, struct ibv_cq *cq_b)
{
	ibv_destroy_cq(cq_a);
	ibv_destroy_cq(cq_b);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
}

static void pair_teardown(struct ibv_context *ctx, struct ibv_pd *pd,
			  struct ibv_cq *cq_a, struct ibv_cq *cq_b,
			  struct ibv_qp *a, struct ibv_qp *b)
{
	ibv_destroy_qp(a);
	ibv_destroy_qp(b);
	pair_teardown_rest(ctx, pd, cq_a, cq_b);
}

static int run_send_inv(void)
{
	struct ibv_context *ctx = open_dev();
	struct ibv_qp_init_attr ia = {
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	struct ibv_cq *cq_a, *cq_b;
	struct ibv_qp *a, *b;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	struct ibv_wc wc[2];
	union ibv_gid gid;
	char *buf;
	int gidx;

	gidx = find_gid(ctx, &gid);
	if (gidx < 0)
		die("no RoCE v2 GID on %s", dev_name);
	pd = ibv_alloc_pd(ctx);
	cq_a = ibv_create_cq(ctx, 8, NULL, NULL, 0);
	cq_b = ibv_create_cq(ctx, 8, NULL, NULL, 0);
	buf = calloc(1, 4096);
	if (!pd || !cq_a || !cq_b || !buf)
		die("PD/CQ/buffer: %s", strerror(errno));
	mr = ibv_reg_mr(pd, buf, 4096, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE);
	if (!mr)
		die("ibv_reg_mr: %s", strerror(errno));
	make_pair(pd, &ia, cq_a, cq_b, gidx, &gid, &a, &b);

	/* control: a plain SEND goes through */
	if (check(rc_send_once(a, b, cq_b, mr, 0, 1, wc),
		  "plain SEND: a receive completion came")) {
		check(wc[0].status == IBV_WC_SUCCESS && wc[0].byte_len == MSG_LEN &&
		      !(wc[0].wc_flags & IBV_WC_WITH_INV) &&
		      !memcmp(buf, buf + MSG_LEN, MSG_LEN),
		      "plain SEND: received successfully, %u bytes intact (status %s)",
		      wc[0].byte_len, ibv_wc_status_str(wc[0].status));
	}
	check(poll_n(cq_a, wc, 1) == 1 && wc[0].status == IBV_WC_SUCCESS,
	      "plain SEND: send completion successful");

	/* an ordinary MR's key cannot be invalidated remotely */
	if (check(rc_send_once(a, b, cq_b, mr, mr->rkey, 2, wc),
		  "SEND with Invalidate of an ordinary MR's R_Key: a receive completion came"))
		check(wc[0].status == IBV_WC_REM_INV_REQ_ERR,
		      "... with status %s (want %s)", ibv_wc_status_str(wc[0].status),
		      ibv_wc_status_str(IBV_WC_REM_INV_REQ_ERR));
	check(qp_state(b) == IBV_QPS_ERR, "the receiving QP is in ERR (state %d)",
	      qp_state(b));
	check(!ibv_dereg_mr(mr), "the MR named by the failed invalidate deregisters");

	pair_teardown(ctx, pd, cq_a, cq_b, a, b);
	free(buf);
	return 0;
}

#define UC_BUF		16384

/* Fill @len bytes with a pattern that differs per @seq and per offset. */
static void fill_pat(unsigned char *p, size_t len, unsigned int seq)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seq * 131 + i * 7 + (i >> 8) + 1);
}

static bool all_zero(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Post one signalled UC RDMA WRITE or SEND of @len bytes from @src and
 * wait for its send completion; returns its status (-1: none came).
 */
static int uc_post(struct ibv_qp *a, struct ibv_cq *cq_a, struct ibv_mr *src,
		   enum ibv_wr_opcode op, uint32_t len, uint32_t rkey,
		   uint64_t raddr, uint64_t id)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)src->addr,
		.length = len,
		.lkey = src->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = id,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
	};
	struct ibv_send_wr *bad;
	struct ibv_wc wc;

	wr.wr.rdma.rkey = rkey;
	wr.wr.rdma.remote_addr = raddr;
	if (ibv_post_send(a, &wr, &bad))
		die("ibv_post_send(UC): %s", strerror(errno));
	if (poll_n(cq_a, &wc, 1) != 1)
		return -1;
	if (wc.wr_id != id)
		return -2;
	return wc.status;
}

/* Wait until @len bytes at @dst equal @want (a WRITE has no receiver CQE). */
static bool wait_bytes(const unsigned char *dst, const unsigned char *want,
		       size_t len)
{
	double end = now() + wait_secs;

	while (memcmp(dst, want, len)) {
		if (now() > end)
			return false;
		usleep(1000);
	}
	return true;
}

/* A bad WRITE was dropped; a good one of @len bytes after it lands. */
static void uc_good_write(struct ibv_qp *a, struct ibv_cq *cq_a,
			  struct ibv_mr *src, struct ibv_mr *dst,
			  unsigned char *want, uint32_t len, unsigned int seq,
			  const char *after)
{
	int st;

	fill_pat(src->addr, len, seq);
	memcpy(want, src->addr, len);
	st = uc_post(a, cq_a, src, IBV_WR_RDMA_WRITE, len, dst->rkey,
		     (uintptr_t)dst->addr, seq);
	check(st == IBV_WC_SUCCESS, "good %u-byte WRITE after %s: send completion %s",
	      len, after, st < 0 ? "missing" : ibv_wc_status_str(st));
	check(wait_bytes(dst->addr, want, len),
	      "good %u-byte WRITE after %s: all bytes landed", len, after);
	check(all_zero((unsigned char *)dst->addr + len, UC_BUF - len),
	      "good %u-byte WRITE after %s: nothing beyond it written", len, after);
	memset(dst->addr, 0, UC_BUF);
}

/*
 * Open the device with a PD, two CQs and two UC QPs connected to each
 * other (loopback, path MTU 1024): the setup of uc-errors, uc-rnr and
 * uc-loss.  pair_teardown() undoes it (the caller's MRs go first).
 */
static struct ibv_context *uc_setup(struct ibv_pd **pd, struct ibv_cq **cq_a,
				    struct ibv_cq **cq_b, struct ibv_qp **a,
				    struct ibv_qp **b)
{
	struct ibv_context *ctx = open_dev();
	struct ibv_qp_init_attr ia = {
		.cap = { .max_send_wr = 8, .max_recv_wr = 8,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_UC,
	};
	union ibv_gid gid;
	int gidx;

	gidx = find_gid(ctx, &gid);
	if (gidx < 0)
		die("no RoCE v2 GID on %s", dev_name);
	*pd = ibv_alloc_pd(ctx);
	*cq_a = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	*cq_b = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	if (!*pd || !*cq_a || !*cq_b)
		die("PD/CQ: %s", strerror(errno));
	make_pair(*pd, &ia, *cq_a, *cq_b, gidx, &gid, a, b);
	return ctx;
}

static int run_uc(bool rnr_only)
{
	struct ibv_context *ctx;
	int acc = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	struct ibv_mr *src, *dst, *small, *gone;
	void *buf[4];
	unsigned char *want;
	struct ibv_cq *cq_a, *cq_b;
	struct ibv_recv_wr rwr[2], *rbad;
	struct ibv_sge rs[2];
	struct ibv_qp *a, *b;
	struct ibv_wc wc[2];
	uint32_t gone_rkey;
	struct ibv_pd *pd;
	int i, n, st;

	ctx = uc_setup(&pd, &cq_a, &cq_b, &a, &b);
	for (i = 0; i < 4; i++) {
		buf[i] = calloc(1, UC_BUF);
		if (!buf[i])
			die("calloc: %s", strerror(errno));
	}
	want = calloc(1, UC_BUF);
	src = ibv_reg_mr(pd, buf[0], UC_BUF, acc);
	dst = ibv_reg_mr(pd, buf[1], UC_BUF, acc);
	small = ibv_reg_mr(pd, buf[2], 2048, acc);
	gone = ibv_reg_mr(pd, buf[3], UC_BUF, acc);
	if (!src || !dst || !small || !gone || !want)
		die("MRs/buffers: %s", strerror(errno));
	gone_rkey = gone->rkey;
	if (ibv_dereg_mr(gone))
		die("ibv_dereg_mr: %s", strerror(errno));

	/* control: a good 4000-byte (4-packet) WRITE lands */
	uc_good_write(a, cq_a, src, dst, want, 4000, 1, "nothing");

	if (rnr_only) {
		/* WRITE with immediate, no receive posted: dropped, no RNR */
		fill_pat(src->addr, 3000, 8);
		st = uc_post(a, cq_a, src, IBV_WR_RDMA_WRITE_WITH_IMM, 3000,
			     dst->rkey, (uintptr_t)dst->addr, 8);
		check(st == IBV_WC_SUCCESS,
		      "3000-byte WRITE with immediate, no receive posted: send completion %s",
		      st < 0 ? "missing" : ibv_wc_status_str(st));
		uc_good_write(a, cq_a, src, dst, want, 4000, 9,
			      "a WRITE with immediate that found no receive");
		check(qp_state(b) == IBV_QPS_RTS,
		      "the receiving UC QP is in RTS (state %d)", qp_state(b));
		goto out;
	}

	/* 4000 bytes at the start of a 2048-byte MR: the range is too long */
	fill_pat(src->addr, 4000, 2);
	st = uc_post(a, cq_a, src, IBV_WR_RDMA_WRITE, 4000, small->rkey,
		     (uintptr_t)small->addr, 2);
	check(st == IBV_WC_SUCCESS,
	      "4000-byte WRITE into a 2048-byte MR: send completion %s (UC: no NAK)",
	      st < 0 ? "missing" : ibv_wc_status_str(st));
	uc_good_write(a, cq_a, src, dst, want, 4000, 3, "a WRITE beyond its MR");
	check(all_zero(small->addr, UC_BUF),
	      "the WRITE beyond its MR changed no byte of that MR's buffer");

	/* an R_Key that names nothing (its MR was deregistered) */
	fill_pat(src->addr, 3000, 4);
	st = uc_post(a, cq_a, src, IBV_WR_RDMA_WRITE, 3000, gone_rkey,
		     (uintptr_t)dst->addr, 4);
	check(st == IBV_WC_SUCCESS,
	      "3000-byte WRITE with a dead R_Key: send completion %s (UC: no NAK)",
	      st < 0 ? "missing" : ibv_wc_status_str(st));
	uc_good_write(a, cq_a, src, dst, want, 3000, 5, "a WRITE with a dead R_Key");

	/* a SEND longer than the receive buffer, then a good one */
	check(qp_state(b) == IBV_QPS_RTS,
	      "the receiving UC QP is in RTS after the dropped WRITEs (state %d)",
	      qp_state(b));

	/* a SEND longer than the receive buffer: a local error */
	for (i = 0; i < 2; i++) {
		rs[i].addr = (uintptr_t)dst->addr + i * MSG_LEN;
		rs[i].length = MSG_LEN;
		rs[i].lkey = dst->lkey;
		rwr[i].wr_id = 100 + i;
		rwr[i].sg_list = &rs[i];
		rwr[i].num_sge = 1;
		rwr[i].next = NULL;
		if (ibv_post_recv(b, &rwr[i], &rbad))
			die("ibv_post_recv: %s", strerror(errno));
	}
	fill_pat(src->addr, 200, 6);
	st = uc_post(a, cq_a, src, IBV_WR_SEND, 200, 0, 0, 6);
	check(st == IBV_WC_SUCCESS,
	      "200-byte SEND into 64-byte receives: send completion %s",
	      st < 0 ? "missing" : ibv_wc_status_str(st));
	n = poll_n(cq_b, wc, 2);
	check(n >= 1 && wc[0].wr_id == 100 &&
	      (wc[0].status == IBV_WC_LOC_LEN_ERR ||
	       wc[0].status == IBV_WC_LOC_QP_OP_ERR),
	      "the first receive completes in error (%s)",
	      n >= 1 ? ibv_wc_status_str(wc[0].status) : "no completion");
	check(n == 2 && wc[1].wr_id == 101 &&
	      wc[1].status == IBV_WC_WR_FLUSH_ERR,
	      "the second receive is flushed (%s)",
	      n == 2 ? ibv_wc_status_str(wc[1].status) : "no completion");
	check(all_zero((unsigned char *)dst->addr + MSG_LEN, UC_BUF - MSG_LEN),
	      "nothing of the long SEND landed beyond the first receive");
	check(qp_state(b) == IBV_QPS_ERR,
	      "the receiving UC QP is in ERR after the local error (state %d)",
	      qp_state(b));
	check(qp_state(a) == IBV_QPS_RTS,
	      "the sending UC QP is still in RTS (state %d)", qp_state(a));
out:
	ibv_dereg_mr(src);
	ibv_dereg_mr(dst);
	ibv_dereg_mr(small);
	pair_teardown(ctx, pd, cq_a, cq_b, a, b);
	for (i = 0; i < 4; i++)
		free(buf[i]);
	free(want);
	return 0;
}

/*
 * uc-loss: our transmit fault injection (<debugfs>/rdma_rxe, ours only)
 * loses one packet in the middle of a UC message.
 */
#define RXE_DBG		"/sys/kernel/debug/rdma_rxe"
#define UC_SEND_MIDDLE	0x21
#define UC_WRITE_MIDDLE	0x27

static long read_num(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static void write_num(const char *path, long v)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%ld\n", v) < 0 || fclose(f))
		die("writing %ld to %s: %s", v, path, strerror(errno));
}

/* Lose every packet of BTH opcode @op we send from now on (0: stop). */
static void lose_opcode(int op)
{
	write_num(RXE_DBG "/xmit_drop_every", 0);
	if (op) {
		write_num(RXE_DBG "/xmit_drop_opcode", op);
		write_num(RXE_DBG "/xmit_drop_every", 1);
	}
}

static long hw_counter(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/1/hw_counters/%s", dev_name,
		 name);
	return read_num(path);
}

/* Completions that turn up on @cq within @ms milliseconds. */
static int poll_quiet(struct ibv_cq *cq, struct ibv_wc *wc, int max, int ms)
{
	double end = now() + ms / 1000.0;
	int got = 0, r;

	while (now() < end && got < max) {
		r = ibv_poll_cq(cq, max - got, wc + got);
		if (r < 0)
			die("ibv_poll_cq: %d", r);
		got += r;
		usleep(1000);
	}
	return got;
}

static void uc_recv(struct ibv_qp *b, struct ibv_mr *mr, size_t off,
		    uint32_t len, uint64_t id)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)mr->addr + off,
		.length = len,
		.lkey = mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = id, .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad;

	if (ibv_post_recv(b, &wr, &bad))
		die("ibv_post_recv: %s", strerror(errno));
}

/*
 * One UC message of @len bytes with pattern @seq whose middle packet is
 * lost on the way: the send side completes successfully (UC has no ACK),
 * and the receiver must show nothing for it.
 */
static void uc_lost_msg(struct ibv_qp *a, struct ibv_cq *cq_a,
			struct ibv_cq *cq_b, struct ibv_mr *src,
			enum ibv_wr_opcode op, int lose, uint32_t len,
			uint32_t rkey, uint64_t raddr, unsigned int seq,
			const char *what)
{
	long lost0 = read_num(RXE_DBG "/xmit_dropped");
	struct ibv_wc wc[2];
	int st, n;

	fill_pat(src->addr, len, seq);
	lose_opcode(lose);
	st = uc_post(a, cq_a, src, op, len, rkey, raddr, seq);
	lose_opcode(0);
	check(st == IBV_WC_SUCCESS, "%s, middle packet lost: send completion %s",
	      what, st < 0 ? "missing" : ibv_wc_status_str(st));
	check(read_num(RXE_DBG "/xmit_dropped") == lost0 + 1,
	      "%s: exactly one packet was lost (xmit_dropped %ld -> %ld)", what,
	      lost0, read_num(RXE_DBG "/xmit_dropped"));
	n = poll_quiet(cq_b, wc, 2, 300);
	check(n == 0, "%s: no receive completion for the broken message (%d%s%s)",
	      what, n, n ? ", status " : "",
	      n ? ibv_wc_status_str(wc[0].status) : "");
}

static int run_uc_loss(void)
{
	struct ibv_context *ctx;
	int acc = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	unsigned char *want, *d, *sbuf, *dbuf;
	struct ibv_mr *src, *dst;
	struct ibv_cq *cq_a, *cq_b;
	struct ibv_qp *a, *b;
	struct ibv_wc wc[2];
	struct ibv_pd *pd;
	long oos0, oos1;
	int n, st;

	if (read_num(RXE_DBG "/xmit_dropped") < 0)
		die("%s/xmit_dropped not readable (ours only, debugfs mounted?)",
		    RXE_DBG);
	ctx = uc_setup(&pd, &cq_a, &cq_b, &a, &b);
	want = calloc(1, UC_BUF);
	sbuf = calloc(1, UC_BUF);
	dbuf = calloc(1, UC_BUF);
	if (!sbuf || !dbuf || !want)
		die("calloc: %s", strerror(errno));
	src = ibv_reg_mr(pd, sbuf, UC_BUF, acc);
	dst = ibv_reg_mr(pd, dbuf, UC_BUF, acc);
	if (!src || !dst)
		die("MRs/buffers: %s", strerror(errno));
	d = dst->addr;
	oos0 = hw_counter("out_of_seq_request");

	/* SEND: 3000 bytes are 3 packets at MTU 1024 (FIRST, MIDDLE, LAST) */
	uc_recv(b, dst, 0, 4096, 300);
	uc_recv(b, dst, 8192, 4096, 301);
	uc_lost_msg(a, cq_a, cq_b, src, IBV_WR_SEND, UC_SEND_MIDDLE, 3000, 0,
		    0, 20, "3000-byte SEND");
	fill_pat(src->addr, 2500, 21);
	memcpy(want, src->addr, 2500);
	st = uc_post(a, cq_a, src, IBV_WR_SEND, 2500, 0, 0, 21);
	check(st == IBV_WC_SUCCESS, "the next SEND (2500 bytes): send completion %s",
	      st < 0 ? "missing" : ibv_wc_status_str(st));
	n = poll_n(cq_b, wc, 1);
	check(n == 1 && wc[0].wr_id == 300 && wc[0].status == IBV_WC_SUCCESS &&
	      wc[0].opcode == IBV_WC_RECV && wc[0].byte_len == 2500,
	      "it completes the first receive, the one the broken SEND had been filling (wr_id %llu, %s, %u bytes)",
	      n ? (unsigned long long)wc[0].wr_id : 0ULL,
	      n ? ibv_wc_status_str(wc[0].status) : "no completion",
	      n ? wc[0].byte_len : 0);
	check(!memcmp(d, want, 2500), "its 2500 bytes are the second SEND's");
	fill_pat(src->addr, 100, 22);
	memcpy(want, src->addr, 100);
	st = uc_post(a, cq_a, src, IBV_WR_SEND, 100, 0, 0, 22);
	n = poll_n(cq_b, wc, 1);
	check(st == IBV_WC_SUCCESS && n == 1 && wc[0].wr_id == 301 &&
	      wc[0].status == IBV_WC_SUCCESS && wc[0].byte_len == 100 &&
	      !memcmp(d + 8192, want, 100),
	      "a third SEND (100 bytes) lands intact in the second receive");

	/* WRITE with immediate: the receive is consumed by its last packet */
	memset(d, 0, UC_BUF);
	uc_recv(b, dst, 0, 64, 302);
	uc_lost_msg(a, cq_a, cq_b, src, IBV_WR_RDMA_WRITE_WITH_IMM,
		    UC_WRITE_MIDDLE, 3000, dst->rkey, (uintptr_t)d + 4096, 23,
		    "3000-byte WRITE with immediate");
	fill_pat(src->addr, 3000, 24);
	memcpy(want, src->addr, 3000);
	st = uc_post(a, cq_a, src, IBV_WR_RDMA_WRITE_WITH_IMM, 3000,
		     dst->rkey, (uintptr_t)d + 4096, 24);
	n = poll_n(cq_b, wc, 1);
	check(st == IBV_WC_SUCCESS && n == 1 && wc[0].wr_id == 302 &&
	      wc[0].status == IBV_WC_SUCCESS &&
	      wc[0].opcode == IBV_WC_RECV_RDMA_WITH_IMM &&
	      wc[0].byte_len == 3000,
	      "the next WRITE with immediate completes the receive (%s, %u bytes)",
	      n ? ibv_wc_status_str(wc[0].status) : "no completion",
	      n ? wc[0].byte_len : 0);
	check(!memcmp(d + 4096, want, 3000),
	      "its 3000 bytes landed over the broken WRITE's");

	oos1 = hw_counter("out_of_seq_request");
	check(oos0 >= 0 && oos1 - oos0 == 2,
	      "out_of_seq_request grew by the 2 PSN gaps (%ld -> %ld)", oos0, oos1);
	check(qp_state(b) == IBV_QPS_RTS && qp_state(a) == IBV_QPS_RTS,
	      "both UC QPs are still in RTS (%d, %d)", qp_state(a),
	      qp_state(b));

	ibv_dereg_mr(src);
	ibv_dereg_mr(dst);
	pair_teardown(ctx, pd, cq_a, cq_b, a, b);
	free(sbuf);
	free(dbuf);
	free(want);
	return 0;
}

/*
 * rc-reset: a QP moved to RESET while the transport is running it (here:
 * inside the sender's post_send, which runs the receiver's responder for
 * its loopback packets), then connected again, must start clean.
 */
#define RR_ROUNDS	100
#define RR_BURST	16
#define RR_LEN		4000	/* 4 packets at MTU 1024 */
#define RR_CHECK_LEN	3000

#define RR_DELAY_KNOB	RXE_DBG "/resp_delay_us"
#define RR_DELAY_US	1000

static void rr_delay_off(void)
{
	FILE *f = fopen(RR_DELAY_KNOB, "w");

	if (f) {
		fputs("0\n", f);
		fclose(f);
	}
}

struct rr_burst {
	struct ibv_qp *qp;
	struct ibv_mr *mr;
	int rc;
};

/* Thread body: RR_BURST signalled SENDs of RR_LEN bytes in one post. */
static void *rr_post_burst(void *arg)
{
	struct rr_burst *p = arg;
	struct ibv_send_wr wr[RR_BURST], *bad;
	struct ibv_sge sge[RR_BURST];
	int i;

	for (i = 0; i < RR_BURST; i++) {
		sge[i] = (struct ibv_sge){
			.addr = (uintptr_t)p->mr->addr,
			.length = RR_LEN,
			.lkey = p->mr->lkey,
		};
		wr[i] = (struct ibv_send_wr){
			.wr_id = i,
			.sg_list = &sge[i],
			.num_sge = 1,
			.opcode = IBV_WR_SEND,
			.send_flags = IBV_SEND_SIGNALED,
			.next = i + 1 < RR_BURST ? &wr[i + 1] : NULL,
		};
	}
	p->rc = ibv_post_send(p->qp, wr, &bad);
	return NULL;
}

static void qp_reset(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RESET };

	if (ibv_modify_qp(qp, &a, IBV_QP_STATE))
		die("modify QP to RESET: %s", strerror(errno));
}

/* Take whatever completions @cq has within @ms; count the successful ones. */
static int rr_drain(struct ibv_cq *cq, int ms, int *total)
{
	struct ibv_wc wc[RR_BURST * 2];
	int n, i, ok = 0;

	*total = 0;
	do {
		n = poll_quiet(cq, wc, RR_BURST * 2, ms);
		for (i = 0; i < n; i++)
			ok += wc[i].status == IBV_WC_SUCCESS;
		*total += n;
	} while (n);
	return ok;
}

/*
 * After round @k's reconnection: two SENDs of RR_CHECK_LEN bytes must
 * complete the two receives posted for them, in order, with their bytes,
 * and nothing else may complete.  Returns a failure description or NULL.
 */
static const char *rr_verify(struct ibv_qp *a, struct ibv_qp *b,
			     struct ibv_cq *cq_a, struct ibv_cq *cq_b,
			     struct ibv_mr *src, struct ibv_mr *dst,
			     unsigned int k, char *why, size_t whylen)
{
	unsigned char *sbuf = src->addr, *dbuf = dst->addr;
	struct ibv_send_wr swr[2], *sbad;
	struct ibv_recv_wr rwr[2], *rbad;
	struct ibv_sge ss[2], rs[2];
	struct ibv_wc wc[4];
	int i, n;

	for (i = 0; i < 2; i++) {
		fill_pat(sbuf + i * 4096, RR_CHECK_LEN, 2 * k + i);
		memset(dbuf + i * 4096, 0, 4096);
		rs[i] = (struct ibv_sge){ .addr = (uintptr_t)dbuf + i * 4096,
					  .length = 4096, .lkey = dst->lkey };
		rwr[i] = (struct ibv_recv_wr){ .wr_id = 1000 * k + i,
					       .sg_list = &rs[i], .num_sge = 1,
					       .next = i ? NULL : &rwr[1] };
		ss[i] = (struct ibv_sge){ .addr = (uintptr_t)sbuf + i * 4096,
					  .length = RR_CHECK_LEN,
					  .lkey = src->lkey };
		swr[i] = (struct ibv_send_wr){ .wr_id = 1000 * k + i,
					       .sg_list = &ss[i], .num_sge = 1,
					       .opcode = IBV_WR_SEND,
					       .send_flags = IBV_SEND_SIGNALED,
					       .next = i ? NULL : &swr[1] };
	}
	if (ibv_post_recv(b, rwr, &rbad))
		die("ibv_post_recv: %s", strerror(errno));
	if (ibv_post_send(a, swr, &sbad))
		die("ibv_post_send: %s", strerror(errno));
	n = poll_n(cq_b, wc, 2);
	if (n != 2) {
		snprintf(why, whylen, "%d of 2 receive completions", n);
		return why;
	}
	for (i = 0; i < 2; i++) {
		if (wc[i].status != IBV_WC_SUCCESS ||
		    wc[i].wr_id != 1000 * k + i ||
		    wc[i].byte_len != RR_CHECK_LEN) {
			snprintf(why, whylen,
				 "receive %d: status %s, wr_id %" PRIu64
				 " (want %u), %u bytes", i,
				 ibv_wc_status_str(wc[i].status),
				 (uint64_t)wc[i].wr_id, 1000 * k + i,
				 wc[i].byte_len);
			return why;
		}
		if (memcmp(dbuf + i * 4096, sbuf + i * 4096, RR_CHECK_LEN)) {
			snprintf(why, whylen, "receive %d: payload differs", i);
			return why;
		}
	}
	n = poll_n(cq_a, wc, 2);
	if (n != 2 || wc[0].status != IBV_WC_SUCCESS ||
	    wc[1].status != IBV_WC_SUCCESS) {
		snprintf(why, whylen, "%d send completions, first status %s", n,
			 n ? ibv_wc_status_str(wc[0].status) : "-");
		return why;
	}
	n = poll_quiet(cq_b, wc, 4, 20) + poll_quiet(cq_a, wc, 4, 20);
	if (n) {
		snprintf(why, whylen, "%d completions nobody asked for", n);
		return why;
	}
	return NULL;
}

static int run_rc_reset(void)
{
	struct ibv_context *ctx = open_dev();
	struct ibv_qp_init_attr ia = {
		.cap = { .max_send_wr = RR_BURST + 2,
			 .max_recv_wr = RR_BURST + 2,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	int acc = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	int i, total, got, cut = 0, bad_rounds = 0, gidx;
	struct ibv_recv_wr rwr, *rbad;
	struct ibv_cq *cq_a, *cq_b;
	struct ibv_mr *src, *dst;
	struct rr_burst burst;
	struct ibv_qp *a, *b;
	struct ibv_wc wcs[RR_BURST];
	struct ibv_sge rs;
	struct ibv_pd *pd;
	union ibv_gid gid;
	double t0, span = 0, d;
	pthread_t th;
	char why[160];
	const char *err;
	unsigned int k;
	uint32_t pa, pb;
	void *sbuf, *dbuf;

	gidx = find_gid(ctx, &gid);
	if (gidx < 0)
		die("no RoCE v2 GID on %s", dev_name);
	pd = ibv_alloc_pd(ctx);
	cq_a = ibv_create_cq(ctx, 4 * RR_BURST, NULL, NULL, 0);
	cq_b = ibv_create_cq(ctx, 4 * RR_BURST, NULL, NULL, 0);
	if (!pd || !cq_a || !cq_b)
		die("PD/CQ: %s", strerror(errno));
	src = ibv_reg_mr(pd, calloc(1, 8192), 8192, acc);
	dst = ibv_reg_mr(pd, calloc(1, 8192), 8192, acc);
	if (!src || !dst)
		die("ibv_reg_mr: %s", strerror(errno));
	make_pair(pd, &ia, cq_a, cq_b, gidx, &gid, &a, &b);
	burst.qp = a;
	burst.mr = src;
	srand(12345);
	/*
	 * Ours: the responder sleeps between its look at the QP state and
	 * the packet, so that most resets land while a run holds state it
	 * read before the reset (the race the reset has to survive).
	 */
	if (!access(RR_DELAY_KNOB, W_OK)) {
		atexit(rr_delay_off);
		write_num(RR_DELAY_KNOB, RR_DELAY_US);
		say("responder delay: %d us per request packet (%s)",
		    RR_DELAY_US, RR_DELAY_KNOB);
	}

	for (k = 0; k <= RR_ROUNDS; k++) {
		rs = (struct ibv_sge){ .addr = (uintptr_t)dst->addr,
				       .length = 4096, .lkey = dst->lkey };
		rwr = (struct ibv_recv_wr){ .sg_list = &rs, .num_sge = 1 };
		for (i = 0; i < RR_BURST; i++)
			if (ibv_post_recv(b, &rwr, &rbad))
				die("ibv_post_recv: %s", strerror(errno));
		t0 = now();
		if (pthread_create(&th, NULL, rr_post_burst, &burst))
			die("pthread_create");
		if (k == 0) {
			/* Round 0 is not cut: how long does a burst take? */
			got = poll_n(cq_b, wcs, RR_BURST);
			span = now() - t0;
			pthread_join(th, NULL);
			for (i = 0; i < got; i++)
				if (wcs[i].status != IBV_WC_SUCCESS)
					got = -1;
			check(burst.rc == 0 && got == RR_BURST,
			      "an uncut burst: %d SENDs of %d bytes received in %.1f ms",
			      got, RR_LEN, span * 1e3);
			rr_drain(cq_a, 20, &total);
			continue;
		}
		/* Cut somewhere in the first 1.2 bursts' time. */
		d = span * 1.2 * rand() / RAND_MAX;
		while (now() - t0 < d)
			;
		qp_reset(b);
		pthread_join(th, NULL);
		if (burst.rc)
			die("ibv_post_send (burst): %s", strerror(burst.rc));
		/* Anything still in flight lands now or never. */
		usleep(50000);
		qp_reset(a);
		got = rr_drain(cq_b, 20, &total);
		rr_drain(cq_a, 20, &total);
		cut += got < RR_BURST;
		pa = (k * 7919u + 11) & 0xffffff;
		pb = (k * 104729u + 5) & 0xffffff;
		qp_connect_psn(a, b->qp_num, gidx, &gid, pa, pb);
		qp_connect_psn(b, a->qp_num, gidx, &gid, pb, pa);
		err = rr_verify(a, b, cq_a, cq_b, src, dst, k, why, sizeof(why));
		if (err) {
			bad_rounds++;
			say("round %u (reset at %.2f ms, %d SENDs had landed): %s",
			    k, d * 1e3, got, err);
			/* Start the next round from a known state. */
			qp_reset(a);
			qp_reset(b);
			rr_drain(cq_a, 20, &total);
			rr_drain(cq_b, 20, &total);
			qp_connect_psn(a, b->qp_num, gidx, &gid, pa + 1, pb + 1);
			qp_connect_psn(b, a->qp_num, gidx, &gid, pb + 1, pa + 1);
		}
	}
	check(cut > 0, "the reset cut %d of %d bursts short (the transport was "
	      "running when it came)", cut, RR_ROUNDS);
	check(!bad_rounds, "after each reset and reconnection two SENDs landed "
	      "in their receives, in order, with their bytes, and nothing else "
	      "completed (%d of %d rounds failed)", bad_rounds, RR_ROUNDS);

	rr_delay_off();
	sbuf = src->addr;
	dbuf = dst->addr;
	ibv_dereg_mr(src);
	ibv_dereg_mr(dst);
	pair_teardown(ctx, pd, cq_a, cq_b, a, b);
	free(sbuf);
	free(dbuf);
	return 0;
}

/*
 * rc-reset-asleep: a transport part asleep in an ODP fault (here made slow
 * by a knob) across a reset *and* a whole reconnection must not let its
 * one packet of the old connection act on the new one.
 */
#define RA_ROUNDS	4	/* odd rounds bring the RQ index round */
#define RA_SLEEP_MS	2000
#define RA_LEN		1000	/* one packet at MTU 1024 */
#define RA_KNOB		RXE_DBG "/odp_copy_delay_ms"

struct ra_post {
	struct ibv_qp *qp;
	struct ibv_mr *mr;
	uint64_t wr_id;
	int rc;
};

static void ra_knob_off(void)
{
	FILE *f = fopen(RA_KNOB, "w");

	if (f) {
		fputs("0\n", f);
		fclose(f);
	}
}

/* Thread body: one signalled SEND of RA_LEN bytes from the MR's start. */
static void *ra_post_one(void *arg)
{
	struct ra_post *p = arg;
	struct ibv_sge sge = {
		.addr = (uintptr_t)p->mr->addr,
		.length = RA_LEN,
		.lkey = p->mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = p->wr_id,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	p->rc = ibv_post_send(p->qp, &wr, &bad);
	return NULL;
}

static void ra_post_recv(struct ibv_qp *qp, struct ibv_mr *mr, size_t off,
			 uint64_t wr_id)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)mr->addr + off,
		.length = 4096,
		.lkey = mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge,
				  .num_sge = 1 }, *bad;

	if (ibv_post_recv(qp, &wr, &bad))
		die("ibv_post_recv: %s", strerror(errno));
}

static void qp_modify_state(struct ibv_qp *qp, enum ibv_qp_state st)
{
	struct ibv_qp_attr a = {
		.qp_state = st,
		.port_num = PORT,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE,
	};
	int mask = IBV_QP_STATE;

	if (st == IBV_QPS_INIT)
		mask |= IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS;
	if (ibv_modify_qp(qp, &a, mask))
		die("modify QP to state %d: %s", st, strerror(errno));
}

/*
 * Bring @b's RQ consumer index round to where it was (the reset just
 * emptied the RQ, whose slot before that holds the sleeper's receive):
 * INIT, post receives until the ring is full (a ring keeps one slot
 * free, so the producer index comes round to that slot), and ERR flushes
 * them all.  Returns how many were flushed, or -1.
 */
static int ra_wrap_rq(struct ibv_qp *b, struct ibv_cq *cq_b,
		      struct ibv_mr *odp)
{
	struct ibv_sge sge = { .addr = (uintptr_t)odp->addr + 8192,
			       .length = 64, .lkey = odp->lkey };
	struct ibv_recv_wr wr = { .wr_id = 999, .sg_list = &sge,
				  .num_sge = 1 }, *bad;
	struct ibv_wc wc[16];
	int n = 0, got = 0, i, r;

	qp_modify_state(b, IBV_QPS_INIT);
	while (n < 60 && !ibv_post_recv(b, &wr, &bad))
		n++;
	if (n == 60)
		die("the RQ took 60 receives without filling up");
	qp_modify_state(b, IBV_QPS_ERR);
	while ((r = poll_quiet(cq_b, wc, 16, 50)) > 0) {
		for (i = 0; i < r; i++)
			if (wc[i].status != IBV_WC_WR_FLUSH_ERR ||
			    wc[i].wr_id != 999)
				return -1;
		got += r;
	}
	qp_reset(b);
	return got == n ? n : -1;
}

/*
 * One round; returns a failure description or NULL.  @wrap: also bring
 * the receiver's RQ consumer index round to the sleeper's slot before
 * the reconnection (a retire that only compares indices would then
 * complete the sleeper's receive).
 */
static const char *ra_round(struct ibv_qp *a, struct ibv_qp *b,
			    struct ibv_cq *cq_a, struct ibv_cq *cq_b,
			    struct ibv_mr *src, struct ibv_mr *odp,
			    int gidx, const union ibv_gid *gid, unsigned int k,
			    bool wrap, char *why, size_t whylen)
{
	uint32_t p = (k * 7919u + 101) & 0xffffff;
	uint32_t q = (k * 104729u + 7) & 0xffffff;
	uint64_t old_id = 100 + k, new_id = 200 + k;
	unsigned char *sbuf = src->addr, *dbuf = odp->addr;
	struct ra_post old = { .qp = a, .mr = src, .wr_id = old_id };
	struct ibv_send_wr swr, *sbad;
	struct ibv_sge ss;
	struct ibv_wc wc[4];
	double t0, t_new, t_woke;
	int n, total, flushed = 0;
	pthread_t th;

	/* A fresh connection at PSN p, one receive for the old SEND. */
	qp_reset(a);
	qp_reset(b);
	rr_drain(cq_a, 20, &total);
	rr_drain(cq_b, 20, &total);
	qp_connect_psn(a, b->qp_num, gidx, gid, p, q);
	qp_connect_psn(b, a->qp_num, gidx, gid, q, p);
	fill_pat(sbuf, RA_LEN, 2 * k);
	fill_pat(sbuf + 4096, RA_LEN, 2 * k + 1);
	memset(dbuf, 0, 2 * 4096);
	ra_post_recv(b, odp, 0, old_id);

	write_num(RA_KNOB, RA_SLEEP_MS);
	t0 = now();
	if (pthread_create(&th, NULL, ra_post_one, &old))
		die("pthread_create");
	/*
	 * The old SEND reaches the receiver's responder (inline in that
	 * post, or in the receiver's work), which takes the receive and
	 * falls asleep in the copy, holding the receiver's transport.
	 */
	usleep(400000);
	/* Reset and connect again, the sender from the same PSN p. */
	qp_reset(b);
	qp_reset(a);
	/* Whatever completed before the reset did so legitimately. */
	rr_drain(cq_a, 20, &total);
	rr_drain(cq_b, 20, &total);
	if (wrap) {
		flushed = ra_wrap_rq(b, cq_b, odp);
		if (flushed <= 0) {
			ra_knob_off();
			pthread_join(th, NULL);
			snprintf(why, whylen, "filling and flushing the RQ: "
				 "flush completions do not match");
			return why;
		}
	}
	qp_connect_psn(a, b->qp_num, gidx, gid, p, q + 1000);
	qp_connect_psn(b, a->qp_num, gidx, gid, q + 1000, p);
	ra_knob_off();	/* the sleeper keeps sleeping; new copies do not */
	ss = (struct ibv_sge){ .addr = (uintptr_t)sbuf + 4096,
			       .length = RA_LEN, .lkey = src->lkey };
	swr = (struct ibv_send_wr){ .wr_id = new_id, .sg_list = &ss,
				    .num_sge = 1, .opcode = IBV_WR_SEND,
				    .send_flags = IBV_SEND_SIGNALED };
	if (ibv_post_send(a, &swr, &sbad))
		die("ibv_post_send: %s", strerror(errno));
	t_new = now() - t0;
	/*
	 * The knob sleeps before the copy: the old SEND's bytes must not be
	 * there yet (else nothing slept across the reconnection), and must
	 * come when the sleeper wakes (it may finish its memory access).
	 */
	if (!memcmp(dbuf, sbuf, RA_LEN)) {
		pthread_join(th, NULL);
		snprintf(why, whylen, "the old SEND had landed before the new "
			 "one was posted (%.2f s): nothing slept across the "
			 "reconnection", t_new);
		return why;
	}
	while (memcmp(dbuf, sbuf, RA_LEN) && now() - t0 < RA_SLEEP_MS / 1e3 + 5)
		usleep(1000);
	t_woke = now() - t0;
	pthread_join(th, NULL);
	if (old.rc) {
		snprintf(why, whylen, "old SEND: ibv_post_send: %s",
			 strerror(old.rc));
		return why;
	}
	if (memcmp(dbuf, sbuf, RA_LEN)) {
		snprintf(why, whylen, "the old SEND's bytes never landed: the "
			 "responder was not asleep in it (%.2f s)", t_woke);
		return why;
	}
	/* The sleeper is done with its packet of the old connection. */
	n = poll_quiet(cq_a, wc, 4, 500);
	if (n) {
		snprintf(why, whylen, "%d send completion(s) before the new "
			 "SEND's receive was posted (first: wr_id %" PRIu64
			 ", %s)", n,
			 (uint64_t)wc[0].wr_id,
			 ibv_wc_status_str(wc[0].status));
		return why;
	}
	n = poll_quiet(cq_b, wc, 4, 20);
	if (n) {
		snprintf(why, whylen, "%d receive completion(s) of the old "
			 "connection (first: wr_id %" PRIu64 ", %s)", n,
			 (uint64_t)wc[0].wr_id,
			 ibv_wc_status_str(wc[0].status));
		return why;
	}
	ra_post_recv(b, odp, 4096, new_id);
	n = poll_n(cq_b, wc, 1);
	if (n != 1 || wc[0].status != IBV_WC_SUCCESS ||
	    wc[0].wr_id != new_id || wc[0].byte_len != RA_LEN) {
		snprintf(why, whylen, "new receive: %d completion(s), status "
			 "%s, wr_id %" PRIu64 ", %u bytes", n,
			 n ? ibv_wc_status_str(wc[0].status) : "-",
			 n ? (uint64_t)wc[0].wr_id : 0,
			 n ? wc[0].byte_len : 0);
		return why;
	}
	if (memcmp(dbuf + 4096, sbuf + 4096, RA_LEN)) {
		snprintf(why, whylen, "new receive: payload differs");
		return why;
	}
	n = poll_n(cq_a, wc, 1);
	if (n != 1 || wc[0].status != IBV_WC_SUCCESS ||
	    wc[0].wr_id != new_id) {
		snprintf(why, whylen, "new SEND: %d completion(s), status %s",
			 n, n ? ibv_wc_status_str(wc[0].status) : "-");
		return why;
	}
	n = poll_quiet(cq_b, wc, 4, 50);
	if (!n)
		n = poll_quiet(cq_a, wc, 4, 50);
	if (n) {
		snprintf(why, whylen, "%d completion(s) nobody asked for "
			 "(first: wr_id %" PRIu64 ")", n,
			 (uint64_t)wc[0].wr_id);
		return why;
	}
	say("round %u: reset and reconnected while the responder slept "
	    "(%d receives flushed to bring the RQ index round); new SEND "
	    "posted at %.2f s, the sleeper's bytes landed at %.2f s", k,
	    flushed, t_new, t_woke);
	return NULL;
}

static int run_rc_reset_asleep(void)
{
	struct ibv_context *ctx = open_dev();
	struct ibv_qp_init_attr ia = {
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	int acc = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	struct ibv_cq *cq_a, *cq_b;
	struct ibv_mr *src, *odp;
	struct ibv_qp *a, *b;
	struct ibv_pd *pd;
	union ibv_gid gid;
	const char *err;
	char why[200];
	void *sbuf, *dbuf;
	unsigned int k;
	int gidx, bad = 0;

	if (access(RA_KNOB, W_OK))
		die("%s: %s (ours only)", RA_KNOB, strerror(errno));
	atexit(ra_knob_off);
	/*
	 * The new SEND waits for the sleeper (2 s): 1 s ACK timeout, 3
	 * retries.  RNR NAKs after that, until its receive comes.
	 */
	rnr_retry = 7;
	ack_timeout = 18;
	gidx = find_gid(ctx, &gid);
	if (gidx < 0)
		die("no RoCE v2 GID on %s", dev_name);
	pd = ibv_alloc_pd(ctx);
	cq_a = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	cq_b = ibv_create_cq(ctx, 64, NULL, NULL, 0);
	if (!pd || !cq_a || !cq_b)
		die("PD/CQ: %s", strerror(errno));
	sbuf = calloc(1, 8192);
	if (posix_memalign(&dbuf, 4096, 3 * 4096))
		die("posix_memalign");
	memset(dbuf, 0, 3 * 4096);
	src = ibv_reg_mr(pd, sbuf, 8192, acc);
	odp = ibv_reg_mr(pd, dbuf, 3 * 4096, acc | IBV_ACCESS_ON_DEMAND);
	if (!src || !odp)
		die("ibv_reg_mr: %s", strerror(errno));
	make_pair(pd, &ia, cq_a, cq_b, gidx, &gid, &a, &b);
	for (k = 0; k < RA_ROUNDS; k++) {
		err = ra_round(a, b, cq_a, cq_b, src, odp, gidx, &gid, k,
			       k & 1, why, sizeof(why));
		if (err) {
			bad++;
			say("round %u: %s", k, err);
		}
	}
	check(!bad, "a responder asleep in an ODP fault across a reset and "
	      "reconnection acted on nothing of the new connection: no "
	      "stale ACK, no stale completion, the new SEND landed in its "
	      "own receive (%d of %d rounds failed)", bad, RA_ROUNDS);
	ra_knob_off();
	ibv_dereg_mr(src);
	ibv_dereg_mr(odp);
	pair_teardown(ctx, pd, cq_a, cq_b, a, b);
	free(sbuf);
	free(dbuf);
	return 0;
}

/*
 * srq-flush: an RC QP on an SRQ that goes to ERR in the middle of a SEND
 * must complete the SRQ receive that SEND had taken with WR_FLUSH_ERR
 * (the flush cannot reach it: an SRQ WQE leaves the ring when taken).
 */
#define RC_SEND_LAST	0x02

static int run_srq_flush(void)
{
	struct ibv_context *ctx = open_dev();
	struct ibv_srq_init_attr si = { .attr = { .max_wr = 8, .max_sge = 1 } };
	struct ibv_qp_init_attr ia = {
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	int acc = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	struct ibv_qp_attr err_attr = { .qp_state = IBV_QPS_ERR };
	struct ibv_send_wr swr, *sbad;
	struct ibv_recv_wr rwr, *rbad;
	struct ibv_sge ss, rs;
	struct ibv_cq *cq_a, *cq_b;
	struct ibv_mr *src, *dst;
	struct ibv_srq *srq;
	struct ibv_qp *a, *b;
	struct ibv_wc wc[4];
	struct ibv_pd *pd;
	union ibv_gid gid;
	long lost0;
	int gidx, i, n;
	void *sbuf, *dbuf;

	if (read_num(RXE_DBG "/xmit_dropped") < 0)
		die("%s/xmit_dropped not readable (ours only, debugfs mounted?)",
		    RXE_DBG);
	gidx = find_gid(ctx, &gid);
	if (gidx < 0)
		die("no RoCE v2 GID on %s", dev_name);
	pd = ibv_alloc_pd(ctx);
	cq_a = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	cq_b = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	srq = pd ? ibv_create_srq(pd, &si) : NULL;
	if (!pd || !cq_a || !cq_b || !srq)
		die("PD/CQ/SRQ: %s", strerror(errno));
	sbuf = calloc(1, 4096);
	dbuf = calloc(1, 3 * 4096);
	src = ibv_reg_mr(pd, sbuf, 4096, acc);
	dst = ibv_reg_mr(pd, dbuf, 3 * 4096, acc);
	if (!src || !dst)
		die("ibv_reg_mr: %s", strerror(errno));
	ia.send_cq = ia.recv_cq = cq_a;
	a = ibv_create_qp(pd, &ia);
	ia.send_cq = ia.recv_cq = cq_b;
	ia.srq = srq;
	b = ibv_create_qp(pd, &ia);
	if (!a || !b)
		die("ibv_create_qp: %s", strerror(errno));
	qp_connect(a, b->qp_num, gidx, &gid);
	qp_connect(b, a->qp_num, gidx, &gid);
	for (i = 0; i < 3; i++) {
		rs = (struct ibv_sge){ .addr = (uintptr_t)dbuf + i * 4096,
				       .length = 4096, .lkey = dst->lkey };
		rwr = (struct ibv_recv_wr){ .wr_id = 501 + i, .sg_list = &rs,
					    .num_sge = 1 };
		if (ibv_post_srq_recv(srq, &rwr, &rbad))
			die("ibv_post_srq_recv: %s", strerror(errno));
	}

	/* 2000 bytes at MTU 1024: FIRST and LAST; every LAST is lost. */
	lost0 = read_num(RXE_DBG "/xmit_dropped");
	lose_opcode(RC_SEND_LAST);
	fill_pat(sbuf, 2000, 50);
	ss = (struct ibv_sge){ .addr = (uintptr_t)sbuf, .length = 2000,
			       .lkey = src->lkey };
	swr = (struct ibv_send_wr){ .wr_id = 77, .sg_list = &ss, .num_sge = 1,
				    .opcode = IBV_WR_SEND,
				    .send_flags = IBV_SEND_SIGNALED };
	if (ibv_post_send(a, &swr, &sbad))
		die("ibv_post_send: %s", strerror(errno));
	/* The sender gives up (retries exceeded) or keeps trying: either way */
	n = poll_quiet(cq_b, wc, 4, 500);
	lose_opcode(0);
	check(read_num(RXE_DBG "/xmit_dropped") > lost0,
	      "the SEND's last packet was lost (xmit_dropped %ld -> %ld)",
	      lost0, read_num(RXE_DBG "/xmit_dropped"));
	check(n == 0, "no receive completes while the SEND is incomplete (%d)",
	      n);
	if (ibv_modify_qp(b, &err_attr, IBV_QP_STATE))
		die("modify QP to ERR: %s", strerror(errno));
	n = poll_quiet(cq_b, wc, 4, 500);
	check(n == 1 && wc[0].wr_id == 501 &&
	      wc[0].status == IBV_WC_WR_FLUSH_ERR,
	      "moved to ERR, the receiver completes the SRQ receive the SEND "
	      "had taken, and only that one, with WR_FLUSH_ERR (%d: wr_id "
	      "%" PRIu64 ", %s)", n, n ? (uint64_t)wc[0].wr_id : 0,
	      n ? ibv_wc_status_str(wc[0].status) : "-");

	ibv_modify_qp(a, &err_attr, IBV_QP_STATE);
	ibv_dereg_mr(src);
	ibv_dereg_mr(dst);
	ibv_destroy_qp(a);
	ibv_destroy_qp(b);
	ibv_destroy_srq(srq);
	pair_teardown_rest(ctx, pd, cq_a, cq_b);
	free(sbuf);
	free(dbuf);
	return 0;
}

/*
 * rd-depth, rd-no-res: the initiator depth (max_rd_atomic) and responder
 * resources (max_dest_rd_atomic) of RC QPs.
 */
#define RC_READ_REQUEST	0x0c
#define RC_ATOMIC_ACK	0x12
#define RC_FETCH_ADD	0x14
#define RD_BUF		(64 * 1024)
#define RD_N		8	/* READs posted at once */
#define RD_LEN		256
#define RD_READ_OFF	4096	/* READ source (b) and target (a) */
#define RD_RES_OFF	8192	/* atomic results (a); the counter is b[0] */
#define DEEP_N		64	/* atomics outstanding in the replay check */

static int pair_sq = 2 * DEEP_N;	/* rd_pair_open(): SQ and CQ depth */

struct rd_pair {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq_a, *cq_b;
	struct ibv_qp *a, *b;
	struct ibv_mr *mr_a, *mr_b;
	unsigned char *buf_a, *buf_b;
};

/*
 * An RC pair on this device: @a issues READs and atomics with initiator
 * depth @rd_a towards @b, which offers @dest_b responder resources.
 */
static void rd_pair_open(struct rd_pair *p, int rd_a, int dest_b)
{
	struct ibv_qp_init_attr ia = {
		.cap = { .max_send_wr = pair_sq, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	int acc = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		  IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC |
		  IBV_ACCESS_MW_BIND;
	union ibv_gid gid;
	int gidx;

	memset(p, 0, sizeof(*p));
	p->ctx = open_dev();
	gidx = find_gid(p->ctx, &gid);
	if (gidx < 0)
		die("no RoCE v2 GID on %s", dev_name);
	p->pd = ibv_alloc_pd(p->ctx);
	p->cq_a = ibv_create_cq(p->ctx, pair_sq, NULL, NULL, 0);
	p->cq_b = ibv_create_cq(p->ctx, pair_sq, NULL, NULL, 0);
	p->buf_a = aligned_alloc(4096, RD_BUF);
	p->buf_b = aligned_alloc(4096, RD_BUF);
	if (!p->pd || !p->cq_a || !p->cq_b || !p->buf_a || !p->buf_b)
		die("PD/CQ/buffers: %s", strerror(errno));
	memset(p->buf_a, 0, RD_BUF);
	memset(p->buf_b, 0, RD_BUF);
	p->mr_a = ibv_reg_mr(p->pd, p->buf_a, RD_BUF, acc);
	p->mr_b = ibv_reg_mr(p->pd, p->buf_b, RD_BUF, acc);
	if (!p->mr_a || !p->mr_b)
		die("ibv_reg_mr: %s", strerror(errno));
	ia.send_cq = ia.recv_cq = p->cq_a;
	p->a = ibv_create_qp(p->pd, &ia);
	ia.send_cq = ia.recv_cq = p->cq_b;
	p->b = ibv_create_qp(p->pd, &ia);
	if (!p->a || !p->b)
		die("ibv_create_qp: %s", strerror(errno));
	conn_rd = rd_a;
	conn_dest_rd = 1;
	qp_connect(p->a, p->b->qp_num, gidx, &gid);
	conn_rd = 1;
	conn_dest_rd = dest_b;
	qp_connect(p->b, p->a->qp_num, gidx, &gid);
	conn_rd = 1;
	conn_dest_rd = 1;
}

static void rd_pair_close(struct rd_pair *p)
{
	ibv_destroy_qp(p->a);
	ibv_destroy_qp(p->b);
	ibv_dereg_mr(p->mr_a);
	ibv_dereg_mr(p->mr_b);
	pair_teardown_rest(p->ctx, p->pd, p->cq_a, p->cq_b);
	free(p->buf_a);
	free(p->buf_b);
}

/*
 * Post @n signalled READs (RD_LEN bytes each, READ i from b's RD_READ_OFF
 * + i * RD_LEN to the same offset in a) or FETCH_ADDs of 1 to b's first
 * word (result i to a's RD_RES_OFF + 8 * i), wr_id @wr0 + i, in one call.
 */
static void rd_post(struct rd_pair *p, int n, bool atomic, uint64_t wr0)
{
	struct ibv_send_wr wr[DEEP_N], *bad;
	struct ibv_sge sge[DEEP_N];
	size_t off;
	int i;

	for (i = 0; i < n; i++) {
		off = atomic ? RD_RES_OFF + 8 * i : RD_READ_OFF + RD_LEN * i;
		sge[i] = (struct ibv_sge){ .addr = (uintptr_t)p->buf_a + off,
					   .length = atomic ? 8 : RD_LEN,
					   .lkey = p->mr_a->lkey };
		wr[i] = (struct ibv_send_wr){
			.wr_id = wr0 + i,
			.next = i + 1 < n ? &wr[i + 1] : NULL,
			.sg_list = &sge[i],
			.num_sge = 1,
			.send_flags = IBV_SEND_SIGNALED,
		};
		if (atomic) {
			wr[i].opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
			wr[i].wr.atomic.remote_addr = (uintptr_t)p->buf_b;
			wr[i].wr.atomic.compare_add = 1;
			wr[i].wr.atomic.rkey = p->mr_b->rkey;
		} else {
			wr[i].opcode = IBV_WR_RDMA_READ;
			wr[i].wr.rdma.remote_addr = (uintptr_t)p->buf_b + off;
			wr[i].wr.rdma.rkey = p->mr_b->rkey;
		}
	}
	if (ibv_post_send(p->a, wr, &bad))
		die("ibv_post_send: %s", strerror(errno));
}

/* Completions @wc[0..n-1] are wr_id @wr0.. in order, all successful. */
static bool rd_all_good(const struct ibv_wc *wc, int n, uint64_t wr0)
{
	int i;

	for (i = 0; i < n; i++)
		if (wc[i].status != IBV_WC_SUCCESS || wc[i].wr_id != wr0 + i)
			return false;
	return true;
}

/*
 * Post @n requests of one kind on a pair with initiator depth 3 while our
 * transmit fault injection loses every packet of BTH opcode @op; after
 * 0.5 s (the ACK timeout is 4 s) exactly 3 must have gone out.  Then the
 * loss stops, and the resend after the timeout must complete all @n.
 */
static void rd_depth_one(struct rd_pair *p, int n, bool atomic, int op,
			 uint64_t wr0)
{
	const char *what = atomic ? "FETCH_ADD" : "READ";
	struct ibv_wc wc[DEEP_N];
	long d0, d;
	int got;

	d0 = read_num(RXE_DBG "/xmit_dropped");
	lose_opcode(op);
	rd_post(p, n, atomic, wr0);
	usleep(500000);
	d = read_num(RXE_DBG "/xmit_dropped") - d0;
	lose_opcode(0);
	check(d == 3, "max_rd_atomic 3: %d %ss posted, exactly 3 went out "
	      "before any completed (%ld)", n, what, d);
	got = poll_n(p->cq_a, wc, n);
	check(got == n && rd_all_good(wc, n, wr0),
	      "after the resend all %d %ss complete in order, successfully "
	      "(%d of %d; first status %s)", n, what, got, n,
	      got ? ibv_wc_status_str(wc[0].status) : "-");
}

static int run_rd_depth(void)
{
	uint64_t *res, counter;
	struct ibv_wc wc[DEEP_N];
	struct rd_pair p;
	long d0, dup0;
	int got, i, wrong;

	if (read_num(RXE_DBG "/xmit_dropped") < 0)
		die("%s/xmit_dropped not readable (ours only, debugfs mounted?)",
		    RXE_DBG);

	/* Initiator depth 3, READs then atomics. */
	ack_timeout = 20;	/* about 4.3 s */
	retry_cnt = 7;
	rd_pair_open(&p, 3, 16);
	for (i = 0; i < RD_N; i++)
		fill_pat(p.buf_b + RD_READ_OFF + RD_LEN * i, RD_LEN, i + 1);
	rd_depth_one(&p, RD_N, false, RC_READ_REQUEST, 0);
	check(!memcmp(p.buf_a + RD_READ_OFF, p.buf_b + RD_READ_OFF,
		      RD_N * RD_LEN), "every READ's bytes landed");
	rd_depth_one(&p, 5, true, RC_FETCH_ADD, 100);
	res = (uint64_t *)(p.buf_a + RD_RES_OFF);
	memcpy(&counter, p.buf_b, 8);
	for (i = 0, wrong = 0; i < 5; i++)
		wrong += res[i] != (uint64_t)i;
	check(counter == 5 && !wrong,
	      "each FETCH_ADD executed once, in order (counter %" PRIu64
	      ", %d results wrong)", counter, wrong);
	rd_pair_close(&p);

	/* Initiator depth 0: no READ or atomic may be issued. */
	ack_timeout = 14;
	rd_pair_open(&p, 0, 16);
	rd_post(&p, 1, false, 200);
	got = poll_n(p.cq_a, wc, 1);
	check(got == 1 && wc[0].wr_id == 200 &&
	      wc[0].status == IBV_WC_LOC_QP_OP_ERR,
	      "a READ on a QP with max_rd_atomic 0 fails with a local QP "
	      "operation error (%s)",
	      got ? ibv_wc_status_str(wc[0].status) : "no completion");
	check(qp_state(p.a) == IBV_QPS_ERR, "that QP is in ERR (%d)",
	      qp_state(p.a));
	rd_pair_close(&p);

	/*
	 * 64 atomics outstanding, every 3rd ATOMIC ACKNOWLEDGE lost (also
	 * when resent): the go-back-N resends reach 63 atomics back, and
	 * every duplicate must be answered from the responder resources.
	 */
	rd_pair_open(&p, DEEP_N, DEEP_N);
	dup0 = hw_counter("duplicate_request");
	d0 = read_num(RXE_DBG "/xmit_dropped");
	write_num(RXE_DBG "/xmit_drop_every", 0);
	write_num(RXE_DBG "/xmit_drop_opcode", RC_ATOMIC_ACK);
	write_num(RXE_DBG "/xmit_drop_every", 3);
	rd_post(&p, DEEP_N, true, 300);
	got = poll_n(p.cq_a, wc, DEEP_N);
	lose_opcode(0);
	res = (uint64_t *)(p.buf_a + RD_RES_OFF);
	memcpy(&counter, p.buf_b, 8);
	for (i = 0, wrong = 0; i < DEEP_N; i++)
		wrong += res[i] != (uint64_t)i;
	check(read_num(RXE_DBG "/xmit_dropped") - d0 >= DEEP_N / 3,
	      "at least %d atomic acknowledges were lost (%ld)", DEEP_N / 3,
	      read_num(RXE_DBG "/xmit_dropped") - d0);
	check(hw_counter("duplicate_request") > dup0,
	      "the responder saw duplicates (duplicate_request %ld -> %ld)",
	      dup0, hw_counter("duplicate_request"));
	check(got == DEEP_N && rd_all_good(wc, DEEP_N, 300),
	      "max_rd_atomic %d: all %d FETCH_ADDs complete in order, "
	      "successfully (%d; first status %s)", DEEP_N, DEEP_N, got,
	      got ? ibv_wc_status_str(wc[0].status) : "-");
	check(counter == DEEP_N && !wrong,
	      "each executed exactly once: counter %" PRIu64 " (want %d), "
	      "%d results not their first execution's", counter, DEEP_N,
	      wrong);
	rd_pair_close(&p);
	return 0;
}

/*
 * A responder with no resources (max_dest_rd_atomic 0) answers a READ and
 * an atomic with an invalid request NAK: the requester's WQE completes
 * with a remote invalid request error and nothing is read or added.
 */
static int run_rd_no_res(void)
{
	struct ibv_wc wc[1];
	struct rd_pair p;
	uint64_t counter;
	int got, k;

	for (k = 0; k < 2; k++) {
		rd_pair_open(&p, 1, 0);
		fill_pat(p.buf_b + RD_READ_OFF, RD_LEN, 9);
		rd_post(&p, 1, k, 400 + k);
		got = poll_n(p.cq_a, wc, 1);
		check(got == 1 && wc[0].wr_id == 400u + k &&
		      wc[0].status == IBV_WC_REM_INV_REQ_ERR,
		      "%s towards max_dest_rd_atomic 0: remote invalid request "
		      "error (%s)", k ? "FETCH_ADD" : "READ",
		      got ? ibv_wc_status_str(wc[0].status) : "no completion");
		memcpy(&counter, p.buf_b, 8);
		check(k ? counter == 0 :
			  all_zero(p.buf_a + RD_READ_OFF, RD_LEN),
		      "%s", k ? "nothing was added" : "nothing was read");
		rd_pair_close(&p);
	}
	return 0;
}

/*
 * fence, local-inv, fair: ordering within a QP and fairness between QPs.
 */
#define FN_LEN		16384	/* 16 packets at MTU 1024 */
#define FN_SRC		16384	/* READ source (b) and target (a) */
#define FN_DST		40960	/* WRITE target (b) */
#define FN_ROUNDS	5

/* One WR on @qp (not chained), signalled; dies if the post fails. */
static void post1(struct ibv_qp *qp, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad;

	wr->next = NULL;
	if (ibv_post_send(qp, wr, &bad))
		die("ibv_post_send: %s", strerror(errno));
}

/*
 * READ b's FN_SRC into a's FN_SRC, then WRITE a's FN_SRC to b's FN_DST,
 * posted in one call; with @fence the WRITE carries IBV_SEND_FENCE.  Fills
 * b's source with pattern @seq first and clears the other two.  Returns
 * whether b's FN_DST then holds the pattern; *@ok says whether both WQEs
 * completed in order, successfully.
 */
static bool fence_round(struct rd_pair *p, bool fence, unsigned int seq,
			bool *ok)
{
	struct ibv_sge rs = { .addr = (uintptr_t)p->buf_a + FN_SRC,
			      .length = FN_LEN, .lkey = p->mr_a->lkey };
	struct ibv_sge ws = rs;
	struct ibv_send_wr w[2], *bad;
	struct ibv_wc wc[2];
	int got;

	fill_pat(p->buf_b + FN_SRC, FN_LEN, seq);
	memset(p->buf_a + FN_SRC, 0, FN_LEN);
	memset(p->buf_b + FN_DST, 0, FN_LEN);
	w[0] = (struct ibv_send_wr){ .wr_id = 1, .next = &w[1], .sg_list = &rs,
				     .num_sge = 1, .opcode = IBV_WR_RDMA_READ,
				     .send_flags = IBV_SEND_SIGNALED };
	w[0].wr.rdma.remote_addr = (uintptr_t)p->buf_b + FN_SRC;
	w[0].wr.rdma.rkey = p->mr_b->rkey;
	w[1] = (struct ibv_send_wr){ .wr_id = 2, .sg_list = &ws, .num_sge = 1,
				     .opcode = IBV_WR_RDMA_WRITE,
				     .send_flags = IBV_SEND_SIGNALED |
						   (fence ? IBV_SEND_FENCE : 0) };
	w[1].wr.rdma.remote_addr = (uintptr_t)p->buf_b + FN_DST;
	w[1].wr.rdma.rkey = p->mr_b->rkey;
	if (ibv_post_send(p->a, w, &bad))
		die("ibv_post_send: %s", strerror(errno));
	got = poll_n(p->cq_a, wc, 2);
	*ok = got == 2 && rd_all_good(wc, 2, 1);
	return !memcmp(p->buf_b + FN_DST, p->buf_b + FN_SRC, FN_LEN);
}

/*
 * fence: a WRITE whose source a READ just before it fills must carry the
 * READ's bytes when it is fenced (IBV_SEND_FENCE: wait for earlier READs
 * and atomics).  Unfenced rounds first, as a control: on ours the WRITE
 * then leaves before the READ response arrives (shown, not asserted).
 */
static int run_fence(void)
{
	struct rd_pair p;
	int i, stale = 0, good = 0, carried = 0;
	bool ok;

	rd_pair_open(&p, 4, 4);
	for (i = 0; i < FN_ROUNDS; i++) {
		if (!fence_round(&p, false, 10 + i, &ok))
			stale++;
		good += ok;
	}
	say("control: without FENCE the WRITE carried stale bytes in %d of %d "
	    "rounds", stale, FN_ROUNDS);
	check(good == FN_ROUNDS, "unfenced rounds complete in order (%d of %d)",
	      good, FN_ROUNDS);
	for (i = 0, good = 0; i < FN_ROUNDS; i++) {
		carried += fence_round(&p, true, 20 + i, &ok);
		good += ok;
	}
	check(good == FN_ROUNDS, "fenced rounds complete in order (%d of %d)",
	      good, FN_ROUNDS);
	check(carried == FN_ROUNDS,
	      "a fenced WRITE carries the bytes of the READ before it "
	      "(%d of %d rounds)", carried, FN_ROUNDS);
	rd_pair_close(&p);
	return 0;
}

/* b WRITEs 256 bytes of pattern @seq to a's @off through R_Key @rkey. */
static int li_write(struct rd_pair *p, uint32_t rkey, size_t off,
		    unsigned int seq)
{
	struct ibv_sge sge = { .addr = (uintptr_t)p->buf_b,
			       .length = 256, .lkey = p->mr_b->lkey };
	struct ibv_send_wr w = { .wr_id = seq, .sg_list = &sge, .num_sge = 1,
				 .opcode = IBV_WR_RDMA_WRITE,
				 .send_flags = IBV_SEND_SIGNALED };
	struct ibv_wc wc;

	fill_pat(p->buf_b, 256, seq);
	w.wr.rdma.remote_addr = (uintptr_t)p->buf_a + off;
	w.wr.rdma.rkey = rkey;
	post1(p->b, &w);
	if (poll_n(p->cq_b, &wc, 1) != 1)
		return -1;
	return wc.status;
}

/* b posts one receive (wr_id 600) of @len bytes at its buffer's 512. */
static void pair_recv(struct rd_pair *p, uint32_t len, uint32_t lkey)
{
	struct ibv_sge rs = { .addr = (uintptr_t)p->buf_b + 512, .length = len,
			      .lkey = lkey };
	struct ibv_recv_wr rw = { .wr_id = 600, .sg_list = &rs, .num_sge = 1 };
	struct ibv_recv_wr *bad;

	if (ibv_post_recv(p->b, &rw, &bad))
		die("ibv_post_recv: %s", strerror(errno));
}

/*
 * local-inv: local operations take effect in send queue order.  a binds a
 * type 2 window over its buffer and, in the same post, SENDs the new R_Key
 * to b: when b sees the SEND, a WRITE through that R_Key must land.  Then
 * a posts a multi-packet WRITE, a LOCAL_INV of the window and a SEND: the
 * three complete in that order, successfully, and when b sees the SEND a
 * WRITE through the window must fail (remote access error) and change
 * nothing.
 */
static int run_local_inv(void)
{
	struct ibv_sge ss = { .length = 8 }, ws = { .length = FN_LEN };
	struct ibv_send_wr w[3], *bad;
	struct ibv_wc wc[3], rwc;
	unsigned char before[256];
	struct rd_pair p;
	struct ibv_mw *mw;
	uint32_t rkey;
	int got, st;

	rd_pair_open(&p, 1, 1);
	mw = ibv_alloc_mw(p.pd, IBV_MW_TYPE_2);
	if (!mw)
		die("ibv_alloc_mw(type 2): %s", strerror(errno));
	rkey = ibv_inc_rkey(mw->rkey);
	ss.addr = (uintptr_t)p.buf_a;
	ss.lkey = p.mr_a->lkey;
	memcpy(p.buf_a, &rkey, 4);

	/* BIND_MW, then a SEND that tells b the new R_Key. */
	pair_recv(&p, 64, p.mr_b->lkey);
	memset(w, 0, sizeof(w));
	w[0].wr_id = 1;
	w[0].next = &w[1];
	w[0].opcode = IBV_WR_BIND_MW;
	w[0].send_flags = IBV_SEND_SIGNALED;
	w[0].bind_mw.mw = mw;
	w[0].bind_mw.rkey = rkey;
	w[0].bind_mw.bind_info.mr = p.mr_a;
	w[0].bind_mw.bind_info.addr = (uintptr_t)p.buf_a + 32768;
	w[0].bind_mw.bind_info.length = 8192;
	w[0].bind_mw.bind_info.mw_access_flags = IBV_ACCESS_REMOTE_WRITE;
	w[1].wr_id = 2;
	w[1].sg_list = &ss;
	w[1].num_sge = 1;
	w[1].opcode = IBV_WR_SEND;
	w[1].send_flags = IBV_SEND_SIGNALED;
	if (ibv_post_send(p.a, w, &bad))
		die("ibv_post_send(BIND_MW, SEND): %s", strerror(errno));
	got = poll_n(p.cq_a, wc, 2);
	check(got == 2 && rd_all_good(wc, 2, 1),
	      "BIND_MW then SEND complete in order, successfully (%d; %s)",
	      got, got ? ibv_wc_status_str(wc[0].status) : "-");
	check(poll_n(p.cq_b, &rwc, 1) == 1 && rwc.status == IBV_WC_SUCCESS,
	      "b received the R_Key");
	st = li_write(&p, rkey, 32768, 31);
	check(st == IBV_WC_SUCCESS && !memcmp(p.buf_a + 32768, p.buf_b, 256),
	      "a WRITE through the window the SEND announced lands (%s)",
	      st < 0 ? "no completion" : ibv_wc_status_str(st));

	/* A long WRITE, LOCAL_INV, SEND: in order; then the key is dead. */
	pair_recv(&p, 64, p.mr_b->lkey);
	fill_pat(p.buf_a + FN_SRC, FN_LEN, 32);
	ws.addr = (uintptr_t)p.buf_a + FN_SRC;
	ws.lkey = p.mr_a->lkey;
	memset(w, 0, sizeof(w));
	w[0].wr_id = 11;
	w[0].next = &w[1];
	w[0].sg_list = &ws;
	w[0].num_sge = 1;
	w[0].opcode = IBV_WR_RDMA_WRITE;
	w[0].send_flags = IBV_SEND_SIGNALED;
	w[0].wr.rdma.remote_addr = (uintptr_t)p.buf_b + FN_DST;
	w[0].wr.rdma.rkey = p.mr_b->rkey;
	w[1].wr_id = 12;
	w[1].next = &w[2];
	w[1].opcode = IBV_WR_LOCAL_INV;
	w[1].send_flags = IBV_SEND_SIGNALED;
	w[1].invalidate_rkey = rkey;
	w[2].wr_id = 13;
	w[2].sg_list = &ss;
	w[2].num_sge = 1;
	w[2].opcode = IBV_WR_SEND;
	w[2].send_flags = IBV_SEND_SIGNALED;
	if (ibv_post_send(p.a, w, &bad))
		die("ibv_post_send(WRITE, LOCAL_INV, SEND): %s",
		    strerror(errno));
	got = poll_n(p.cq_a, wc, 3);
	check(got == 3 && rd_all_good(wc, 3, 11),
	      "WRITE, LOCAL_INV, SEND complete in order, successfully (%d; "
	      "%s %s %s)", got,
	      got > 0 ? ibv_wc_status_str(wc[0].status) : "-",
	      got > 1 ? ibv_wc_status_str(wc[1].status) : "-",
	      got > 2 ? ibv_wc_status_str(wc[2].status) : "-");
	check(!memcmp(p.buf_b + FN_DST, p.buf_a + FN_SRC, FN_LEN),
	      "the WRITE's bytes landed");
	check(poll_n(p.cq_b, &rwc, 1) == 1 && rwc.status == IBV_WC_SUCCESS,
	      "b received the SEND after the LOCAL_INV");
	memcpy(before, p.buf_a + 32768, 256);
	st = li_write(&p, rkey, 32768, 33);
	check(st == IBV_WC_REM_ACCESS_ERR,
	      "a WRITE through the invalidated window fails with a remote "
	      "access error (%s)",
	      st < 0 ? "no completion" : ibv_wc_status_str(st));
	check(!memcmp(p.buf_a + 32768, before, 256),
	      "and changes nothing in a's memory");
	ibv_dealloc_mw(mw);
	rd_pair_close(&p);
	return 0;
}

/*
 * fair: FAIR_BULK QPs each stream FAIR_WRS RDMA WRITEs of FAIR_LEN bytes
 * (each posted in one call from its own thread); once each has completed
 * something, another QP posts one 64-byte WRITE.  It must complete before
 * any stream is half done, and when the first stream has finished every
 * other must be at least a quarter done: one QP's backlog neither starves
 * a QP with little to send nor its peers.
 */
#define FAIR_BULK	3
#define FAIR_WRS	1024
#define FAIR_LEN	32768
#define FAIR_SIG	64	/* every 64th WRITE is signalled */

struct fair_stream {
	struct rd_pair p;
	pthread_t thr;
	int done;		/* signalled completions seen */
	double t_end;
	struct ibv_wc first_bad;	/* the first failed completion */
	int bad;
};

static void *fair_post(void *arg)
{
	struct fair_stream *f = arg;
	struct ibv_send_wr *w = calloc(FAIR_WRS, sizeof(*w)), *bad;
	struct ibv_sge sge = { .addr = (uintptr_t)f->p.buf_a,
			       .length = FAIR_LEN, .lkey = f->p.mr_a->lkey };
	int i;

	if (!w)
		die("calloc");
	for (i = 0; i < FAIR_WRS; i++) {
		w[i].wr_id = i;
		w[i].next = i + 1 < FAIR_WRS ? &w[i + 1] : NULL;
		w[i].sg_list = &sge;
		w[i].num_sge = 1;
		w[i].opcode = IBV_WR_RDMA_WRITE;
		w[i].send_flags = (i + 1) % FAIR_SIG ? 0 : IBV_SEND_SIGNALED;
		w[i].wr.rdma.remote_addr = (uintptr_t)f->p.buf_b;
		w[i].wr.rdma.rkey = f->p.mr_b->rkey;
	}
	if (ibv_post_send(f->p.a, w, &bad))
		die("ibv_post_send(stream): %s", strerror(errno));
	free(w);
	return NULL;
}

static int run_fair(void)
{
	const int nsig = FAIR_WRS / FAIR_SIG;
	struct fair_stream f[FAIR_BULK];
	int i, j, r, bad = 0, first = -1, at_small = -1, min_at_first = nsig;
	double t0, t_small = 0, end;
	struct ibv_send_wr sw;
	struct ibv_sge ss;
	struct rd_pair s;
	struct ibv_wc wc[8];
	bool posted = false;

	/*
	 * An ACK timeout of about 1 s, not the usual 67 ms: this measures how
	 * the streams share the CPUs.  On the debug kernel a fair share gives
	 * each stream a 32-packet message every 90 ms or so, and with 67 ms
	 * each QP's full window of 128 PSNs timed out and went back N,
	 * resending what its peer had queued (171 timeouts and 4230
	 * duplicates in one run, retries used up in another).
	 */
	ack_timeout = 18;
	pair_sq = FAIR_WRS;
	for (i = 0; i < FAIR_BULK; i++) {
		rd_pair_open(&f[i].p, 1, 1);
		f[i].done = 0;
		f[i].t_end = 0;
		f[i].bad = 0;
	}
	pair_sq = 2 * DEEP_N;
	rd_pair_open(&s, 1, 1);
	ack_timeout = 14;
	t0 = now();
	for (i = 0; i < FAIR_BULK; i++)
		if (pthread_create(&f[i].thr, NULL, fair_post, &f[i]))
			die("pthread_create");
	end = now() + wait_secs * 4;
	for (;;) {
		int all = 0;

		for (i = 0; i < FAIR_BULK; i++) {
			r = ibv_poll_cq(f[i].p.cq_a, 8, wc);
			if (r < 0)
				die("ibv_poll_cq: %d", r);
			for (j = 0; j < r; j++) {
				if (wc[j].status != IBV_WC_SUCCESS &&
				    !f[i].bad++)
					f[i].first_bad = wc[j];
				if (++f[i].done == nsig) {
					f[i].t_end = now();
					if (first < 0) {
						int k;

						first = i;
						for (k = 0; k < FAIR_BULK; k++)
							if (f[k].done < min_at_first)
								min_at_first = f[k].done;
					}
				}
			}
			all += f[i].done == nsig;
		}
		/* The small WRITE once every stream has made progress. */
		if (!posted && f[0].done && f[1].done && f[2].done) {
			ss = (struct ibv_sge){ .addr = (uintptr_t)s.buf_a,
					       .length = 64, .lkey = s.mr_a->lkey };
			sw = (struct ibv_send_wr){ .wr_id = 7, .sg_list = &ss,
						   .num_sge = 1,
						   .opcode = IBV_WR_RDMA_WRITE,
						   .send_flags = IBV_SEND_SIGNALED };
			sw.wr.rdma.remote_addr = (uintptr_t)s.buf_b;
			sw.wr.rdma.rkey = s.mr_b->rkey;
			fill_pat(s.buf_a, 64, 41);
			t_small = now();
			post1(s.a, &sw);
			posted = true;
		}
		if (posted && at_small < 0) {
			r = ibv_poll_cq(s.cq_a, 1, wc);
			if (r > 0) {
				bad += wc[0].status != IBV_WC_SUCCESS;
				t_small = now() - t_small;
				at_small = 0;
				for (i = 0; i < FAIR_BULK; i++)
					if (f[i].done > at_small)
						at_small = f[i].done;
			}
		}
		if (all == FAIR_BULK && at_small >= 0)
			break;
		if (now() > end)
			break;
		usleep(200);
	}
	for (i = 0; i < FAIR_BULK; i++) {
		pthread_join(f[i].thr, NULL);
		bad += f[i].bad;
		if (f[i].bad)
			say("stream %d: %d failed completions, the first wr_id "
			    "%llu: %s (vendor error 0x%x)", i, f[i].bad,
			    (unsigned long long)f[i].first_bad.wr_id,
			    ibv_wc_status_str(f[i].first_bad.status),
			    f[i].first_bad.vendor_err);
	}
	say("streams: %d x %d WRITEs of %d bytes; finished after %.2f %.2f "
	    "%.2f s; the small WRITE took %.1f ms",
	    FAIR_BULK, FAIR_WRS, FAIR_LEN, f[0].t_end ? f[0].t_end - t0 : -1,
	    f[1].t_end ? f[1].t_end - t0 : -1, f[2].t_end ? f[2].t_end - t0 : -1,
	    at_small >= 0 ? t_small * 1000 : -1);
	check(!bad && f[0].done == nsig && f[1].done == nsig &&
	      f[2].done == nsig && at_small >= 0,
	      "every stream and the small WRITE completed successfully "
	      "(%d %d %d of %d signalled; small %s; %d errors)", f[0].done,
	      f[1].done, f[2].done, nsig, at_small >= 0 ? "done" : "not done",
	      bad);
	check(at_small >= 0 && at_small <= nsig / 2,
	      "the small WRITE completed before any stream was half done (the "
	      "furthest had %d of %d signalled completions)", at_small, nsig);
	check(!memcmp(s.buf_b, s.buf_a, 64), "its bytes landed");
	check(first >= 0 && min_at_first >= nsig / 4,
	      "when the first stream finished, every stream was at least a "
	      "quarter done (slowest %d of %d)", min_at_first, nsig);
	for (i = 0; i < FAIR_BULK; i++)
		rd_pair_close(&f[i].p);
	rd_pair_close(&s);
	return 0;
}

/*
 * wc-errors: the completion status of each RC error a verbs user can
 * provoke, on the requester (the IBTA's, or where stock 6.1 differs, its)
 * and on the responder (must be an error).  Both are printed ("requester:
 * CASE STATUS", "responder: CASE STATUS") for the case to judge which.
 */
struct we_case {
	const char *name;
	enum ibv_wc_status want;	/* requester, as the IBTA says */
	enum ibv_wc_status alt;		/* requester, stock 6.1 */
};

/* Post @w on a, wait for its completion; its status (-1: none). */
static int we_post(struct rd_pair *p, struct ibv_send_wr *w)
{
	struct ibv_wc wc;

	post1(p->a, w);
	if (poll_n(p->cq_a, &wc, 1) != 1)
		return -1;
	return wc.status;
}

/* An lkey/rkey that named an MR of the pair's PD and no longer does. */
static struct ibv_mr *we_dead_mr(struct rd_pair *p)
{
	struct ibv_mr *mr = ibv_reg_mr(p->pd, p->buf_a + 49152, 4096,
				       IBV_ACCESS_LOCAL_WRITE |
				       IBV_ACCESS_REMOTE_WRITE);

	if (!mr)
		die("ibv_reg_mr: %s", strerror(errno));
	return mr;
}

static int run_wc_errors(void)
{
	static const struct we_case cases[] = {
		{ "send-bad-lkey", IBV_WC_LOC_PROT_ERR, IBV_WC_LOC_QP_OP_ERR },
		{ "send-too-long", IBV_WC_REM_INV_REQ_ERR, IBV_WC_REM_OP_ERR },
		{ "recv-bad-lkey", IBV_WC_REM_OP_ERR, IBV_WC_REM_OP_ERR },
		{ "write-bad-rkey", IBV_WC_REM_ACCESS_ERR, IBV_WC_REM_ACCESS_ERR },
		{ "rnr-retry", IBV_WC_RNR_RETRY_EXC_ERR,
		  IBV_WC_RNR_RETRY_EXC_ERR },
		{ "retry", IBV_WC_RETRY_EXC_ERR, IBV_WC_RETRY_EXC_ERR },
	};
	struct ibv_qp_attr rst = { .qp_state = IBV_QPS_RESET };
	struct ibv_sge sge;
	struct ibv_send_wr w;
	struct ibv_mr *dead;
	struct rd_pair p;
	uint32_t key, len;
	struct ibv_wc rwc;
	unsigned int i;
	int st, rn;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rnr_retry = i == 4 ? 0 : 3;
		ack_timeout = i == 5 ? 12 : 14;	/* 16 ms for the retry case */
		retry_cnt = i == 5 ? 2 : 3;
		rd_pair_open(&p, 1, 1);
		dead = we_dead_mr(&p);
		key = dead->lkey;
		if (i != 3 && ibv_dereg_mr(dead))
			die("ibv_dereg_mr: %s", strerror(errno));
		len = i == 1 ? 200 : 64;
		fill_pat(p.buf_a, len, 70 + i);
		sge = (struct ibv_sge){ .addr = (uintptr_t)p.buf_a,
					.length = len,
					.lkey = i == 0 ? key : p.mr_a->lkey };
		w = (struct ibv_send_wr){ .wr_id = 700 + i, .sg_list = &sge,
					  .num_sge = 1, .opcode = IBV_WR_SEND,
					  .send_flags = IBV_SEND_SIGNALED };
		if (i <= 2)
			pair_recv(&p, 64, i == 2 ? key : p.mr_b->lkey);
		if (i == 3) {
			/* An rkey of b's PD that is gone. */
			key = dead->rkey;
			if (ibv_dereg_mr(dead))
				die("ibv_dereg_mr: %s", strerror(errno));
			w.opcode = IBV_WR_RDMA_WRITE;
			w.wr.rdma.remote_addr = (uintptr_t)p.buf_a + 49152;
			w.wr.rdma.rkey = key;
		}
		if (i == 5 && ibv_modify_qp(p.b, &rst, IBV_QP_STATE))
			die("modify QP to RESET: %s", strerror(errno));
		st = we_post(&p, &w);
		check(st == (int)cases[i].want || st == (int)cases[i].alt,
		      "%s: the requester completes with %s%s%s (%s)",
		      cases[i].name, ibv_wc_status_str(cases[i].want),
		      cases[i].alt != cases[i].want ? " or, as stock 6.1, " : "",
		      cases[i].alt != cases[i].want ?
		      ibv_wc_status_str(cases[i].alt) : "",
		      st < 0 ? "no completion" : ibv_wc_status_str(st));
		say("requester: %s %s", cases[i].name,
		    st < 0 ? "none" : ibv_wc_status_str(st));
		check(qp_state(p.a) == IBV_QPS_ERR, "%s: the requester is in ERR",
		      cases[i].name);
		if (i == 1 || i == 2) {
			rn = poll_n(p.cq_b, &rwc, 1);
			check(rn == 1 && rwc.wr_id == 600 &&
			      rwc.status != IBV_WC_SUCCESS &&
			      rwc.status != IBV_WC_WR_FLUSH_ERR,
			      "%s: the receive completes in error", cases[i].name);
			say("responder: %s %s", cases[i].name,
			    rn == 1 ? ibv_wc_status_str(rwc.status) : "none");
			check(qp_state(p.b) == IBV_QPS_ERR,
			      "%s: the responder is in ERR", cases[i].name);
		}
		rd_pair_close(&p);
	}
	rnr_retry = 3;
	ack_timeout = 14;
	retry_cnt = 3;
	return 0;
}

/*
 * ack-coalesce: 4 RDMA WRITEs of 64 KiB (64 packets each at MTU 1024)
 * posted together on an idle device: the device sends 256 request
 * packets and only a few acknowledges (AckReq on the last packet of a
 * message, not one ACK per packet): sent_pkts must grow by 256 + 1..8.
 */
#define AC_MSGS		4
#define AC_LEN		65536

static int run_ack_coalesce(void)
{
	struct ibv_send_wr w[AC_MSGS], *bad;
	struct ibv_sge sge;
	struct ibv_wc wc[AC_MSGS];
	struct rd_pair p;
	long s0, s1, acks;
	int i, got;

	/* About 4 s: no retransmission on a slow kernel adds packets. */
	ack_timeout = 20;
	rd_pair_open(&p, 1, 1);
	ack_timeout = 14;
	fill_pat(p.buf_a, AC_LEN, 51);
	sge = (struct ibv_sge){ .addr = (uintptr_t)p.buf_a, .length = AC_LEN,
				.lkey = p.mr_a->lkey };
	for (i = 0; i < AC_MSGS; i++) {
		w[i] = (struct ibv_send_wr){
			.wr_id = i,
			.next = i + 1 < AC_MSGS ? &w[i + 1] : NULL,
			.sg_list = &sge,
			.num_sge = 1,
			.opcode = IBV_WR_RDMA_WRITE,
			.send_flags = IBV_SEND_SIGNALED,
		};
		w[i].wr.rdma.remote_addr = (uintptr_t)p.buf_b;
		w[i].wr.rdma.rkey = p.mr_b->rkey;
	}
	s0 = hw_counter("sent_pkts");
	if (ibv_post_send(p.a, w, &bad))
		die("ibv_post_send: %s", strerror(errno));
	got = poll_n(p.cq_a, wc, AC_MSGS);
	usleep(100000);		/* a late ACK would still be counted */
	s1 = hw_counter("sent_pkts");
	check(got == AC_MSGS && rd_all_good(wc, AC_MSGS, 0) &&
	      !memcmp(p.buf_b, p.buf_a, AC_LEN),
	      "%d WRITEs of %d bytes complete, bytes landed", AC_MSGS, AC_LEN);
	acks = s1 - s0 - AC_MSGS * (AC_LEN / 1024);
	say("acknowledges: %ld for %d packets", acks, AC_MSGS * AC_LEN / 1024);
	check(s0 >= 0 && acks >= 1 && acks <= 2 * AC_MSGS,
	      "sent_pkts grew by %d requests and 1..%d acknowledges (%ld)",
	      AC_MSGS * AC_LEN / 1024, 2 * AC_MSGS, acks);
	rd_pair_close(&p);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: verbsev -d DEV [-t WAIT_SECS] [-T HOLD_SECS] "
		"hold|srq-limit|cq-overflow|send-inv|uc-errors|uc-rnr|uc-loss|"
		"rc-reset|rc-reset-asleep|srq-flush|rd-depth|rd-no-res|fence|local-inv|fair|wc-errors|ack-coalesce\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mode;
	int c;

	while ((c = getopt(argc, argv, "d:t:T:")) != -1) {
		switch (c) {
		case 'd':
			dev_name = optarg;
			break;
		case 't':
			wait_secs = atoi(optarg);
			break;
		case 'T':
			hold_secs = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (!dev_name || optind != argc - 1)
		usage();
	mode = argv[optind];
	if (!strcmp(mode, "hold"))
		run_hold();
	else if (!strcmp(mode, "srq-limit"))
		run_srq_limit();
	else if (!strcmp(mode, "cq-overflow"))
		run_cq_overflow();
	else if (!strcmp(mode, "send-inv"))
		run_send_inv();
	else if (!strcmp(mode, "uc-errors"))
		run_uc(false);
	else if (!strcmp(mode, "uc-rnr"))
		run_uc(true);
	else if (!strcmp(mode, "uc-loss"))
		run_uc_loss();
	else if (!strcmp(mode, "rc-reset"))
		run_rc_reset();
	else if (!strcmp(mode, "rc-reset-asleep"))
		run_rc_reset_asleep();
	else if (!strcmp(mode, "srq-flush"))
		run_srq_flush();
	else if (!strcmp(mode, "rd-depth"))
		run_rd_depth();
	else if (!strcmp(mode, "rd-no-res"))
		run_rd_no_res();
	else if (!strcmp(mode, "fence"))
		run_fence();
	else if (!strcmp(mode, "local-inv"))
		run_local_inv();
	else if (!strcmp(mode, "fair"))
		run_fair();
	else if (!strcmp(mode, "wc-errors"))
		run_wc_errors();
	else if (!strcmp(mode, "ack-coalesce"))
		run_ack_coalesce();
	else
		usage();
	if (failures)
		printf("verbsev: FAIL (%d)\n", failures);
	else
		printf("verbsev: PASS\n");
	return failures ? 1 : 0;
}
