// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mcast_ud: UD multicast through plain verbs (no rdma_cm), with every
 * delivery checked.
 *
 * Receiver (-r): creates several UD QPs on one CQ and attaches all of them
 * to the group:
 *   - "good" QPs with the Q_Key the sender uses: the first is left in RTR
 *     (enough to receive), the others are moved to RTS;
 *   - with -b, one more QP in RTS whose Q_Key differs: it must get nothing;
 *   - with -i, one more QP left in INIT: it must get nothing.
 * Receive buffers for every expected message are posted before the
 * receiver says "READY" on stdout (and in the file given with -R); then it
 * waits until each good QP has every message, or the timeout.  Each
 * completion is checked: success, RECV opcode, GRH flag, byte_len = 40 +
 * size, the GRH area holding the packet's IP header with the group as
 * destination (IPv4: 20 bytes of zeroes and the IPv4 header; IPv6: the
 * IPv6 header), the sender's QPN if -Q names it, the payload pattern of
 * the message's sequence number and each sequence number exactly once per
 * QP.  After the good QPs are complete it waits one more second and
 * checks that the bad-Q_Key and INIT QPs stayed empty.  With -D it
 * detaches the QPs before it exits and says "DETACHED", then waits for
 * stdin to close (so a test can look at the netdev's multicast list both
 * while attached and after).
 *
 * Sender (-s): one UD QP in RTS, an address handle on the group (GRH with
 * hop limit 8), -c messages of -S bytes with a sequence number and a
 * pattern, remote QPN 0xffffff and the Q_Key, -p microseconds apart.  It
 * prints its QPN first ("QPN n").
 *
 * Exit status 0 only if every check passed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#define GRH_BYTES	40
#define MAX_QPS		16
#define MCAST_QPN	0xffffff
#define MAGIC		0x6d637564u	/* "mcud" */

struct opts {
	const char *dev;
	int gid_index;
	union ibv_gid mgid;
	bool is_v4;
	uint8_t mgid_v4[4];
	bool send;
	int nqp;
	int count;
	uint32_t size;
	uint32_t qkey;
	bool bad_qkey_qp;
	bool init_qp;
	int timeout_s;
	long pace_us;
	long src_qpn;
	const char *ready_file;
	bool detach_wait;
};

static int failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("FAIL ", stdout);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	failures++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint8_t pattern(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31u + i * 7u + 5u);
}

static void fill(uint8_t *p, uint32_t size, uint32_t seq)
{
	uint32_t i;

	for (i = 0; i < size; i++)
		p[i] = pattern(seq, i);
	if (size >= 8) {
		uint32_t m = htonl(MAGIC), s = htonl(seq);

		memcpy(p, &m, 4);
		memcpy(p + 4, &s, 4);
	}
}

static int parse_group(const char *s, struct opts *o)
{
	struct in_addr a4;
	struct in6_addr a6;

	memset(&o->mgid, 0, sizeof(o->mgid));
	if (inet_pton(AF_INET, s, &a4) == 1) {
		o->is_v4 = true;
		o->mgid.raw[10] = 0xff;
		o->mgid.raw[11] = 0xff;
		memcpy(&o->mgid.raw[12], &a4, 4);
		memcpy(o->mgid_v4, &a4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		o->is_v4 = false;
		memcpy(o->mgid.raw, &a6, 16);
		return 0;
	}
	return -1;
}

static int to_init(struct ibv_qp *qp, uint32_t qkey)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = 1,
		.qkey = qkey,
	};

	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			     IBV_QP_PORT | IBV_QP_QKEY);
}

static int to_rtr(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RTR };

	return ibv_modify_qp(qp, &a, IBV_QP_STATE);
}

static int to_rts(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RTS, .sq_psn = 0 };

	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN);
}

static struct ibv_qp *make_qp(struct ibv_pd *pd, struct ibv_cq *cq, int depth)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = cq,
		.recv_cq = cq,
		.cap = {
			.max_send_wr = depth,
			.max_recv_wr = depth,
			.max_send_sge = 1,
			.max_recv_sge = 1,
		},
		.qp_type = IBV_QPT_UD,
	};

	return ibv_create_qp(pd, &ia);
}

enum rq_kind { RQ_GOOD_RTR, RQ_GOOD_RTS, RQ_BAD_QKEY, RQ_INIT };

static const char *const kind_name[] = {
	"good/RTR", "good/RTS", "bad-qkey/RTS", "INIT",
};

struct rqp {
	struct ibv_qp *qp;
	enum rq_kind kind;
	int got;
	uint8_t *seen;
};

static void check_grh(const struct opts *o, const uint8_t *grh, int q)
{
	if (o->is_v4) {
		static const uint8_t zero[20];

		if (memcmp(grh, zero, 20))
			fail("qp %d: IPv4 GRH area: first 20 bytes not zero", q);
		if ((grh[20] >> 4) != 4)
			fail("qp %d: IPv4 GRH area: version %u", q, grh[20] >> 4);
		if (memcmp(grh + 20 + 16, o->mgid_v4, 4))
			fail("qp %d: IPv4 GRH area: destination is not the group",
			     q);
	} else {
		if ((grh[0] >> 4) != 6)
			fail("qp %d: IPv6 GRH: version %u", q, grh[0] >> 4);
		if (memcmp(grh + 24, o->mgid.raw, 16))
			fail("qp %d: IPv6 GRH: destination is not the group", q);
	}
}

static int run_receiver(const struct opts *o, struct ibv_context *ctx,
			struct ibv_pd *pd)
{
	uint32_t slot = GRH_BYTES + o->size;
	struct rqp q[MAX_QPS] = {};
	int nq = 0, i, k, n, good = 0, depth = o->count;
	struct ibv_wc wc[32];
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	uint8_t *buf;
	size_t total;
	double end;

	for (i = 0; i < o->nqp; i++)
		q[nq++].kind = i ? RQ_GOOD_RTS : RQ_GOOD_RTR;
	if (o->bad_qkey_qp)
		q[nq++].kind = RQ_BAD_QKEY;
	if (o->init_qp)
		q[nq++].kind = RQ_INIT;

	cq = ibv_create_cq(ctx, nq * depth + 16, NULL, NULL, 0);
	if (!cq) {
		fail("ibv_create_cq: %s", strerror(errno));
		return 1;
	}
	total = (size_t)nq * depth * slot;
	buf = calloc(1, total);
	if (!buf) {
		fail("out of memory");
		return 1;
	}
	mr = ibv_reg_mr(pd, buf, total, IBV_ACCESS_LOCAL_WRITE);
	if (!mr) {
		fail("ibv_reg_mr: %s", strerror(errno));
		return 1;
	}

	for (i = 0; i < nq; i++) {
		uint32_t qkey = q[i].kind == RQ_BAD_QKEY ? o->qkey + 1 : o->qkey;

		q[i].seen = calloc(o->count, 1);
		q[i].qp = make_qp(pd, cq, depth);
		if (!q[i].qp || !q[i].seen) {
			fail("create qp %d: %s", i, strerror(errno));
			return 1;
		}
		if (to_init(q[i].qp, qkey)) {
			fail("qp %d to INIT: %s", i, strerror(errno));
			return 1;
		}
		for (k = 0; k < depth; k++) {
			struct ibv_sge sge = {
				.addr = (uintptr_t)buf +
					((size_t)i * depth + k) * slot,
				.length = slot,
				.lkey = mr->lkey,
			};
			struct ibv_recv_wr wr = {
				.wr_id = ((uint64_t)i << 32) | k,
				.sg_list = &sge,
				.num_sge = 1,
			}, *bad;

			if (ibv_post_recv(q[i].qp, &wr, &bad)) {
				fail("qp %d post_recv: %s", i, strerror(errno));
				return 1;
			}
		}
		if (q[i].kind != RQ_INIT && to_rtr(q[i].qp)) {
			fail("qp %d to RTR: %s", i, strerror(errno));
			return 1;
		}
		if ((q[i].kind == RQ_GOOD_RTS || q[i].kind == RQ_BAD_QKEY) &&
		    to_rts(q[i].qp)) {
			fail("qp %d to RTS: %s", i, strerror(errno));
			return 1;
		}
		if (ibv_attach_mcast(q[i].qp, &o->mgid, 0)) {
			fail("qp %d attach: %s", i, strerror(errno));
			return 1;
		}
		printf("qp %d: QPN %u %s qkey 0x%x attached\n", i,
		       q[i].qp->qp_num, kind_name[q[i].kind], qkey);
	}
	printf("READY\n");
	fflush(stdout);
	if (o->ready_file) {
		FILE *f = fopen(o->ready_file, "w");

		if (f) {
			fputs("READY\n", f);
			fclose(f);
		}
	}

	end = now_s() + o->timeout_s;
	for (;;) {
		good = 0;
		for (i = 0; i < nq; i++)
			if ((q[i].kind == RQ_GOOD_RTR ||
			     q[i].kind == RQ_GOOD_RTS) && q[i].got == o->count)
				good++;
		if (good == o->nqp) {
			/* Complete: give stray deliveries a moment to show. */
			if (end > now_s() + 1)
				end = now_s() + 1;
		}
		if (now_s() > end)
			break;
		n = ibv_poll_cq(cq, 32, wc);
		if (n < 0) {
			fail("ibv_poll_cq: %d", n);
			break;
		}
		if (!n) {
			usleep(1000);
			continue;
		}
		for (k = 0; k < n; k++) {
			int qi = (int)(wc[k].wr_id >> 32);
			uint32_t slot_i = (uint32_t)wc[k].wr_id;
			const uint8_t *p = buf + ((size_t)qi * depth + slot_i) *
					   slot;
			const uint8_t *pl = p + GRH_BYTES;
			uint32_t m, seq, j;

			if (qi >= nq) {
				fail("completion for unknown wr_id 0x%" PRIx64,
				     wc[k].wr_id);
				continue;
			}
			if (q[qi].kind == RQ_BAD_QKEY || q[qi].kind == RQ_INIT) {
				fail("qp %d (%s) received a message", qi,
				     kind_name[q[qi].kind]);
				q[qi].got++;
				continue;
			}
			if (wc[k].status != IBV_WC_SUCCESS) {
				fail("qp %d: status %s", qi,
				     ibv_wc_status_str(wc[k].status));
				continue;
			}
			if (wc[k].opcode != IBV_WC_RECV)
				fail("qp %d: opcode %d", qi, wc[k].opcode);
			if (!(wc[k].wc_flags & IBV_WC_GRH))
				fail("qp %d: no GRH flag", qi);
			if (wc[k].byte_len != slot)
				fail("qp %d: byte_len %u, want %u", qi,
				     wc[k].byte_len, slot);
			if (o->src_qpn >= 0 && wc[k].src_qp != o->src_qpn)
				fail("qp %d: src_qp %u, want %ld", qi,
				     wc[k].src_qp, o->src_qpn);
			check_grh(o, p, qi);
			memcpy(&m, pl, 4);
			memcpy(&seq, pl + 4, 4);
			m = ntohl(m);
			seq = ntohl(seq);
			if (m != MAGIC || seq >= (uint32_t)o->count) {
				fail("qp %d: bad header magic 0x%x seq %u", qi,
				     m, seq);
				continue;
			}
			for (j = 8; j < o->size; j++)
				if (pl[j] != pattern(seq, j))
					break;
			if (j < o->size) {
				fail("qp %d: seq %u: payload differs at byte %u",
				     qi, seq, j);
				continue;
			}
			if (q[qi].seen[seq]++)
				fail("qp %d: seq %u delivered twice", qi, seq);
			else
				q[qi].got++;
		}
	}

	for (i = 0; i < nq; i++) {
		bool want_all = q[i].kind == RQ_GOOD_RTR ||
				q[i].kind == RQ_GOOD_RTS;

		printf("qp %d (%s): %d/%d messages\n", i, kind_name[q[i].kind],
		       q[i].got, want_all ? o->count : 0);
		if (want_all && q[i].got != o->count)
			fail("qp %d (%s): got %d of %d messages", i,
			     kind_name[q[i].kind], q[i].got, o->count);
	}
	fflush(stdout);

	if (o->detach_wait) {
		for (i = 0; i < nq; i++)
			if (ibv_detach_mcast(q[i].qp, &o->mgid, 0))
				fail("qp %d detach: %s", i, strerror(errno));
		printf("DETACHED\n");
		fflush(stdout);
		/* Until the test has looked at the netdev. */
		while (getchar() != EOF)
			;
	}
	for (i = 0; i < nq; i++) {
		ibv_destroy_qp(q[i].qp);
		free(q[i].seen);
	}
	ibv_dereg_mr(mr);
	ibv_destroy_cq(cq);
	free(buf);
	return failures ? 1 : 0;
}

static int run_sender(const struct opts *o, struct ibv_context *ctx,
		      struct ibv_pd *pd)
{
	struct ibv_ah_attr aa = {
		.is_global = 1,
		.grh = {
			.dgid = o->mgid,
			.sgid_index = o->gid_index,
			.hop_limit = 8,
		},
		.port_num = 1,
	};
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_ah *ah;
	struct ibv_mr *mr;
	struct ibv_wc wc;
	uint8_t *buf;
	int i, n;
	double end;

	cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	buf = calloc(1, o->size ? o->size : 1);
	if (!cq || !buf) {
		fail("cq/buffer: %s", strerror(errno));
		return 1;
	}
	mr = ibv_reg_mr(pd, buf, o->size ? o->size : 1, 0);
	qp = make_qp(pd, cq, 8);
	if (!mr || !qp) {
		fail("mr/qp: %s", strerror(errno));
		return 1;
	}
	if (to_init(qp, o->qkey) || to_rtr(qp) || to_rts(qp)) {
		fail("sender QP to RTS: %s", strerror(errno));
		return 1;
	}
	ah = ibv_create_ah(pd, &aa);
	if (!ah) {
		fail("ibv_create_ah on the group: %s", strerror(errno));
		return 1;
	}
	printf("QPN %u\n", qp->qp_num);
	fflush(stdout);

	for (i = 0; i < o->count; i++) {
		struct ibv_sge sge = {
			.addr = (uintptr_t)buf,
			.length = o->size,
			.lkey = mr->lkey,
		};
		struct ibv_send_wr wr = {
			.wr_id = i,
			.sg_list = &sge,
			.num_sge = 1,
			.opcode = IBV_WR_SEND,
			.send_flags = IBV_SEND_SIGNALED,
			.wr.ud = {
				.ah = ah,
				.remote_qpn = MCAST_QPN,
				.remote_qkey = o->qkey,
			},
		}, *bad;

		fill(buf, o->size, i);
		if (ibv_post_send(qp, &wr, &bad)) {
			fail("post_send %d: %s", i, strerror(errno));
			break;
		}
		end = now_s() + 10;
		do {
			n = ibv_poll_cq(cq, 1, &wc);
		} while (!n && now_s() < end);
		if (n != 1) {
			fail("send %d: no completion", i);
			break;
		}
		if (wc.status != IBV_WC_SUCCESS) {
			fail("send %d: %s", i, ibv_wc_status_str(wc.status));
			break;
		}
		if (o->pace_us)
			usleep(o->pace_us);
	}
	printf("sent %d messages of %u bytes\n", i, o->size);
	ibv_destroy_ah(ah);
	ibv_destroy_qp(qp);
	ibv_dereg_mr(mr);
	ibv_destroy_cq(cq);
	free(buf);
	return failures ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: mcast_ud -d DEV -g GIDX -m GROUP (-r|-s) [-n QPS] [-c COUNT]\n"
		"       [-S SIZE] [-q QKEY] [-b] [-i] [-t SECONDS] [-p USEC]\n"
		"       [-Q SENDER_QPN] [-R READY_FILE] [-D]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = {
		.dev = "rxe0",
		.gid_index = -1,
		.nqp = 3,
		.count = 20,
		.size = 512,
		.qkey = 0x1234abcd,
		.timeout_s = 60,
		.pace_us = 5000,
		.src_qpn = -1,
	};
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd;
	bool have_group = false, have_role = false;
	int c, i, rc;

	while ((c = getopt(argc, argv, "d:g:m:rsn:c:S:q:bit:p:Q:R:D")) != -1) {
		switch (c) {
		case 'd': o.dev = optarg; break;
		case 'g': o.gid_index = atoi(optarg); break;
		case 'm':
			if (parse_group(optarg, &o))
				usage();
			have_group = true;
			break;
		case 'r': o.send = false; have_role = true; break;
		case 's': o.send = true; have_role = true; break;
		case 'n': o.nqp = atoi(optarg); break;
		case 'c': o.count = atoi(optarg); break;
		case 'S': o.size = strtoul(optarg, NULL, 0); break;
		case 'q': o.qkey = strtoul(optarg, NULL, 0); break;
		case 'b': o.bad_qkey_qp = true; break;
		case 'i': o.init_qp = true; break;
		case 't': o.timeout_s = atoi(optarg); break;
		case 'p': o.pace_us = atol(optarg); break;
		case 'Q': o.src_qpn = atol(optarg); break;
		case 'R': o.ready_file = optarg; break;
		case 'D': o.detach_wait = true; break;
		default: usage();
		}
	}
	if (!have_group || !have_role || o.gid_index < 0 || o.nqp < 1 ||
	    o.nqp > MAX_QPS - 2 || o.count < 1 || o.size < 8 ||
	    (o.qkey & 0x80000000u))
		usage();

	list = ibv_get_device_list(NULL);
	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), o.dev))
			ctx = ibv_open_device(list[i]);
	if (!ctx) {
		fail("cannot open %s", o.dev);
		return 1;
	}
	pd = ibv_alloc_pd(ctx);
	if (!pd) {
		fail("ibv_alloc_pd: %s", strerror(errno));
		return 1;
	}
	rc = o.send ? run_sender(&o, ctx, pd) : run_receiver(&o, ctx, pd);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	printf("%s\n", rc ? "RESULT FAIL" : "RESULT PASS");
	return rc;
}
