// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * odpv: helpers shared by the ODP verbs test programs; see odpv.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "odpv.h"

const char *odpv_prog = "odpv";
unsigned long odpv_failures;
unsigned long odpv_checks;
unsigned long long odpv_bytes_checked;
int odpv_verbose;
char odpv_where[160];

#define MAX_FAIL_PRINT 60

static void vprint(const char *tag, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	printf("%s%s%s%s%s\n", tag, odpv_where, odpv_where[0] ? ": " : "", msg, "");
	fflush(stdout);
}

void odpv_fail(const char *fmt, ...)
{
	va_list ap;

	odpv_failures++;
	if (odpv_failures > MAX_FAIL_PRINT) {
		if (odpv_failures == MAX_FAIL_PRINT + 1)
			printf("FAIL: further failures are counted, not printed\n");
		return;
	}
	va_start(ap, fmt);
	vprint("FAIL ", fmt, ap);
	va_end(ap);
}

void odpv_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint("", fmt, ap);
	va_end(ap);
}

void odpv_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint("SETUP ERROR ", fmt, ap);
	va_end(ap);
	printf("%s: SETUP ERROR\n", odpv_prog);
	exit(ODPV_EXIT_SETUP);
}

void odpv_finish(void)
{
	printf("%s: %lu checks, %llu bytes compared, %lu failures\n", odpv_prog, odpv_checks,
	       odpv_bytes_checked, odpv_failures);
	printf("%s: %s\n", odpv_prog, odpv_failures ? "FAIL" : "PASS");
	fflush(stdout);
	exit(odpv_failures ? ODPV_EXIT_FAIL : ODPV_EXIT_PASS);
}

double odpv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

size_t odpv_parse_size(const char *s, const char *opt)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		goto bad;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end)
		goto bad;
	return v;
bad:
	fprintf(stderr, "%s: bad size for %s: '%s'\n", odpv_prog, opt, s);
	exit(ODPV_EXIT_SETUP);
}

/* ---- device ------------------------------------------------------------ */

void odpv_open(struct odpv_dev *d, const char *name, int gid_index)
{
	struct ibv_device **list;
	int n, i, rc;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->gid_index = gid_index;
	list = ibv_get_device_list(&n);
	if (!list)
		odpv_die("ibv_get_device_list: %s", strerror(errno));
	for (i = 0; i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			break;
	if (i == n)
		odpv_die("no RDMA device '%s' (%d devices)", name, n);
	d->ctx = ibv_open_device(list[i]);
	if (!d->ctx)
		odpv_die("ibv_open_device(%s): %s", name, strerror(errno));
	ibv_free_device_list(list);
	rc = ibv_query_device_ex(d->ctx, NULL, &d->attr);
	if (rc)
		odpv_die("ibv_query_device_ex: %s", strerror(rc));
	rc = ibv_query_port(d->ctx, 1, &d->port);
	if (rc)
		odpv_die("ibv_query_port: %s", strerror(rc));
	if (d->port.state != IBV_PORT_ACTIVE)
		odpv_die("port 1 of %s is not ACTIVE (state %d)", name, d->port.state);
	d->mtu = d->port.active_mtu;
	d->mtu_bytes = 128u << d->mtu;
	rc = ibv_query_gid(d->ctx, 1, gid_index, &d->gid);
	if (rc)
		odpv_die("ibv_query_gid(index %d): %s", gid_index, strerror(errno));
	for (i = 0; i < 16 && !d->gid.raw[i]; i++)
		;
	if (i == 16)
		odpv_die("GID index %d of %s is empty", gid_index, name);
	d->pd = ibv_alloc_pd(d->ctx);
	if (!d->pd)
		odpv_die("ibv_alloc_pd: %s", strerror(errno));
}

void odpv_close(struct odpv_dev *d)
{
	int rc;

	rc = ibv_dealloc_pd(d->pd);
	if (rc)
		odpv_fail("ibv_dealloc_pd: %s", strerror(rc));
	rc = ibv_close_device(d->ctx);
	if (rc)
		odpv_fail("ibv_close_device: %s", strerror(errno));
}

static void caps_str(char *s, size_t n, uint32_t c)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ IBV_ODP_SUPPORT_SEND, "send" }, { IBV_ODP_SUPPORT_RECV, "recv" },
		{ IBV_ODP_SUPPORT_WRITE, "write" }, { IBV_ODP_SUPPORT_READ, "read" },
		{ IBV_ODP_SUPPORT_ATOMIC, "atomic" }, { IBV_ODP_SUPPORT_SRQ_RECV, "srq_recv" },
	};
	size_t i, l = 0;

	s[0] = 0;
	for (i = 0; i < ODPV_ARRAY_SIZE(names); i++)
		if (c & names[i].bit)
			l += snprintf(s + l, l < n ? n - l : 0, "%s%s", l ? "," : "", names[i].name);
	if (!l)
		snprintf(s, n, "-");
}

void odpv_print_odp_caps(const struct odpv_dev *d)
{
	char rc[96], uc[96], ud[96];
	const struct ibv_odp_caps *c = &d->attr.odp_caps;

	caps_str(rc, sizeof(rc), c->per_transport_caps.rc_odp_caps);
	caps_str(uc, sizeof(uc), c->per_transport_caps.uc_odp_caps);
	caps_str(ud, sizeof(ud), c->per_transport_caps.ud_odp_caps);
	printf("%s: %s ODP caps: general 0x%" PRIx64 "%s%s rc %s uc %s ud %s; path MTU %u, GID index %d\n",
	       odpv_prog, d->name, (uint64_t)c->general_caps,
	       (c->general_caps & IBV_ODP_SUPPORT) ? " (odp)" : " (no odp)",
	       (c->general_caps & IBV_ODP_SUPPORT_IMPLICIT) ? " (implicit)" : "", rc, uc, ud,
	       d->mtu_bytes, d->gid_index);
	fflush(stdout);
}

bool odpv_odp_rc(const struct odpv_dev *d, uint32_t bits)
{
	return (d->attr.odp_caps.general_caps & IBV_ODP_SUPPORT) &&
	       (d->attr.odp_caps.per_transport_caps.rc_odp_caps & bits) == bits;
}

bool odpv_odp_ud(const struct odpv_dev *d, uint32_t bits)
{
	return (d->attr.odp_caps.general_caps & IBV_ODP_SUPPORT) &&
	       (d->attr.odp_caps.per_transport_caps.ud_odp_caps & bits) == bits;
}

struct ibv_mr *odpv_reg(struct odpv_dev *d, void *buf, size_t len, int access, bool odp,
			const char *what)
{
	struct ibv_mr *mr;
	int err;

	if (odp)
		access |= IBV_ACCESS_ON_DEMAND;
	mr = ibv_reg_mr(d->pd, buf, len, access);
	if (!mr) {
		err = errno;
		printf("REG FAILED %s%sibv_reg_mr(%s, %zu bytes, %s, access 0x%x): errno %d %s (%s)\n",
		       odpv_where, odpv_where[0] ? ": " : "", what, len,
		       odp ? "ON_DEMAND" : "pinned", access, err,
		       strerrorname_np(err) ? strerrorname_np(err) : "?", strerror(err));
		printf("%s: REGISTRATION REFUSED\n", odpv_prog);
		fflush(stdout);
		exit(ODPV_EXIT_REG);
	}
	if (odpv_verbose)
		odpv_info("registered %s: %zu bytes at %p, %s, lkey 0x%x rkey 0x%x", what, len, buf,
			  odp ? "ODP" : "pinned", mr->lkey, mr->rkey);
	return mr;
}

void odpv_dereg(struct ibv_mr *mr)
{
	int rc = ibv_dereg_mr(mr);

	if (rc)
		odpv_fail("ibv_dereg_mr: %s", strerror(rc));
}

void *odpv_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		odpv_die("mmap(%zu): %s", len, strerror(errno));
	return p;
}

void odpv_unmap(void *p, size_t len)
{
	if (munmap(p, len))
		odpv_fail("munmap: %s", strerror(errno));
}

/* ---- QPs --------------------------------------------------------------- */

struct ibv_cq *odpv_cq(struct odpv_dev *d, int cqe)
{
	struct ibv_cq *cq = ibv_create_cq(d->ctx, cqe, NULL, NULL, 0);

	if (!cq)
		odpv_die("ibv_create_cq(%d): %s", cqe, strerror(errno));
	return cq;
}

struct ibv_srq *odpv_srq(struct odpv_dev *d, uint32_t max_wr, uint32_t max_sge)
{
	struct ibv_srq_init_attr a = { .attr = { .max_wr = max_wr, .max_sge = max_sge } };
	struct ibv_srq *srq = ibv_create_srq(d->pd, &a);

	if (!srq)
		odpv_die("ibv_create_srq: %s", strerror(errno));
	return srq;
}

struct ibv_qp *odpv_qp(struct odpv_dev *d, enum ibv_qp_type type, struct ibv_cq *scq,
		       struct ibv_cq *rcq, struct ibv_srq *srq, uint32_t max_wr)
{
	struct ibv_qp_init_attr a = {
		.send_cq = scq,
		.recv_cq = rcq,
		.srq = srq,
		.qp_type = type,
		.cap = {
			.max_send_wr = max_wr,
			.max_recv_wr = srq ? 0 : max_wr,
			.max_send_sge = 4,
			.max_recv_sge = srq ? 0 : 4,
		},
	};
	struct ibv_qp *qp = ibv_create_qp(d->pd, &a);

	if (!qp)
		odpv_die("ibv_create_qp(%s): %s", type == IBV_QPT_RC ? "RC" : "UD",
			 strerror(errno));
	return qp;
}

static void modify(struct ibv_qp *qp, struct ibv_qp_attr *a, int mask, const char *to)
{
	int rc = ibv_modify_qp(qp, a, mask);

	if (rc)
		odpv_die("ibv_modify_qp(QP 0x%x to %s): %s", qp->qp_num, to, strerror(rc));
}

void odpv_rc_connect(struct odpv_dev *d, struct ibv_qp *qp, uint32_t dest_qpn)
{
	struct ibv_qp_attr a;
	uint32_t rd = d->attr.orig_attr.max_qp_rd_atom;

	if (rd > 16)
		rd = 16;
	if (!rd)
		rd = 1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
			    IBV_ACCESS_REMOTE_ATOMIC;
	modify(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS,
	       "INIT");
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = d->mtu;
	a.dest_qp_num = dest_qpn;
	a.rq_psn = dest_qpn & 0xffffff;
	a.max_dest_rd_atomic = rd;
	a.min_rnr_timer = 1;
	a.ah_attr.is_global = 1;
	a.ah_attr.port_num = 1;
	a.ah_attr.grh.dgid = d->gid;
	a.ah_attr.grh.sgid_index = d->gid_index;
	a.ah_attr.grh.hop_limit = 64;
	modify(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
		       IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER, "RTR");
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = qp->qp_num & 0xffffff;
	a.timeout = 18; /* about 1 s: ODP faults under TCG can be slow */
	a.retry_cnt = 7;
	a.rnr_retry = 7; /* infinite */
	a.max_rd_atomic = rd;
	modify(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
		       IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC, "RTS");
}

void odpv_ud_ready(struct odpv_dev *d, struct ibv_qp *qp)
{
	struct ibv_qp_attr a;

	(void)d;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qkey = ODPV_QKEY;
	modify(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_QKEY, "INIT");
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	modify(qp, &a, IBV_QP_STATE, "RTR");
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = qp->qp_num & 0xffffff;
	modify(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN, "RTS");
}

struct ibv_ah *odpv_loop_ah(struct odpv_dev *d)
{
	struct ibv_ah_attr a;
	struct ibv_ah *ah;

	memset(&a, 0, sizeof(a));
	a.is_global = 1;
	a.port_num = 1;
	a.grh.dgid = d->gid;
	a.grh.sgid_index = d->gid_index;
	a.grh.hop_limit = 64;
	ah = ibv_create_ah(d->pd, &a);
	if (!ah)
		odpv_die("ibv_create_ah(loopback): %s", strerror(errno));
	return ah;
}

static const char *wc_opcode_name(enum ibv_wc_opcode op)
{
	switch (op) {
	case IBV_WC_SEND: return "SEND";
	case IBV_WC_RDMA_WRITE: return "RDMA_WRITE";
	case IBV_WC_RDMA_READ: return "RDMA_READ";
	case IBV_WC_COMP_SWAP: return "COMP_SWAP";
	case IBV_WC_FETCH_ADD: return "FETCH_ADD";
	case IBV_WC_RECV: return "RECV";
	case IBV_WC_RECV_RDMA_WITH_IMM: return "RECV_RDMA_WITH_IMM";
	default: return "other";
	}
}

bool odpv_expect_wc(struct ibv_cq *cq, const char *what, uint64_t wr_id,
		    enum ibv_wc_opcode opcode, long long want_len, struct ibv_wc *out)
{
	struct ibv_wc wc;
	double end = odpv_now() + ODPV_WC_TIMEOUT_MS / 1000.0;
	unsigned long spins = 0;
	int n;
	bool ok = true;

	for (;;) {
		n = ibv_poll_cq(cq, 1, &wc);
		if (n < 0) {
			odpv_fail("%s: ibv_poll_cq returned %d", what, n);
			return false;
		}
		if (n == 1)
			break;
		if (++spins % 64 == 0) {
			if (odpv_now() > end) {
				odpv_fail("%s: no completion within %d ms (wr_id %" PRIu64 ")", what,
					  ODPV_WC_TIMEOUT_MS, wr_id);
				return false;
			}
			usleep(200);
		}
	}
	odpv_checks++;
	if (out)
		*out = wc;
	if (wc.status != IBV_WC_SUCCESS) {
		odpv_fail("%s: completion status %d (%s), vendor_err 0x%x, opcode %d, wr_id %" PRIu64,
			  what, wc.status, ibv_wc_status_str(wc.status), wc.vendor_err, wc.opcode,
			  wc.wr_id);
		return false;
	}
	if (wc.wr_id != wr_id) {
		odpv_fail("%s: completion wr_id %" PRIu64 ", expected %" PRIu64, what, wc.wr_id,
			  wr_id);
		ok = false;
	}
	if (wc.opcode != opcode) {
		odpv_fail("%s: completion opcode %d (%s), expected %d (%s)", what, wc.opcode,
			  wc_opcode_name(wc.opcode), opcode, wc_opcode_name(opcode));
		ok = false;
	}
	if (want_len >= 0 && wc.byte_len != (unsigned long long)want_len) {
		odpv_fail("%s: completion byte_len %u, expected %lld", what, wc.byte_len, want_len);
		ok = false;
	}
	return ok;
}

bool odpv_rdma1(struct ibv_qp *qp, struct ibv_cq *cq, enum ibv_wr_opcode op, void *local,
		uint32_t lkey, uint64_t remote, uint32_t rkey, size_t len, const char *what)
{
	static uint64_t seq;
	struct ibv_sge sg = { .addr = (uintptr_t)local, .length = len, .lkey = lkey };
	struct ibv_send_wr wr;

	memset(&wr, 0, sizeof(wr));
	wr.wr_id = ++seq;
	wr.sg_list = &sg;
	wr.num_sge = 1;
	wr.opcode = op;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = remote;
	wr.wr.rdma.rkey = rkey;
	if (!odpv_post_send(qp, &wr, what))
		return false;
	return odpv_expect_wc(cq, what, wr.wr_id,
			      op == IBV_WR_RDMA_WRITE ? IBV_WC_RDMA_WRITE : IBV_WC_RDMA_READ, -1,
			      NULL);
}

bool odpv_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, const char *what)
{
	struct ibv_send_wr *bad = NULL;
	int rc = ibv_post_send(qp, wr, &bad);

	if (rc) {
		odpv_fail("%s: ibv_post_send: %s", what, strerror(rc));
		return false;
	}
	return true;
}

bool odpv_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, const char *what)
{
	struct ibv_recv_wr *bad = NULL;
	int rc = ibv_post_recv(qp, wr, &bad);

	if (rc) {
		odpv_fail("%s: ibv_post_recv: %s", what, strerror(rc));
		return false;
	}
	return true;
}

bool odpv_post_srq_recv(struct ibv_srq *srq, struct ibv_recv_wr *wr, const char *what)
{
	struct ibv_recv_wr *bad = NULL;
	int rc = ibv_post_srq_recv(srq, wr, &bad);

	if (rc) {
		odpv_fail("%s: ibv_post_srq_recv: %s", what, strerror(rc));
		return false;
	}
	return true;
}

/* ---- patterns ------------------------------------------------------------- */

uint64_t odpv_mix(uint64_t x)
{
	/* splitmix64 finaliser */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline uint64_t pat_word(uint64_t seed, uint64_t word)
{
	return seed ? odpv_mix(seed * 0x100000001b3ULL ^ word) : 0;
}

uint8_t odpv_pat(uint64_t seed, uint64_t pos)
{
	return (uint8_t)(pat_word(seed, pos >> 3) >> ((pos & 7) * 8));
}

void odpv_fill(void *buf, size_t len, uint64_t seed, uint64_t pos)
{
	uint8_t *p = buf;
	size_t i = 0;

	if (!seed) {
		memset(buf, 0, len);
		return;
	}
	/* bytes up to a stream word boundary, whole words, the tail */
	for (; i < len && ((pos + i) & 7); i++)
		p[i] = odpv_pat(seed, pos + i);
	for (; i + 8 <= len; i += 8) {
		uint64_t w = pat_word(seed, (pos + i) >> 3);

		memcpy(p + i, &w, 8); /* little endian: byte k of w is stream byte k */
	}
	for (; i < len; i++)
		p[i] = odpv_pat(seed, pos + i);
}

bool odpv_check(const char *what, const void *buf, size_t len, uint64_t seed, uint64_t pos,
		size_t off)
{
	const uint8_t *p = buf;
	size_t i = 0, bad = 0, first = 0, last = 0;
	uint8_t last_exp = 0, last_got = 0;

	odpv_checks++;
	odpv_bytes_checked += len;
	while (i < len) {
		uint8_t e;

		/* fast path: whole stream words */
		if (!((pos + i) & 7) && i + 8 <= len) {
			uint64_t w = pat_word(seed, (pos + i) >> 3);

			if (!memcmp(p + i, &w, 8)) {
				i += 8;
				continue;
			}
		}
		e = odpv_pat(seed, pos + i);
		if (p[i] != e) {
			if (!bad)
				first = i;
			if (bad < 4)
				odpv_fail("%s: offset %zu (0x%zx): expected 0x%02x got 0x%02x", what,
					  off + i, off + i, e, p[i]);
			bad++;
			last = i;
			last_exp = e;
			last_got = p[i];
		}
		i++;
	}
	if (bad > 4)
		odpv_fail("%s: %zu of %zu bytes differ, offsets %zu..%zu; last: offset %zu expected 0x%02x got 0x%02x",
			  what, bad, len, off + first, off + last, off + last, last_exp, last_got);
	return !bad;
}

/* ---- random ----------------------------------------------------------------- */

uint64_t odpv_rnd(uint64_t *state)
{
	*state += 0x9e3779b97f4a7c15ULL;
	return odpv_mix(*state);
}

uint64_t odpv_rnd_range(uint64_t *state, uint64_t lo, uint64_t hi)
{
	return lo + odpv_rnd(state) % (hi - lo + 1);
}

/* ---- counters ------------------------------------------------------------------- */

static long long read_ll(const char *path)
{
	FILE *f = fopen(path, "r");
	long long v;

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

long long odpv_hw_counter(const char *dev, const char *name)
{
	char path[256];
	long long v;

	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/1/hw_counters/%s", dev, name);
	v = read_ll(path);
	if (v >= 0)
		return v;
	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/hw_counters/%s", dev, name);
	return read_ll(path);
}

long long odpv_vmstat(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char key[64];
	long long v, ret = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", key, &v) == 2)
		if (!strcmp(key, name)) {
			ret = v;
			break;
		}
	fclose(f);
	return ret;
}
