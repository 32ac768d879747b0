/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * odpv: shared helpers of the ODP verbs test programs (odp-verify,
 * odp-refault, odp-fork, odp-swap): device and QP setup on one RDMA device
 * with loopback address vectors, MR registration with or without
 * IBV_ACCESS_ON_DEMAND, completion checks, byte patterns and their checks,
 * failure accounting and counter readers.
 *
 * Exit codes shared by every program (ODPV_EXIT_*): 0 every check passed,
 * 1 a check failed, 2 usage or setup error, 3 a memory registration was
 * refused (errno printed).
 */
#ifndef ODPV_H
#define ODPV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <infiniband/verbs.h>

#define ODPV_EXIT_PASS 0
#define ODPV_EXIT_FAIL 1
#define ODPV_EXIT_SETUP 2
#define ODPV_EXIT_REG 3

#define ODPV_PAGE 4096UL
#define ODPV_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Completion wait per work request; generous for TCG guests. */
#define ODPV_WC_TIMEOUT_MS 60000

extern const char *odpv_prog;
extern unsigned long odpv_failures;
extern unsigned long odpv_checks;
extern unsigned long long odpv_bytes_checked;
extern int odpv_verbose;
/* Context printed in front of every failure ("combo local=odp ... iter 2"). */
extern char odpv_where[160];

__attribute__((format(printf, 1, 2)))
void odpv_fail(const char *fmt, ...);
__attribute__((format(printf, 1, 2)))
void odpv_info(const char *fmt, ...);
__attribute__((format(printf, 1, 2), noreturn))
void odpv_die(const char *fmt, ...);
/* Exit with the code the failure count asks for, after a summary line. */
__attribute__((noreturn))
void odpv_finish(void);

/* ---- device ------------------------------------------------------------ */
struct odpv_dev {
	const char *name;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_device_attr_ex attr;
	struct ibv_port_attr port;
	union ibv_gid gid;
	int gid_index;
	enum ibv_mtu mtu;
	uint32_t mtu_bytes;
};

/* Open NAME (port 1), allocate a PD, read the GID at GID_INDEX; dies on error. */
void odpv_open(struct odpv_dev *d, const char *name, int gid_index);
void odpv_close(struct odpv_dev *d);
/* Print the device's ODP capabilities (one line). */
void odpv_print_odp_caps(const struct odpv_dev *d);
/* Does the device say it supports ODP for the given transport caps bits? */
bool odpv_odp_rc(const struct odpv_dev *d, uint32_t bits);
bool odpv_odp_ud(const struct odpv_dev *d, uint32_t bits);

/*
 * Register [buf, buf+len) with ACCESS, plus IBV_ACCESS_ON_DEMAND if ODP.
 * On failure prints what was refused and exits with ODPV_EXIT_REG.
 */
struct ibv_mr *odpv_reg(struct odpv_dev *d, void *buf, size_t len, int access, bool odp,
			const char *what);
void odpv_dereg(struct ibv_mr *mr);

/* Anonymous private mapping of LEN bytes (page aligned); dies on error. */
void *odpv_map(size_t len);
void odpv_unmap(void *p, size_t len);

/* ---- QPs --------------------------------------------------------------- */
struct ibv_cq *odpv_cq(struct odpv_dev *d, int cqe);
struct ibv_srq *odpv_srq(struct odpv_dev *d, uint32_t max_wr, uint32_t max_sge);
/* RC or UD QP with the given CQs (and SRQ for receives, may be NULL). */
struct ibv_qp *odpv_qp(struct odpv_dev *d, enum ibv_qp_type type, struct ibv_cq *scq,
		       struct ibv_cq *rcq, struct ibv_srq *srq, uint32_t max_wr);
/* Walk an RC QP to RTS connected to DEST_QPN on our own GID (loopback). */
void odpv_rc_connect(struct odpv_dev *d, struct ibv_qp *qp, uint32_t dest_qpn);
#define ODPV_QKEY 0x11111111u
/* Walk a UD QP to RTS (Q_Key ODPV_QKEY). */
void odpv_ud_ready(struct odpv_dev *d, struct ibv_qp *qp);
/* An AH to our own GID. */
struct ibv_ah *odpv_loop_ah(struct odpv_dev *d);

/*
 * Wait for one completion on CQ and check it: wr_id, status SUCCESS,
 * opcode, and byte_len unless WANT_LEN is negative.  Returns true if every
 * check passed (failures are counted and printed with WHAT).
 */
bool odpv_expect_wc(struct ibv_cq *cq, const char *what, uint64_t wr_id,
		    enum ibv_wc_opcode opcode, long long want_len, struct ibv_wc *out);
/* Post one send WR; failure is counted.  Returns true if posted. */
bool odpv_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, const char *what);
bool odpv_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, const char *what);
/*
 * One signalled RDMA WRITE (LOCAL to REMOTE) or READ (REMOTE to LOCAL) of
 * LEN bytes with one SGE, and its successful completion on CQ.  Returns
 * true if it was posted and completed as expected (failures counted).
 */
bool odpv_rdma1(struct ibv_qp *qp, struct ibv_cq *cq, enum ibv_wr_opcode op, void *local,
		uint32_t lkey, uint64_t remote, uint32_t rkey, size_t len, const char *what);
bool odpv_post_srq_recv(struct ibv_srq *srq, struct ibv_recv_wr *wr, const char *what);

/* ---- patterns ------------------------------------------------------------- */
/*
 * Byte POS of the stream SEED: a hash of (SEED, POS / 8), so that data at
 * the wrong place, from the wrong iteration or a stale page differs.
 * SEED 0 is the all-zero stream (fresh anonymous memory).
 */
uint8_t odpv_pat(uint64_t seed, uint64_t pos);
uint64_t odpv_mix(uint64_t x);
/* buf[i] = odpv_pat(SEED, POS + i) for i < LEN */
void odpv_fill(void *buf, size_t len, uint64_t seed, uint64_t pos);
/*
 * Compare buf[i] with odpv_pat(SEED, POS + i).  Mismatches are counted as
 * one failure, printed as "WHAT: offset OFF+i: expected X got Y" (first
 * few, then the count and the last one).  Returns true if all equal.
 */
bool odpv_check(const char *what, const void *buf, size_t len, uint64_t seed, uint64_t pos,
		size_t off);

/* ---- random ----------------------------------------------------------------- */
uint64_t odpv_rnd(uint64_t *state);
/* uniform in [lo, hi] */
uint64_t odpv_rnd_range(uint64_t *state, uint64_t lo, uint64_t hi);

/* ---- counters ------------------------------------------------------------------- */
/*
 * A device counter by name: ports/1/hw_counters/NAME, else hw_counters/NAME
 * under /sys/class/infiniband/DEV.  -1 if neither exists.
 */
long long odpv_hw_counter(const char *dev, const char *name);
/* A /proc/vmstat field; -1 if absent. */
long long odpv_vmstat(const char *name);

double odpv_now(void);
/* Parse "123", "64K", "3M", "1G" into bytes; dies on junk. */
size_t odpv_parse_size(const char *s, const char *opt);

#endif /* ODPV_H */
